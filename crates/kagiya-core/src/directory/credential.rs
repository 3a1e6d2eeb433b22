//! One of a user's two passwords (seed 004: ログインパスワード and 確認用パスワード) with its hash,
//! dates, flags, history and lockout facts, and its state in the seed's terms.

use serde::{Deserialize, Serialize};

use crate::lockout::{LockStatus, LockoutFacts, LockoutPolicy};
use crate::{Lang, Millis};

/// How many earlier hashes are kept (the largest history a policy may ask for).
pub const HISTORY_KEPT: usize = 24;

/// Which of the two passwords.
#[cfg_attr(feature = "specta", derive(specta::Type))]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CredentialKind {
    Login,
    Confirmation,
}

impl CredentialKind {
    pub const BOTH: [CredentialKind; 2] = [CredentialKind::Login, CredentialKind::Confirmation];

    pub fn code(self) -> &'static str {
        match self {
            CredentialKind::Login => "login",
            CredentialKind::Confirmation => "confirmation",
        }
    }

    pub fn parse(s: &str) -> Option<CredentialKind> {
        match s.trim() {
            "login" => Some(CredentialKind::Login),
            "confirmation" => Some(CredentialKind::Confirmation),
            _ => None,
        }
    }

    pub fn label(self, lang: Lang) -> &'static str {
        match self {
            CredentialKind::Login => lang.pick("ログインパスワード", "login password"),
            CredentialKind::Confirmation => lang.pick("確認用パスワード", "confirmation password"),
        }
    }
}

/// A stored credential.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Credential {
    /// The argon2id PHC string.
    pub hash: String,
    pub set_at: Millis,
    pub expires_at: Option<Millis>,
    /// Set by an administrator with "force change at next login", or a temporary password.
    pub must_change: bool,
    /// Issued by the system or an administrator, not chosen by the user.
    pub temporary: bool,
    /// The hash of the password issued at account creation (InterFAX: never reuse it).
    pub initial_hash: Option<String>,
    /// Earlier hashes, newest first, at most [`HISTORY_KEPT`].
    pub history: Vec<String>,
    pub lockout: LockoutFacts,
}

/// A credential's state, as seed 004's 利用者停止・解除 table names it.
#[cfg_attr(feature = "specta", derive(specta::Type))]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(tag = "state", rename_all = "snake_case")]
pub enum CredentialState {
    /// 利用可能.
    Available {
        failures: u32,
        /// Set when the password expires within the policy's warning days.
        expires_soon: Option<Millis>,
    },
    /// 一時利用停止: released by itself at `until`.
    TemporarilyStopped { until: Millis },
    /// 利用停止: only an administrator can release it.
    Stopped { since: Millis },
    /// パスワード期限切れ: must be changed with the current password.
    Expired { since: Millis },
    /// パスワード強制変更: must be changed at the next login.
    MustChange,
}

impl CredentialState {
    pub fn is_locked(&self) -> bool {
        matches!(
            self,
            CredentialState::TemporarilyStopped { .. } | CredentialState::Stopped { .. }
        )
    }

    /// The state's name in seed 004's words for `kind`.
    pub fn label(&self, kind: CredentialKind, lang: Lang) -> String {
        let name = kind.label(lang);
        match (self, lang) {
            (CredentialState::Available { .. }, _) => lang.pick("利用可能", "Available").to_owned(),
            (CredentialState::TemporarilyStopped { .. }, Lang::Ja) => format!("{name}一時利用停止"),
            (CredentialState::TemporarilyStopped { .. }, Lang::En) => {
                format!("{name} temporarily locked")
            }
            (CredentialState::Stopped { .. }, Lang::Ja) => format!("{name}利用停止"),
            (CredentialState::Stopped { .. }, Lang::En) => format!("{name} locked"),
            (CredentialState::Expired { .. }, Lang::Ja) => format!("{name}有効期限切れ"),
            (CredentialState::Expired { .. }, Lang::En) => format!("{name} expired"),
            (CredentialState::MustChange, Lang::Ja) => format!("{name}強制変更"),
            (CredentialState::MustChange, Lang::En) => format!("{name} must be changed"),
        }
    }
}

