//! Registering further branch staff (operators and supervisors) after the first supervisor. Only
//! a supervisor may do it; the passwords follow the operators' policy.

use kagiya_core::event::EventKind;
use kagiya_core::operator::{parse_name, OperatorId, Role};
use kagiya_core::password::{PasswordPolicy, PolicyContext};
use kagiya_core::secret::Secret;
use kagiya_core::Error;
use kagiya_store::events;
use kagiya_store::operators::{self, NewOperatorRow};

use super::acting::Acting;
use super::{ActorRef, Engine};

/// The registration form of an operator.
#[derive(Debug)]
pub struct NewOperator {
    pub operator_id: String,
    pub name: String,
    pub role: Role,
    pub login: Secret,
    pub confirmation: Secret,
}

impl Engine {
    /// A supervisor registers another operator or supervisor.
    pub fn create_operator(
        &mut self,
        who: &ActorRef,
        confirmation: &Secret,
        form: NewOperator,
    ) -> Result<(), Error> {
        let id = OperatorId::parse(&form.operator_id)?;
        let name = parse_name(&form.name)?;
        let policy = PasswordPolicy::OPERATOR;
        let mut codes = policy.violations(
            form.login.expose(),
            &PolicyContext {
                login_id: id.as_str(),
                ..Default::default()
            },
        );
        codes.extend(policy.violations(
            form.confirmation.expose(),
            &PolicyContext {
                login_id: id.as_str(),
                must_differ_from: Some(form.login.expose()),
                ..Default::default()
            },
        ));
        if !codes.is_empty() {
            codes.dedup();
            return Err(Error::PasswordPolicy(codes));
        }
        let acting = self.confirm(who, confirmation, "create_operator")?;
        match acting {
            Acting::Operator {
                role: Role::Supervisor,
                ..
            } => {}
            _ => {
                return Err(Error::NotPermitted(
                    kagiya_core::directory::authz::Denial::SupervisorOnly,
                ))
            }
        }
        let login_hash = self.hasher.hash(&form.login)?;
        let confirm_hash = self.hasher.hash(&form.confirmation)?;
        let (now, actor, origin) = (self.now(), acting.audit_name(), self.origin.clone());
        self.store.write(|tx| {
            operators::insert(
                tx,
                &NewOperatorRow {
                    operator_id: id.as_str(),
                    name: &name,
                    role: form.role,
                    login_hash: &login_hash,
                    confirm_hash: &confirm_hash,
                    created_at: now,
                },
            )?;
            let ev = EventKind::OperatorCreated {
                operator_id: id.as_str().to_owned(),
                name: name.clone(),
                role: form.role,
            };
            events::append_from(tx, now, Some(&actor), Some(&origin), ev).map(|_| ())
        })
    }
}
