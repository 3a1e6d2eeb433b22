//! Lockout: N failures within a window lock a credential for a while, and after M temporary locks
//! (or at once when the duration is zero) for good, until a success or an admin unlock. The state
//! is *derived* from stored facts and the current time, never kept as a flag that could drift.
//!
//! Semantics (see ../shared/reference/lockout-and-policy.md §0.2, §0.3, §0.5 and docs/policies.md):
//! - a failure while locked (temporarily or permanently) is refused and not counted;
//! - when a temporary lock has run out, counting starts afresh (no Keycloak-style re-lock on the
//!   next typo); the number of temporary locks so far is kept;
//! - failures older than the window no longer count (the window starts at the first counted failure);
//! - the threshold crossing after `permanent_after` temporary locks locks permanently;
//! - a success clears both counts; an admin unlock clears them and records its time.

use serde::{Deserialize, Serialize};

use crate::{Millis, MINUTE};

/// Threshold, window, lock duration and when locks become permanent.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct LockoutPolicy {
    /// Failures within the window that lock (≥ 1).
    pub threshold: u32,
    /// How long failures count, from the first counted one.
    pub window_ms: Millis,
    /// How long a temporary lock lasts; 0 means the first lock is already permanent.
    pub lock_ms: Millis,
    /// After this many temporary locks, the next one is permanent; `None`: never permanent.
    #[serde(default)]
    pub permanent_after: Option<u32>,
}

impl LockoutPolicy {
    /// The operators' default: 5 failures within 15 minutes lock sign-in for 15 minutes.
    pub const OPERATOR: LockoutPolicy = LockoutPolicy {
        threshold: 5,
        window_ms: 15 * MINUTE,
        lock_ms: 15 * MINUTE,
        permanent_after: None,
    };

    /// The lowest and highest threshold a tenant may set (NIST SP 800-63B-4 §3.2.2: at most 100).
    pub const THRESHOLD_RANGE: std::ops::RangeInclusive<u32> = 1..=100;

    /// Checks that the numbers make sense; returns the name of the first bad field.
    pub fn validate(&self) -> Result<(), &'static str> {
        if !Self::THRESHOLD_RANGE.contains(&self.threshold) {
            return Err("threshold");
        }
        if self.window_ms <= 0 || self.window_ms > 30 * 24 * 60 * MINUTE {
            return Err("window");
        }
        if self.lock_ms < 0 || self.lock_ms > 30 * 24 * 60 * MINUTE {
            return Err("duration");
        }
        if self.permanent_after.is_some_and(|m| m > 100) {
            return Err("permanent_after");
        }
        Ok(())
    }
}

/// What is stored per credential.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct LockoutFacts {
    /// Failures counted in the current window.
    pub failures: u32,
    /// When the first of them happened.
    pub first_failure_at: Option<Millis>,
    /// When the last counted failure happened (kept after a lock, for the admin's view).
    #[serde(default)]
    pub last_failure_at: Option<Millis>,
    /// When the current (or last) temporary lock ends.
    pub locked_until: Option<Millis>,
    /// Temporary locks since the last success or admin unlock.
    #[serde(default)]
    pub temp_locks: u32,
    /// When the credential was locked for good.
    #[serde(default)]
    pub permanent_at: Option<Millis>,
    /// The last admin unlock (a timestamp, so that it merges after offline sync: later wins).
    #[serde(default)]
    pub admin_unlocked_at: Option<Millis>,
}

/// The derived state.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(tag = "state", rename_all = "snake_case")]
pub enum LockStatus {
    /// Use is possible; `failures` count in the current window.
    Open { failures: u32 },
    /// Refused until `until` (seed 004: 一時利用停止).
    Locked { until: Millis },
    /// Refused until an admin unlocks (seed 004: 利用停止).
    LockedPermanently { since: Millis },
}

impl LockStatus {
    pub fn is_locked(&self) -> bool {
        !matches!(self, LockStatus::Open { .. })
    }
}

