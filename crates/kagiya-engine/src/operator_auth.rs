//! Branch staff proving who they are: an operator's login password checked with the operators'
//! sign-in lockout, every outcome recorded in the same transaction as the lockout facts it
//! changes. The window's sign-in and re-sign-in and the command line's operator use it alike.

use kagiya_core::branch_fold::CredentialDigests;
use kagiya_core::event::{EventKind, SignInFailure};
use kagiya_core::lockout::{FailureOutcome, LockStatus, LockoutPolicy};
use kagiya_core::operator::{OperatorId, OperatorRecord};
use kagiya_core::password::Verified;
use kagiya_core::secret::Secret;
use kagiya_core::{Error, Millis};

use crate::operator_lifecycle::{change_due, expiry_days};
use crate::port::Change;
use crate::Engine;
use kagiya_core::directory::authz::Denial;

fn minutes_left(until: Millis, now: Millis) -> i64 {
    ((until - now).max(0) + 59_999) / 60_000
}

/// The longest an operator's growing lock lasts (*ours*: four hours — long enough to stop a
/// guesser for a shift, short enough that a supervisor's unlock is seldom needed).
pub const OPERATOR_MAX_LOCK_MS: Millis = 4 * 60 * kagiya_core::MINUTE;

/// Which of an operator's two passwords is checked.
#[derive(Clone, Copy)]
enum Which<'a> {
    /// Signing in (the window, a re-sign-in, a command-line operator), recording
    /// `success_event` when it succeeds.
    Login {
        success_event: &'a dyn Fn(&str) -> EventKind,
    },
    /// Confirming `action` (seed 004: 操作を行われているご自身の確認用パスワード).
    Confirmation { action: &'a str },
}

impl Engine {
    /// Verifies `password` as `typed_id`'s login password under the operators' lockout. On
    /// success the lockout facts are cleared, an out-of-date hash is upgraded and
    /// `success_event` is recorded; on failure the failure is counted (unless locked) and
    /// recorded, and the refusal returned. Unknown IDs and wrong passwords get the same answer.
    pub fn authenticate_operator(
        &self,
        typed_id: &str,
        password: &Secret,
        success_event: impl Fn(&str) -> EventKind,
    ) -> Result<OperatorRecord, Error> {
        self.check_operator(
            typed_id,
            password,
            Which::Login {
                success_event: &success_event,
            },
        )
    }

    /// Checks an operator's confirmation password for `action`. Wrong ones count towards the
    /// same lock as the sign-in (growing with each lock), in the same transaction as the check;
    /// while the operator is locked or disabled nothing is checked at all. A success clears
    /// nothing: only a right login password does.
    pub(crate) fn confirm_operator(
        &self,
        typed_id: &str,
        confirmation: &Secret,
        action: &str,
    ) -> Result<OperatorRecord, Error> {
        self.check_operator(typed_id, confirmation, Which::Confirmation { action })
    }

