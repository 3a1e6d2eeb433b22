//! The branch's side of sync (issue 14, docs/sync.md), in the same encrypted file as everything
//! else. Once the PC is enrolled:
//! - every directory event of a customer the branch serves is queued as a draft op in the same
//!   transaction that records it (`queue`), so nothing done offline can be lost;
//! - drafts are sealed (numbered, chained, signed) just before their first send and kept sealed,
//!   so a retry after a crash or a cut network sends the very same op (`seal`);
//! - what the server sends is checked link by link and kept as the mirror of its chains
//!   (`absorb`), and the served customers' rows in the directory tables are then made again as
//!   the fold of the mirror plus the ops still waiting (`refold`): the screens show the decided
//!   state, with the branch's own pending work on top.
//!
//! The branch's own audit log keeps only what was done here; the mirror is the server's.

use std::collections::{BTreeMap, BTreeSet};

use kagiya_core::directory::fold::{address_user_of, request_of, user_of};
use kagiya_core::directory::ids::fold;
use kagiya_core::event::{EventBody, EventKind, StoredEvent, GENESIS_HASH};
use kagiya_core::{Error, Millis, SyncProblem};
use kagiya_sync::wire::{Enrolled, OpOutcome, Pulled};
use kagiya_sync::{DeviceKey, Op, OpDraft, Outcome, Reason};
use rusqlite::{params, Connection, OptionalExtension};
use serde::Serialize;

use crate::db::{rows, storage};
use crate::{directory, Tx};

/// How this PC is enrolled.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Enrolment {
    pub device_id: String,
    pub branch: String,
    pub server_url: String,
    /// A CA certificate (PEM file) to trust for the server besides the OS's own.
    pub ca_file: Option<String>,
    pub key_generation: i64,
    pub enrolled_at: Millis,
}

/// The enrolment, if the PC is enrolled.
pub fn enrolment(conn: &Connection) -> Result<Option<Enrolment>, Error> {
    conn.query_row(
        "SELECT device_id, branch, server_url, ca_file, key_generation, enrolled_at \
         FROM sync_device WHERE id = 1",
        [],
        |r| {
            Ok(Enrolment {
                device_id: r.get(0)?,
                branch: r.get(1)?,
                server_url: r.get(2)?,
                ca_file: r.get(3)?,
                key_generation: r.get(4)?,
                enrolled_at: r.get(5)?,
            })
        },
    )
    .optional()
    .map_err(storage)
}

/// Takes the key generation for an enrolment attempt: one more than any taken before (kept in
/// the settings, so that a failed attempt's key is never used again).
pub fn take_key_generation(tx: &Tx<'_>) -> Result<i64, Error> {
    let last = crate::settings::get(tx, KEY_GENERATION)?
        .and_then(|v| v.parse::<i64>().ok())
        .unwrap_or(0)
        .max(enrolment(tx)?.map_or(0, |e| e.key_generation));
    crate::settings::set(tx, KEY_GENERATION, &(last + 1).to_string())?;
    Ok(last + 1)
}

use kagiya_core::branch_fold::SYNC_KEY_GENERATION as KEY_GENERATION;

/// Records an enrolment (replacing an earlier one). Ops sealed for an earlier device are
/// unsealed: the new device numbers them from 1.
pub fn enrol(
    tx: &Tx<'_>,
    answer: &Enrolled,
    server_url: &str,
    ca_file: Option<&str>,
    key_generation: i64,
    now: Millis,
) -> Result<(), Error> {
    // Ops sealed for the earlier device may have been applied without the answer arriving; sent
    // again under a new device they would be applied twice.
    if sealed_waiting(tx)? > 0 {
        return Err(Error::Sync(SyncProblem::Refused, "sync.ops_waiting".into()));
    }
    tx.execute(
        "INSERT OR REPLACE INTO sync_device \
         (id, device_id, branch, server_url, ca_file, key_generation, enrolled_at, last_seq, last_hash) \
         VALUES (1, ?1, ?2, ?3, ?4, ?5, ?6, 0, ?7)",
        params![
            answer.device_id,
            answer.branch,
            server_url,
            ca_file,
            key_generation,
            now,
            GENESIS_HASH
        ],
    )
    .map_err(storage)?;
    tx.execute("DELETE FROM sync_customers", [])
        .map_err(storage)?;
    for c in &answer.customers {
        tx.execute(
            "INSERT INTO sync_customers (contract_key) VALUES (?1)",
            [fold(c)],
        )
        .map_err(storage)?;
    }
    tx.execute("UPDATE sync_outbox SET device_seq = NULL, op = NULL", [])
        .map_err(storage)?;
    // The served customers' rows become the server's fold at the first sync.
    tx.execute(
        "INSERT OR IGNORE INTO sync_dirty (customer) SELECT contract_key FROM sync_customers",
        [],
    )
    .map_err(storage)?;
    Ok(())
}

