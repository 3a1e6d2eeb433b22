//! The append-only audit event log: what happened, who did it, when, and with what outcome. Each
//! entry's hash covers the previous entry's hash, so altering, removing or reordering any entry
//! breaks the chain. Events hold no secrets: never a password; the directory's events carry the
//! argon2id hashes that the state is folded from (and that sync will ship), nothing more.

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::directory::addresses::{Purpose, StoredCert};
use crate::directory::init_request::InitRequest;
use crate::directory::one_time::OneTimePurpose;
use crate::directory::{Channel, CredentialKind, CredentialPolicy, Service, UserRole};
use crate::iprules::RuleSet;
use crate::lockout::FailureOutcome;
use crate::operator::Role;
use crate::password::Preset;
use crate::Millis;

/// The version of the event body format written today.
pub const EVENT_VERSION: u32 = 1;

/// The hash that stands before the first entry.
pub const GENESIS_HASH: &str = "0000000000000000000000000000000000000000000000000000000000000000";

/// Why a sign-in failed, as recorded (never the password).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SignInFailure {
    /// No operator with that ID.
    UnknownOperator,
    /// Wrong password; counted towards the lock.
    WrongPassword,
    /// Refused because sign-in is locked; not counted.
    Locked,
    /// Refused because a supervisor disabled the operator; not counted.
    Disabled,
}

