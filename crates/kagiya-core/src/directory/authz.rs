//! Who may do what (seed 004's division of work plus the branch's part). The matrix:
//!
//! | action                         | supervisor | operator | master (own company) | admin (own company) | general |
//! |--------------------------------|:----------:|:--------:|:--------------------:|:-------------------:|:-------:|
//! | create a customer, set policies|     ✓      |          |                      |                     |         |
//! | create a master user           |     ✓      |    ✓     |          ✓           |                     |         |
//! | create an admin / general user |     ✓      |    ✓     |          ✓           |          ✓          |         |
//! | unlock, set passwords, suspend, resume another user | ✓ | ✓ | ✓ | ✓ (not masters) |  |
//! | record an initialization request |   ✓      |    ✓     |                      |                     |         |
//! | approve it (not the recorder)  |     ✓      |          |                      |                     |         |
//! | execute an approved request    |     ✓      |    ✓     |                      |                     |         |
//!
//! Nobody changes their own passwords through the administrative route (seed 004 §2.3.4); that
//! is "change own password", which needs the current one. Deleted users are never a target.

use serde::Serialize;

use super::ids::fold;
use super::user::{User, UserRole, UserStatus};
use crate::operator::Role;
use crate::Error;

/// Who is acting.
#[derive(Debug, Clone, Copy)]
pub enum Actor<'a> {
    /// Branch staff using the app or the CLI.
    Operator { id: &'a str, role: Role },
    /// A customer's user acting for the company (through the central server's pages, or the CLI).
    User {
        login_id: &'a str,
        contract_no: &'a str,
        role: UserRole,
    },
}

impl Actor<'_> {
    /// How the actor is named in the audit log: operators by ID, users as `user:<login ID>`.
    pub fn audit_name(&self) -> String {
        match self {
            Actor::Operator { id, .. } => (*id).to_owned(),
            Actor::User { login_id, .. } => format!("user:{login_id}"),
        }
    }
}

/// What the actor wants to do.
#[derive(Debug, Clone, Copy)]
pub enum Action<'a> {
    CreateTenant,
    ChangeTenantPolicy,
    CreateUser {
        contract_no: &'a str,
        role: UserRole,
    },
    /// Unlock, set passwords, suspend or resume `target`.
    ManageUser {
        target: &'a User,
    },
    RecordInitRequest,
    ApproveInitRequest {
        recorded_by: &'a str,
    },
    ExecuteInitRequest,
    /// Run the branch itself: register, disable, re-role or reset operators, set their password
    /// expiry, restore the database. Supervisors only.
    ManageBranch,
}

/// Why an action is refused (the stable code names it).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Denial {
    /// Only a supervisor may do this.
    SupervisorOnly,
    /// Only branch staff may do this.
    BranchOnly,
    /// The target belongs to another company.
    OtherCompany,
    /// The actor's role is not high enough.
    RoleTooLow,
    /// One's own passwords go through "change own password".
    OwnAccount,
    /// The same person may not record and approve (four eyes).
    SamePerson,
    /// The target has been deleted.
    Deleted,
    /// The actor must first change a temporary or expired password.
    PasswordChangeRequired,
    /// The branch would be left without an enabled supervisor.
    LastSupervisor,
    /// A restore would replace history the backup does not contain: a second supervisor agrees.
    SecondSupervisorRequired,
    /// Branch staff give a known password that stays only with a supervisor's reason.
    PermanentPasswordNeedsReason,
}

impl Denial {
    pub fn code(self) -> &'static str {
        match self {
            Denial::SupervisorOnly => "supervisor_only",
            Denial::BranchOnly => "branch_only",
            Denial::OtherCompany => "other_company",
            Denial::RoleTooLow => "role_too_low",
            Denial::OwnAccount => "own_account",
            Denial::SamePerson => "same_person",
            Denial::Deleted => "deleted",
            Denial::PasswordChangeRequired => "password_change_required",
            Denial::LastSupervisor => "last_supervisor",
            Denial::SecondSupervisorRequired => "second_supervisor_required",
            Denial::PermanentPasswordNeedsReason => "permanent_password_needs_reason",
        }
    }
}

