//! A user's e-mail addresses (seed 002: up to 10 per login ID, no duplicates) with their purposes,
//! verification, the S/MIME certificate of each (seed 001: the encryption setting belongs to the
//! address) and its history.

use serde::{Deserialize, Serialize};

use super::credential::Credential;
use super::one_time::{OneTime, OneTimePurpose};
use super::user::User;
use crate::certs::Format;
use crate::{Error, Lang, Millis};

/// At most this many addresses per login ID (seed 002).
pub const MAX_ADDRESSES: usize = 10;

/// What an address is used for.
#[cfg_attr(feature = "specta", derive(specta::Type))]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Purpose {
    Notifications,
    Otp,
    Reset,
    Forwarding,
}

impl Purpose {
    pub fn parse(s: &str) -> Option<Purpose> {
        match s.trim() {
            "notifications" => Some(Purpose::Notifications),
            "otp" => Some(Purpose::Otp),
            "reset" => Some(Purpose::Reset),
            "forwarding" => Some(Purpose::Forwarding),
            _ => None,
        }
    }
}

/// A certificate as kept for an address (the DER, and the facts shown in lists).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StoredCert {
    /// The DER, base64.
    pub der: String,
    pub sha256: String,
    pub subject: String,
    pub issuer: String,
    pub not_after: Millis,
    pub imported_at: Millis,
    pub format: Format,
    /// Whether the chain led to a trusted root when imported (kept for the record; what the
    /// screens show is re-evaluated against today's roots, see `Engine::certificate_trust`).
    pub trusted: bool,
    /// The other certificates of the file it came in (intermediates), DER base64, so that the
    /// chain can be checked again when the branch's trusted roots change.
    #[serde(default)]
    pub chain: Vec<String>,
}

/// A change requested and waiting for confirmation through the old address.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PendingChange {
    pub new_address: String,
    pub requested_at: Millis,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Address {
    /// As written (local part kept, domain in lower case).
    pub address: String,
    pub purposes: Vec<Purpose>,
    pub verified: bool,
    pub added_at: Millis,
    /// Sign mail sent to this address.
    pub sign: bool,
    /// Encrypt mail sent to this address (needs a valid certificate).
    pub encrypt: bool,
    pub certificate: Option<StoredCert>,
    /// Earlier certificates, newest first (status "replaced").
    pub history: Vec<StoredCert>,
    pub pending_change: Option<PendingChange>,
    /// Seed 002: an added address (a site user) has its own password, set through the link of
    /// the パスワード設定依頼メール, with its own lockout. `None` until set. The user's own
    /// contact address signs in with the login password instead.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub credential: Option<Credential>,
    /// One-time secrets sent to this address and not used yet (codes, setup links).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub one_time: Vec<OneTime>,
}

/// A certificate's status for an address.
#[cfg_attr(feature = "specta", derive(specta::Type))]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(tag = "status", rename_all = "snake_case")]
pub enum CertStatus {
    None,
    Registered,
    Expiring { days_left: i64 },
    Expired,
}

const DAY: Millis = 24 * 60 * 60 * 1000;

impl Address {
    pub fn cert_status(&self, now: Millis, expiring_days: u32) -> CertStatus {
        match &self.certificate {
            None => CertStatus::None,
            Some(c) if c.not_after <= now => CertStatus::Expired,
            Some(c) if c.not_after - now <= expiring_days as Millis * DAY => CertStatus::Expiring {
                days_left: (c.not_after - now) / DAY,
            },
            Some(_) => CertStatus::Registered,
        }
    }
}

impl Address {
    /// The pending one-time secret for `purpose`, if it can still be used at `now`.
    pub fn pending(&self, purpose: OneTimePurpose, now: Millis) -> Option<&OneTime> {
        self.one_time
            .iter()
            .find(|o| o.purpose == purpose && o.usable(now))
    }
}

/// The address in `list` that is `address` (case-insensitively).
pub fn find<'a>(list: &'a [Address], address: &str) -> Option<&'a Address> {
    let key = dup_key(address);
    list.iter().find(|a| dup_key(&a.address) == key)
}

/// Where a user's one-time passwords go: the first verified address registered for them.
pub fn otp_address(list: &[Address]) -> Option<&Address> {
    list.iter()
        .find(|a| a.verified && a.purposes.contains(&Purpose::Otp))
}

/// Parses an address with an RFC 5322 parser; the domain is lower-cased, the local part kept.
pub fn parse_address(raw: &str) -> Result<String, Error> {
    let s = raw.trim();
    let parsed: email_address::EmailAddress =
        s.parse().map_err(|_| Error::InvalidValue("email"))?;
    // Display names ("Name <a@b>") are not addresses here.
    if parsed.email() != s || !parsed.domain().contains('.') {
        return Err(Error::InvalidValue("email"));
    }
    Ok(format!(
        "{}@{}",
        parsed.local_part(),
        parsed.domain().to_ascii_lowercase()
    ))
}

/// The key under which duplicates are found: the whole address, case-insensitively.
pub fn dup_key(address: &str) -> String {
    address.trim().to_lowercase()
}

/// Checks that `address` can be added to `existing`.
pub fn check_add(existing: &[Address], address: &str) -> Result<(), Error> {
    if existing.len() >= MAX_ADDRESSES {
        return Err(Error::AddressRule("limit"));
    }
    let key = dup_key(address);
    if existing.iter().any(|a| dup_key(&a.address) == key) {
        return Err(Error::AlreadyExists("email"));
    }
    Ok(())
}

