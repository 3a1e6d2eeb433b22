//! Temporary passwords generated to a policy from the OS CSPRNG: long enough, every required
//! class present, only allowed characters, and never easily confused characters (0/O, 1/l/I),
//! because they are read off a printed slip.

use super::policy::{PasswordPolicy, PolicyContext};
use crate::random;
use crate::secret::Secret;
use crate::Error;

const UPPER: &str = "ABCDEFGHJKLMNPQRSTUVWXYZ";
const LOWER: &str = "abcdefghijkmnopqrstuvwxyz";
const DIGITS: &str = "23456789";
const SYMBOLS: &str = "!@#$%-_.";

/// How many times a password is drawn before giving up (ours: a drawn password fails only on a
/// context word it happened to contain, about one in millions; a policy that fails a hundred
/// draws in a row is one no generated password can meet).
pub const MAX_DRAWS: usize = 100;

fn pick(set: &[char]) -> char {
    set[random::below(set.len() as u32) as usize]
}

/// What every generated password holds at least: `(upper, lower, digits, symbols)` — each class
/// the policy asks for, one of each letter case and a digit anyway, and a symbol when four
/// classes or symbols are required. `PasswordPolicy::validate` refuses a policy whose maximum
/// length cannot hold them, so the generator never loops on an unsatisfiable policy.
pub fn floor(policy: &PasswordPolicy) -> (usize, usize, usize, usize) {
    let need_symbol = policy.min_symbols > 0 || policy.min_classes >= 4;
    let upper = usize::from(policy.min_upper.max(1));
    let lower = usize::from(policy.min_lower.max(1));
    // Letters beyond the two cases' minimums.
    let letters = usize::from(policy.min_letters).saturating_sub(upper + lower);
    (
        upper + letters,
        lower,
        usize::from(policy.min_digits.max(1)),
        if need_symbol {
            usize::from(policy.min_symbols.max(1))
        } else {
            0
        },
    )
}

/// A password that meets `policy` for `ctx`, drawn again in the rare case one does not (e.g.
/// one that happens to contain the login ID); refused after `MAX_DRAWS` draws.
pub fn temporary_password(
    policy: &PasswordPolicy,
    ctx: &PolicyContext<'_>,
) -> Result<Secret, Error> {
    let symbols: Vec<char> = match &policy.symbols {
        Some(s) => s.chars().collect(),
        None => SYMBOLS.chars().collect(),
    };
    let upper: Vec<char> = UPPER.chars().collect();
    let lower: Vec<char> = LOWER.chars().collect();
    let digits: Vec<char> = DIGITS.chars().collect();
    let (n_upper, n_lower, n_digits, n_symbols) = floor(policy);
    let min = policy.min_len.max(policy.min_len_with_mfa.unwrap_or(0)) as usize;
    // Long enough to be strong, short enough for the policy's maximum.
    let floor = n_upper + n_lower + n_digits + n_symbols;
    let len = min.max(12).max(floor).min(policy.max_len as usize);
    if floor > len || (n_symbols > 0 && symbols.is_empty()) {
        return Err(Error::InvalidValue("password_policy"));
    }
    let mut pool: Vec<char> = Vec::new();
    pool.extend(&upper);
    pool.extend(&lower);
    pool.extend(&digits);
    for _ in 0..MAX_DRAWS {
        let mut chars: Vec<char> = Vec::with_capacity(len);
        for (n, set) in [
            (n_upper, &upper),
            (n_lower, &lower),
            (n_digits, &digits),
            (n_symbols, &symbols),
        ] {
            chars.extend((0..n).map(|_| pick(set)));
        }
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
            return Ok(Secret::new(pw));
        }
    }
    Err(Error::InvalidValue("password_policy"))
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
                let pw = temporary_password(&policy, &ctx).unwrap();
                assert!(
                    policy.violations(pw.expose(), &ctx).is_empty(),
                    "{p:?}: {:?}",
                    policy.violations(pw.expose(), &ctx)
                );
                assert!(!pw.expose().contains(['0', 'O', '1', 'l', 'I']));
            }
        }
        let op = temporary_password(&PasswordPolicy::OPERATOR, &ctx).unwrap();
        assert!(PasswordPolicy::OPERATOR
            .violations(op.expose(), &ctx)
            .is_empty());
    }

    #[test]
    fn two_passwords_differ() {
        let ctx = PolicyContext::default();
        let a = temporary_password(&PasswordPolicy::NIST, &ctx).unwrap();
        let b = temporary_password(&PasswordPolicy::NIST, &ctx).unwrap();
        assert_ne!(a.expose(), b.expose());
    }

    /// Issue 12, low: 「the temporary-password generator bounded and unsatisfiable policies
    /// refused at validation」. A policy that asks for more letters than fit beside the digit the
    /// generator always adds used to spin for ever; validation now refuses it, and the generator
    /// gives up with an error after a bounded number of draws.
    #[test]
    fn an_unsatisfiable_policy_is_refused_not_looped_on() {
        let tight = PasswordPolicy {
            min_len: 8,
            max_len: 8,
            min_letters: 8,
            ..PasswordPolicy::NIST
        };
        assert_eq!(tight.validate(), Err("composition"));
        assert_eq!(
            temporary_password(&tight, &PolicyContext::default()).unwrap_err(),
            Error::InvalidValue("password_policy")
        );
        let room = PasswordPolicy {
            min_letters: 6,
            min_len: 8,
            max_len: 8,
            min_strength: None,
            ..PasswordPolicy::NIST
        };
        assert_eq!(room.validate(), Ok(()));
        let pw = temporary_password(&room, &PolicyContext::default()).unwrap();
        assert!(room
            .violations(pw.expose(), &PolicyContext::default())
            .is_empty());
        // A floor above the usual 12 characters but within the maximum: a longer password.
        let many = PasswordPolicy {
            min_len: 8,
            max_len: 64,
            min_upper: 6,
            min_lower: 6,
            min_digits: 2,
            min_strength: None,
            ..PasswordPolicy::NIST
        };
        assert_eq!(many.validate(), Ok(()));
        let pw = temporary_password(&many, &PolicyContext::default()).unwrap();
        assert_eq!(pw.expose().chars().count(), 14);
        assert!(many
            .violations(pw.expose(), &PolicyContext::default())
            .is_empty());
    }
}
