//! Branch staff proving who they are: an operator's login password checked with the operators'
//! sign-in lockout, every outcome recorded in the same transaction as the lockout facts it
//! changes. The window's sign-in and re-sign-in and the command line's operator use it alike.

use kagiya_core::event::{EventKind, SignInFailure};
use kagiya_core::lockout::{FailureOutcome, LockStatus, LockoutFacts, LockoutPolicy};
use kagiya_core::operator::{OperatorId, OperatorRecord};
use kagiya_core::password::Verified;
use kagiya_core::secret::Secret;
use kagiya_core::{Error, Millis};

use crate::port::Change;
use crate::Engine;

fn minutes_left(until: Millis, now: Millis) -> i64 {
    ((until - now).max(0) + 59_999) / 60_000
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
        let policy = LockoutPolicy::OPERATOR;
        let attempted_id: String = typed_id.trim().chars().take(64).collect();
        let now = self.now();
        let hasher = &self.hasher;
        // Failures are committed before they are reported: the closure returns them as values.
        self.transact(now, |r| {
            let mut changes = Vec::new();
            let Some(mut op) = r.operator(&attempted_id)? else {
                hasher.waste_time(password);
                let is_id = OperatorId::parse(&attempted_id).is_ok();
                let kind = EventKind::OperatorSignInFailed {
                    attempted_id: crate::port::typed_id(r, &attempted_id, is_id, &mut changes)?,
                    reason: SignInFailure::UnknownOperator,
                    failures: 0,
                };
                changes.push(Change::event(None, kind));
                return Ok((changes, Err(Error::InvalidCredentials)));
            };
            let id = op.operator_id.clone();
            if let Some(ended_at) = policy.expired_lock(&op.lockout, now) {
                op.lockout = LockoutFacts::default();
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
                let kind = EventKind::OperatorSignInFailed {
                    attempted_id: id.clone(),
                    reason: SignInFailure::Locked,
                    failures: op.lockout.failures,
                };
                changes.push(Change::event(None, kind));
                let refused = Error::SignInLocked {
                    minutes_left: minutes_left(until, now),
                };
                return Ok((changes, Err(refused)));
            }
            match hasher.verify(password, &op.login_hash) {
                Verified::No => {
                    let (facts, outcome) = policy.on_failure(&op.lockout, now);
                    changes.push(Change::OperatorLockout {
                        operator_id: id.clone(),
                        facts,
                    });
                    let kind = EventKind::OperatorSignInFailed {
                        attempted_id: id.clone(),
                        reason: SignInFailure::WrongPassword,
                        failures: facts.failures,
                    };
                    changes.push(Change::event(None, kind));
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
                    Ok((changes, Err(Error::InvalidCredentials)))
                }
                Verified::Yes { needs_rehash } => {
                    changes.push(Change::OperatorSignedIn {
                        operator_id: id.clone(),
                    });
                    if needs_rehash {
                        changes.push(Change::OperatorLoginHash {
                            operator_id: id.clone(),
                            phc: hasher.hash(password)?,
                        });
                        let kind = EventKind::OperatorPasswordRehashed {
                            operator_id: id.clone(),
                        };
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
