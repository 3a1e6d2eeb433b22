//! The credential engine: the use cases that the branch console, the `kagiya` command line and
//! the central server share — customers, users, unlocks, passwords, suspensions, initialization
//! requests, addresses, certificates, IP rules, operators and the authentication path.
//!
//! Each operation reads what it needs through the storage [`port`], decides with the core's
//! rules (authorised by its matrix, confirmed by the actor's own confirmation password where
//! seed 004 asks for it) and hands the events it decided to the port in one atomic write. The
//! engine knows no database, keyring, window or UI language: labels are made by the caller in the
//! language it passes in.

mod acting;
mod address_passwords;
pub mod addresses;
pub mod certificates;
mod clock;
mod init_request;
mod ip;
mod mail_flows;
mod one_time;
mod operator_auth;
mod operator_lifecycle;
mod operators;
mod passwords;
pub mod port;
mod second_factor;
mod tenants;
mod unlock;
mod users;
mod verify;
pub mod views;

use std::sync::Arc;

use kagiya_core::directory::{Tenant, User};
use kagiya_core::password::{HashParams, PasswordHasher};
use kagiya_core::{Error, Millis};

pub use acting::{Acting, ActorRef};
pub use clock::{Clock, DriftingClock, FixedClock, SystemClock};
pub use init_request::InitRequestForm;
pub use ip::MAX_RELEASE_MINUTES;
pub use mail_flows::{ResetAsked, RESET_MINUTES_SETTING};
pub use one_time::OneTimeSecret;
pub use operator_lifecycle::{OperatorPasswords, OPERATOR_EXPIRY_RANGE, OPERATOR_EXPIRY_SETTING};
pub use operators::{check_new_operator_password, FirstSupervisor, NewOperator};
pub use passwords::{ChangeOwn, Issued, NewPassword, SetPasswords};
pub use port::{Change, MailOrder, OperatorRow, Port, Reads};
pub use tenants::NewTenant;
pub use unlock::{state_label, UnlockOutcome, UnlockRow};
pub use users::NewUser;
pub use verify::Verification;

/// The engine over one store.
pub struct Engine {
    port: Arc<dyn Port>,
    hasher: PasswordHasher,
    clock: Arc<dyn Clock>,
    /// Recorded with every event: `desktop`, `cli`, `server`, …
    origin: String,
    /// The parsed country table and the SHA-256 it was parsed from: the authentication path
    /// checks addresses on every attempt and must not parse the table each time.
    countries: std::sync::Mutex<Option<(String, Arc<kagiya_core::iprules::CountryTable>)>>,
}

impl Engine {
    /// An engine over `port` that records `origin` with every event, on the system clock.
    pub fn new(
        port: Arc<dyn Port>,
        origin: &str,
        hash_params: HashParams,
    ) -> Result<Engine, Error> {
        Ok(Engine {
            port,
            hasher: PasswordHasher::new(hash_params)?,
            clock: Arc::new(SystemClock),
            origin: origin.to_owned(),
            countries: std::sync::Mutex::new(None),
        })
    }

    /// The same engine on another clock (tests of time-based rules).
    pub fn with_clock(mut self, clock: Arc<dyn Clock>) -> Engine {
        self.clock = clock;
        self
    }

    /// The monotonic clock's reading (`Clock::monotonic`): for durations only.
    pub fn monotonic(&self) -> Millis {
        self.clock.monotonic()
    }

    pub fn now(&self) -> Millis {
        self.clock.now()
    }

    /// Replaces the clock (the demo data is written at past times); returns the one before.
    pub fn set_clock(&mut self, clock: Arc<dyn Clock>) -> Arc<dyn Clock> {
        std::mem::replace(&mut self.clock, clock)
    }

    pub fn hasher(&self) -> &PasswordHasher {
        &self.hasher
    }

    /// The origin recorded with this engine's events.
    pub fn origin(&self) -> &str {
        &self.origin
    }

    /// Reads through the port.
    pub fn read<T>(&self, f: impl FnOnce(&dyn Reads) -> Result<T, Error>) -> Result<T, Error> {
        let mut f = Some(f);
        let mut out = None;
        self.port.read(&mut |r| {
            let f = f
                .take()
                .ok_or_else(|| Error::Internal("read ran twice".into()))?;
            out = Some(f(r)?);
            Ok(())
        })?;
        out.ok_or_else(|| Error::Internal("read did not run".into()))
    }

    /// Decides inside a write transaction: `f` reads the current state and returns the changes
    /// and the result; the changes are stored atomically at `at` and the result returned. `f` may
    /// run again if the store retries the transaction.
    pub(crate) fn transact_from<T>(
        &self,
        at: Millis,
        origin: &str,
        mut f: impl FnMut(&dyn Reads) -> Result<(Vec<Change>, T), Error>,
    ) -> Result<T, Error> {
        let mut out = None;
        self.port.write(at, origin, &mut |r| {
            let (changes, value) = f(r)?;
            out = Some(value);
            Ok(changes)
        })?;
        out.ok_or_else(|| Error::Internal("write did not run".into()))
    }

    /// [`Engine::transact_from`] with this engine's origin.
    pub(crate) fn transact<T>(
        &self,
        at: Millis,
        f: impl FnMut(&dyn Reads) -> Result<(Vec<Change>, T), Error>,
    ) -> Result<T, Error> {
        self.transact_from(at, &self.origin, f)
    }

    /// Stores changes decided without further reads, all or none.
    pub(crate) fn commit(&self, at: Millis, changes: Vec<Change>) -> Result<(), Error> {
        self.commit_from(at, &self.origin, changes)
    }

    /// [`Engine::commit`] with another origin.
    pub(crate) fn commit_from(
        &self,
        at: Millis,
        origin: &str,
        changes: Vec<Change>,
    ) -> Result<(), Error> {
        self.transact_from(at, origin, |_| Ok((changes.clone(), ())))
    }

    /// Records directory events done by `actor` in one transaction: all of them, or none.
    pub(crate) fn record_all(
        &self,
        actor: Option<&str>,
        at: Millis,
        evs: Vec<kagiya_core::event::EventKind>,
    ) -> Result<(), Error> {
        self.commit(
            at,
            evs.into_iter()
                .map(|kind| Change::event(actor, kind))
                .collect(),
        )
    }

    /// A customer that must exist.
    pub fn tenant(&self, contract_no: &str) -> Result<Tenant, Error> {
        self.read(|r| r.tenant(contract_no))?
            .ok_or(Error::UnknownTenant)
    }

    /// Spends the time of one argon2id check on nothing, so that a refusal that needed no check
    /// takes as long as one that did.
    pub fn waste_time(&self, s: &kagiya_core::secret::Secret) {
        self.hasher.waste_time(s);
    }

    /// A user that must exist.
    pub fn user(&self, login_id: &str) -> Result<User, Error> {
        self.read(|r| r.user(login_id))?.ok_or(Error::UnknownUser)
    }

    /// A user that must exist, with the customer they belong to.
    pub fn user_and_tenant(&self, login_id: &str) -> Result<(User, Tenant), Error> {
        self.read(|r| user_and_tenant(r, login_id))
    }
}

/// A user that must exist and their customer, from one read view.
pub(crate) fn user_and_tenant(r: &dyn Reads, login_id: &str) -> Result<(User, Tenant), Error> {
    let u = r.user(login_id)?.ok_or(Error::UnknownUser)?;
    let t = r.tenant(&u.contract_no)?.ok_or(Error::UnknownTenant)?;
    Ok((u, t))
}

const DAY: Millis = 24 * 60 * kagiya_core::MINUTE;
