//! The branch PC's database opened for work: the encrypted file with its key, and the engine over
//! it. Also what only a local file has: the full check (SQLite integrity, foreign keys, the audit
//! chain and the fold), backups and a supervisor's restore, each leaving an audit entry. The CLI
//! and the desk both open the branch this way.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use kagiya_core::checkpoint::Checkpoint;
use kagiya_core::directory::authz::Denial;
use kagiya_core::event::{EventKind, GENESIS_HASH};
use kagiya_core::password::HashParams;
use kagiya_core::secret::Secret;
use kagiya_core::Error;
use kagiya_engine::{ActorRef, Clock, Engine, SystemClock};
use serde::Serialize;

use crate::backup::BackupSummary;
use crate::{directory, events, DbKey, KeySource, Store};

/// How to open a branch database.
pub struct BranchOptions {
    pub db_path: PathBuf,
    pub key: KeySource,
    pub hash_params: HashParams,
    pub clock: Arc<dyn Clock>,
    /// Recorded with every event: `desktop`, `cli`, …
    pub origin: String,
}

impl BranchOptions {
    pub fn new(db_path: PathBuf, key: KeySource, origin: &str) -> Self {
        BranchOptions {
            db_path,
            key,
            hash_params: HashParams::default(),
            clock: Arc::new(SystemClock),
            origin: origin.to_owned(),
        }
    }
}

/// An open branch database and the engine over it.
pub struct Branch {
    engine: Engine,
    store: Arc<Store>,
    key: DbKey,
}

/// What `check` found.
#[derive(Debug, Clone, Serialize)]
pub struct CheckReport {
    pub integrity: bool,
    pub audit_entries: i64,
    pub audit_chain_intact: bool,
    /// The directory and the console's own tables (operators, settings, the country table) are
    /// what the log says they must be.
    pub fold_matches_tables: bool,
    /// Which of them differ: `directory`, `operators`, `settings`, `country_table`.
    pub mismatched: Vec<String>,
    pub users: i64,
}

impl CheckReport {
    pub fn ok(&self) -> bool {
        self.integrity && self.audit_chain_intact && self.fold_matches_tables
    }
}

/// A branch is the engine over its database: its operations are the engine's.
impl std::ops::Deref for Branch {
    type Target = Engine;
    fn deref(&self) -> &Engine {
        &self.engine
    }
}

impl Branch {
    /// Opens (creating and migrating as needed) the database with its key.
    pub fn open(opts: BranchOptions) -> Result<Branch, Error> {
        let key = opts.key.resolve(&opts.db_path)?;
        let store = Arc::new(Store::open(&opts.db_path, &key)?);
        let engine =
            Engine::new(store.clone(), &opts.origin, opts.hash_params)?.with_clock(opts.clock);
        Ok(Branch { engine, store, key })
    }

    pub fn engine(&self) -> &Engine {
        &self.engine
    }

    /// The engine, to move its clock (the demo branch is written at past times).
    pub fn engine_mut(&mut self) -> &mut Engine {
        &mut self.engine
    }

    pub fn store(&self) -> &Store {
        &self.store
    }

    /// The sync device key of enrolment `generation`, derived from this database's key (which
    /// the OS keyring holds): it never leaves the PC, only its public half does.
    pub fn device_key(&self, generation: i64) -> kagiya_sync::DeviceKey {
        kagiya_sync::DeviceKey::from_seed(&self.key.device_seed(generation))
    }

