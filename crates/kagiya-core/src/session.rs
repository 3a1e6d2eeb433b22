//! The console session: who is signed in, and the idle lock that hides the screen behind a
//! re-sign-in after a period without activity. Pure state; the caller supplies the time.

use serde::Serialize;

use crate::Millis;

/// The operator a session belongs to.
#[cfg_attr(feature = "specta", derive(specta::Type))]
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct SessionOperator {
    pub operator_id: String,
    pub name: String,
    pub role: crate::operator::Role,
}

/// Where the session is.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "state", rename_all = "snake_case")]
pub enum SessionState {
    SignedOut,
    Active {
        operator: SessionOperator,
        last_activity: Millis,
    },
    /// Locked by idleness or by hand; the screen state is kept until the same operator signs in
    /// again (or someone signs out, which discards it).
    Locked {
        operator: SessionOperator,
        since: Millis,
    },
}

/// What an observation changed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Transition {
    None,
    /// The idle time ran out; locked at this time.
    IdleLocked {
        at: Millis,
    },
}

/// A session with its idle-lock timeout.
#[derive(Debug, Clone)]
pub struct Session {
    state: SessionState,
    idle_ms: Millis,
}

impl Session {
    pub fn new(idle_ms: Millis) -> Self {
        Session {
            state: SessionState::SignedOut,
            idle_ms,
        }
    }

    pub fn state(&self) -> &SessionState {
        &self.state
    }

    pub fn idle_ms(&self) -> Millis {
        self.idle_ms
    }

    /// Changes the idle timeout; an active session is judged by the new value from now on.
    pub fn set_idle_ms(&mut self, idle_ms: Millis) {
        self.idle_ms = idle_ms;
    }

    /// Applies the idle rule at `now`. Call before acting on the session.
    pub fn observe(&mut self, now: Millis) -> Transition {
        if let SessionState::Active {
            operator,
            last_activity,
        } = &self.state
        {
            let at = last_activity + self.idle_ms;
            if now >= at {
                self.state = SessionState::Locked {
                    operator: operator.clone(),
                    since: at,
                };
                return Transition::IdleLocked { at };
            }
        }
        Transition::None
    }

    /// Records activity at `now` (after `observe`); has no effect unless active.
    pub fn touch(&mut self, now: Millis) {
        if let SessionState::Active { last_activity, .. } = &mut self.state {
            *last_activity = (*last_activity).max(now);
        }
    }

    pub fn sign_in(&mut self, operator: SessionOperator, now: Millis) {
        self.state = SessionState::Active {
            operator,
            last_activity: now,
        };
    }

    /// Locks an active session at once (the "lock" button). Returns false if not active.
    pub fn lock(&mut self, now: Millis) -> bool {
        if let SessionState::Active { operator, .. } = &self.state {
            self.state = SessionState::Locked {
                operator: operator.clone(),
                since: now,
            };
            true
        } else {
            false
        }
    }

    /// Unlocks a locked session after the operator re-entered the password.
    pub fn resume(&mut self, now: Millis) -> bool {
        if let SessionState::Locked { operator, .. } = &self.state {
            self.state = SessionState::Active {
                operator: operator.clone(),
                last_activity: now,
            };
            true
        } else {
            false
        }
    }

    pub fn sign_out(&mut self) -> Option<SessionOperator> {
        match std::mem::replace(&mut self.state, SessionState::SignedOut) {
            SessionState::Active { operator, .. } | SessionState::Locked { operator, .. } => {
                Some(operator)
            }
            SessionState::SignedOut => None,
        }
    }

    /// The operator of an active or locked session.
    pub fn operator(&self) -> Option<&SessionOperator> {
        match &self.state {
            SessionState::Active { operator, .. } | SessionState::Locked { operator, .. } => {
                Some(operator)
            }
            SessionState::SignedOut => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::operator::Role;

    fn op() -> SessionOperator {
        SessionOperator {
            operator_id: "sv001".into(),
            name: "山田 花子".into(),
            role: Role::Supervisor,
        }
    }

    #[test]
    fn locks_exactly_when_the_idle_time_has_passed() {
        let mut s = Session::new(1000);
        s.sign_in(op(), 0);
        assert_eq!(s.observe(999), Transition::None);
        assert_eq!(s.observe(1000), Transition::IdleLocked { at: 1000 });
        assert!(matches!(
            s.state(),
            SessionState::Locked { since: 1000, .. }
        ));
        assert_eq!(s.observe(5000), Transition::None, "locks once");
    }

    #[test]
    fn activity_postpones_the_lock() {
        let mut s = Session::new(1000);
        s.sign_in(op(), 0);
        s.observe(900);
        s.touch(900);
        assert_eq!(s.observe(1800), Transition::None);
        assert_eq!(s.observe(1900), Transition::IdleLocked { at: 1900 });
        s.touch(2000);
        assert!(
            matches!(s.state(), SessionState::Locked { .. }),
            "touch does not unlock"
        );
    }

    #[test]
    fn resume_keeps_the_operator_and_sign_out_discards_it() {
        let mut s = Session::new(1000);
        assert!(!s.lock(0));
        assert!(!s.resume(0));
        s.sign_in(op(), 0);
        assert!(s.lock(10));
        assert!(s.resume(20));
        assert!(matches!(
            s.state(),
            SessionState::Active {
                last_activity: 20,
                ..
            }
        ));
        assert_eq!(s.sign_out(), Some(op()));
        assert_eq!(s.operator(), None);
        assert_eq!(s.sign_out(), None);
    }
}