/// What happened.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum EventKind {
    OperatorCreated {
        operator_id: String,
        name: String,
        role: Role,
        /// Digests of the stored hashes, for the full check (`branch_fold`).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        credentials: Option<crate::branch_fold::CredentialDigests>,
    },
    OperatorSignedIn {
        operator_id: String,
    },
    OperatorSignInFailed {
        /// The ID as typed (trimmed, at most 64 characters).
        attempted_id: String,
        reason: SignInFailure,
        /// Failures counted in the current window after this one.
        failures: u32,
    },
    OperatorLocked {
        operator_id: String,
        until: Millis,
    },
    /// A lock that ran out, recorded when first observed after its end.
    OperatorLockReleased {
        operator_id: String,
        ended_at: Millis,
    },
    OperatorPasswordRehashed {
        operator_id: String,
        /// Digests of the stored hashes, for the full check (`branch_fold`).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        credentials: Option<crate::branch_fold::CredentialDigests>,
    },
    OperatorSignedOut {
        operator_id: String,
    },
    /// A supervisor disabled an operator: refused everywhere until enabled again.
    OperatorDisabled {
        operator_id: String,
    },
    OperatorEnabled {
        operator_id: String,
    },
    OperatorRoleChanged {
        operator_id: String,
        role: Role,
    },
    /// A supervisor issued temporary passwords to an operator (changed at the next sign-in).
    OperatorPasswordsReset {
        operator_id: String,
        /// Digests of the stored hashes, for the full check (`branch_fold`).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        credentials: Option<crate::branch_fold::CredentialDigests>,
    },
    /// An operator changed their own login password (and the confirmation one, when said).
    OperatorPasswordChanged {
        operator_id: String,
        confirmation: bool,
        /// Digests of the stored hashes, for the full check (`branch_fold`).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        credentials: Option<crate::branch_fold::CredentialDigests>,
    },
    SessionLocked {
        operator_id: String,
        idle: bool,
    },
    SessionResumed {
        operator_id: String,
    },
    SettingChanged {
        key: String,
        value: String,
    },
    /// The window was started with `--idle-lock-seconds`, locking sooner than the setting.
    IdleLockOverridden {
        seconds: u32,
        setting_seconds: u32,
    },
    /// The PC's clock read earlier than the newest entry (set back by hand or by a faulty
    /// clock), recorded once per step back at the time the clock gave: from here the entries'
    /// times are behind the ones before, by `last - observed`.
    ClockWentBack {
        /// The newest entry's time.
        last: Millis,
        /// What the clock said.
        observed: Millis,
    },
    /// A backup copy of the database was written.
    DatabaseBackedUp {
        file: String,
        events: i64,
    },
    /// The database was replaced by a backup. This entry follows the restored log and is written
    /// into it before it replaces the live data, so the replacement and its record are one step.
    /// It names the head of the log that was replaced and how many entries after the backup's
    /// head were dropped with it (all of them when the backup is not a prefix of that log, which
    /// takes a second supervisor).
    DatabaseRestored {
        file: String,
        events: i64,
        #[serde(default)]
        replaced_head_seq: i64,
        #[serde(default)]
        replaced_head_hash: String,
        #[serde(default)]
        discarded: i64,
        #[serde(default)]
        prefix: bool,
        #[serde(default)]
        second_supervisor: Option<String>,
    },
    /// The audit log (the entries matching `filter`) was exported to `file`; the log's head at
    /// that moment is named, and a signed checkpoint of it was written beside the file.
    AuditExported {
        file: String,
        rows: i64,
        filter: String,
        head_seq: i64,
        head_hash: String,
    },
    /// A supervisor enrolled this PC with the central server for sync (issue 14).
    SyncEnrolled {
        server: String,
        device_id: String,
        branch: String,
    },
    /// An operator's (or acting user's) confirmation password was wrong; nothing was done.
    ConfirmationFailed {
        actor: String,
        action: String,
    },
    // ---- The directory: customers, users and their credentials (folded by `directory::fold`).
    TenantCreated {
        contract_no: String,
        name: String,
        services: Vec<Service>,
        preset: Preset,
        login: CredentialPolicy,
        confirmation: CredentialPolicy,
    },
    TenantPolicyChanged {
        contract_no: String,
        credential: CredentialKind,
        policy: CredentialPolicy,
    },
    UserCreated {
        login_id: String,
        contract_no: String,
        name: String,
        role: UserRole,
        email: Option<String>,
    },
    /// A new hash for one credential (the hash is not the secret; the password never is logged).
    PasswordSet {
        login_id: String,
        credential: CredentialKind,
        hash: String,
        reason: PasswordSetReason,
        must_change: bool,
        temporary: bool,
        expires_at: Option<Millis>,
        /// A supervisor's reason for giving a known password that is not changed at the next
        /// login (issue 12, finding 6).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        exception: Option<String>,
    },
    /// A wrong password, counted towards the lock (or refused while locked, not counted).
    CredentialFailed {
        login_id: String,
        credential: CredentialKind,
        channel: Channel,
        outcome: FailureOutcome,
        /// The password was right but refused because of a lock (answered like a wrong one,
        /// issue 12 finding 7). Kept apart in the log so that sync can rebase an offline unlock
        /// before it without counting it as a failure (docs/sync.md). Absent when false, so
        /// older entries keep their text and hash; never shown in an answer.
        #[serde(default, skip_serializing_if = "std::ops::Not::not")]
        right_password: bool,
    },
    /// An attempt refused before any password check (unknown ID, suspended user); changes nothing.
    CredentialRefused {
        attempted_id: String,
        credential: CredentialKind,
        channel: Channel,
        reason: RefusalReason,
    },
    /// A right password; clears the counts. `rehash` replaces a hash with outdated parameters.
    CredentialVerified {
        login_id: String,
        credential: CredentialKind,
        channel: Channel,
        rehash: Option<String>,
    },
    /// A temporary lock that ran out, recorded when first observed after its end.
    CredentialLockReleased {
        login_id: String,
        credential: CredentialKind,
        ended_at: Millis,
    },
    /// An administrator's unlock of the listed credentials; `batch` groups a bulk unlock.
    UserUnlocked {
        login_id: String,
        credentials: Vec<CredentialKind>,
        batch: Option<String>,
        /// An offline unlock rebased by sync at the server: the wrong passwords recorded after
        /// what the branch had seen (`base_seq`), which the unlock must not clear. The fold
        /// applies the unlock, then each of them in order (docs/sync.md). Absent when empty.
        #[serde(default, skip_serializing_if = "Vec::is_empty")]
        kept_failures: Vec<KeptFailure>,
    },
    UserSuspended {
        login_id: String,
    },
    UserResumed {
        login_id: String,
    },
    InitRequestRecorded {
        request: InitRequest,
    },
    InitRequestApproved {
        request_no: String,
    },
    InitRequestRejected {
        request_no: String,
        reason: String,
    },
    InitRequestExecuted {
        request_no: String,
    },
    // ---- Addresses, certificates and IP rules (issue 4; folded by `directory::fold` too).
    /// Queues the password-setting request mail to the new address (seed 002).
    AddressAdded {
        login_id: String,
        address: String,
        purposes: Vec<Purpose>,
    },
    /// Queues the change-request mail to the old address (seed 002).
    AddressChangeRequested {
        login_id: String,
        address: String,
        new_address: String,
    },
    AddressChangeConfirmed {
        login_id: String,
        address: String,
        new_address: String,
    },
    /// Queues the deletion notice to the deleted address (seed 002).
    AddressDeleted {
        login_id: String,
        address: String,
    },
    AddressFlagsSet {
        login_id: String,
        address: String,
        sign: bool,
        encrypt: bool,
    },
    /// A certificate registered for an address; an earlier one moves to the history.
    CertificateImported {
        login_id: String,
        address: String,
        certificate: StoredCert,
    },
    TrustedRootAdded {
        sha256: String,
        subject: String,
        der: String,
    },
    IpRulesSet {
        contract_no: String,
        service: Service,
        rules: RuleSet,
    },
    /// A supervisor's forced release of a customer's IP restrictions until `until` (seed 003).
    IpRestrictionsReleased {
        contract_no: String,
        until: Millis,
        reason: String,
    },
    CountryTableImported {
        ranges: usize,
        sha256: String,
    },
    // ---- The second factor and the addresses' own passwords (seeds 002 and 003).
    /// 2FA turned on (seed 002: 多要素認証を「利用する」) once a code sent to `address` came back
    /// (seed 003: the one-time-password address is registered first). The address becomes a
    /// verified one-time-password address.
    MfaEnrolled {
        login_id: String,
        address: String,
    },
    /// 2FA turned off (「利用しない」). `force_change` when the preset allows a shorter login
    /// password only with 2FA: the password may be one the policy no longer accepts, so it must
    /// be changed at the next login.
    MfaDisabled {
        login_id: String,
        force_change: bool,
    },
    /// A one-time secret sent to `address`: only its argon2id hash is kept; the secret itself
    /// goes to the mail and nowhere else. Replaces a pending one of the same purpose.
    OneTimeIssued {
        login_id: String,
        address: String,
        purpose: OneTimePurpose,
        hash: String,
        expires_at: Millis,
        /// Wrong tries carried over from the secret this one replaces: a code sent again never
        /// gives more tries (written only when non-zero, so older entries keep their hashes).
        #[serde(default, skip_serializing_if = "is_zero")]
        carried_attempts: u32,
    },
    /// A wrong one-time secret: one try used; at the limit it is void.
    OneTimeFailed {
        login_id: String,
        address: String,
        purpose: OneTimePurpose,
    },
    /// A one-time secret used: it is gone.
    OneTimeUsed {
        login_id: String,
        address: String,
        purpose: OneTimePurpose,
    },
    /// An added address's own password (seed 002), set through the setup link.
    AddressPasswordSet {
        login_id: String,
        address: String,
        hash: String,
        expires_at: Option<Millis>,
    },
    /// A wrong password for an added address, counted towards that address's own lock.
    AddressCredentialFailed {
        login_id: String,
        address: String,
        channel: Channel,
        outcome: FailureOutcome,
        /// As for `CredentialFailed`: a right password refused because of a lock.
        #[serde(default, skip_serializing_if = "std::ops::Not::not")]
        right_password: bool,
    },
    /// A right password for an added address; clears its counts.
    AddressCredentialVerified {
        login_id: String,
        address: String,
        channel: Channel,
        rehash: Option<String>,
    },
    // ---- Mail (recorded by the central server only).
    /// A mail the server could not deliver: held because the address encrypts and its
    /// certificate cannot be used, refused by the mail server, or given up after temporary
    /// failures. The server's operators see it, and the branch after sync. Changes no state.
    MailUndelivered {
        login_id: String,
        address: String,
        mail: crate::mail::MailKind,
        reason: crate::mail::Undelivered,
    },
}

