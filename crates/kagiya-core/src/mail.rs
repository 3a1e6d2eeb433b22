//! The mails the directory owes its users, as a pure function of the events: the central server
//! queues them in the same transaction as the event that owes them, whether the event was decided
//! online or came from a branch by sync, so that no change is kept while its mail is lost. The
//! mails that carry a code made for a request (the one-time password of a sign-in), and the
//! login notices (only the engine knows a password check is a sign-in rather than a change),
//! are ordered by the engine with the event instead (`engine::port::Change::Mail`).

use serde::{Deserialize, Serialize};

use crate::directory::addresses::{dup_key, Purpose};
use crate::directory::fold::Directory;
use crate::directory::ids::fold;
use crate::directory::{Address, OneTimePurpose, User};
use crate::event::EventKind;
use crate::lockout::FailureOutcome;
use crate::password::Preset;

/// Which mail. The wording of each, in Japanese and English, is `kagiya-mail`'s.
#[cfg_attr(feature = "specta", derive(specta::Type))]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum MailKind {
    /// Seed 002: 「ワンタイムパスワード通知」, the code of a sign-in with 2FA on.
    SignInCode,
    /// Seed 003: the code that proves the one-time-password address before 2FA is on.
    EnrollmentCode,
    /// Seed 000: パスワード変更案内メール, with the one-time reset link.
    PasswordReset,
    /// Seed 000: a reset asked for while the account is locked, which 「この状態ではパスワードの
    /// リセット機能は利用できません」; said in the mail, never on the page (no enumeration).
    ResetWhileLocked,
    /// Seed 002: 「パスワード設定依頼メール」 to an added address, with its setup link.
    AddressSetup,
    /// Seed 002: 「メールアドレス変更依頼受付」 to the old address, with the link that confirms.
    AddressChange,
    /// Seed 002: the notice to a deleted address.
    AddressDeleted,
    /// Seed 002: the login notification, 「お客様ご自身のメールアドレス宛にのみ送信されます」.
    SignInNotice,
    /// The account locked by wrong passwords (seed 000: the notice mail that comes with 6002).
    LockNotice,
    /// Seed 001: the certificate of a signed mail was registered (「アップロードされました」).
    CertificateRegistered,
    /// Seed 001: a signed mail to the registration address that could not be registered.
    CertificateRefused,
}

impl MailKind {
    pub const ALL: [MailKind; 11] = [
        MailKind::SignInCode,
        MailKind::EnrollmentCode,
        MailKind::PasswordReset,
        MailKind::ResetWhileLocked,
        MailKind::AddressSetup,
        MailKind::AddressChange,
        MailKind::AddressDeleted,
        MailKind::SignInNotice,
        MailKind::LockNotice,
        MailKind::CertificateRegistered,
        MailKind::CertificateRefused,
    ];

    /// The stored code.
    pub fn code(self) -> &'static str {
        match self {
            MailKind::SignInCode => "sign_in_code",
            MailKind::EnrollmentCode => "enrollment_code",
            MailKind::PasswordReset => "password_reset",
            MailKind::ResetWhileLocked => "reset_while_locked",
            MailKind::AddressSetup => "address_setup",
            MailKind::AddressChange => "address_change",
            MailKind::AddressDeleted => "address_deleted",
            MailKind::SignInNotice => "sign_in_notice",
            MailKind::LockNotice => "lock_notice",
            MailKind::CertificateRegistered => "certificate_registered",
            MailKind::CertificateRefused => "certificate_refused",
        }
    }

    pub fn parse(code: &str) -> Option<MailKind> {
        MailKind::ALL.into_iter().find(|k| k.code() == code)
    }

    /// The one-time secret the mail carries, if any.
    pub fn secret(self) -> Option<OneTimePurpose> {
        match self {
            MailKind::SignInCode => Some(OneTimePurpose::SignIn),
            MailKind::EnrollmentCode => Some(OneTimePurpose::Enrollment),
            MailKind::PasswordReset => Some(OneTimePurpose::PasswordReset),
            MailKind::AddressSetup => Some(OneTimePurpose::AddressSetup),
            MailKind::AddressChange => Some(OneTimePurpose::AddressChange),
            _ => None,
        }
    }

    /// The mail's label for lists and the audit, in `lang`.
    pub fn label(self, lang: crate::Lang) -> &'static str {
        match self {
            MailKind::SignInCode => lang.pick("ワンタイムパスワード通知", "one-time password"),
            MailKind::EnrollmentCode => {
                lang.pick("ワンタイムパスワード用アドレスの確認", "2FA address check")
            }
            MailKind::PasswordReset => lang.pick("パスワード変更案内メール", "password reset"),
            MailKind::ResetWhileLocked => lang.pick(
                "パスワードリセット不可のお知らせ",
                "reset refused while locked",
            ),
            MailKind::AddressSetup => {
                lang.pick("パスワード設定依頼メール", "password setup request")
            }
            MailKind::AddressChange => {
                lang.pick("メールアドレス変更依頼受付", "address change confirmation")
            }
            MailKind::AddressDeleted => {
                lang.pick("メールアドレス削除のお知らせ", "address deleted")
            }
            MailKind::SignInNotice => lang.pick("ログイン通知", "sign-in notice"),
            MailKind::LockNotice => lang.pick("利用停止のお知らせ", "lock notice"),
            MailKind::CertificateRegistered => {
                lang.pick("証明書登録のお知らせ", "certificate registered")
            }
            MailKind::CertificateRefused => {
                lang.pick("証明書を登録できませんでした", "certificate not registered")
            }
        }
    }
}

