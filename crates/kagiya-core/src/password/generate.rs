//! Temporary passwords generated to a policy from the OS CSPRNG: long enough, every required
//! class present, only allowed characters, and never easily confused characters (0/O, 1/l/I),
//! because they are read off a printed slip.

use super::policy::{PasswordPolicy, PolicyContext};
use crate::random;
use crate::secret::Secret;

const UPPER: &str = "ABCDEFGHJKLMNPQRSTUVWXYZ";
const LOWER: &str = "abcdefghijkmnopqrstuvwxyz";
const DIGITS: &str = "23456789";
const SYMBOLS: &str = "!@#$%-_.";

fn pick(set: &[char]) -> char {
    set[random::below(set.len() as u32) as usize]
}

/// A password that meets `policy` for `ctx` (tries again in the rare case one does not, e.g. a
/// generated password that happens to contain the login ID).
pub fn temporary_password(policy: &PasswordPolicy, ctx: &PolicyContext<'_>) -> Secret {
    let symbols: Vec<char> = match &policy.symbols {
        Some(s) => s.chars().collect(),
        None => SYMBOLS.chars().collect(),
    };
    let upper: Vec<char> = UPPER.chars().collect();
    let lower: Vec<char> = LOWER.chars().collect();
    let digits: Vec<char> = DIGITS.chars().collect();
    let min = policy.min_len.max(policy.min_len_with_mfa.unwrap_or(0)) as usize;
    // Long enough to be strong, short enough for the policy's maximum.
    let len = min.max(12).min(policy.max_len as usize);
    let need_symbol = policy.min_symbols > 0 || policy.min_classes >= 4;
    loop {
        let mut chars: Vec<char> = Vec::with_capacity(len);
        for _ in 0..policy.min_upper.max(1) {
            chars.push(pick(&upper));
        }
        for _ in 0..policy.min_lower.max(1) {
            chars.push(pick(&lower));
        }
        for _ in 0..policy.min_digits.max(1) {
            chars.push(pick(&digits));
        }
        if need_symbol && !symbols.is_empty() {
            for _ in 0..policy.min_symbols.max(1) {
                chars.push(pick(&symbols));
            }
        }
        let mut pool: Vec<char> = Vec::new();
        pool.extend(&upper);
        pool.extend(&lower);
        pool.extend(&digits);
        while chars.len() < len {
            chars.push(pick(&pool));
        }
        // Fisher–Yates, so the required characters are not always in front.
        for i in (1..chars.len()).rev() {
            let j = random::below(i as u32 + 1) as usize;
            chars.swap(i, j);
        }
        let pw: String = chars.into_iter().collect();
        if policy.violations(&pw, ctx).is_empty() {
            return Secret::new(pw);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::password::presets::Preset;

    #[test]
    fn generated_passwords_meet_every_preset() {
        let ctx = PolicyContext {
            login_id: "hanakodt",
            email: Some("hanakodt@example.co.jp"),
            ..Default::default()
        };
        for p in Preset::ALL {
            let policy = p.password();
            for _ in 0..50 {
                let pw = temporary_password(&policy, &ctx);
                assert!(
                    policy.violations(pw.expose(), &ctx).is_empty(),
                    "{p:?}: {:?}",
                    policy.violations(pw.expose(), &ctx)
                );
                assert!(!pw.expose().contains(['0', 'O', '1', 'l', 'I']));
            }
        }
        let op = temporary_password(&PasswordPolicy::OPERATOR, &ctx);
        assert!(PasswordPolicy::OPERATOR
            .violations(op.expose(), &ctx)
            .is_empty());
    }

    #[test]
    fn two_passwords_differ() {
        let ctx = PolicyContext::default();
        let a = temporary_password(&PasswordPolicy::NIST, &ctx);
        let b = temporary_password(&PasswordPolicy::NIST, &ctx);
        assert_ne!(a.expose(), b.expose());
    }
}
