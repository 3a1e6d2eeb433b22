//! The server's audit log: one hash chain per customer (the chain is the folded contract number;
//! `''` is the server's own). An entry is written inside the transaction of the change it
//! describes, after taking its chain's head row (`FOR UPDATE`): writers for one customer queue
//! there, writers for different customers never meet. The entry format and hash are the branch's
//! (`kagiya_core::event`), so a chain verifies with the same `first_broken` on either side.

use kagiya_core::event::{first_broken, EventKind, StoredEvent, GENESIS_HASH};
use kagiya_core::Millis;
use tokio_postgres::GenericClient;

use crate::db::Tx as Transaction;

use crate::db::message as db;

/// The server's own chain (entries about no customer).
pub const SERVER_CHAIN: &str = "";

/// The head of `chain` (sequence and hash), made at the genesis when new and locked for the rest
/// of `tx`: the upsert takes the row lock either way.
async fn head(tx: &Transaction<'_>, chain: &str) -> Result<(i64, String), String> {
    let row = crate::db::query_one(
        tx,
        "INSERT INTO chains (chain, seq, hash) VALUES ($1, 0, $2) \
             ON CONFLICT (chain) DO UPDATE SET seq = chains.seq RETURNING seq, hash",
        &[&chain, &GENESIS_HASH],
    )
    .await
    .map_err(db)?;
    Ok((row.get(0), row.get(1)))
}

/// Appends `kind` at the head of `chain`, in `tx`. The chain's head row is taken first (a caller
/// that already holds it pays one round trip for it, not two).
pub async fn append(
    tx: &Transaction<'_>,
    chain: &str,
    at: Millis,
    actor: Option<&str>,
    origin: Option<&str>,
    kind: EventKind,
) -> Result<StoredEvent, String> {
    let (seq, hash) = head(tx, chain).await?;
    let e = StoredEvent::next(seq, hash, at, actor, origin, kind);
    let device = kagiya_sync::device_of(origin);
    crate::db::execute(
        tx,
        "INSERT INTO events (chain, seq, at_ms, actor, kind, body, prev_hash, hash, device) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
        &[
            &chain,
            &e.seq,
            &e.at,
            &e.actor,
            &e.kind,
            &e.body,
            &e.prev_hash,
            &e.hash,
            &device,
        ],
    )
    .await
    .map_err(db)?;
    Ok(e)
}

/// One entry to append with `append_many`.
pub struct NewEntry {
    pub at: Millis,
    pub actor: Option<String>,
    pub origin: String,
    pub kind: EventKind,
}

/// Appends `entries` in order at the head of `chain`, in `tx`: the head is read (and locked)
/// once, the hashes made here, and the rows written by multi-row statements (the head trigger
/// checks and advances each in turn). For bulk writers (sync ingest) that already hold the head.
pub async fn append_many(
    tx: &Transaction<'_>,
    chain: &str,
    entries: Vec<NewEntry>,
) -> Result<Vec<StoredEvent>, String> {
    if entries.is_empty() {
        return Ok(Vec::new());
    }
    let (mut seq, mut hash) = head(tx, chain).await?;
    let mut out = Vec::with_capacity(entries.len());
    for e in entries {
        let s = StoredEvent::next(seq, hash, e.at, e.actor.as_deref(), Some(&e.origin), e.kind);
        seq = s.seq;
        hash = s.hash.clone();
        out.push((s, kagiya_sync::device_of(Some(&e.origin))));
    }
    // 100 rows (900 parameters) per statement.
    for chunk in out.chunks(100) {
        let mut sql = String::from(
            "INSERT INTO events (chain, seq, at_ms, actor, kind, body, prev_hash, hash, device) VALUES ",
        );
        let mut params: Vec<&(dyn tokio_postgres::types::ToSql + Sync)> = Vec::new();
        for (i, (e, device)) in chunk.iter().enumerate() {
            let b = i * 9;
            if i > 0 {
                sql.push_str(", ");
            }
            sql.push_str(&format!(
                "(${}, ${}, ${}, ${}, ${}, ${}, ${}, ${}, ${})",
                b + 1,
                b + 2,
                b + 3,
                b + 4,
                b + 5,
                b + 6,
                b + 7,
                b + 8,
                b + 9
            ));
            params.extend_from_slice(&[
                &chain as &(dyn tokio_postgres::types::ToSql + Sync),
                &e.seq,
                &e.at,
                &e.actor,
                &e.kind,
                &e.body,
                &e.prev_hash,
                &e.hash,
                device,
            ]);
        }
        crate::db::execute(tx, &sql, &params).await.map_err(db)?;
    }
    Ok(out.into_iter().map(|(e, _)| e).collect())
}

/// Checks `chain` from its first entry: `Ok(entries)` when every link and hash holds and the head
/// row names the last entry, `Err(place)` at the first entry that does not.
pub async fn verify(client: &impl GenericClient, chain: &str) -> Result<Result<i64, i64>, String> {
    let rows = client
        .query(
            "SELECT seq, at_ms, actor, kind, body, prev_hash, hash FROM events \
             WHERE chain = $1 ORDER BY seq",
            &[&chain],
        )
        .await
        .map_err(db)?;
    let entries: Vec<StoredEvent> = rows
        .iter()
        .map(|r| StoredEvent {
            seq: r.get(0),
            at: r.get(1),
            actor: r.get(2),
            kind: r.get(3),
            body: r.get(4),
            prev_hash: r.get(5),
            hash: r.get(6),
        })
        .collect();
    if let Some(place) = first_broken(&entries) {
        return Ok(Err(place));
    }
    let head = client
        .query_opt("SELECT seq, hash FROM chains WHERE chain = $1", &[&chain])
        .await
        .map_err(db)?;
    // The head row must name the last entry (or the genesis, for a chain with none yet).
    let n = entries.len() as i64;
    let want = (
        n,
        entries
            .last()
            .map_or_else(|| GENESIS_HASH.to_owned(), |e| e.hash.clone()),
    );
    let ok = match head {
        None => n == 0,
        Some(h) => (h.get::<_, i64>(0), h.get::<_, String>(1)) == want,
    };
    Ok(if ok { Ok(n) } else { Err(n + 1) })
}
