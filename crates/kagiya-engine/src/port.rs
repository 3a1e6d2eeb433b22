//! The storage port: what the engine reads and the one atomic write of what it decided. The
//! branch's SQLCipher file (`kagiya-store`) and the central server's PostgreSQL implement it, so
//! both run the very same rules.
//!
//! Reads and writes are closures handed to the store rather than guards handed back, so that no
//! connection or lock outlives the call: an operation cannot hold the store while it calls
//! another (which would deadlock a single-connection store), and a pooled store returns its
//! connection as soon as the closure ends. A write's closure may be run more than once by a store
//! that retries a transaction its database refused to serialise; it must only read and decide.

use std::net::IpAddr;

use kagiya_core::directory::{Address, InitRequest, Service, Tenant, User};
use kagiya_core::event::EventKind;
use kagiya_core::iprules::{CountryTable, RuleSet};
use kagiya_core::lockout::LockoutFacts;
use kagiya_core::mail::MailKind;
use kagiya_core::operator::{OperatorRecord, Role};
use kagiya_core::secret::Secret;
use kagiya_core::Lang;
use kagiya_core::{Error, Millis};

/// What the engine reads. A store implements it over a connection, and over a transaction for
/// the reads that decide a write.
pub trait Reads {
    /// A customer by contract number.
    fn tenant(&self, contract_no: &str) -> Result<Option<Tenant>, Error>;
    /// Every customer, by contract number.
    fn tenants(&self) -> Result<Vec<Tenant>, Error>;
    /// A user by login ID (case-insensitive), with both credentials.
    fn user(&self, login_id: &str) -> Result<Option<User>, Error>;
    /// A customer's users, by login ID.
    fn users_of(&self, contract_no: &str) -> Result<Vec<User>, Error>;
    /// A customer's masters and admins (what seed 004's request rule looks at), by login ID;
    /// apart from `users_of` so that a customer with many general users stays cheap.
    fn managers_of(&self, contract_no: &str) -> Result<Vec<User>, Error>;
    /// Users whose login ID, name or address starts with `prefix`, by login ID, at most `limit`.
    fn search_users(&self, prefix: &str, limit: u32) -> Result<Vec<User>, Error>;
    /// An initialization request by its number.
    fn init_request(&self, request_no: &str) -> Result<Option<InitRequest>, Error>;
    /// Every initialization request, by number.
    fn init_requests(&self) -> Result<Vec<InitRequest>, Error>;
    /// Every address that encrypts mail to its certificate, with its user's login ID.
    fn encrypting_addresses(&self) -> Result<Vec<(String, Address)>, Error>;
    /// The login IDs of the users who registered `address` (case-insensitively), by login ID.
    fn address_holders(&self, address: &str) -> Result<Vec<String>, Error>;
    /// A user's addresses (empty when none; `UnknownUser` when there is no such user).
    fn addresses(&self, login_id: &str) -> Result<Vec<Address>, Error>;
    /// A customer's IP rules for one service (the empty set when none were set).
    fn ip_rules(&self, contract_no: &str, service: Service) -> Result<RuleSet, Error>;
    /// The end of a customer's forced release of its IP restrictions, if one was given.
    fn ip_release(&self, contract_no: &str) -> Result<Option<Millis>, Error>;
    /// The trusted roots as (subject, DER).
    fn trusted_roots(&self) -> Result<Vec<(String, Vec<u8>)>, Error>;
    /// The IP-to-country table.
    fn country_table(&self) -> Result<CountryTable, Error>;
    /// The SHA-256 of the imported country table (`None` before any import): lets the engine keep
    /// the parsed table until it changes.
    fn country_table_sha256(&self) -> Result<Option<String>, Error>;
    /// The source addresses from which any of `login_ids` was verified, newest first, distinct.
    fn verified_sources(&self, login_ids: &[String]) -> Result<Vec<IpAddr>, Error>;
    /// A branch operator by ID (case-insensitive).
    fn operator(&self, operator_id: &str) -> Result<Option<OperatorRecord>, Error>;
    /// How many operators are registered.
    fn operator_count(&self) -> Result<i64, Error>;
    /// Every operator, by ID.
    fn operators(&self) -> Result<Vec<OperatorRecord>, Error>;
    /// A stored setting.
    fn setting(&self, key: &str) -> Result<Option<String>, Error>;
}

/// A new operator as the store keeps it (hashes only).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OperatorRow {
    pub operator_id: String,
    pub name: String,
    pub role: Role,
    pub login_hash: String,
    pub confirm_hash: String,
}

impl OperatorRow {
    /// The digests of both hashes, recorded with the operator's creation for the full check.
    pub fn digests(&self) -> kagiya_core::branch_fold::CredentialDigests {
        kagiya_core::branch_fold::CredentialDigests::of(&self.login_hash, Some(&self.confirm_hash))
    }
}

