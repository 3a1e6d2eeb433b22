//! Checking an operator's password with the sign-in lockout applied, recording every outcome in
//! the audit log in the same transaction as the lockout facts it changes.

use kagiya_core::event::{EventKind, SignInFailure};
use kagiya_core::lockout::{FailureOutcome, LockStatus, LockoutFacts, LockoutPolicy};
use kagiya_core::operator::OperatorRecord;
use kagiya_core::password::{PasswordHasher, Verified};
use kagiya_core::secret::Secret;
use kagiya_core::{Error, Millis};
use kagiya_store::operators;
use kagiya_store::{events, Store};

/// What an attempt came to. Failures are committed before they are reported, so they are returned
/// as values from the transaction rather than as errors (which would roll it back).
enum Attempt {
    Accepted(OperatorRecord),
    Refused(Error),
}

fn minutes_left(until: Millis, now: Millis) -> i64 {
    ((until - now).max(0) + 59_999) / 60_000
}

/// Verifies `password` for `typed_id` at `now`. On success the lockout facts are cleared and the
/// hash is upgraded if its parameters are out of date; `success_event` is recorded. On failure the
/// failure is counted (unless locked) and recorded, and the error to show is returned.
pub(crate) fn authenticate(
    store: &Store,
    hasher: &PasswordHasher,
    policy: &LockoutPolicy,
    typed_id: &str,
    password: &Secret,
    now: Millis,
    success_event: impl FnOnce(&str) -> EventKind,
) -> Result<OperatorRecord, Error> {
    let attempted_id: String = typed_id.trim().chars().take(64).collect();
    let attempt = store.write(|tx| {
        let Some(mut op) = operators::find(tx, &attempted_id)? else {
            hasher.waste_time(password);
            let kind = EventKind::OperatorSignInFailed {
                attempted_id: attempted_id.clone(),
                reason: SignInFailure::UnknownOperator,
                failures: 0,
            };
            events::append(tx, now, None, kind)?;
            return Ok(Attempt::Refused(Error::InvalidCredentials));
        };
        let id = op.operator_id.clone();
        if let Some(ended_at) = policy.expired_lock(&op.lockout, now) {
            op.lockout = LockoutFacts::default();
            operators::set_lockout(tx, &id, &op.lockout)?;
            let kind = EventKind::OperatorLockReleased {
                operator_id: id.clone(),
                ended_at,
            };
            events::append(tx, now, None, kind)?;
        }
        if let LockStatus::Locked { until } = policy.status(&op.lockout, now) {
            let kind = EventKind::OperatorSignInFailed {
                attempted_id: id.clone(),
                reason: SignInFailure::Locked,
                failures: op.lockout.failures,
            };
            events::append(tx, now, None, kind)?;
            return Ok(Attempt::Refused(Error::SignInLocked {
                minutes_left: minutes_left(until, now),
            }));
        }
        match hasher.verify(password, &op.login_hash) {
            Verified::No => {
                let (facts, outcome) = policy.on_failure(&op.lockout, now);
                operators::set_lockout(tx, &id, &facts)?;
                let kind = EventKind::OperatorSignInFailed {
                    attempted_id: id.clone(),
                    reason: SignInFailure::WrongPassword,
                    failures: facts.failures,
                };
                events::append(tx, now, None, kind)?;
                if let FailureOutcome::LockedNow { until } = outcome {
                    let kind = EventKind::OperatorLocked {
                        operator_id: id.clone(),
                        until,
                    };
                    events::append(tx, now, None, kind)?;
                    return Ok(Attempt::Refused(Error::SignInLocked {
                        minutes_left: minutes_left(until, now),
                    }));
                }
                Ok(Attempt::Refused(Error::InvalidCredentials))
            }
            Verified::Yes { needs_rehash } => {
                operators::record_sign_in(tx, &id, now)?;
                if needs_rehash {
                    let phc = hasher.hash(password)?;
                    operators::set_login_hash(tx, &id, &phc)?;
                    let kind = EventKind::OperatorPasswordRehashed {
                        operator_id: id.clone(),
                    };
                    events::append(tx, now, Some(&id), kind)?;
                }
                events::append(tx, now, Some(&id), success_event(&id))?;
                op.lockout = policy.on_success();
                op.last_sign_in_at = Some(now);
                Ok(Attempt::Accepted(op))
            }
        }
    })?;
    match attempt {
        Attempt::Accepted(op) => Ok(op),
        Attempt::Refused(e) => Err(e),
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