/// Why a mail did not reach its recipient (recorded as `MailUndelivered`, which reaches the
/// branch by sync).
#[cfg_attr(feature = "specta", derive(specta::Type))]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Undelivered {
    /// Held, not sent in clear: the address encrypts, and its certificate is missing, expired or
    /// revoked (seed 001's 受信メールの暗号化).
    CertificateUnusable,
    /// The mail server refused it for good (a 5xx reply).
    Refused,
    /// Temporary failures until the last try.
    GaveUp,
}

impl Undelivered {
    pub fn label(self, lang: crate::Lang) -> &'static str {
        match self {
            Undelivered::CertificateUnusable => lang.pick(
                "暗号化用の証明書が使えないため送信を保留",
                "held: the encryption certificate cannot be used",
            ),
            Undelivered::Refused => lang.pick(
                "メールサーバーが受け取りを拒否",
                "refused by the mail server",
            ),
            Undelivered::GaveUp => lang.pick(
                "再送を続けても届かず送信を断念",
                "given up after repeated temporary failures",
            ),
        }
    }
}

/// A mail an event owes: what, to whom, for which user.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MailDue {
    pub kind: MailKind,
    pub login_id: String,
    pub to: String,
    /// The certificate (DER, base64) to encrypt to when the recipient is no longer one of the
    /// user's addresses by the time the mail is sent: a deleted address that had 受信メールの
    /// 暗号化 on still gets its notice encrypted (seed 001: encryption belongs to the address).
    pub encrypt_to: Option<String>,
}

/// What a mail owed by `kind` must remember of the directory *before* it: the certificate of a
/// deleted address that encrypted (see `MailDue::encrypt_to`).
pub fn before(before: &Directory, kind: &EventKind) -> Option<String> {
    let EventKind::AddressDeleted { login_id, address } = kind else {
        return None;
    };
    before
        .addresses
        .get(&fold(login_id))?
        .iter()
        .find(|a| dup_key(&a.address) == dup_key(address) && a.encrypt)
        .map(|a| {
            a.certificate
                .as_ref()
                .map(|c| c.der.clone())
                .unwrap_or_default()
        })
}

/// The mails `kind` owes, given the directory after it (the user, their addresses and their
/// customer loaded, as the event's fold loads them) and what `before` kept of the one before.
pub fn owed(after: &Directory, kind: &EventKind, remembered: Option<String>) -> Vec<MailDue> {
    let due = |kind: MailKind, login_id: &str, to: &str| MailDue {
        kind,
        login_id: login_id.to_owned(),
        to: to.to_owned(),
        encrypt_to: None,
    };
    match kind {
        EventKind::AddressAdded {
            login_id, address, ..
        } => {
            // Seed 002's setup request, to an added address of the Web member site (the user's
            // own contact address signs in with the login password and gets no link).
            let Some(user) = user_in(after, login_id) else {
                return Vec::new();
            };
            let web_member = after
                .tenants
                .get(&fold(&user.contract_no))
                .is_some_and(|t| t.preset == Preset::WebMember);
            let own = user.email.as_deref().map(dup_key) == Some(dup_key(address));
            if web_member && !own {
                vec![due(MailKind::AddressSetup, &user.login_id, address)]
            } else {
                Vec::new()
            }
        }
        EventKind::AddressChangeRequested {
            login_id, address, ..
        } => vec![due(MailKind::AddressChange, login_id, address)],
        EventKind::AddressDeleted { login_id, address } => vec![MailDue {
            encrypt_to: remembered,
            ..due(MailKind::AddressDeleted, login_id, address)
        }],
        EventKind::CredentialFailed {
            login_id, outcome, ..
        } if locks(outcome) => match user_in(after, login_id) {
            Some(u) => notices(after, u, MailKind::LockNotice),
            None => Vec::new(),
        },
        EventKind::AddressCredentialFailed {
            login_id,
            address,
            outcome,
            ..
        } if locks(outcome) => vec![due(MailKind::LockNotice, login_id, address)],
        _ => Vec::new(),
    }
}

/// Whether an event may owe a mail (lets a batch skip the directory copies `owed` needs).
pub fn may_owe(kind: &EventKind) -> bool {
    matches!(
        kind,
        EventKind::AddressAdded { .. }
            | EventKind::AddressChangeRequested { .. }
            | EventKind::AddressDeleted { .. }
            | EventKind::CredentialFailed { .. }
            | EventKind::AddressCredentialFailed { .. }
    )
}

fn locks(outcome: &FailureOutcome) -> bool {
    matches!(
        outcome,
        FailureOutcome::LockedNow { .. } | FailureOutcome::LockedPermanently { .. }
    )
}

fn user_in<'a>(d: &'a Directory, login_id: &str) -> Option<&'a User> {
    d.users.get(&fold(login_id))
}

/// The user's own addresses for notices (seed 002: 「お客様ご自身のメールアドレス宛にのみ」): the
/// contact address, and each address registered for notifications; never anyone else's.
pub fn notice_addresses(user: &User, addresses: &[Address]) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    let mut push = |a: &str| {
        if !out.iter().any(|o| dup_key(o) == dup_key(a)) {
            out.push(a.to_owned());
        }
    };
    if let Some(e) = user.email.as_deref() {
        push(e);
    }
    for a in addresses {
        if a.purposes.contains(&Purpose::Notifications) {
            push(&a.address);
        }
    }
    out
}

fn notices(d: &Directory, user: &User, kind: MailKind) -> Vec<MailDue> {
    let list = d
        .addresses
        .get(&fold(&user.login_id))
        .map(Vec::as_slice)
        .unwrap_or(&[]);
    notice_addresses(user, list)
        .into_iter()
        .map(|to| MailDue {
            kind,
            login_id: user.login_id.clone(),
            to,
            encrypt_to: None,
        })
        .collect()
}