fn mark_dirty(tx: &Tx<'_>, customers: &BTreeSet<String>) -> Result<(), Error> {
    for c in customers {
        tx.execute(
            "INSERT OR IGNORE INTO sync_dirty (customer) VALUES (?1)",
            [c],
        )
        .map_err(storage)?;
    }
    Ok(())
}

/// Makes the rows of every customer marked dirty again (see `refold`) and clears the marks.
pub fn refold_dirty(tx: &Tx<'_>) -> Result<usize, Error> {
    let dirty: BTreeSet<String> = rows(tx, "SELECT customer FROM sync_dirty", [], |r| r.get(0))?
        .into_iter()
        .collect();
    refold(tx, &dirty)?;
    tx.execute("DELETE FROM sync_dirty", []).map_err(storage)?;
    Ok(dirty.len())
}

/// Ops sealed (sent, or about to be) and not yet answered.
pub fn sealed_waiting(conn: &Connection) -> Result<i64, Error> {
    conn.query_row(
        "SELECT count(*) FROM sync_outbox WHERE device_seq IS NOT NULL",
        [],
        |r| r.get(0),
    )
    .map_err(storage)
}

/// The customers the branch serves (folded contract numbers).
pub fn served(conn: &Connection) -> Result<BTreeSet<String>, Error> {
    Ok(
        rows(conn, "SELECT contract_key FROM sync_customers", [], |r| {
            r.get(0)
        })?
        .into_iter()
        .collect(),
    )
}

/// The customer (folded) an event recorded here belongs to, read from the event or the tables.
fn customer_of(conn: &Connection, kind: &EventKind) -> Result<Option<String>, Error> {
    // Settings of the whole server (trusted roots, the country table) name no customer and
    // concern no user: they are not the branch's to send.
    if let Some(c) = kagiya_sync::decide::named_customer(kind) {
        return Ok(Some(fold(c)));
    }
    if let Some(no) = request_of(kind) {
        return Ok(directory::init_request(conn, no)?.map(|r| fold(&r.contract_no)));
    }
    match user_of(kind).or_else(|| address_user_of(kind)) {
        Some(id) => Ok(directory::user(conn, id)?.map(|u| fold(&u.contract_no))),
        None => Ok(None),
    }
}

/// The last sequence pulled of a customer's chain (0 before any).
fn mirror_head(conn: &Connection, customer: &str) -> Result<(i64, String), Error> {
    Ok(conn
        .query_row(
            "SELECT seq, hash FROM sync_mirror WHERE customer = ?1 ORDER BY seq DESC LIMIT 1",
            [customer],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )
        .optional()
        .map_err(storage)?
        .unwrap_or((0, GENESIS_HASH.to_owned())))
}

