//! One-time secrets: the codes of the second factor (seed 002's ワンタイムパスワード, sent to the
//! registered address and 「有効期限内に画面へ入力」) and the links of the password-setting request
//! (seed 002's パスワード設定依頼メール to an added address). They come from the OS CSPRNG, are kept
//! only as argon2id hashes (a six-digit code is too small for a fast hash), are used once, expire,
//! and allow a few wrong tries. The engine issues and checks them so that the server can use them.

use serde::{Deserialize, Serialize};

use crate::secret::Secret;
use crate::{random, Millis, MINUTE};

/// What a one-time secret is for. Each user has at most one pending per purpose and address.
#[cfg_attr(feature = "specta", derive(specta::Type))]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum OneTimePurpose {
    /// The second step of a sign-in of a user with 2FA on.
    SignIn,
    /// Proves that the address the user chose for one-time passwords receives them (seed 003:
    /// 多要素認証用(ワンタイムパスワード)メールアドレスの登録); 2FA is on only after this.
    Enrollment,
    /// The link in the password-setting request mail to an added address (seed 002).
    AddressSetup,
    /// The link of the password reset mail (seed 000: パスワード変更案内メール, 「ワンタイム(1回限り)」
    /// and valid 「一定時間」), sent to the registered address the user gave with their login ID.
    PasswordReset,
    /// The link mailed to the *old* address when a change is requested (seed 002: 「メールアドレス
    /// 変更依頼受付」); the change takes effect only when it is used.
    AddressChange,
}

/// How long a password reset link is valid unless the server's setting says otherwise (*ours*,
/// docs/mail.md: seed 000 says only 「一定時間」; 30 minutes is OWASP's Forgot Password guidance
/// for a link that sets a password, and long enough to open a mail).
pub const DEFAULT_RESET_MINUTES: Millis = 30;

impl OneTimePurpose {
    /// A link opened in a browser, rather than a code a person types.
    pub fn is_link(self) -> bool {
        !matches!(self, OneTimePurpose::SignIn | OneTimePurpose::Enrollment)
    }

    pub fn code(self) -> &'static str {
        match self {
            OneTimePurpose::SignIn => "sign_in",
            OneTimePurpose::Enrollment => "enrollment",
            OneTimePurpose::AddressSetup => "address_setup",
            OneTimePurpose::PasswordReset => "password_reset",
            OneTimePurpose::AddressChange => "address_change",
        }
    }

    /// How long it is valid (*ours*, see docs/policies.md): ten minutes for a code (the seeds say
    /// only 「有効期限内」; ten is what the mail services we follow give), a day for a setup link
    /// (it waits in someone's inbox, and a new one can be sent).
    pub fn lifetime_ms(self) -> Millis {
        match self {
            OneTimePurpose::SignIn | OneTimePurpose::Enrollment => 10 * MINUTE,
            OneTimePurpose::AddressSetup | OneTimePurpose::AddressChange => 24 * 60 * MINUTE,
            OneTimePurpose::PasswordReset => DEFAULT_RESET_MINUTES * MINUTE,
        }
    }

    /// Wrong tries before it is void (*ours*): three for a six-digit code (together with the
    /// lockout that each wrong code also counts towards, see the engine), five for a setup link
    /// (its 256 bits cannot be guessed; the tries only bound a confused user).
    pub fn max_attempts(self) -> u32 {
        match self {
            OneTimePurpose::SignIn | OneTimePurpose::Enrollment => 3,
            OneTimePurpose::AddressSetup
            | OneTimePurpose::PasswordReset
            | OneTimePurpose::AddressChange => 5,
        }
    }

    /// A fresh secret for this purpose: six decimal digits for a code a person types, 32 random
    /// bytes (base64url) for a link.
    pub fn generate(self) -> Secret {
        match self {
            OneTimePurpose::SignIn | OneTimePurpose::Enrollment => {
                Secret::new(format!("{:06}", random::below(1_000_000)))
            }
            OneTimePurpose::AddressSetup
            | OneTimePurpose::PasswordReset
            | OneTimePurpose::AddressChange => {
                use base64::Engine as _;
                let mut b = [0u8; 32];
                random::fill(&mut b);
                Secret::new(base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(b))
            }
        }
    }
}

/// A pending one-time secret, as kept with the address it was sent to.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct OneTime {
    pub purpose: OneTimePurpose,
    /// The argon2id PHC string of the secret.
    pub hash: String,
    pub issued_at: Millis,
    pub expires_at: Millis,
    /// Wrong tries so far.
    pub attempts: u32,
}

impl OneTime {
    /// Still usable at `now`: not expired and tries left.
    pub fn usable(&self, now: Millis) -> bool {
        now < self.expires_at && self.attempts < self.purpose.max_attempts()
    }
}

/// Normalises what a person typed as a code: spaces and hyphens (「123 456」, 「123-456」) and
/// full-width digits (「１２３４５６」 from a Japanese IME) are accepted.
pub fn normalise_code(typed: &str) -> String {
    typed
        .chars()
        .filter(|c| !c.is_whitespace() && *c != '-' && *c != 'ー' && *c != '－')
        .map(|c| match c {
            '０'..='９' => char::from(b'0' + (c as u32 - '０' as u32) as u8),
            _ => c,
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_are_six_digits_and_links_carry_256_bits() {
        for _ in 0..50 {
            let c = OneTimePurpose::SignIn.generate();
            assert_eq!(c.expose().len(), 6);
            assert!(c.expose().bytes().all(|b| b.is_ascii_digit()));
        }
        let a = OneTimePurpose::AddressSetup.generate();
        let b = OneTimePurpose::AddressSetup.generate();
        assert_eq!(a.expose().len(), 43);
        assert_ne!(a.expose(), b.expose());
    }

    #[test]
    fn a_secret_expires_and_runs_out_of_tries() {
        let mut t = OneTime {
            purpose: OneTimePurpose::SignIn,
            hash: String::new(),
            issued_at: 0,
            expires_at: 10 * MINUTE,
            attempts: 0,
        };
        assert!(t.usable(10 * MINUTE - 1));
        assert!(!t.usable(10 * MINUTE));
        t.attempts = 3;
        assert!(!t.usable(0));
    }

    #[test]
    fn typed_codes_are_normalised() {
        assert_eq!(normalise_code(" 123 456 "), "123456");
        assert_eq!(normalise_code("123-456"), "123456");
        assert_eq!(normalise_code("１２３４５６"), "123456");
    }
}