fn deny(d: Denial) -> Result<(), Error> {
    Err(Error::NotPermitted(d))
}

/// Decides whether `actor` may perform `action`.
pub fn authorize(actor: Actor<'_>, action: Action<'_>) -> Result<(), Error> {
    match (actor, action) {
        (Actor::Operator { role, .. }, Action::CreateTenant | Action::ChangeTenantPolicy) => {
            if role == Role::Supervisor {
                Ok(())
            } else {
                deny(Denial::SupervisorOnly)
            }
        }
        (Actor::User { .. }, Action::CreateTenant | Action::ChangeTenantPolicy) => {
            deny(Denial::BranchOnly)
        }
        (
            Actor::Operator {
                role: Role::Supervisor,
                ..
            },
            Action::ManageBranch,
        ) => Ok(()),
        (_, Action::ManageBranch) => deny(Denial::SupervisorOnly),
        (Actor::Operator { .. }, Action::CreateUser { .. }) => Ok(()),
        (
            Actor::User {
                contract_no, role, ..
            },
            Action::CreateUser {
                contract_no: target_tenant,
                role: new_role,
            },
        ) => {
            if fold(contract_no) != fold(target_tenant) {
                deny(Denial::OtherCompany)
            } else if !role.is_manager()
                || (role == UserRole::Admin && new_role == UserRole::Master)
            {
                deny(Denial::RoleTooLow)
            } else {
                Ok(())
            }
        }
        (actor, Action::ManageUser { target }) => {
            if target.status == UserStatus::Deleted {
                return deny(Denial::Deleted);
            }
            match actor {
                Actor::Operator { .. } => Ok(()),
                Actor::User {
                    login_id,
                    contract_no,
                    role,
                } => {
                    if fold(login_id) == fold(&target.login_id) {
                        deny(Denial::OwnAccount)
                    } else if fold(contract_no) != fold(&target.contract_no) {
                        deny(Denial::OtherCompany)
                    } else if !role.is_manager()
                        || (role == UserRole::Admin && target.role == UserRole::Master)
                    {
                        deny(Denial::RoleTooLow)
                    } else {
                        Ok(())
                    }
                }
            }
        }
        (Actor::Operator { .. }, Action::RecordInitRequest | Action::ExecuteInitRequest) => Ok(()),
        (Actor::Operator { id, role }, Action::ApproveInitRequest { recorded_by }) => {
            if role != Role::Supervisor {
                deny(Denial::SupervisorOnly)
            } else if fold(id) == fold(recorded_by) {
                deny(Denial::SamePerson)
            } else {
                Ok(())
            }
        }
        (
            Actor::User { .. },
            Action::RecordInitRequest
            | Action::ApproveInitRequest { .. }
            | Action::ExecuteInitRequest,
        ) => deny(Denial::BranchOnly),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    use crate::directory::test_support::user;

    fn as_user<'a>(u: &'a User) -> Actor<'a> {
        Actor::User {
            login_id: &u.login_id,
            contract_no: &u.contract_no,
            role: u.role,
        }
    }

    fn code(r: Result<(), Error>) -> &'static str {
        match r {
            Ok(()) => "ok",
            Err(Error::NotPermitted(d)) => d.code(),
            Err(e) => panic!("{e:?}"),
        }
    }

    /// The matrix in the module comment, row by row, for managing another user.
    #[test]
    fn managing_users() {
        let master = user("master1", "C1", UserRole::Master);
        let master2 = user("master2", "C1", UserRole::Master);
        let admin = user("admin1", "C1", UserRole::Admin);
        let admin2 = user("admin2", "C1", UserRole::Admin);
        let general = user("gen1", "C1", UserRole::General);
        let other = user("other1", "C2", UserRole::General);
        let sup = Actor::Operator {
            id: "sv001",
            role: Role::Supervisor,
        };
        let op = Actor::Operator {
            id: "op101",
            role: Role::Operator,
        };
        let table: [(&User, [&str; 6]); 6] = [
            // target      sup    op     master        admin          general       other-company admin
            (
                &master,
                [
                    "ok",
                    "ok",
                    "own_account",
                    "role_too_low",
                    "role_too_low",
                    "other_company",
                ],
            ),
            (
                &master2,
                [
                    "ok",
                    "ok",
                    "ok",
                    "role_too_low",
                    "role_too_low",
                    "other_company",
                ],
            ),
            (
                &admin,
                [
                    "ok",
                    "ok",
                    "ok",
                    "own_account",
                    "role_too_low",
                    "other_company",
                ],
            ),
            (
                &admin2,
                ["ok", "ok", "ok", "ok", "role_too_low", "other_company"],
            ),
            (
                &general,
                ["ok", "ok", "ok", "ok", "own_account", "other_company"],
            ),
            (
                &other,
                [
                    "ok",
                    "ok",
                    "other_company",
                    "other_company",
                    "other_company",
                    "role_too_low",
                ],
            ),
        ];
        let other_admin = user("oadmin", "C2", UserRole::General);
        for (target, expected) in table {
            let actors = [
                sup,
                op,
                as_user(&master),
                as_user(&admin),
                as_user(&general),
                as_user(&other_admin),
            ];
            let got: Vec<&str> = actors
                .iter()
                .map(|a| code(authorize(*a, Action::ManageUser { target })))
                .collect();
            assert_eq!(got, expected, "target {}", target.login_id);
        }
        let mut gone = general.clone();
        gone.status = UserStatus::Deleted;
        assert_eq!(
            code(authorize(sup, Action::ManageUser { target: &gone })),
            "deleted"
        );
    }

    #[test]
    fn tenants_users_and_initialization_requests() {
        let sup = Actor::Operator {
            id: "sv001",
            role: Role::Supervisor,
        };
        let sup2 = Actor::Operator {
            id: "SV002",
            role: Role::Supervisor,
        };
        let op = Actor::Operator {
            id: "op101",
            role: Role::Operator,
        };
        let admin = user("admin1", "C1", UserRole::Admin);
        let master = user("master1", "C1", UserRole::Master);
        assert_eq!(code(authorize(sup, Action::CreateTenant)), "ok");
        assert_eq!(code(authorize(op, Action::CreateTenant)), "supervisor_only");
        assert_eq!(code(authorize(sup, Action::ManageBranch)), "ok");
        assert_eq!(code(authorize(op, Action::ManageBranch)), "supervisor_only");
        assert_eq!(
            code(authorize(as_user(&master), Action::ManageBranch)),
            "supervisor_only"
        );
        assert_eq!(
            code(authorize(as_user(&master), Action::ChangeTenantPolicy)),
            "branch_only"
        );
        let create = |role| Action::CreateUser {
            contract_no: "c1",
            role,
        };
        assert_eq!(code(authorize(op, create(UserRole::Master))), "ok");
        assert_eq!(
            code(authorize(as_user(&master), create(UserRole::Master))),
            "ok"
        );
        assert_eq!(
            code(authorize(as_user(&admin), create(UserRole::Master))),
            "role_too_low"
        );
        assert_eq!(
            code(authorize(as_user(&admin), create(UserRole::General))),
            "ok"
        );
        assert_eq!(
            code(authorize(
                as_user(&admin),
                Action::CreateUser {
                    contract_no: "C2",
                    role: UserRole::General
                }
            )),
            "other_company"
        );
        assert_eq!(code(authorize(op, Action::RecordInitRequest)), "ok");
        assert_eq!(
            code(authorize(as_user(&master), Action::RecordInitRequest)),
            "branch_only"
        );
        let approve = Action::ApproveInitRequest {
            recorded_by: "sv001",
        };
        assert_eq!(code(authorize(sup, approve)), "same_person");
        assert_eq!(code(authorize(sup2, approve)), "ok");
        assert_eq!(
            code(authorize(
                op,
                Action::ApproveInitRequest {
                    recorded_by: "sv002"
                }
            )),
            "supervisor_only"
        );
        assert_eq!(code(authorize(op, Action::ExecuteInitRequest)), "ok");
    }
}