fn is_zero(n: &u32) -> bool {
    *n == 0
}

/// A wrong password that an offline unlock did not clear (see `UserUnlocked`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct KeptFailure {
    pub credential: CredentialKind,
    /// An added address's own password (seed 002) instead of the user's.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub address: Option<String>,
    /// When it was recorded (the server's time).
    pub at: Millis,
}

/// Why a password was set.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PasswordSetReason {
    /// Issued with a new user.
    Initial,
    /// Set by an administrator for another user.
    AdminReset,
    /// Changed by the user with the current password.
    OwnChange,
    /// Changed by the user because it had expired.
    ExpiredChange,
    /// Changed by the user because it had to be (temporary / forced change).
    ForcedChange,
    /// Reissued by the branch under an initialization request.
    InitRequest,
    /// The user's own new password through the reset link mailed to a registered address
    /// (seed 000: パスワード変更案内メール).
    MailReset,
}

/// Why an attempt was refused without checking the password.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RefusalReason {
    UnknownUser,
    Suspended,
    /// A password the customer's service does not have (a confirmation password outside
    /// Business Web): refused like a wrong password, and not counted.
    CredentialNotUsed,
    /// The source address is refused by the customer's IP access rules for the service the
    /// channel uses: refused before any password is checked, so it cannot lock anyone.
    AddressDenied,
    /// The service signs in with login ID, e-mail address and password (seed 002) and no
    /// address was given.
    AddressRequired,
    /// The address given is not one of the user's, or has no password yet.
    UnknownAddress,
    /// The user's 2FA is on and a one-time code is owed first (a code without a sign-in, or
    /// after its password check expired).
    NoCodePending,
}