/// Queues a directory event just recorded as `e` as a draft op, when the PC is enrolled and its
/// customer is served (called in the transaction that records it).
pub(crate) fn queue(tx: &Tx<'_>, e: &StoredEvent, kind: &EventKind) -> Result<(), Error> {
    if enrolment(tx)?.is_none() {
        return Ok(());
    }
    let Some(customer) = customer_of(tx, kind)? else {
        return Ok(());
    };
    let creates = matches!(kind, EventKind::TenantCreated { .. });
    if !creates && !served(tx)?.contains(&customer) {
        return Ok(());
    }
    let (base_seq, _) = mirror_head(tx, &customer)?;
    let draft = OpDraft {
        op_id: format!("event-{}", e.seq),
        customer: customer.clone(),
        base_seq,
        operator: e.actor.clone(),
        at: e.at,
        event: kind.clone(),
    };
    tx.execute(
        "INSERT INTO sync_outbox (event_seq, customer, draft) VALUES (?1, ?2, ?3)",
        params![e.seq, customer, json(&draft)],
    )
    .map_err(storage)?;
    Ok(())
}

fn json<T: Serialize>(v: &T) -> String {
    serde_json::to_string(v).expect("sync values always serialize")
}

fn parse<T: serde::de::DeserializeOwned>(s: &str) -> Result<T, Error> {
    serde_json::from_str(s).map_err(|e| Error::Storage(format!("stored sync value: {e}")))
}

/// Seals the drafts not yet sealed (in the order they were recorded) with `key`, and returns
/// the sealed ops waiting for an outcome, in device order, at most `limit`.
pub fn seal(tx: &Tx<'_>, key: &DeviceKey, limit: usize) -> Result<Vec<Op>, Error> {
    let Some(dev) = enrolment(tx)? else {
        return Err(Error::Sync(SyncProblem::NotEnrolled, String::new()));
    };
    let (mut last_seq, mut last_hash): (i64, String) = tx
        .query_row(
            "SELECT last_seq, last_hash FROM sync_device WHERE id = 1",
            [],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )
        .map_err(storage)?;
    let drafts: Vec<(i64, String)> = rows(
        tx,
        "SELECT id, draft FROM sync_outbox WHERE device_seq IS NULL ORDER BY id",
        [],
        |r| Ok((r.get(0)?, r.get(1)?)),
    )?;
    let mut update = tx
        .prepare_cached("UPDATE sync_outbox SET device_seq = ?2, op = ?3 WHERE id = ?1")
        .map_err(storage)?;
    for (id, draft) in drafts {
        let op = key.seal(&dev.device_id, last_seq, &last_hash, parse(&draft)?);
        update
            .execute(params![id, op.device_seq, json(&op)])
            .map_err(storage)?;
        last_seq = op.device_seq;
        last_hash = op.hash;
    }
    tx.execute(
        "UPDATE sync_device SET last_seq = ?1, last_hash = ?2 WHERE id = 1",
        params![last_seq, last_hash],
    )
    .map_err(storage)?;
    rows(
        tx,
        "SELECT op FROM sync_outbox WHERE device_seq IS NOT NULL ORDER BY device_seq LIMIT ?1",
        [limit as i64],
        |r| r.get::<_, String>(0),
    )?
    .iter()
    .map(|s| parse(s))
    .collect()
}

/// Takes the server's outcomes: the ops they answer leave the outbox; any that did not simply
/// apply go to the review list. Returns the customers whose ops were answered.
pub fn acknowledge(
    tx: &Tx<'_>,
    outcomes: &[OpOutcome],
    now: Millis,
) -> Result<BTreeSet<String>, Error> {
    let mut touched = BTreeSet::new();
    let mut find = tx
        .prepare_cached("SELECT customer, op FROM sync_outbox WHERE device_seq = ?1")
        .map_err(storage)?;
    let mut delete = tx
        .prepare_cached("DELETE FROM sync_outbox WHERE device_seq = ?1")
        .map_err(storage)?;
    for o in outcomes {
        let Some((customer, op)): Option<(String, String)> = find
            .query_row([o.device_seq], |r| Ok((r.get(0)?, r.get(1)?)))
            .optional()
            .map_err(storage)?
        else {
            continue; // a late or repeated answer
        };
        let d = &o.decided;
        if d.outcome != Outcome::Applied || d.reason.is_some() {
            tx.execute(
                "INSERT OR REPLACE INTO sync_review (device_seq, op, outcome, reason, decided_at) \
                 VALUES (?1, ?2, ?3, ?4, ?5)",
                params![
                    o.device_seq,
                    op,
                    d.outcome.code(),
                    d.reason.as_ref().map(json),
                    now
                ],
            )
            .map_err(storage)?;
        }
        delete.execute([o.device_seq]).map_err(storage)?;
        // A customer this branch created is one it serves from now on (the server says so too).
        let op: Op = parse(&op)?;
        if d.outcome == Outcome::Applied
            && matches!(op.draft.event, EventKind::TenantCreated { .. })
        {
            tx.execute(
                "INSERT OR IGNORE INTO sync_customers (contract_key) VALUES (?1)",
                [&customer],
            )
            .map_err(storage)?;
        }
        touched.insert(customer);
    }
    mark_dirty(tx, &touched)?;
    Ok(touched)
}

