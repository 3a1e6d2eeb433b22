//! Branch operators: the staff who use the console. Supervisors also approve what needs four eyes.

use serde::{Deserialize, Serialize};

use crate::Error;

/// An operator's role at the branch.
#[cfg_attr(feature = "specta", derive(specta::Type))]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Role {
    /// Day-to-day administration.
    Operator,
    /// Also approves requests that need a second person (four eyes).
    Supervisor,
}

impl Role {
    pub fn code(self) -> &'static str {
        match self {
            Role::Operator => "operator",
            Role::Supervisor => "supervisor",
        }
    }

    pub fn parse(s: &str) -> Option<Role> {
        match s {
            "operator" => Some(Role::Operator),
            "supervisor" => Some(Role::Supervisor),
            _ => None,
        }
    }

    pub fn label(self, lang: crate::Lang) -> &'static str {
        match self {
            Role::Operator => lang.pick("オペレーター", "operator"),
            Role::Supervisor => lang.pick("スーパーバイザー", "supervisor"),
        }
    }
}

/// A validated operator ID: 3–32 ASCII letters, digits, '-', '_' or '.', starting with a letter or
/// digit. IDs are compared without regard to case; the spelling given at registration is kept.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(transparent)]
pub struct OperatorId(String);

impl OperatorId {
    pub fn parse(raw: &str) -> Result<OperatorId, Error> {
        let s = raw.trim();
        let n = s.len();
        let ok = (3..=32).contains(&n)
            && s.chars().next().is_some_and(|c| c.is_ascii_alphanumeric())
            && s.chars()
                .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'));
        if ok {
            Ok(OperatorId(s.to_owned()))
        } else {
            Err(Error::InvalidOperatorId)
        }
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// A validated display name: 1–64 characters after trimming, no control characters.
pub fn parse_name(raw: &str) -> Result<String, Error> {
    let s = raw.trim();
    let n = s.chars().count();
    if (1..=64).contains(&n) && !s.chars().any(char::is_control) {
        Ok(s.to_owned())
    } else {
        Err(Error::InvalidOperatorName)
    }
}

/// An operator as stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OperatorRecord {
    pub operator_id: String,
    pub name: String,
    pub role: Role,
    pub login_hash: String,
    pub confirm_hash: String,
    pub created_at: crate::Millis,
    pub lockout: crate::lockout::LockoutFacts,
    pub last_sign_in_at: Option<crate::Millis>,
    /// Disabled by a supervisor: refused everywhere (sign-in, confirmation, the command line).
    pub disabled: bool,
    /// When the login password was set (the branch's operator password expiry counts from it).
    pub password_set_at: crate::Millis,
    /// Set by a supervisor's reset: the login password must be changed at the next sign-in.
    pub must_change: bool,
}

impl OperatorRecord {
    /// When the operator's sign-in and confirmation lock ends, if it holds at `now`.
    pub fn locked_until(&self, now: crate::Millis) -> Option<crate::Millis> {
        match crate::lockout::LockoutPolicy::OPERATOR.status(&self.lockout, now) {
            crate::lockout::LockStatus::Locked { until } => Some(until),
            _ => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn operator_ids() {
        for ok in ["sv001", "op-12", "yamada.h", "A_B", " sv001 "] {
            assert!(OperatorId::parse(ok).is_ok(), "{ok}");
        }
        assert_eq!(OperatorId::parse(" sv001 ").unwrap().as_str(), "sv001");
        for bad in [
            "",
            "ab",
            "-abc",
            "山田太郎",
            "a b c",
            &"x".repeat(33),
            "abc;drop",
        ] {
            assert_eq!(
                OperatorId::parse(bad),
                Err(Error::InvalidOperatorId),
                "{bad}"
            );
        }
    }

    #[test]
    fn names() {
        assert_eq!(parse_name("  山田 花子 ").unwrap(), "山田 花子");
        assert_eq!(parse_name(""), Err(Error::InvalidOperatorName));
        assert_eq!(parse_name("a\u{7}b"), Err(Error::InvalidOperatorName));
        assert!(parse_name(&"名".repeat(64)).is_ok());
        assert!(parse_name(&"名".repeat(65)).is_err());
    }

    #[test]
    fn roles_round_trip() {
        for r in [Role::Operator, Role::Supervisor] {
            assert_eq!(Role::parse(r.code()), Some(r));
        }
        assert_eq!(Role::parse("admin"), None);
    }
}