/// One change the engine decided. Events are the spine: a directory event is appended to the log
/// and applied to the tables with the core's fold; a branch event is only appended. The other
/// changes are the local state that has no fold of its own and always travels with its event.
#[derive(Debug, Clone, PartialEq)]
pub enum Change {
    /// An event recorded as done by `actor` (none for the system, e.g. an automatic lock end).
    Event {
        actor: Option<String>,
        kind: EventKind,
    },
    /// A new operator row.
    Operator(OperatorRow),
    /// An operator's sign-in lockout facts.
    OperatorLockout {
        operator_id: String,
        facts: LockoutFacts,
    },
    /// An operator signed in at the write's time: the lockout facts cleared, the time stamped.
    OperatorSignedIn { operator_id: String },
    /// An operator's login password hash upgraded to the current parameters.
    OperatorLoginHash { operator_id: String, phc: String },
    /// An operator disabled or enabled by a supervisor.
    OperatorDisabled { operator_id: String, disabled: bool },
    /// An operator's new role.
    OperatorRole { operator_id: String, role: Role },
    /// New password hashes (the confirmation one when given), set now; the lock is lifted.
    OperatorPasswords {
        operator_id: String,
        login_hash: String,
        confirm_hash: Option<String>,
        must_change: bool,
    },
    /// A setting's new value.
    Setting { key: String, value: String },
    /// A new IP-to-country table (its CSV and SHA-256).
    CountryTable { csv: String, sha256: String },
    /// A mail that carries what only this decision has (a code made for it), queued with the
    /// event by a store that delivers mail (the central server's); the branch's store sends no
    /// mail and drops it, so the secret never rests on a branch PC.
    Mail(MailOrder),
}

/// A mail ordered by the engine (see `Change::Mail`; the mails an event owes by itself are
/// `kagiya_core::mail::owed`).
#[derive(Debug, Clone)]
pub struct MailOrder {
    pub kind: MailKind,
    pub login_id: String,
    pub to: String,
    /// The language of the request that ordered it (`None`: the server's default).
    pub lang: Option<Lang>,
    /// The code or link secret the mail carries (never stored in clear, never in an event).
    pub secret: Option<Secret>,
    /// When what it carries stops working: not worth sending after that.
    pub expires_at: Option<Millis>,
    /// What the mail reports beyond its kind (the codes of a refused registration).
    pub detail: Option<String>,
}

/// Orders compare without their secret (which is random).
impl PartialEq for MailOrder {
    fn eq(&self, o: &MailOrder) -> bool {
        (self.kind, &self.login_id, &self.to, self.lang) == (o.kind, &o.login_id, &o.to, o.lang)
            && (self.expires_at, &self.detail) == (o.expires_at, &o.detail)
            && self.secret.is_some() == o.secret.is_some()
    }
}

impl Change {
    /// An event done by `actor`.
    pub fn event(actor: Option<&str>, kind: EventKind) -> Change {
        Change::Event {
            actor: actor.map(str::to_owned),
            kind,
        }
    }
}

/// A read handed to the store: runs over the read view it is given.
pub type ReadFn<'a> = dyn FnMut(&dyn Reads) -> Result<(), Error> + 'a;

/// A decision handed to the store: reads inside the write transaction and returns what to store.
pub type DecideFn<'a> = dyn FnMut(&dyn Reads) -> Result<Vec<Change>, Error> + 'a;

/// Where the engine's operations read and write. Shared across threads: the central server
/// holds one engine over a connection pool.
pub trait Port: Send + Sync {
    /// Runs `f` over a consistent read view.
    fn read(&self, f: &mut ReadFn<'_>) -> Result<(), Error>;

    /// Runs `f` inside a write transaction and applies the changes it returns, all with the time
    /// `at` and the origin `origin` (`desktop`, `cli`, …, with `ip=` for an attempt from an
    /// address): either all of them are stored or none.
    fn write(&self, at: Millis, origin: &str, f: &mut DecideFn<'_>) -> Result<(), Error>;
}

/// How text typed into an ID field is recorded (`kagiya_core::typed_id`): as typed when it is a
/// well-formed ID, else as a keyed hash under the branch's key — made, inside the same write, the
/// first time one is needed.
pub(crate) fn typed_id(
    r: &dyn Reads,
    typed: &str,
    is_id: bool,
    changes: &mut Vec<Change>,
) -> Result<String, Error> {
    use kagiya_core::typed_id::{new_key, recorded, KEY_SETTING};
    if is_id {
        return Ok(recorded(typed, true, &[]));
    }
    let key = match r.setting(KEY_SETTING)? {
        Some(k) => k,
        None => {
            let k = new_key();
            changes.push(Change::Setting {
                key: KEY_SETTING.to_owned(),
                value: k.clone(),
            });
            k
        }
    };
    Ok(recorded(typed, false, key.as_bytes()))
}