    fn check_operator(
        &self,
        typed_id: &str,
        password: &Secret,
        which: Which<'_>,
    ) -> Result<OperatorRecord, Error> {
        let policy = LockoutPolicy::OPERATOR;
        let attempted_id: String = typed_id.trim().chars().take(64).collect();
        let now = self.now();
        let hasher = &self.hasher;
        // What a refusal records: the sign-in's own event, or the confirmation's.
        let refused = |id: String, reason: SignInFailure, failures: u32| match which {
            Which::Login { .. } => EventKind::OperatorSignInFailed {
                attempted_id: id,
                reason,
                failures,
            },
            Which::Confirmation { action } => EventKind::ConfirmationFailed {
                actor: id,
                action: action.to_owned(),
            },
        };
        let wrong = match which {
            Which::Login { .. } => Error::InvalidCredentials,
            Which::Confirmation { .. } => Error::ConfirmationFailed,
        };
        // Failures are committed before they are reported: the closure returns them as values.
        self.transact(now, |r| {
            let mut changes = Vec::new();
            let Some(mut op) = r.operator(&attempted_id)? else {
                hasher.waste_time(password);
                let is_id = OperatorId::parse(&attempted_id).is_ok();
                let typed = crate::port::typed_id(r, &attempted_id, is_id, &mut changes)?;
                changes.push(Change::event(
                    None,
                    refused(typed, SignInFailure::UnknownOperator, 0),
                ));
                return Ok((changes, Err(wrong.clone())));
            };
            let id = op.operator_id.clone();
            if op.disabled {
                // Refused like a wrong password, at the same cost, and recorded.
                hasher.waste_time(password);
                changes.push(Change::event(
                    None,
                    refused(id.clone(), SignInFailure::Disabled, op.lockout.failures),
                ));
                return Ok((changes, Err(wrong.clone())));
            }
            if let Some(ended_at) = policy.expired_lock(&op.lockout, now) {
                op.lockout = policy.on_release(&op.lockout);
                changes.push(Change::OperatorLockout {
                    operator_id: id.clone(),
                    facts: op.lockout,
                });
                let kind = EventKind::OperatorLockReleased {
                    operator_id: id.clone(),
                    ended_at,
                };
                changes.push(Change::event(None, kind));
            }
            if let LockStatus::Locked { until } = policy.status(&op.lockout, now) {
                changes.push(Change::event(
                    None,
                    refused(id.clone(), SignInFailure::Locked, op.lockout.failures),
                ));
                let refused = Error::SignInLocked {
                    minutes_left: minutes_left(until, now),
                };
                return Ok((changes, Err(refused)));
            }
            let hash = match which {
                Which::Login { .. } => &op.login_hash,
                Which::Confirmation { .. } => &op.confirm_hash,
            };
            match hasher.verify(password, hash) {
                Verified::No => {
                    let (facts, outcome) =
                        policy.on_failure_growing(&op.lockout, now, OPERATOR_MAX_LOCK_MS);
                    changes.push(Change::OperatorLockout {
                        operator_id: id.clone(),
                        facts,
                    });
                    changes.push(Change::event(
                        None,
                        refused(id.clone(), SignInFailure::WrongPassword, facts.failures),
                    ));
                    if let FailureOutcome::LockedNow { until } = outcome {
                        let kind = EventKind::OperatorLocked {
                            operator_id: id.clone(),
                            until,
                        };
                        changes.push(Change::event(None, kind));
                        let refused = Error::SignInLocked {
                            minutes_left: minutes_left(until, now),
                        };
                        return Ok((changes, Err(refused)));
                    }
                    Ok((changes, Err(wrong.clone())))
                }
                Verified::Yes { needs_rehash } => {
                    let Which::Login { success_event } = which else {
                        // A reset or expired login password is changed before anything is done.
                        let due = change_due(&op, expiry_days(r)?, now);
                        let result = if due {
                            Err(Error::NotPermitted(Denial::PasswordChangeRequired))
                        } else {
                            Ok(op)
                        };
                        return Ok((changes, result));
                    };
                    changes.push(Change::OperatorSignedIn {
                        operator_id: id.clone(),
                    });
                    if needs_rehash {
                        let phc = hasher.hash(password)?;
                        let kind = EventKind::OperatorPasswordRehashed {
                            operator_id: id.clone(),
                            credentials: Some(CredentialDigests::of(&phc, None)),
                        };
                        changes.push(Change::OperatorLoginHash {
                            operator_id: id.clone(),
                            phc,
                        });
                        changes.push(Change::event(Some(&id), kind));
                    }
                    changes.push(Change::event(Some(&id), success_event(&id)));
                    op.lockout = policy.on_success();
                    op.last_sign_in_at = Some(now);
                    Ok((changes, Ok(op)))
                }
            }
        })?
    }
}

#[cfg(test)]
mod tests {
    use super::minutes_left;

    #[test]
    fn minutes_left_rounds_up() {
        assert_eq!(minutes_left(60_000, 0), 1);
        assert_eq!(minutes_left(60_001, 0), 2);
        assert_eq!(minutes_left(1, 0), 1);
        assert_eq!(minutes_left(0, 5), 0);
    }
}