/// What one failure did.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "result", rename_all = "snake_case")]
pub enum FailureOutcome {
    /// Counted; not yet locked.
    Counted { failures: u32 },
    /// This failure reached the threshold: locked until `until`.
    LockedNow { until: Millis },
    /// This failure reached the threshold after enough temporary locks (or with duration 0).
    LockedPermanently { at: Millis },
    /// Already locked: refused, not counted.
    RefusedWhileLocked { until: Millis },
    /// Already locked for good: refused, not counted.
    RefusedWhilePermanentlyLocked { since: Millis },
}

impl LockoutPolicy {
    /// The state at `now`.
    pub fn status(&self, f: &LockoutFacts, now: Millis) -> LockStatus {
        if let Some(since) = f.permanent_at {
            return LockStatus::LockedPermanently { since };
        }
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

    /// When a temporary lock has run out but is still stored, its end time: the caller records
    /// the automatic release as an event and stores [`LockoutPolicy::on_release`] (a fresh count).
    pub fn expired_lock(&self, f: &LockoutFacts, now: Millis) -> Option<Millis> {
        if f.permanent_at.is_some() {
            return None;
        }
        f.locked_until.filter(|u| *u <= now)
    }

    /// The facts after an expired temporary lock has been observed: a fresh count, same lock tally.
    pub fn on_release(&self, f: &LockoutFacts) -> LockoutFacts {
        LockoutFacts {
            failures: 0,
            first_failure_at: None,
            locked_until: None,
            ..*f
        }
    }

    /// The facts after one failed attempt at `now`, and what it did.
    pub fn on_failure(&self, f: &LockoutFacts, now: Millis) -> (LockoutFacts, FailureOutcome) {
        match self.status(f, now) {
            LockStatus::Locked { until } => {
                return (*f, FailureOutcome::RefusedWhileLocked { until })
            }
            LockStatus::LockedPermanently { since } => {
                return (*f, FailureOutcome::RefusedWhilePermanentlyLocked { since })
            }
            LockStatus::Open { .. } => {}
        }
        let live = self.live_failures(f, now);
        let first = if live == 0 {
            now
        } else {
            f.first_failure_at.unwrap_or(now)
        };
        let failures = live + 1;
        let base = LockoutFacts {
            failures,
            first_failure_at: Some(first),
            last_failure_at: Some(now),
            locked_until: None,
            ..*f
        };
        if failures < self.threshold.max(1) {
            return (base, FailureOutcome::Counted { failures });
        }
        let permanent =
            self.lock_ms == 0 || self.permanent_after.is_some_and(|m| f.temp_locks >= m);
        if permanent {
            (
                LockoutFacts {
                    permanent_at: Some(now),
                    ..base
                },
                FailureOutcome::LockedPermanently { at: now },
            )
        } else {
            let until = now + self.lock_ms;
            (
                LockoutFacts {
                    locked_until: Some(until),
                    temp_locks: f.temp_locks + 1,
                    ..base
                },
                FailureOutcome::LockedNow { until },
            )
        }
    }

    /// [`LockoutPolicy::on_failure`] where each temporary lock lasts twice as long as the one
    /// before (the tally since the last success), up to `max_ms`: for branch staff, whose
    /// passwords open every customer's data, so that a steady guesser at an unattended PC gets
    /// 15 minutes, then 30, 60, … instead of a fresh 15 each time.
    pub fn on_failure_growing(
        &self,
        f: &LockoutFacts,
        now: Millis,
        max_ms: Millis,
    ) -> (LockoutFacts, FailureOutcome) {
        let (mut facts, outcome) = self.on_failure(f, now);
        if let FailureOutcome::LockedNow { .. } = outcome {
            let grown = self
                .lock_ms
                .saturating_mul(1i64 << f.temp_locks.min(20))
                .min(max_ms);
            let until = now + grown;
            facts.locked_until = Some(until);
            return (facts, FailureOutcome::LockedNow { until });
        }
        (facts, outcome)
    }

    /// The facts after a successful use: both counts cleared.
    pub fn on_success(&self) -> LockoutFacts {
        LockoutFacts::default()
    }

    /// The facts after a successful use, keeping the time of the last admin unlock.
    pub fn on_success_keeping(&self, f: &LockoutFacts) -> LockoutFacts {
        LockoutFacts {
            admin_unlocked_at: f.admin_unlocked_at,
            ..LockoutFacts::default()
        }
    }

    /// The facts after an admin unlock at `now`.
    pub fn on_admin_unlock(&self, now: Millis) -> LockoutFacts {
        LockoutFacts {
            admin_unlocked_at: Some(now),
            ..LockoutFacts::default()
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn operators_locks_grow_until_the_cap() {
        let p = LockoutPolicy::OPERATOR;
        let mut f = LockoutFacts::default();
        let mut now = 0;
        let mut lengths = Vec::new();
        for _ in 0..6 {
            for _ in 0..p.threshold {
                let (g, outcome) = p.on_failure_growing(&f, now, 4 * 60 * MINUTE);
                f = g;
                if let FailureOutcome::LockedNow { until } = outcome {
                    lengths.push((until - now) / MINUTE);
                    now = until;
                    f = p.on_release(&f);
                }
            }
        }
        assert_eq!(lengths, [15, 30, 60, 120, 240, 240]);
        // A success starts over.
        let f = p.on_success();
        let (_, outcome) = (0..p.threshold)
            .fold((f, FailureOutcome::Counted { failures: 0 }), |(f, _), _| {
                p.on_failure_growing(&f, now, 4 * 60 * MINUTE)
            });
        assert_eq!(
            outcome,
            FailureOutcome::LockedNow {
                until: now + 15 * MINUTE
            }
        );
    }
    use proptest::prelude::*;

    const P: LockoutPolicy = LockoutPolicy {
        threshold: 3,
        window_ms: 10 * MINUTE,
        lock_ms: 5 * MINUTE,
        permanent_after: None,
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
        assert_eq!(g.temp_locks, 1, "the tally of temporary locks is kept");
    }

    const M2: LockoutPolicy = LockoutPolicy {
        permanent_after: Some(2),
        ..P
    };

    #[test]
    fn the_lock_after_m_temporary_locks_is_permanent() {
        let mut f = LockoutFacts::default();
        let mut now = 0;
        for round in 1..=2 {
            for _ in 0..3 {
                (f, _) = M2.on_failure(&f, now);
            }
            assert_eq!(
                M2.status(&f, now),
                LockStatus::Locked {
                    until: now + 5 * MINUTE
                }
            );
            assert_eq!(f.temp_locks, round);
            now += 5 * MINUTE;
            f = M2.on_release(&f);
        }
        let (g, o) = fail_n_with(&M2, f, 2, now);
        assert_eq!(o, FailureOutcome::Counted { failures: 2 });
        let (g, o) = M2.on_failure(&g, now + 1);
        assert_eq!(o, FailureOutcome::LockedPermanently { at: now + 1 });
        // Never released by time.
        assert_eq!(M2.expired_lock(&g, i64::MAX / 2), None);
        assert_eq!(
            M2.status(&g, i64::MAX / 2),
            LockStatus::LockedPermanently { since: now + 1 }
        );
        let (h, o) = M2.on_failure(&g, now + 2);
        assert_eq!(
            o,
            FailureOutcome::RefusedWhilePermanentlyLocked { since: now + 1 }
        );
        assert_eq!(h, g);
        // An admin unlock clears everything and is remembered.
        let u = M2.on_admin_unlock(now + 3);
        assert_eq!(M2.status(&u, now + 3), LockStatus::Open { failures: 0 });
        assert_eq!(u.temp_locks, 0);
        assert_eq!(u.admin_unlocked_at, Some(now + 3));
    }

    #[test]
    fn duration_zero_is_permanent_at_once() {
        let p = LockoutPolicy { lock_ms: 0, ..P };
        let (f, o) = fail_n_with(&p, LockoutFacts::default(), 3, 7);
        assert_eq!(o, FailureOutcome::LockedPermanently { at: 7 });
        assert!(p.status(&f, 1_000_000_000).is_locked());
    }

    #[test]
    fn success_clears_the_tally_of_temporary_locks() {
        let (f, _) = fail_n_with(&M2, LockoutFacts::default(), 3, 0);
        assert_eq!(f.temp_locks, 1);
        let s = M2.on_success_keeping(&f);
        assert_eq!(s.temp_locks, 0);
        assert_eq!(s.failures, 0);
    }

    #[test]
    fn policies_are_validated() {
        assert_eq!(P.validate(), Ok(()));
        assert_eq!(
            LockoutPolicy { threshold: 0, ..P }.validate(),
            Err("threshold")
        );
        assert_eq!(
            LockoutPolicy {
                threshold: 101,
                ..P
            }
            .validate(),
            Err("threshold")
        );
        assert_eq!(
            LockoutPolicy { window_ms: 0, ..P }.validate(),
            Err("window")
        );
        assert_eq!(
            LockoutPolicy { lock_ms: -1, ..P }.validate(),
            Err("duration")
        );
    }

    fn fail_n_with(
        p: &LockoutPolicy,
        mut f: LockoutFacts,
        n: u32,
        at: Millis,
    ) -> (LockoutFacts, FailureOutcome) {
        let mut last = FailureOutcome::Counted { failures: 0 };
        for _ in 0..n {
            (f, last) = p.on_failure(&f, at);
        }
        (f, last)
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

    /// A small reference model: the list of attempt times that counted since the last reset, the
    /// list of temporary locks and a permanent flag.
    #[derive(Default)]
    struct Model {
        counted: Vec<Millis>,
        locked_until: Option<Millis>,
        locks: Vec<Millis>,
        permanent: bool,
    }

    impl Model {
        fn fail(&mut self, p: &LockoutPolicy, now: Millis) -> bool {
            if self.permanent || self.locked_until.is_some_and(|u| u > now) {
                return false;
            }
            if self.locked_until.is_some() {
                self.locked_until = None;
                self.counted.clear();
            }
            if self.counted.first().is_some_and(|f| now - f >= p.window_ms) {
                self.counted.clear();
            }
            self.counted.push(now);
            if self.counted.len() as u32 >= p.threshold {
                let m = p.permanent_after.map(|m| m as usize);
                if p.lock_ms == 0 || m.is_some_and(|m| self.locks.len() >= m) {
                    self.permanent = true;
                } else {
                    self.locks.push(now);
                    self.locked_until = Some(now + p.lock_ms);
                }
            }
            true
        }
        fn locked(&self, now: Millis) -> bool {
            self.permanent || self.locked_until.is_some_and(|u| u > now)
        }
    }

    proptest! {
        #[test]
        fn agrees_with_the_reference_model(
            threshold in 1u32..5,
            lock_min in 0i64..6,
            permanent_after in proptest::option::of(0u32..4),
            steps in proptest::collection::vec((0i64..4 * MINUTE, 0u8..10), 1..80),
        ) {
            let p = LockoutPolicy {
                threshold,
                window_ms: 10 * MINUTE,
                lock_ms: lock_min * MINUTE,
                permanent_after,
            };
            let mut now = 0;
            let mut f = LockoutFacts::default();
            let mut m = Model::default();
            for (dt, action) in steps {
                now += dt;
                match action {
                    // An admin unlock (any time).
                    0 => {
                        f = p.on_admin_unlock(now);
                        m = Model::default();
                    }
                    // A success, which only happens when not locked.
                    1 | 2 if !m.locked(now) => {
                        f = p.on_success_keeping(&f);
                        m = Model::default();
                    }
                    // The release of an expired lock being observed changes nothing visible.
                    3 => {
                        if p.expired_lock(&f, now).is_some() {
                            f = p.on_release(&f);
                        }
                    }
                    _ => {
                        let counted = m.fail(&p, now);
                        let (g, o) = p.on_failure(&f, now);
                        let refused = matches!(o, FailureOutcome::RefusedWhileLocked { .. }
                            | FailureOutcome::RefusedWhilePermanentlyLocked { .. });
                        prop_assert_eq!(counted, !refused);
                        if refused { prop_assert_eq!(g, f); }
                        f = g;
                    }
                }
                prop_assert_eq!(m.locked(now), p.status(&f, now).is_locked());
                prop_assert_eq!(m.permanent, matches!(p.status(&f, now), LockStatus::LockedPermanently { .. }));
                prop_assert_eq!(m.locks.len() as u32, f.temp_locks);
            }
        }
    }
}