    /// The device keys by generation, for the sync thread (it holds its own copy of the
    /// database key, wiped when dropped).
    pub fn device_keys(&self) -> impl Fn(i64) -> kagiya_sync::DeviceKey + Send + 'static {
        let key = self.key.duplicate();
        move |generation| kagiya_sync::DeviceKey::from_seed(&key.device_seed(generation))
    }

    /// The store, shared (for the sync thread, which takes the connection like any caller).
    pub fn shared_store(&self) -> Arc<Store> {
        self.store.clone()
    }

    /// Runs every check; problems are reported, not returned as errors.
    pub fn check(&self) -> Result<CheckReport, Error> {
        let integrity = self.store.integrity_check().is_ok();
        let conn = self.store.conn();
        // One snapshot for every part: a write by another program in between must not show as
        // a difference between the log and the tables.
        // (A savepoint: a read transaction of its own, or part of one already open.)
        conn.execute_batch("SAVEPOINT full_check")
            .map_err(|e| Error::Storage(e.to_string()))?;
        let report = Self::check_in(&conn, integrity);
        let _ = conn.execute_batch("RELEASE full_check");
        report
    }

    fn check_in(conn: &rusqlite::Connection, integrity: bool) -> Result<CheckReport, Error> {
        let (entries, intact) = match events::verify(conn) {
            Ok(n) => (n, true),
            Err(Error::AuditChainBroken { seq }) => (seq - 1, false),
            Err(e) => return Err(e),
        };
        let mut mismatched: Vec<String> = Vec::new();
        if !directory::rebuild_matches(conn).unwrap_or(false) {
            mismatched.push("directory".into());
        }
        match crate::branch_facts::differences(conn) {
            Ok(parts) => mismatched.extend(parts.into_iter().map(String::from)),
            Err(_) => mismatched.push("log".into()),
        }
        Ok(CheckReport {
            integrity,
            audit_entries: entries,
            audit_chain_intact: intact,
            fold_matches_tables: mismatched.is_empty(),
            mismatched,
            users: directory::user_count(conn)?,
        })
    }

    /// A signed checkpoint of the audit log's head now (nothing is recorded).
    pub fn checkpoint(&self) -> Result<Checkpoint, Error> {
        let (seq, hash) = events::head(&self.store.conn())?.unwrap_or((0, GENESIS_HASH.into()));
        Checkpoint::sign(&self.key.checkpoint_seed(), seq, &hash, self.engine.now())
    }

    /// Writes a checkpoint of the head as `<file>.checkpoint.json` next to `file` (a backup or an
    /// export), so that the copy carries what it can later be checked against.
    pub fn write_checkpoint_beside(&self, file: &Path) -> Result<PathBuf, Error> {
        let c = self.checkpoint()?;
        let path = crate::db::beside(file, ".checkpoint.json");
        let json = serde_json::to_string_pretty(&c).map_err(|e| Error::Internal(e.to_string()))?;
        std::fs::write(&path, json).map_err(|e| Error::File(e.to_string()))?;
        Ok(path)
    }

    /// Checks the live log against a checkpoint written earlier: the signature must be this
    /// branch's, and the log must still hold the entry it names with the same hash. A log that
    /// was rewritten (re-hashed) or cut below that entry fails with `AuditChainBroken` at it.
    pub fn check_checkpoint(&self, c: &Checkpoint) -> Result<(), Error> {
        let own = Checkpoint::public_key_of(&self.key.checkpoint_seed())?;
        c.verify(Some(&own))?;
        if c.seq == 0 {
            return Ok(());
        }
        match events::hash_at(&self.store.conn(), c.seq)? {
            Some(h) if h == c.hash => Ok(()),
            _ => Err(Error::AuditChainBroken { seq: c.seq }),
        }
    }

    /// Writes an encrypted, checked copy of the database to `dest`, with a signed checkpoint of
    /// the head beside it (`<dest>.checkpoint.json`).
    pub fn backup(&self, dest: &Path) -> Result<BackupSummary, Error> {
        let summary = self.store.backup_to(dest, &self.key)?;
        self.write_checkpoint_beside(dest)?;
        let ev = EventKind::DatabaseBackedUp {
            file: dest.display().to_string(),
            events: summary.events,
        };
        self.append(None, ev)?;
        Ok(summary)
    }

    /// A supervisor replaces the database with a checked backup (same key). A backup whose log
    /// is not the beginning of the live one would drop history nothing else holds: that takes
    /// `second`, another supervisor, confirmed. The restore's record names the replaced head and
    /// what was dropped, and lands with the restored data.
    pub fn restore(
        &self,
        who: &ActorRef,
        confirmation: &Secret,
        src: &Path,
        second: Option<(&ActorRef, &Secret)>,
    ) -> Result<BackupSummary, Error> {
        let acting = self
            .engine
            .confirm_supervisor(who, confirmation, "restore")?;
        let second = match second {
            Some((who2, conf2)) => {
                let a2 = self
                    .engine
                    .confirm_supervisor(who2, conf2, "restore_second")?;
                if a2.audit_name() == acting.audit_name() {
                    return Err(Error::NotPermitted(Denial::SamePerson));
                }
                Some(a2.audit_name())
            }
            None => None,
        };
        let (now, origin) = (self.engine.now(), self.engine.origin().to_owned());
        let actor = acting.audit_name();
        self.store.restore_from(src, &self.key, |plan| {
            if !plan.prefix && second.is_none() {
                return Err(Error::NotPermitted(Denial::SecondSupervisorRequired));
            }
            let (replaced_head_seq, replaced_head_hash) =
                plan.replaced_head.clone().unwrap_or_default();
            let ev = EventKind::DatabaseRestored {
                file: src.display().to_string(),
                events: plan.backup_head_seq,
                replaced_head_seq,
                replaced_head_hash,
                discarded: plan.discarded,
                prefix: plan.prefix,
                second_supervisor: second.clone(),
            };
            Ok((now, Some(actor.clone()), Some(origin.clone()), ev))
        })
    }

    /// The newest `limit` audit entries, newest first.
    pub fn recent_events(&self, limit: u32) -> Result<Vec<kagiya_core::event::StoredEvent>, Error> {
        events::recent(&self.store.conn(), limit)
    }

    /// The mails the events owe that are still waiting in the outbox.
    pub fn pending_mail(&self) -> Result<Vec<crate::outbox::OutboxRow>, Error> {
        crate::outbox::pending(&self.store.conn())
    }

    /// Appends a branch event in a transaction of its own, with this branch's origin.
    fn append(&self, actor: Option<&str>, ev: EventKind) -> Result<(), Error> {
        let (now, origin) = (self.engine.now(), self.engine.origin().to_owned());
        self.store
            .write(|tx| events::append_from(tx, now, actor, Some(&origin), ev).map(|_| ()))
    }
}
