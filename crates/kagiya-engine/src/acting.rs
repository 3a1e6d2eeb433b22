//! Who is acting, confirmed by their own confirmation password (seed 004: 操作を行われているご自身の
//! 確認用パスワード) before anything is changed.

use kagiya_core::directory::authz::Denial;
use kagiya_core::directory::{Actor, CredentialKind, UserRole};
use kagiya_core::operator::Role;
use kagiya_core::secret::Secret;
use kagiya_core::Error;

use crate::Engine;

/// Who claims to act.
#[derive(Debug, Clone)]
pub enum ActorRef {
    /// Branch staff, by operator ID.
    Operator(String),
    /// A customer's master or admin user, by login ID.
    User(String),
}

/// An actor whose confirmation password has been checked.
#[derive(Debug, Clone)]
pub enum Acting {
    Operator {
        id: String,
        role: Role,
    },
    User {
        login_id: String,
        contract_no: String,
        role: UserRole,
    },
}

impl Acting {
    pub fn actor(&self) -> Actor<'_> {
        match self {
            Acting::Operator { id, role } => Actor::Operator { id, role: *role },
            Acting::User {
                login_id,
                contract_no,
                role,
            } => Actor::User {
                login_id,
                contract_no,
                role: *role,
            },
        }
    }

    /// Whether `u` exists for this actor: branch staff see every customer's users, a customer's
    /// own administrator only their company's — to them another company's user is answered
    /// like an unknown ID, so that the server's administrator API names no one else's users.
    pub fn sees(&self, u: &kagiya_core::directory::User) -> bool {
        use kagiya_core::directory::ids::fold;
        match self {
            Acting::Operator { .. } => true,
            Acting::User { contract_no, .. } => fold(contract_no) == fold(&u.contract_no),
        }
    }

    /// The name written to the audit log's actor column.
    pub fn audit_name(&self) -> String {
        self.actor().audit_name()
    }
}

impl Engine {
    /// Checks the actor's confirmation password. A wrong one is recorded and refused; for a
    /// customer's user it also counts towards that credential's lock.
    pub fn confirm(
        &self,
        who: &ActorRef,
        confirmation: &Secret,
        action: &str,
    ) -> Result<Acting, Error> {
        match who {
            ActorRef::Operator(id) => {
                let op = self.confirm_operator(id, confirmation, action)?;
                Ok(Acting::Operator {
                    id: op.operator_id,
                    role: op.role,
                })
            }
            ActorRef::User(login_id) => {
                // The confirmation password where the service has one, the login password again
                // where it has only that (seeds 000, 002, 003).
                let kind = match self.read(|r| r.user(login_id))? {
                    Some(u) => self.tenant(&u.contract_no)?.confirming_credential(),
                    None => CredentialKind::Confirmation,
                };
                match self.recheck(login_id, kind, confirmation) {
                    Ok(v) if v.must_change || v.expired => {
                        return Err(Error::NotPermitted(Denial::PasswordChangeRequired))
                    }
                    Ok(_) => {}
                    Err(Error::InvalidUserCredentials) => return Err(Error::ConfirmationFailed),
                    Err(e) => return Err(e),
                }
                let u = self.user(login_id)?;
                Ok(Acting::User {
                    login_id: u.login_id,
                    contract_no: u.contract_no,
                    role: u.role,
                })
            }
        }
    }

    /// [`Engine::confirm`] for running the branch itself (`Action::ManageBranch`): a supervisor
    /// confirmed by their own confirmation password.
    pub fn confirm_supervisor(
        &self,
        who: &ActorRef,
        confirmation: &Secret,
        action: &str,
    ) -> Result<Acting, Error> {
        let acting = self.confirm(who, confirmation, action)?;
        kagiya_core::directory::authorize(
            acting.actor(),
            kagiya_core::directory::Action::ManageBranch,
        )?;
        Ok(acting)
    }
}
