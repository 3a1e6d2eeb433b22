//! Sign-in lockout: N failures within a window lock sign-in for a while. The state is *derived*
//! from stored facts and the current time, never kept as a flag that could drift.
//!
//! Semantics (see ../shared/reference/lockout-and-policy.md §0.5):
//! - a failure while locked is refused and not counted;
//! - when a lock has run out, counting starts afresh (no Keycloak-style re-lock on the next typo);
//! - failures older than the window no longer count (the window starts at the first counted failure);
//! - a success clears everything.

use serde::{Deserialize, Serialize};

use crate::{Millis, MINUTE};

/// Threshold, window and lock duration.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct LockoutPolicy {
    /// Failures within the window that lock sign-in (≥ 1).
    pub threshold: u32,
    /// How long failures count, from the first counted one.
    pub window_ms: Millis,
    /// How long a lock lasts.
    pub lock_ms: Millis,
}

impl LockoutPolicy {
    /// The operators' default: 5 failures within 15 minutes lock sign-in for 15 minutes.
    pub const OPERATOR: LockoutPolicy = LockoutPolicy {
        threshold: 5,
        window_ms: 15 * MINUTE,
        lock_ms: 15 * MINUTE,
    };
}

/// What is stored per account.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct LockoutFacts {
    /// Failures counted in the current window.
    pub failures: u32,
    /// When the first of them happened.
    pub first_failure_at: Option<Millis>,
    /// When the current (or last) lock ends.
    pub locked_until: Option<Millis>,
}

/// The derived state.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(tag = "state", rename_all = "snake_case")]
pub enum LockStatus {
    /// Sign-in is possible; `failures` count in the current window.
    Open { failures: u32 },
    /// Sign-in is refused until `until`.
    Locked { until: Millis },
}

/// What one failure did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FailureOutcome {
    /// Counted; not yet locked.
    Counted { failures: u32 },
    /// This failure reached the threshold: locked until `until`.
    LockedNow { until: Millis },
    /// Already locked: refused, not counted.
    RefusedWhileLocked { until: Millis },
}

impl LockoutPolicy {
    /// The state at `now`.
    pub fn status(&self, f: &LockoutFacts, now: Millis) -> LockStatus {
        match f.locked_until {
            Some(until) if until > now => LockStatus::Locked { until },
            _ => LockStatus::Open {
                failures: self.live_failures(f, now),
            },
        }
    }

    /// Failures that still count at `now` (0 once a lock has run out or the window has passed).
    fn live_failures(&self, f: &LockoutFacts, now: Millis) -> u32 {
        if f.locked_until.is_some_and(|u| u <= now) {
            return 0;
        }
        match f.first_failure_at {
            Some(first) if now - first < self.window_ms => f.failures,
            _ => 0,
        }
    }

    /// When a lock has run out but is still stored, its end time: the caller records the
    /// automatic release as an event and then stores empty facts (a fresh count).
    pub fn expired_lock(&self, f: &LockoutFacts, now: Millis) -> Option<Millis> {
        f.locked_until.filter(|u| *u <= now)
    }

    /// The facts after one failed attempt at `now`, and what it did.
    pub fn on_failure(&self, f: &LockoutFacts, now: Millis) -> (LockoutFacts, FailureOutcome) {
        if let LockStatus::Locked { until } = self.status(f, now) {
            return (*f, FailureOutcome::RefusedWhileLocked { until });
        }
        let live = self.live_failures(f, now);
        let first = if live == 0 {
            now
        } else {
            f.first_failure_at.unwrap_or(now)
        };
        let failures = live + 1;
        if failures >= self.threshold.max(1) {
            let until = now + self.lock_ms;
            (
                LockoutFacts {
                    failures,
                    first_failure_at: Some(first),
                    locked_until: Some(until),
                },
                FailureOutcome::LockedNow { until },
            )
        } else {
            (
                LockoutFacts {
                    failures,
                    first_failure_at: Some(first),
                    locked_until: None,
                },
                FailureOutcome::Counted { failures },
            )
        }
    }