/// Each served customer's last pulled sequence.
pub fn cursor(conn: &Connection) -> Result<BTreeMap<String, i64>, Error> {
    let mut out: BTreeMap<String, i64> = served(conn)?.into_iter().map(|c| (c, 0)).collect();
    for (c, seq) in rows(
        conn,
        "SELECT customer, max(seq) FROM sync_mirror GROUP BY customer",
        [],
        |r| Ok((r.get::<_, String>(0)?, r.get::<_, i64>(1)?)),
    )? {
        out.insert(c, seq);
    }
    Ok(out)
}

/// Keeps pulled entries after checking that each continues its chain; returns the customers
/// that got new entries. An entry already held is skipped; one that does not follow stops the
/// sync (`ChainBroken`) and nothing of this pull is kept.
pub fn absorb(tx: &Tx<'_>, entries: &[Pulled]) -> Result<BTreeSet<String>, Error> {
    let mut heads: BTreeMap<String, (i64, String)> = BTreeMap::new();
    let mut touched = BTreeSet::new();
    // Customers whose rows are exactly the fold of their mirror (no op waiting, no refold
    // owed): their new entries are applied one by one instead of a refold of everything.
    let mut exact: BTreeMap<String, bool> = BTreeMap::new();
    let mut insert = tx
        .prepare_cached(
            "INSERT INTO sync_mirror (customer, seq, at, actor, kind, body, prev_hash, hash) \
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
        )
        .map_err(storage)?;
    for e in entries {
        if !heads.contains_key(&e.customer) {
            heads.insert(e.customer.clone(), mirror_head(tx, &e.customer)?);
            exact.insert(e.customer.clone(), folds_exactly(tx, &e.customer)?);
        }
        let (seq, hash) = heads.get_mut(&e.customer).expect("just inserted");
        if e.seq <= *seq {
            continue;
        }
        if !e.follows(*seq, hash) {
            return Err(Error::Sync(
                SyncProblem::ChainBroken,
                format!("{} at {}", e.customer, e.seq),
            ));
        }
        insert
            .execute(params![
                e.customer,
                e.seq,
                e.at,
                e.actor,
                e.kind,
                e.body,
                e.prev_hash,
                e.hash
            ])
            .map_err(storage)?;
        *seq = e.seq;
        *hash = e.hash.clone();
        touched.insert(e.customer.clone());
        if exact[&e.customer] {
            let body: EventBody = parse(&e.body)?;
            // A step that does not apply is left to the refold, which reports it.
            if directory::project_event(tx, e.at, e.actor.as_deref(), &body.kind).is_err() {
                exact.insert(e.customer.clone(), false);
            }
        }
    }
    let owed: BTreeSet<String> = touched
        .iter()
        .filter(|c| !exact.get(*c).copied().unwrap_or(false))
        .cloned()
        .collect();
    mark_dirty(tx, &owed)?;
    Ok(touched)
}

/// True when the customer's rows are exactly the fold of its mirror: no op of it waits and no
/// refold of it is owed.
fn folds_exactly(conn: &Connection, customer: &str) -> Result<bool, Error> {
    let owed: i64 = conn
        .query_row(
            "SELECT (SELECT count(*) FROM sync_outbox WHERE customer = ?1) \
                  + (SELECT count(*) FROM sync_dirty WHERE customer = ?1)",
            [customer],
            |r| r.get(0),
        )
        .map_err(storage)?;
    Ok(owed == 0)
}

