//! Branch staff over time (issue 12): supervisors disable and enable operators and change their
//! roles — never their own, never leaving the branch without an enabled supervisor — and reset
//! an operator's passwords (temporary ones, changed at the next sign-in); operators change their
//! own with the current ones; login passwords expire after the branch's setting. Every step is
//! confirmed by the acting supervisor's confirmation password and recorded.

use kagiya_core::branch_fold::CredentialDigests;
use kagiya_core::directory::authz::Denial;
use kagiya_core::event::EventKind;
use kagiya_core::operator::{OperatorRecord, Role};
use kagiya_core::password::generate::temporary_password;
use kagiya_core::password::{PasswordPolicy, PolicyContext, Verified};
use kagiya_core::secret::Secret;
use kagiya_core::{Error, Millis};

use crate::port::{Change, Reads};
use crate::{ActorRef, Engine, DAY};

/// The setting that holds the days after which an operator's login password expires (absent or
/// 0: never, as NIST SP 800-63B-4 advises; a branch whose rules ask for expiry sets it).
pub const OPERATOR_EXPIRY_SETTING: &str = "operator.password_expiry_days";
/// The range the setting accepts (*ours*).
pub const OPERATOR_EXPIRY_RANGE: std::ops::RangeInclusive<u32> = 30..=365;

/// Temporary passwords issued by a supervisor's reset, shown once.
#[derive(Debug)]
pub struct OperatorPasswords {
    pub operator_id: String,
    pub login: Secret,
    pub confirmation: Secret,
}

/// The branch's expiry of operators' login passwords, in days (`None`: never).
pub(crate) fn expiry_days(r: &dyn Reads) -> Result<Option<u32>, Error> {
    Ok(r.setting(OPERATOR_EXPIRY_SETTING)?
        .and_then(|v| v.parse::<u32>().ok())
        .filter(|d| *d > 0))
}

/// Whether `op` must change the login password before acting: reset by a supervisor, or expired.
pub(crate) fn change_due(op: &OperatorRecord, expiry: Option<u32>, now: Millis) -> bool {
    op.must_change || expiry.is_some_and(|d| op.password_set_at + i64::from(d) * DAY <= now)
}

impl Engine {
    /// A supervisor, confirmed, acting on another operator that exists.
    fn supervise(
        &self,
        who: &ActorRef,
        confirmation: &Secret,
        target: &str,
        action: &str,
    ) -> Result<(String, OperatorRecord), Error> {
        let acting = self.confirm_supervisor(who, confirmation, action)?;
        let op = self
            .read(|r| r.operator(target))?
            .ok_or(Error::InvalidOperatorId)?;
        if op.operator_id.eq_ignore_ascii_case(&acting.audit_name()) {
            return Err(Error::NotPermitted(Denial::OwnAccount));
        }
        Ok((acting.audit_name(), op))
    }

    /// Disables (or enables) an operator: a disabled one is refused at sign-in, confirmation and
    /// on the command line, at the cost and with the answer of a wrong password.
    pub fn set_operator_disabled(
        &self,
        who: &ActorRef,
        confirmation: &Secret,
        operator_id: &str,
        disabled: bool,
    ) -> Result<(), Error> {
        let action = if disabled {
            "disable_operator"
        } else {
            "enable_operator"
        };
        let (actor, op) = self.supervise(who, confirmation, operator_id, action)?;
        let id = op.operator_id.clone();
        self.transact(self.now(), |r| {
            if disabled {
                keeps_a_supervisor(r, &id)?;
            }
            let ev = if disabled {
                EventKind::OperatorDisabled {
                    operator_id: id.clone(),
                }
            } else {
                EventKind::OperatorEnabled {
                    operator_id: id.clone(),
                }
            };
            Ok((
                vec![
                    Change::OperatorDisabled {
                        operator_id: id.clone(),
                        disabled,
                    },
                    Change::event(Some(&actor), ev),
                ],
                (),
            ))
        })
    }

    /// Changes an operator's role.
    pub fn set_operator_role(
        &self,
        who: &ActorRef,
        confirmation: &Secret,
        operator_id: &str,
        role: Role,
    ) -> Result<(), Error> {
        let (actor, op) = self.supervise(who, confirmation, operator_id, "change_operator_role")?;
        if op.role == role {
            return Ok(());
        }
        let id = op.operator_id.clone();
        self.transact(self.now(), |r| {
            if role != Role::Supervisor {
                keeps_a_supervisor(r, &id)?;
            }
            Ok((
                vec![
                    Change::OperatorRole {
                        operator_id: id.clone(),
                        role,
                    },
                    Change::event(
                        Some(&actor),
                        EventKind::OperatorRoleChanged {
                            operator_id: id.clone(),
                            role,
                        },
                    ),
                ],
                (),
            ))
        })
    }