/// Checks that `address` can be deleted: not the last address the user's MFA or password reset
/// depends on.
pub fn check_delete(user: &User, existing: &[Address], address: &str) -> Result<(), Error> {
    let key = dup_key(address);
    let target = existing
        .iter()
        .find(|a| dup_key(&a.address) == key)
        .ok_or(Error::AddressRule("unknown"))?;
    let others = existing.iter().filter(|a| dup_key(&a.address) != key);
    let last_for = |p: Purpose| {
        target.purposes.contains(&p) && !others.clone().any(|a| a.purposes.contains(&p))
    };
    if user.mfa && last_for(Purpose::Otp) {
        return Err(Error::AddressRule("last_otp"));
    }
    if last_for(Purpose::Reset) {
        return Err(Error::AddressRule("last_reset"));
    }
    Ok(())
}

/// Checks the flags: encryption needs a certificate that is still valid.
pub fn check_flags(a: &Address, encrypt: bool, now: Millis) -> Result<(), Error> {
    if encrypt
        && matches!(
            a.cert_status(now, 0),
            CertStatus::None | CertStatus::Expired
        )
    {
        return Err(Error::AddressRule("encrypt_needs_certificate"));
    }
    Ok(())
}

/// The words for an address rule.
pub fn rule_message(code: &str, lang: Lang) -> &'static str {
    match code {
        "limit" => lang.pick(
            "メールアドレスは1つのログインIDにつき10個まで登録できます",
            "a login ID can have at most 10 addresses",
        ),
        "last_otp" => lang.pick(
            "多要素認証（ワンタイムパスワード）に使う最後のアドレスは削除できません",
            "it is the last address the user's one-time passwords go to",
        ),
        "last_reset" => lang.pick(
            "パスワード再設定に使う最後のアドレスは削除できません",
            "it is the last address password resets go to",
        ),
        "encrypt_needs_certificate" => lang.pick(
            "暗号化には有効な証明書の登録が必要です",
            "encryption needs a valid certificate for the address",
        ),
        "own_address" => lang.pick(
            "利用者ご自身の連絡先アドレスはログインパスワードでログインします",
            "the user's own contact address signs in with the login password",
        ),
        "web_member_needs_address" => lang.pick(
            "Web会員サイトのログインにはメールアドレスが必要です（ログインID・メールアドレス・パスワードの3種類）",
            "a Web member site user signs in with login ID, e-mail address and password, so an address is needed",
        ),
        "pending_change" => lang.pick(
            "変更依頼の確認待ちです",
            "a change is already waiting for confirmation",
        ),
        "no_pending_change" => lang.pick(
            "確認待ちの変更依頼がありません",
            "no change is waiting for confirmation",
        ),
        _ => lang.pick(
            "登録されていないアドレスです",
            "the address is not registered",
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::directory::credential::Credential;
    use crate::directory::user::{UserRole, UserStatus};

    fn addr(a: &str, purposes: &[Purpose]) -> Address {
        Address {
            address: a.into(),
            purposes: purposes.to_vec(),
            verified: true,
            added_at: 0,
            sign: false,
            encrypt: false,
            certificate: None,
            history: vec![],
            pending_change: None,
            credential: None,
            one_time: vec![],
        }
    }

    #[test]
    fn addresses_are_parsed_and_normalised() {
        assert_eq!(
            parse_address(" Hanako.Yamada@Example.CO.JP ").unwrap(),
            "Hanako.Yamada@example.co.jp"
        );
        for bad in [
            "",
            "hanako",
            "hanako@",
            "@example.jp",
            "a b@example.jp",
            "Hanako <h@example.jp>",
            "h@localhost",
        ] {
            assert!(parse_address(bad).is_err(), "{bad}");
        }
    }

    /// Seed 002: ten per login ID, no duplicates (case-insensitive).
    #[test]
    fn ten_addresses_and_no_duplicates() {
        let mut list: Vec<Address> = (0..9)
            .map(|i| addr(&format!("u{i}@example.jp"), &[]))
            .collect();
        assert_eq!(
            check_add(&list, "U1@EXAMPLE.JP"),
            Err(Error::AlreadyExists("email"))
        );
        assert!(check_add(&list, "u9@example.jp").is_ok());
        list.push(addr("u9@example.jp", &[]));
        assert_eq!(
            check_add(&list, "u10@example.jp"),
            Err(Error::AddressRule("limit"))
        );
    }

    #[test]
    fn the_last_otp_or_reset_address_stays() {
        let mut user = User {
            login_id: "h".into(),
            contract_no: "C".into(),
            name: "n".into(),
            role: UserRole::General,
            status: UserStatus::Active,
            email: None,
            mfa: true,
            created_at: 0,
            login: Credential::new("x".into(), 0),
            confirmation: Credential::new("x".into(), 0),
        };
        let list = vec![
            addr("a@example.jp", &[Purpose::Otp]),
            addr("b@example.jp", &[Purpose::Reset, Purpose::Notifications]),
        ];
        assert_eq!(
            check_delete(&user, &list, "a@example.jp"),
            Err(Error::AddressRule("last_otp"))
        );
        assert_eq!(
            check_delete(&user, &list, "B@example.jp"),
            Err(Error::AddressRule("last_reset"))
        );
        user.mfa = false;
        assert!(check_delete(&user, &list, "a@example.jp").is_ok());
        assert_eq!(
            check_delete(&user, &list, "c@example.jp"),
            Err(Error::AddressRule("unknown"))
        );
    }
}