impl Credential {
    /// A new credential set at `at`.
    pub fn new(hash: String, at: Millis) -> Credential {
        Credential {
            hash,
            set_at: at,
            expires_at: None,
            must_change: false,
            temporary: false,
            initial_hash: None,
            history: Vec::new(),
            lockout: LockoutFacts::default(),
        }
    }

    /// パスワード期限切れ: when the password expired, if it has by `now`. This holds whatever else
    /// holds — a locked password can be expired too — so every screen, filter and answer asks
    /// this, not the state (where a lock takes precedence).
    pub fn expired_since(&self, now: Millis) -> Option<Millis> {
        self.expires_at.filter(|e| *e <= now)
    }

    /// The state at `now` under `lockout` with `warn_days` of expiry warning.
    pub fn state(&self, lockout: &LockoutPolicy, warn_days: u16, now: Millis) -> CredentialState {
        match lockout.status(&self.lockout, now) {
            LockStatus::Locked { until } => return CredentialState::TemporarilyStopped { until },
            LockStatus::LockedPermanently { since } => return CredentialState::Stopped { since },
            LockStatus::Open { .. } => {}
        }
        if let Some(exp) = self.expired_since(now) {
            return CredentialState::Expired { since: exp };
        }
        if self.must_change {
            return CredentialState::MustChange;
        }
        let warn_ms = warn_days as Millis * 24 * 60 * crate::MINUTE;
        CredentialState::Available {
            failures: match lockout.status(&self.lockout, now) {
                LockStatus::Open { failures } => failures,
                _ => 0,
            },
            expires_soon: self.expires_at.filter(|e| *e - now <= warn_ms),
        }
    }

    /// Replaces the hash, keeping the old one in the history.
    pub fn replace_hash(&mut self, hash: String) {
        let old = std::mem::replace(&mut self.hash, hash);
        self.history.insert(0, old);
        self.history.truncate(HISTORY_KEPT);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::MINUTE;

    const P: LockoutPolicy = LockoutPolicy {
        threshold: 2,
        window_ms: 10 * MINUTE,
        lock_ms: 5 * MINUTE,
        permanent_after: Some(0),
    };

    #[test]
    fn states_in_order_of_precedence() {
        let day = 24 * 60 * MINUTE;
        let mut c = Credential::new("h".into(), 0);
        assert_eq!(
            c.state(&P, 14, 0),
            CredentialState::Available {
                failures: 0,
                expires_soon: None
            }
        );
        c.expires_at = Some(20 * day);
        assert_eq!(
            c.state(&P, 14, 0),
            CredentialState::Available {
                failures: 0,
                expires_soon: None
            }
        );
        assert_eq!(
            c.state(&P, 14, 7 * day),
            CredentialState::Available {
                failures: 0,
                expires_soon: Some(20 * day)
            }
        );
        c.must_change = true;
        assert_eq!(c.state(&P, 14, 0), CredentialState::MustChange);
        assert_eq!(
            c.state(&P, 14, 20 * day),
            CredentialState::Expired { since: 20 * day }
        );
        (c.lockout, _) = P.on_failure(&c.lockout, 0);
        (c.lockout, _) = P.on_failure(&c.lockout, 0);
        assert_eq!(
            c.state(&P, 14, 30 * day),
            CredentialState::Stopped { since: 0 }
        );
        assert_eq!(
            c.state(&P, 14, 0).label(CredentialKind::Login, Lang::Ja),
            "ログインパスワード利用停止"
        );
    }

    #[test]
    fn history_keeps_the_newest() {
        let mut c = Credential::new("h0".into(), 0);
        for i in 1..=30 {
            c.replace_hash(format!("h{i}"));
        }
        assert_eq!(c.hash, "h30");
        assert_eq!(c.history.len(), HISTORY_KEPT);
        assert_eq!(c.history[0], "h29");
    }
}
