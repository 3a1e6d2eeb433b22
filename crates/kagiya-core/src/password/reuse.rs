//! The rules that compare a new password with earlier ones. They need an argon2 verification per
//! stored hash, so they run after the cheap checklist passes, when the password is submitted.

use super::hash::{PasswordHasher, Verified};
use super::policy::PasswordPolicy;
use crate::secret::Secret;

/// The hashes a credential keeps for these rules.
#[derive(Debug, Clone, Copy, Default)]
pub struct Earlier<'a> {
    /// The current password's hash.
    pub current: Option<&'a str>,
    /// The hash of the password issued at account creation.
    pub initial: Option<&'a str>,
    /// Earlier hashes, newest first.
    pub history: &'a [String],
    /// The change replaces a temporary or expired password (a forced change): the new password
    /// must differ from the current one under every policy, whatever the policy says about reuse.
    pub forced_change: bool,
}

/// The codes of the reuse rules that `password` breaks.
pub fn reuse_violations(
    policy: &PasswordPolicy,
    hasher: &PasswordHasher,
    password: &Secret,
    earlier: Earlier<'_>,
) -> Vec<&'static str> {
    let matches = |phc: &str| matches!(hasher.verify(password, phc), Verified::Yes { .. });
    let mut out = Vec::new();
    if (policy.differ_from_current || earlier.forced_change) && earlier.current.is_some_and(matches)
    {
        out.push("password.not_current");
    }
    if policy.differ_from_initial && earlier.initial.is_some_and(matches) {
        out.push("password.not_initial");
    }
    let n = policy.history as usize;
    if n > 0 && earlier.history.iter().take(n).any(|h| matches(h)) {
        out.push("password.not_recent");
    }
    out
}

/// The wording of a reuse rule.
pub fn reuse_label(code: &str, policy: &PasswordPolicy, lang: crate::Lang) -> String {
    let ja = lang == crate::Lang::Ja;
    match code {
        "password.not_current" => lang
            .pick(
                "現在のパスワードと異なる",
                "Differs from the current password",
            )
            .to_owned(),
        "password.not_initial" => lang
            .pick(
                "初期パスワードと異なる",
                "Differs from the initial password",
            )
            .to_owned(),
        _ if ja => format!("過去{}回に使ったパスワードと異なる", policy.history),
        _ => format!("Not one of the last {} passwords", policy.history),
    }
}