/// The events that make a served customer's rows: the mirror's, then the ops still waiting.
fn customer_events(conn: &Connection, customer: &str) -> Result<Vec<Step>, Error> {
    let mut out = Vec::new();
    for (at, actor, body) in rows(
        conn,
        "SELECT at, actor, body FROM sync_mirror WHERE customer = ?1 ORDER BY seq",
        [customer],
        |r| {
            Ok((
                r.get::<_, Millis>(0)?,
                r.get::<_, Option<String>>(1)?,
                r.get::<_, String>(2)?,
            ))
        },
    )? {
        let body: EventBody = parse(&body)?;
        out.push(Step {
            at,
            actor,
            kind: body.kind,
            pending: false,
        });
    }
    for draft in rows(
        conn,
        "SELECT draft FROM sync_outbox WHERE customer = ?1 ORDER BY id",
        [customer],
        |r| r.get::<_, String>(0),
    )? {
        let d: OpDraft = parse(&draft)?;
        out.push(Step {
            at: d.at,
            actor: d.operator,
            kind: d.event,
            pending: true,
        });
    }
    Ok(out)
}

/// One event of a customer's fold.
pub(crate) struct Step {
    pub at: Millis,
    pub actor: Option<String>,
    pub kind: EventKind,
    /// An op still waiting for its outcome: left out when it no longer folds.
    pub pending: bool,
}

/// Makes the rows of each customer in `customers` again: removed, then the mirror's entries and
/// the waiting ops applied in order (a waiting op that no longer applies is left out of the
/// tables; the server decides it).
pub fn refold(tx: &Tx<'_>, customers: &BTreeSet<String>) -> Result<(), Error> {
    for c in customers {
        directory::remove_customer(tx, c)?;
        for s in customer_events(tx, c)? {
            if s.pending {
                tx.execute_batch("SAVEPOINT pending_op").map_err(storage)?;
                match directory::project_event(tx, s.at, s.actor.as_deref(), &s.kind) {
                    Ok(()) => tx.execute_batch("RELEASE pending_op").map_err(storage)?,
                    Err(_) => tx
                        .execute_batch("ROLLBACK TO pending_op; RELEASE pending_op")
                        .map_err(storage)?,
                }
            } else {
                directory::project_event(tx, s.at, s.actor.as_deref(), &s.kind)?;
            }
        }
    }
    Ok(())
}

/// The directory as the check folds it on an enrolled PC (`None` when not enrolled): the log's
/// own events for the customers it does not serve, and for those it serves (and those it has
/// pulled) the mirror plus the ops still waiting — the branch's own events about them became
/// ops and are in one or the other.
pub(crate) fn rebuild(
    conn: &Connection,
) -> Result<Option<kagiya_core::directory::Directory>, Error> {
    use kagiya_core::directory::Directory;
    if enrolment(conn)?.is_none() {
        return Ok(None);
    }
    let mut synced: BTreeSet<String> = served(conn)?;
    synced.extend(rows(
        conn,
        "SELECT DISTINCT customer FROM sync_mirror",
        [],
        |r| r.get::<_, String>(0),
    )?);
    let mut from_server = Directory::default();
    for c in &synced {
        for s in customer_events(conn, c)? {
            let mut next = from_server.clone();
            match next.apply(s.at, s.actor.as_deref(), &s.kind) {
                Ok(()) => from_server = next,
                Err(e) if !s.pending => return Err(e),
                Err(_) => {}
            }
        }
    }
    let mut d = Directory::default();
    crate::events::for_each_kind(conn, |at, actor, kind| {
        let customer = kagiya_sync::decide::customer_of(&d, kind)
            .or_else(|| kagiya_sync::decide::customer_of(&from_server, kind));
        match customer {
            Some(c) if synced.contains(&fold(&c)) => Ok(()),
            _ => d.apply(at, actor, kind),
        }
    })?;
    for c in &synced {
        kagiya_sync::replace_customer(&mut d, &from_server, c);
    }
    Ok(Some(d))
}