impl EventKind {
    /// The type tag, also stored in its own column for filtering.
    pub fn type_name(&self) -> &'static str {
        match self {
            EventKind::OperatorCreated { .. } => "operator_created",
            EventKind::OperatorSignedIn { .. } => "operator_signed_in",
            EventKind::OperatorSignInFailed { .. } => "operator_sign_in_failed",
            EventKind::OperatorLocked { .. } => "operator_locked",
            EventKind::OperatorLockReleased { .. } => "operator_lock_released",
            EventKind::OperatorPasswordRehashed { .. } => "operator_password_rehashed",
            EventKind::OperatorSignedOut { .. } => "operator_signed_out",
            EventKind::OperatorDisabled { .. } => "operator_disabled",
            EventKind::OperatorEnabled { .. } => "operator_enabled",
            EventKind::OperatorRoleChanged { .. } => "operator_role_changed",
            EventKind::OperatorPasswordsReset { .. } => "operator_passwords_reset",
            EventKind::OperatorPasswordChanged { .. } => "operator_password_changed",
            EventKind::SessionLocked { .. } => "session_locked",
            EventKind::SessionResumed { .. } => "session_resumed",
            EventKind::SettingChanged { .. } => "setting_changed",
            EventKind::ClockWentBack { .. } => "clock_went_back",
            EventKind::IdleLockOverridden { .. } => "idle_lock_overridden",
            EventKind::ConfirmationFailed { .. } => "confirmation_failed",
            EventKind::DatabaseBackedUp { .. } => "database_backed_up",
            EventKind::DatabaseRestored { .. } => "database_restored",
            EventKind::AuditExported { .. } => "audit_exported",
            EventKind::SyncEnrolled { .. } => "sync_enrolled",
            EventKind::TenantCreated { .. } => "tenant_created",
            EventKind::TenantPolicyChanged { .. } => "tenant_policy_changed",
            EventKind::UserCreated { .. } => "user_created",
            EventKind::PasswordSet { .. } => "password_set",
            EventKind::CredentialFailed { .. } => "credential_failed",
            EventKind::CredentialRefused { .. } => "credential_refused",
            EventKind::CredentialVerified { .. } => "credential_verified",
            EventKind::CredentialLockReleased { .. } => "credential_lock_released",
            EventKind::UserUnlocked { .. } => "user_unlocked",
            EventKind::UserSuspended { .. } => "user_suspended",
            EventKind::UserResumed { .. } => "user_resumed",
            EventKind::InitRequestRecorded { .. } => "init_request_recorded",
            EventKind::InitRequestApproved { .. } => "init_request_approved",
            EventKind::InitRequestRejected { .. } => "init_request_rejected",
            EventKind::InitRequestExecuted { .. } => "init_request_executed",
            EventKind::AddressAdded { .. } => "address_added",
            EventKind::AddressChangeRequested { .. } => "address_change_requested",
            EventKind::AddressChangeConfirmed { .. } => "address_change_confirmed",
            EventKind::AddressDeleted { .. } => "address_deleted",
            EventKind::AddressFlagsSet { .. } => "address_flags_set",
            EventKind::CertificateImported { .. } => "certificate_imported",
            EventKind::TrustedRootAdded { .. } => "trusted_root_added",
            EventKind::IpRulesSet { .. } => "ip_rules_set",
            EventKind::IpRestrictionsReleased { .. } => "ip_restrictions_released",
            EventKind::CountryTableImported { .. } => "country_table_imported",
            EventKind::MfaEnrolled { .. } => "mfa_enrolled",
            EventKind::MfaDisabled { .. } => "mfa_disabled",
            EventKind::OneTimeIssued { .. } => "one_time_issued",
            EventKind::OneTimeFailed { .. } => "one_time_failed",
            EventKind::OneTimeUsed { .. } => "one_time_used",
            EventKind::AddressPasswordSet { .. } => "address_password_set",
            EventKind::AddressCredentialFailed { .. } => "address_credential_failed",
            EventKind::AddressCredentialVerified { .. } => "address_credential_verified",
            EventKind::MailUndelivered { .. } => "mail_undelivered",
        }
    }
}