    /// The facts after a successful sign-in.
    pub fn on_success(&self) -> LockoutFacts {
        LockoutFacts::default()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    const P: LockoutPolicy = LockoutPolicy {
        threshold: 3,
        window_ms: 10 * MINUTE,
        lock_ms: 5 * MINUTE,
    };

    fn fail_n(mut f: LockoutFacts, n: u32, at: Millis) -> (LockoutFacts, FailureOutcome) {
        let mut last = FailureOutcome::Counted { failures: 0 };
        for _ in 0..n {
            (f, last) = P.on_failure(&f, at);
        }
        (f, last)
    }

    #[test]
    fn threshold_failures_lock_for_the_duration() {
        let (f, o) = fail_n(LockoutFacts::default(), 2, 0);
        assert_eq!(o, FailureOutcome::Counted { failures: 2 });
        assert_eq!(P.status(&f, 0), LockStatus::Open { failures: 2 });
        let (f, o) = P.on_failure(&f, 1000);
        assert_eq!(
            o,
            FailureOutcome::LockedNow {
                until: 1000 + 5 * MINUTE
            }
        );
        assert_eq!(
            P.status(&f, 1000 + 5 * MINUTE - 1),
            LockStatus::Locked {
                until: 1000 + 5 * MINUTE
            }
        );
        assert_eq!(
            P.status(&f, 1000 + 5 * MINUTE),
            LockStatus::Open { failures: 0 }
        );
    }

    #[test]
    fn failures_during_a_lock_are_refused_and_not_counted() {
        let (f, _) = fail_n(LockoutFacts::default(), 3, 0);
        let (g, o) = P.on_failure(&f, MINUTE);
        assert_eq!(o, FailureOutcome::RefusedWhileLocked { until: 5 * MINUTE });
        assert_eq!(g, f);
    }

    #[test]
    fn an_expired_lock_starts_a_fresh_count() {
        // Keycloak's trap: one typo after the first lock must not lock again.
        let (f, _) = fail_n(LockoutFacts::default(), 3, 0);
        let after = 5 * MINUTE;
        assert_eq!(P.expired_lock(&f, after), Some(5 * MINUTE));
        let (g, o) = P.on_failure(&f, after);
        assert_eq!(o, FailureOutcome::Counted { failures: 1 });
        assert_eq!(g.locked_until, None);
        assert_eq!(g.first_failure_at, Some(after));
    }

    #[test]
    fn failures_outside_the_window_no_longer_count() {
        let (f, _) = fail_n(LockoutFacts::default(), 2, 0);
        let (_, o) = P.on_failure(&f, 10 * MINUTE);
        assert_eq!(o, FailureOutcome::Counted { failures: 1 });
        let (_, o) = P.on_failure(&f, 10 * MINUTE - 1);
        assert!(matches!(o, FailureOutcome::LockedNow { .. }));
    }

    #[test]
    fn success_clears_everything() {
        let (f, _) = fail_n(LockoutFacts::default(), 2, 0);
        assert_ne!(f, P.on_success());
        assert_eq!(
            P.status(&P.on_success(), 0),
            LockStatus::Open { failures: 0 }
        );
    }

    /// A small reference model: the list of attempt times that counted since the last reset.
    #[derive(Default)]
    struct Model {
        counted: Vec<Millis>,
        locked_until: Option<Millis>,
    }

    impl Model {
        fn fail(&mut self, now: Millis) -> bool {
            if self.locked_until.is_some_and(|u| u > now) {
                return false;
            }
            if self.locked_until.is_some() {
                self.locked_until = None;
                self.counted.clear();
            }
            if self.counted.first().is_some_and(|f| now - f >= P.window_ms) {
                self.counted.clear();
            }
            self.counted.push(now);
            if self.counted.len() as u32 >= P.threshold {
                self.locked_until = Some(now + P.lock_ms);
            }
            true
        }
        fn locked(&self, now: Millis) -> bool {
            self.locked_until.is_some_and(|u| u > now)
        }
    }

    proptest! {
        #[test]
        fn agrees_with_the_reference_model(steps in proptest::collection::vec((0i64..4 * MINUTE, any::<bool>()), 1..60)) {
            let mut now = 0;
            let mut f = LockoutFacts::default();
            let mut m = Model::default();
            for (dt, success) in steps {
                now += dt;
                if success && !m.locked(now) {
                    f = P.on_success();
                    m = Model::default();
                } else {
                    let counted = m.fail(now);
                    let (g, o) = P.on_failure(&f, now);
                    prop_assert_eq!(counted, !matches!(o, FailureOutcome::RefusedWhileLocked { .. }));
                    f = g;
                }
                prop_assert_eq!(m.locked(now), matches!(P.status(&f, now), LockStatus::Locked { .. }));
            }
        }
    }
}