/// Records how a sync ended.
pub fn finish(
    tx: &Tx<'_>,
    now: Millis,
    pushed: usize,
    pulled: usize,
    error: Option<&Error>,
) -> Result<(), Error> {
    tx.execute(
        "INSERT INTO sync_status (id, last_sync_at, last_error, pushed, pulled) \
         VALUES (1, ?1, ?2, ?3, ?4) \
         ON CONFLICT (id) DO UPDATE SET \
           last_sync_at = CASE WHEN ?2 IS NULL THEN ?1 ELSE last_sync_at END, \
           last_error = ?2, pushed = pushed + ?3, pulled = pulled + ?4",
        params![
            now,
            error.map(|e| e.code().to_owned()),
            pushed as i64,
            pulled as i64
        ],
    )
    .map_err(storage)?;
    Ok(())
}

/// What the status bar shows.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct SyncState {
    pub enrolment: Option<Enrolment>,
    /// Ops recorded here and not yet decided by the server.
    pub waiting: i64,
    /// Decided ops that need the operator's attention.
    pub to_review: i64,
    pub last_sync_at: Option<Millis>,
    /// The code of the last failure, when the last attempt failed.
    pub last_error: Option<String>,
    /// Totals since enrolment.
    pub pushed: i64,
    pub pulled: i64,
}

pub fn state(conn: &Connection) -> Result<SyncState, Error> {
    let enrolment = enrolment(conn)?;
    let count = |sql: &str| -> Result<i64, Error> {
        conn.query_row(sql, [], |r| r.get(0)).map_err(storage)
    };
    let (last_sync_at, last_error, pushed, pulled) = conn
        .query_row(
            "SELECT last_sync_at, last_error, pushed, pulled FROM sync_status WHERE id = 1",
            [],
            |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?)),
        )
        .optional()
        .map_err(storage)?
        .unwrap_or((None, None, 0, 0));
    Ok(SyncState {
        enrolment,
        waiting: count("SELECT count(*) FROM sync_outbox")?,
        to_review: count("SELECT count(*) FROM sync_review WHERE done = 0")?,
        last_sync_at,
        last_error,
        pushed,
        pulled,
    })
}

/// One decided op for the review screen.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReviewItem {
    pub device_seq: i64,
    pub op: Op,
    pub outcome: Outcome,
    pub reason: Option<Reason>,
    pub decided_at: Millis,
    pub done: bool,
}

/// The review list, newest first.
pub fn review(conn: &Connection) -> Result<Vec<ReviewItem>, Error> {
    rows(
        conn,
        "SELECT device_seq, op, outcome, reason, decided_at, done FROM sync_review \
         ORDER BY decided_at DESC, device_seq DESC",
        [],
        |r| {
            Ok((
                r.get::<_, i64>(0)?,
                r.get::<_, String>(1)?,
                r.get::<_, String>(2)?,
                r.get::<_, Option<String>>(3)?,
                r.get::<_, Millis>(4)?,
                r.get::<_, bool>(5)?,
            ))
        },
    )?
    .into_iter()
    .map(|(device_seq, op, outcome, reason, decided_at, done)| {
        Ok(ReviewItem {
            device_seq,
            op: parse(&op)?,
            outcome: Outcome::parse(&outcome)
                .ok_or_else(|| Error::Storage("stored outcome".into()))?,
            reason: reason.map(|r| parse(&r)).transpose()?,
            decided_at,
            done,
        })
    })
    .collect()
}

/// Marks a review item as dealt with.
pub fn mark_done(tx: &Tx<'_>, device_seq: i64) -> Result<bool, Error> {
    Ok(tx
        .execute(
            "UPDATE sync_review SET done = 1 WHERE device_seq = ?1",
            [device_seq],
        )
        .map_err(storage)?
        == 1)
}