/// Which half of the log an event belongs to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Scope {
    /// Only this branch PC has it: its operators, sessions, settings and database care. It never
    /// leaves the PC.
    Branch,
    /// The customers' directory: customers, users, credentials, addresses, certificates, IP rules
    /// and initialization requests. Folded into the tables, and what travels in sync.
    Directory,
}

impl EventKind {
    /// The half of the log this event belongs to.
    pub fn scope(&self) -> Scope {
        match self {
            EventKind::OperatorCreated { .. }
            | EventKind::OperatorSignedIn { .. }
            | EventKind::OperatorSignInFailed { .. }
            | EventKind::OperatorLocked { .. }
            | EventKind::OperatorLockReleased { .. }
            | EventKind::OperatorPasswordRehashed { .. }
            | EventKind::OperatorSignedOut { .. }
            | EventKind::OperatorDisabled { .. }
            | EventKind::OperatorEnabled { .. }
            | EventKind::OperatorRoleChanged { .. }
            | EventKind::OperatorPasswordsReset { .. }
            | EventKind::OperatorPasswordChanged { .. }
            | EventKind::SessionLocked { .. }
            | EventKind::SessionResumed { .. }
            | EventKind::SettingChanged { .. }
            | EventKind::ClockWentBack { .. }
            | EventKind::IdleLockOverridden { .. }
            | EventKind::ConfirmationFailed { .. }
            | EventKind::DatabaseBackedUp { .. }
            | EventKind::DatabaseRestored { .. }
            | EventKind::AuditExported { .. }
            | EventKind::SyncEnrolled { .. } => Scope::Branch,
            EventKind::TenantCreated { .. }
            | EventKind::TenantPolicyChanged { .. }
            | EventKind::UserCreated { .. }
            | EventKind::PasswordSet { .. }
            | EventKind::CredentialFailed { .. }
            | EventKind::CredentialRefused { .. }
            | EventKind::CredentialVerified { .. }
            | EventKind::CredentialLockReleased { .. }
            | EventKind::UserUnlocked { .. }
            | EventKind::UserSuspended { .. }
            | EventKind::UserResumed { .. }
            | EventKind::InitRequestRecorded { .. }
            | EventKind::InitRequestApproved { .. }
            | EventKind::InitRequestRejected { .. }
            | EventKind::InitRequestExecuted { .. }
            | EventKind::AddressAdded { .. }
            | EventKind::AddressChangeRequested { .. }
            | EventKind::AddressChangeConfirmed { .. }
            | EventKind::AddressDeleted { .. }
            | EventKind::AddressFlagsSet { .. }
            | EventKind::CertificateImported { .. }
            | EventKind::TrustedRootAdded { .. }
            | EventKind::IpRulesSet { .. }
            | EventKind::IpRestrictionsReleased { .. }
            | EventKind::CountryTableImported { .. }
            | EventKind::MfaEnrolled { .. }
            | EventKind::MfaDisabled { .. }
            | EventKind::OneTimeIssued { .. }
            | EventKind::OneTimeFailed { .. }
            | EventKind::OneTimeUsed { .. }
            | EventKind::AddressPasswordSet { .. }
            | EventKind::AddressCredentialFailed { .. }
            | EventKind::AddressCredentialVerified { .. }
            | EventKind::MailUndelivered { .. } => Scope::Directory,
        }
    }