    /// A supervisor issues new temporary passwords to an operator who forgot theirs; the login
    /// password must be changed at the next sign-in. The lock, if any, is lifted with it.
    pub fn reset_operator_passwords(
        &self,
        who: &ActorRef,
        confirmation: &Secret,
        operator_id: &str,
    ) -> Result<OperatorPasswords, Error> {
        let (actor, op) =
            self.supervise(who, confirmation, operator_id, "reset_operator_passwords")?;
        let policy = PasswordPolicy::OPERATOR;
        let ctx = PolicyContext {
            login_id: &op.operator_id,
            ..Default::default()
        };
        let login = temporary_password(&policy, &ctx)?;
        let confirmation = temporary_password(
            &policy,
            &PolicyContext {
                must_differ_from: Some(login.expose()),
                ..ctx
            },
        )?;
        let (login_hash, confirm_hash) =
            (self.hasher.hash(&login)?, self.hasher.hash(&confirmation)?);
        let ev = EventKind::OperatorPasswordsReset {
            operator_id: op.operator_id.clone(),
            credentials: Some(CredentialDigests::of(&login_hash, Some(&confirm_hash))),
        };
        let change = Change::OperatorPasswords {
            operator_id: op.operator_id.clone(),
            login_hash,
            confirm_hash: Some(confirm_hash),
            must_change: true,
        };
        self.commit(self.now(), vec![change, Change::event(Some(&actor), ev)])?;
        Ok(OperatorPasswords {
            operator_id: op.operator_id,
            login,
            confirmation,
        })
    }

    /// An operator changes their own passwords, giving the current login password (counted like
    /// a sign-in). A new confirmation password is optional; both follow the operators' policy,
    /// differ from each other and from the current login password.
    pub fn change_own_operator_passwords(
        &self,
        operator_id: &str,
        current_login: &Secret,
        new_login: &Secret,
        new_confirmation: Option<&Secret>,
    ) -> Result<(), Error> {
        let op = self.authenticate_operator(operator_id, current_login, |id| {
            EventKind::OperatorSignedIn {
                operator_id: id.to_owned(),
            }
        })?;
        let policy = PasswordPolicy::OPERATOR;
        let ctx = PolicyContext {
            login_id: &op.operator_id,
            must_differ_from: Some(current_login.expose()),
            ..Default::default()
        };
        let mut codes = policy.violations(new_login.expose(), &ctx);
        if let Some(c) = new_confirmation {
            codes.extend(policy.violations(
                c.expose(),
                &PolicyContext {
                    must_differ_from: Some(new_login.expose()),
                    ..ctx
                },
            ));
        } else if matches!(
            self.hasher.verify(new_login, &op.confirm_hash),
            Verified::Yes { .. }
        ) {
            codes.push("password.differs_from_login");
        }
        if !codes.is_empty() {
            codes.dedup();
            return Err(Error::PasswordPolicy(codes));
        }
        let login_hash = self.hasher.hash(new_login)?;
        let confirm_hash = new_confirmation.map(|c| self.hasher.hash(c)).transpose()?;
        let ev = EventKind::OperatorPasswordChanged {
            operator_id: op.operator_id.clone(),
            confirmation: new_confirmation.is_some(),
            credentials: Some(CredentialDigests::of(&login_hash, confirm_hash.as_deref())),
        };
        let change = Change::OperatorPasswords {
            operator_id: op.operator_id.clone(),
            login_hash,
            confirm_hash,
            must_change: false,
        };
        self.commit(
            self.now(),
            vec![change, Change::event(Some(&op.operator_id), ev)],
        )
    }

    /// Sets the branch's expiry of operators' login passwords (`0`: never); a supervisor's,
    /// confirmed.
    pub fn set_operator_expiry_days(
        &self,
        who: &ActorRef,
        confirmation: &Secret,
        days: u32,
    ) -> Result<(), Error> {
        if days != 0 && !OPERATOR_EXPIRY_RANGE.contains(&days) {
            return Err(Error::InvalidValue("operator_expiry_days"));
        }
        let acting = self.confirm_supervisor(who, confirmation, "set_operator_expiry")?;
        let (key, value) = (OPERATOR_EXPIRY_SETTING.to_owned(), days.to_string());
        self.commit(
            self.now(),
            vec![
                Change::Setting {
                    key: key.clone(),
                    value: value.clone(),
                },
                Change::event(
                    Some(&acting.audit_name()),
                    EventKind::SettingChanged { key, value },
                ),
            ],
        )
    }

    /// Whether `operator_id` must change the login password before confirming anything (a
    /// supervisor's reset, or the branch's expiry); `None` when there is no such operator or it
    /// is disabled — a session of theirs must end.
    pub fn operator_standing(&self, operator_id: &str) -> Result<Option<bool>, Error> {
        let now = self.now();
        self.read(|r| {
            Ok(match r.operator(operator_id)? {
                Some(op) if !op.disabled => Some(change_due(&op, expiry_days(r)?, now)),
                _ => None,
            })
        })
    }

    /// Every operator, for the supervisors' list.
    pub fn operators(&self) -> Result<Vec<OperatorRecord>, Error> {
        self.read(|r| r.operators())
    }
}

/// Refuses a change that would leave the branch without an enabled supervisor other than
/// `losing` (which is being disabled or demoted). Read inside the write, so two supervisors
/// demoting each other at once cannot both succeed.
fn keeps_a_supervisor(r: &dyn Reads, losing: &str) -> Result<(), Error> {
    let others = r
        .operators()?
        .into_iter()
        .filter(|o| o.role == Role::Supervisor && !o.disabled)
        .filter(|o| !o.operator_id.eq_ignore_ascii_case(losing))
        .count();
    if others == 0 {
        return Err(Error::NotPermitted(Denial::LastSupervisor));
    }
    Ok(())
}
