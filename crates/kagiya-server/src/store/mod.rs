//! The engine's storage port over PostgreSQL: the same rules as the branch decide on the central
//! state. The port is synchronous (the engine runs argon2 and must not sit on the async
//! executor), so its methods are called from blocking threads and drive a pooled tokio-postgres
//! client one statement at a time through the runtime's handle.
//!
//! A write is a READ COMMITTED transaction in which every customer the decision reads is locked
//! first, at its audit chain's head row (`chains … FOR UPDATE`), and then read fresh: writers
//! for one customer queue there, as the branch's immediate transaction queues all writers, so a
//! decision never rests on a state that another process changed meanwhile (the lock at exactly
//! the N-th failure over many processes). Writers for different customers never meet. A
//! deadlock or serialisation failure runs the decision again (the port's contract allows it).

mod apply;
mod reads;
pub mod sync;

use std::cell::RefCell;
use std::collections::BTreeSet;

use deadpool_postgres::Pool;
use kagiya_core::{Error, Millis};
use kagiya_engine::port::{DecideFn, Port, ReadFn};
use tokio::runtime::Handle;
use tokio_postgres::error::SqlState;
use tokio_postgres::IsolationLevel;

pub use reads::{doc, PgReads};

use crate::mail::outbox::MailQueue;

/// How many times a write that PostgreSQL refused to serialise (a deadlock between customers'
/// locks, a serialisation failure) is decided again before the error is returned (ours: such a
/// refusal needs two writers crossing customers, so a handful of tries is plenty).
const WRITE_TRIES: usize = 8;

/// The engine's port over a pool.
pub struct PgPort {
    pool: Pool,
    rt: Handle,
    mail: MailQueue,
}

impl PgPort {
    /// A port over `pool`, driven through `rt` (the server's runtime). Call its methods only from
    /// threads that are not running async tasks (`spawn_blocking`).
    pub fn new(pool: Pool, rt: Handle) -> PgPort {
        PgPort {
            pool,
            rt,
            mail: MailQueue::default(),
        }
    }

    /// The same port, queuing mail with `mail`'s key and language.
    pub fn with_mail(self, mail: MailQueue) -> PgPort {
        PgPort { mail, ..self }
    }

    /// How mail is queued.
    pub fn mail(&self) -> &MailQueue {
        &self.mail
    }

    fn client(&self) -> Result<deadpool_postgres::Object, Error> {
        self.rt
            .block_on(self.pool.get())
            .map_err(|e| Error::DatabaseUnavailable(format!("database: {e}")))
    }
}

/// A database error as the engine's error; `retry` is set when running the write again may
/// succeed.
pub(crate) fn storage(e: tokio_postgres::Error, retry: Option<&std::cell::Cell<bool>>) -> Error {
    if let (Some(flag), Some(code)) = (retry, e.code()) {
        if *code == SqlState::T_R_DEADLOCK_DETECTED || *code == SqlState::T_R_SERIALIZATION_FAILURE
        {
            flag.set(true);
        }
    }
    if e.code() == Some(&SqlState::FOREIGN_KEY_VIOLATION) {
        let constraint = e.as_db_error().and_then(|d| d.constraint()).unwrap_or("");
        // A row of a customer the directory does not have (users, requests, rules, releases).
        if constraint.ends_with("_contract_key_fkey") {
            return Error::UnknownTenant;
        }
    }
    if e.code() == Some(&SqlState::LOCK_NOT_AVAILABLE) {
        return Error::DatabaseUnavailable("the database is busy (a lock wait timed out)".into());
    }
    if e.is_closed() || e.as_db_error().is_none() && e.code().is_none() {
        return Error::DatabaseUnavailable(crate::db::message(e));
    }
    if e.code() == Some(&SqlState::UNIQUE_VIOLATION) {
        let constraint = e.as_db_error().and_then(|d| d.constraint()).unwrap_or("");
        return Error::AlreadyExists(match constraint {
            "tenants_pkey" => "contract_no",
            "users_pkey" => "login_id",
            "init_requests_pkey" => "request_no",
            "trusted_roots_pkey" => "root",
            _ => "row",
        });
    }
    Error::Storage(crate::db::message(e))
}

impl Port for PgPort {
    fn read(&self, f: &mut ReadFn<'_>) -> Result<(), Error> {
        let mut client = self.client()?;
        // One snapshot for every statement of the read (a view that never mixes two states).
        let tx = self
            .rt
            .block_on(
                client
                    .build_transaction()
                    .isolation_level(IsolationLevel::RepeatableRead)
                    .read_only(true)
                    .start(),
            )
            .map_err(|e| storage(e, None))?;
        let out = f(&PgReads::reading(&tx, &self.rt));
        // Nothing to keep: ending the read-only transaction either way.
        let _ = self.rt.block_on(tx.rollback());
        out
    }

    fn write(&self, at: Millis, origin: &str, f: &mut DecideFn<'_>) -> Result<(), Error> {
        let mut last = Error::Internal("write not tried".into());
        for _ in 0..WRITE_TRIES {
            let mut client = self.client()?;
            let tx = self
                .rt
                .block_on(client.transaction())
                .map_err(|e| storage(e, None))?;
            let locked = RefCell::new(BTreeSet::new());
            let retry = std::cell::Cell::new(false);
            let decided = {
                let reads = PgReads::writing(&tx, &self.rt, &locked, &retry);
                f(&reads)
            };
            let stored = decided.and_then(|changes| {
                self.rt.block_on(async {
                    let mut w = apply::Writing {
                        mail: &self.mail,
                        last: None,
                    };
                    for c in changes {
                        apply::change(&tx, &locked, &retry, at, origin, &mut w, c).await?;
                    }
                    Ok(())
                })
            });
            let result = match stored {
                Ok(()) => self
                    .rt
                    .block_on(tx.commit())
                    .map_err(|e| storage(e, Some(&retry))),
                Err(e) => {
                    let _ = self.rt.block_on(tx.rollback());
                    Err(e)
                }
            };
            match result {
                Err(e) if retry.get() => last = e,
                other => return other,
            }
        }
        Err(last)
    }
}

/// Makes the key under which text typed into an ID field is recorded (`kagiya_core::typed_id`)
/// once, before any request: the engine would otherwise make it inside the first refusal, and
/// two processes refusing at once would each make one.
pub async fn ensure_typed_id_key(pool: &Pool) -> Result<(), String> {
    use kagiya_core::typed_id::{new_key, KEY_SETTING};
    let client = pool.get().await.map_err(|e| format!("database: {e}"))?;
    client
        .execute(
            "INSERT INTO settings (key, value) VALUES ($1, $2) ON CONFLICT (key) DO NOTHING",
            &[&KEY_SETTING, &new_key()],
        )
        .await
        .map_err(crate::db::message)?;
    Ok(())
}