    /// One line for the audit list, in the UI language (see `summary`).
    pub fn summary(&self, lang: crate::Lang) -> String {
        crate::summary::summary(self, lang)
    }
}

/// The body stored for an event: its format version, where it was done and what happened.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct EventBody {
    pub v: u32,
    /// Where it was done: `desktop`, `cli`, or later `web:<address>`; absent in older entries.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub origin: Option<String>,
    #[serde(flatten)]
    pub kind: EventKind,
}

impl EventBody {
    /// The source address of a successful verification of one of `wanted` (lower-case login
    /// IDs) recorded in `body`, if it is one: what the IP rules' warnings call the addresses
    /// administrators use. Read the same way from the branch's log and the server's.
    pub fn verified_source(body: &str, wanted: &[String]) -> Option<std::net::IpAddr> {
        let body = serde_json::from_str::<EventBody>(body).ok()?;
        let EventKind::CredentialVerified { login_id, .. } = &body.kind else {
            return None;
        };
        if !wanted.contains(&login_id.to_ascii_lowercase()) {
            return None;
        }
        body.source()
    }

    /// The source address an attempt was recorded from (its origin's `ip=`), if any.
    pub fn source(&self) -> Option<std::net::IpAddr> {
        self.origin
            .as_deref()?
            .split_whitespace()
            .find_map(|p| p.strip_prefix("ip="))?
            .parse()
            .ok()
    }

    pub fn new(kind: EventKind) -> Self {
        EventBody {
            v: EVENT_VERSION,
            origin: None,
            kind,
        }
    }

    pub fn with_origin(kind: EventKind, origin: Option<&str>) -> Self {
        EventBody {
            v: EVENT_VERSION,
            origin: origin.map(str::to_owned),
            kind,
        }
    }

    /// The canonical JSON written to the log and covered by the hash.
    pub fn to_json(&self) -> String {
        serde_json::to_string(self).expect("event bodies always serialize")
    }
}

/// An entry as shown outside the store (CLI, exports): the body with every password, code or
/// certificate hash replaced by `[redacted]`. The log keeps what sync and the fold need; nothing
/// printed carries a hash an attacker could try offline.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ShownEvent {
    pub seq: i64,
    pub at: Millis,
    pub actor: Option<String>,
    pub kind: String,
    pub body: serde_json::Value,
    /// The chain's own hashes (not secrets: they link the entries).
    pub prev_hash: String,
    pub hash: String,
}

/// What a shown body holds instead of a secret's hash.
pub const REDACTED: &str = "[redacted]";

