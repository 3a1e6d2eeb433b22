//! The credential engine's operations over the store: customers, users, unlocks, passwords,
//! suspensions, initialization requests and the authentication path. The CLI and (later) the
//! desktop screens and the central server call these; each is authorised by the core's matrix,
//! confirmed by the actor's own confirmation password where seed 004 asks for it, done in one
//! transaction and recorded in the event log.

mod acting;
pub mod addresses;
pub mod certificates;
mod init_request;
mod ip;
mod maintenance;
mod operators;
mod passwords;
mod tenants;
mod unlock;
mod users;
mod verify;
pub mod views;

use std::path::PathBuf;
use std::sync::Arc;

use kagiya_core::password::{HashParams, PasswordHasher};
use kagiya_core::{Error, Lang, Millis};
use kagiya_store::{DbKey, KeySource, Store};

use crate::clock::{Clock, SystemClock};

pub use acting::ActorRef;
pub use init_request::InitRequestForm;
pub use maintenance::CheckReport;
pub use operators::NewOperator;
pub use passwords::{ChangeOwn, Issued, NewPassword, SetPasswords};
pub use tenants::NewTenant;
pub use unlock::{UnlockOutcome, UnlockRow};
pub use users::NewUser;
pub use verify::Verification;

/// How to open the engine.
pub struct EngineOptions {
    pub db_path: PathBuf,
    pub key: KeySource,
    pub hash_params: HashParams,
    pub clock: Arc<dyn Clock>,
    /// Recorded with every event: `desktop`, `cli`, …
    pub origin: String,
    pub lang: Lang,
}

impl EngineOptions {
    pub fn new(db_path: PathBuf, key: KeySource, origin: &str) -> Self {
        EngineOptions {
            db_path,
            key,
            hash_params: HashParams::default(),
            clock: Arc::new(SystemClock),
            origin: origin.to_owned(),
            lang: Lang::Ja,
        }
    }
}

pub struct Engine {
    store: Store,
    key: DbKey,
    hasher: PasswordHasher,
    clock: Arc<dyn Clock>,
    origin: String,
    lang: Lang,
}

impl Engine {
    pub fn open(opts: EngineOptions) -> Result<Engine, Error> {
        let key = opts.key.resolve(&opts.db_path)?;
        let store = Store::open(&opts.db_path, &key)?;
        Ok(Engine {
            store,
            key,
            hasher: PasswordHasher::new(opts.hash_params)?,
            clock: opts.clock,
            origin: opts.origin,
            lang: opts.lang,
        })
    }

    pub fn store(&self) -> &Store {
        &self.store
    }

    pub fn store_mut(&mut self) -> &mut Store {
        &mut self.store
    }

    pub fn lang(&self) -> Lang {
        self.lang
    }

    pub fn set_lang(&mut self, lang: Lang) {
        self.lang = lang;
    }

    pub fn now(&self) -> Millis {
        self.clock.now()
    }

    /// Replaces the clock (the demo data is written at past times); returns the one before.
    pub(crate) fn set_clock(&mut self, clock: Arc<dyn Clock>) -> Arc<dyn Clock> {
        std::mem::replace(&mut self.clock, clock)
    }

    pub fn hasher(&self) -> &PasswordHasher {
        &self.hasher
    }

    /// Records directory events in one transaction: all of them with their table changes, or
    /// none.
    fn record_all(
        &mut self,
        actor: Option<&str>,
        now: Millis,
        evs: Vec<kagiya_core::event::EventKind>,
    ) -> Result<(), Error> {
        let origin = self.origin.clone();
        self.store.write(|tx| {
            for ev in evs {
                kagiya_store::directory::record(tx, now, actor, Some(&origin), ev)?;
            }
            Ok(())
        })
    }
}

const DAY: Millis = 24 * 60 * kagiya_core::MINUTE;