/// Replaces, anywhere in `v`, the value of a key that names a hash (`hash`, `rehash`,
/// `login_hash`, …) and any string that is an argon2 PHC string.
pub fn redact(v: &mut serde_json::Value) {
    use serde_json::Value;
    match v {
        Value::Object(map) => {
            for (k, val) in map.iter_mut() {
                if (k.ends_with("hash") || k.ends_with("hashes")) && !val.is_null() {
                    *val = Value::String(REDACTED.into());
                } else {
                    redact(val);
                }
            }
        }
        Value::Array(items) => items.iter_mut().for_each(redact),
        Value::String(s) if s.starts_with("$argon2") => *s = REDACTED.into(),
        _ => {}
    }
}

impl StoredEvent {
    /// The entry that follows (`last_seq`, `prev_hash`) in a chain: its body written out and
    /// hashed the one way the branch and the server share.
    pub fn next(
        last_seq: i64,
        prev_hash: String,
        at: Millis,
        actor: Option<&str>,
        origin: Option<&str>,
        kind: EventKind,
    ) -> StoredEvent {
        let body = EventBody::with_origin(kind, origin);
        let body_json = body.to_json();
        let seq = last_seq + 1;
        let hash = chain_hash(&prev_hash, seq, at, actor, &body_json);
        StoredEvent {
            seq,
            at,
            actor: actor.map(str::to_owned),
            kind: body.kind.type_name().to_owned(),
            body: body_json,
            prev_hash,
            hash,
        }
    }

    /// The entry with its body redacted, for printing and export.
    pub fn shown(&self) -> ShownEvent {
        let mut body = serde_json::from_str(&self.body)
            .unwrap_or_else(|_| serde_json::Value::String(REDACTED.into()));
        redact(&mut body);
        ShownEvent {
            seq: self.seq,
            at: self.at,
            actor: self.actor.clone(),
            kind: self.kind.clone(),
            body,
            prev_hash: self.prev_hash.clone(),
            hash: self.hash.clone(),
        }
    }
}

/// One entry of the log as stored.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct StoredEvent {
    pub seq: i64,
    pub at: Millis,
    /// The operator who acted, or `None` for the system (e.g. a failed sign-in by an unknown ID).
    pub actor: Option<String>,
    pub kind: String,
    pub body: String,
    pub prev_hash: String,
    pub hash: String,
}

/// The chain hash of an entry: SHA-256 over the previous hash and the entry's fields.
pub fn chain_hash(
    prev_hash: &str,
    seq: i64,
    at: Millis,
    actor: Option<&str>,
    body: &str,
) -> String {
    let mut h = Sha256::new();
    for part in [
        prev_hash.as_bytes(),
        seq.to_string().as_bytes(),
        at.to_string().as_bytes(),
        actor.unwrap_or("").as_bytes(),
        body.as_bytes(),
    ] {
        h.update((part.len() as u64).to_be_bytes());
        h.update(part);
    }
    hex::encode(h.finalize())
}

/// Checks a run of entries in order from the genesis: returns the place (1-based) of the first
/// entry whose number, hash or link is wrong, or `None` when the chain is intact.
pub fn first_broken<'a>(entries: impl IntoIterator<Item = &'a StoredEvent>) -> Option<i64> {
    let mut prev = GENESIS_HASH.to_owned();
    for (expected_seq, e) in (1..).zip(entries) {
        let ok = e.seq == expected_seq
            && e.prev_hash == prev
            && e.hash == chain_hash(&prev, e.seq, e.at, e.actor.as_deref(), &e.body)
            && serde_json::from_str::<EventBody>(&e.body)
                .is_ok_and(|b| b.kind.type_name() == e.kind);
        if !ok {
            // Its place in the chain: an entry whose own `seq` was changed must not send the
            // reader to a number that is not there (found by the chain_check fuzz target).
            return Some(expected_seq);
        }
        prev = e.hash.clone();
    }
    None
}

#[cfg(test)]
mod redaction_tests {
    use super::*;

    #[test]
    fn hashes_and_phc_strings_are_redacted_anywhere_and_nothing_else() {
        let mut v = serde_json::json!({
            "type": "password_set",
            "hash": "$argon2id$v=19$m=19456,t=2,p=1$c2FsdA$aGFzaA",
            "nested": {"login_hash": "abc", "history": ["$argon2id$v=19$x"], "initial_hash": null},
            "rehash": "$argon2id$v=19$y",
            "login_id": "hanakodt",
            "note": "hash browns"
        });
        redact(&mut v);
        assert_eq!(v["hash"], REDACTED);
        assert_eq!(v["nested"]["login_hash"], REDACTED);
        assert_eq!(v["nested"]["history"][0], REDACTED);
        assert_eq!(v["nested"]["initial_hash"], serde_json::Value::Null);
        assert_eq!(v["rehash"], REDACTED);
        assert_eq!(v["login_id"], "hanakodt");
        assert_eq!(v["note"], "hash browns");
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn chain(n: i64) -> Vec<StoredEvent> {
        let mut prev = GENESIS_HASH.to_owned();
        (1..=n)
            .map(|seq| {
                let body = EventBody::new(EventKind::OperatorSignedIn {
                    operator_id: format!("op{seq}"),
                });
                let body_json = body.to_json();
                let hash = chain_hash(&prev, seq, seq * 10, Some("sv001"), &body_json);
                let e = StoredEvent {
                    seq,
                    at: seq * 10,
                    actor: Some("sv001".into()),
                    kind: body.kind.type_name().into(),
                    body: body_json,
                    prev_hash: prev.clone(),
                    hash: hash.clone(),
                };
                prev = hash;
                e
            })
            .collect()
    }

    #[test]
    fn an_intact_chain_verifies() {
        assert_eq!(first_broken(&chain(5)), None);
        assert_eq!(first_broken(&[]), None);
    }

    #[test]
    fn any_alteration_is_found_at_its_entry() {
        let mut c = chain(5);
        c[2].body = c[2].body.replace("op3", "op9");
        assert_eq!(first_broken(&c), Some(3));

        let mut c = chain(5);
        c[3].at += 1;
        assert_eq!(first_broken(&c), Some(4));

        // A removed entry: the second place no longer holds entry 2.
        let mut c = chain(5);
        c.remove(1);
        assert_eq!(first_broken(&c), Some(2));

        // An entry renumbered: reported at its place, not at the number it claims.
        let mut c = chain(5);
        c[1].seq = 3_145_728;
        assert_eq!(first_broken(&c), Some(2));

        let mut c = chain(5);
        c[4].actor = None;
        assert_eq!(first_broken(&c), Some(5));

        let mut c = chain(5);
        c[0].kind = "operator_created".into();
        assert_eq!(first_broken(&c), Some(1));
    }

    #[test]
    fn field_boundaries_are_part_of_the_hash() {
        assert_ne!(
            chain_hash(GENESIS_HASH, 1, 1, Some("ab"), "c"),
            chain_hash(GENESIS_HASH, 1, 1, Some("a"), "bc")
        );
    }

    #[test]
    fn summaries_differ_by_language() {
        let k = EventKind::OperatorLocked {
            operator_id: "op101".into(),
            until: 0,
        };
        assert!(k.summary(crate::Lang::Ja).contains("一時利用停止"));
        assert!(k.summary(crate::Lang::En).contains("temporarily locked"));
        let s = EventKind::SettingChanged {
            key: "idle_lock_minutes".into(),
            value: "5".into(),
        };
        assert_eq!(
            s.summary(crate::Lang::Ja),
            "設定「自動ロックまでの時間（分）」を「5」に変更"
        );
        assert_eq!(
            s.summary(crate::Lang::En),
            "Setting \"idle lock (minutes)\" changed to 5"
        );
    }

    #[test]
    fn bodies_are_versioned_and_round_trip() {
        let b = EventBody::new(EventKind::OperatorSignInFailed {
            attempted_id: "sv001".into(),
            reason: SignInFailure::WrongPassword,
            failures: 2,
        });
        let json = b.to_json();
        assert!(
            json.starts_with("{\"v\":1,\"type\":\"operator_sign_in_failed\""),
            "{json}"
        );
        assert_eq!(serde_json::from_str::<EventBody>(&json).unwrap(), b);
    }
}
