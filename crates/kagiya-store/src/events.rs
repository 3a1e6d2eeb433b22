//! Appending to and reading the audit log. Appends happen inside the same transaction as the
//! change they describe, so a change is never stored without its event or the other way round.

use kagiya_core::event::{first_broken, EventBody, EventKind, StoredEvent, GENESIS_HASH};
use kagiya_core::{Error, Millis};
use rusqlite::{params, Connection, OptionalExtension, Row};

use crate::db::{rows, storage, Tx};

fn from_row(r: &Row<'_>) -> rusqlite::Result<StoredEvent> {
    Ok(StoredEvent {
        seq: r.get(0)?,
        at: r.get(1)?,
        actor: r.get(2)?,
        kind: r.get(3)?,
        body: r.get(4)?,
        prev_hash: r.get(5)?,
        hash: r.get(6)?,
    })
}

const COLUMNS: &str = "seq, at, actor, kind, body, prev_hash, hash";

/// Appends one event after the current last entry and returns it as stored.
pub fn append(
    tx: &Tx<'_>,
    at: Millis,
    actor: Option<&str>,
    kind: EventKind,
) -> Result<StoredEvent, Error> {
    append_from(tx, at, actor, None, kind)
}

/// Calls `f` with every entry's time, actor and what happened, in order: what the folds read.
pub fn for_each_kind(
    conn: &Connection,
    mut f: impl FnMut(Millis, Option<&str>, &EventKind) -> Result<(), Error>,
) -> Result<(), Error> {
    let mut st = conn
        .prepare("SELECT at, actor, body FROM events ORDER BY seq")
        .map_err(storage)?;
    let mut rows = st.query([]).map_err(storage)?;
    while let Some(r) = rows.next().map_err(storage)? {
        let at: Millis = r.get(0).map_err(storage)?;
        let actor: Option<String> = r.get(1).map_err(storage)?;
        let body: String = r.get(2).map_err(storage)?;
        let body: EventBody =
            serde_json::from_str(&body).map_err(|e| Error::EventLogInconsistent(e.to_string()))?;
        f(at, actor.as_deref(), &body.kind)?;
    }
    Ok(())
}

/// The format of [`export_directory`]'s lines.
pub const DIRECTORY_EXPORT_FORMAT: u32 = 1;

/// Writes the directory events of the log (customers, users, credentials, addresses, IP rules,
/// roots — not the branch's own) as JSON Lines for the central server's import: a first line
/// `{"format", "source"}` naming the log by its first entry's hash (so that an import can resume
/// and never applies one entry twice), then `{"seq", "at", "actor", "body"}` per entry, the body
/// exactly as stored. Password hashes travel (they are the directory); no secret does. Returns
/// how many entries were written.
pub fn export_directory(conn: &Connection, out: &mut dyn std::io::Write) -> Result<u64, Error> {
    let io = |e: std::io::Error| Error::ExportFailed(e.to_string());
    let source: Option<String> = conn
        .query_row("SELECT hash FROM events ORDER BY seq LIMIT 1", [], |r| {
            r.get(0)
        })
        .optional()
        .map_err(storage)?;
    let Some(source) = source else {
        return Err(Error::InvalidValue("empty_log"));
    };
    let header = serde_json::json!({ "format": DIRECTORY_EXPORT_FORMAT, "source": source });
    writeln!(out, "{header}").map_err(io)?;
    let mut st = conn
        .prepare("SELECT seq, at, actor, body FROM events ORDER BY seq")
        .map_err(storage)?;
    let mut rows = st.query([]).map_err(storage)?;
    let mut n = 0;
    while let Some(r) = rows.next().map_err(storage)? {
        let body: String = r.get(3).map_err(storage)?;
        let parsed: EventBody =
            serde_json::from_str(&body).map_err(|e| Error::EventLogInconsistent(e.to_string()))?;
        if parsed.kind.scope() != kagiya_core::event::Scope::Directory {
            continue;
        }
        let line = serde_json::json!({
            "seq": r.get::<_, i64>(0).map_err(storage)?,
            "at": r.get::<_, i64>(1).map_err(storage)?,
            "actor": r.get::<_, Option<String>>(2).map_err(storage)?,
            "body": body,
        });
        writeln!(out, "{line}").map_err(io)?;
        n += 1;
    }
    out.flush().map_err(io)?;
    Ok(n)
}

/// How far back the clock may read before it is recorded as having gone back (ours: a clock
/// corrected by a second or two, or two programs on one PC a few milliseconds apart, is not an
/// incident).
pub const CLOCK_TOLERANCE_MS: Millis = 2_000;

/// Appends one event with where it was done (`desktop`, `cli`, …).
///
/// The head is read once, and with it the newest entry's time: when the clock reads more than
/// `CLOCK_TOLERANCE_MS` earlier, a `clock_went_back` entry (at `at`) goes in first, in the same
/// transaction. The entries keep the times the clock gave — the rules decided with them and the
/// tables hold them — and their order is their sequence; the record shows a reader where the
/// times stop rising and by how much. Once recorded the newest entry is the step back itself, so
/// one step is recorded once. A demo database, whose made-up history is written out of order,
/// records nothing.
pub fn append_from(
    tx: &Tx<'_>,
    at: Millis,
    actor: Option<&str>,
    origin: Option<&str>,
    kind: EventKind,
) -> Result<StoredEvent, Error> {
    let head: Option<(i64, String, Millis)> = tx
        .prepare_cached("SELECT seq, hash, at FROM events ORDER BY seq DESC LIMIT 1")
        .and_then(|mut st| {
            st.query_row([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))
                .optional()
        })
        .map_err(storage)?;
    let (mut last_seq, mut prev_hash) = (0, GENESIS_HASH.to_owned());
    if let Some((seq, hash, last_at)) = head {
        (last_seq, prev_hash) = (seq, hash);
        if last_at - at > CLOCK_TOLERANCE_MS
            && crate::settings::get(tx, crate::settings::DEMO)?.is_none()
        {
            let step = EventKind::ClockWentBack {
                last: last_at,
                observed: at,
            };
            let e = insert(
                tx,
                StoredEvent::next(last_seq, prev_hash, at, None, None, step),
            )?;
            (last_seq, prev_hash) = (e.seq, e.hash);
        }
    }
    insert(
        tx,
        StoredEvent::next(last_seq, prev_hash, at, actor, origin, kind),
    )
}

/// Writes `e` at the head.
fn insert(tx: &Tx<'_>, e: StoredEvent) -> Result<StoredEvent, Error> {
    tx.prepare_cached(&format!(
        "INSERT INTO events ({COLUMNS}) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)"
    ))
    .and_then(|mut st| {
        st.execute(params![
            e.seq,
            e.at,
            e.actor,
            e.kind,
            e.body,
            e.prev_hash,
            e.hash
        ])
    })
    .map_err(storage)?;
    Ok(e)
}

/// Entries selected by `tail` (a WHERE / ORDER BY / LIMIT clause) with its parameters.
fn select(
    conn: &Connection,
    tail: &str,
    params: impl rusqlite::Params,
) -> Result<Vec<StoredEvent>, Error> {
    rows(
        conn,
        &format!("SELECT {COLUMNS} FROM events {tail}"),
        params,
        from_row,
    )
}

/// The newest `limit` entries, newest first.
pub fn recent(conn: &Connection, limit: u32) -> Result<Vec<StoredEvent>, Error> {
    select(conn, "ORDER BY seq DESC LIMIT ?1", [limit])
}

/// Entries of one kind, oldest first.
pub fn of_kind(conn: &Connection, kind: &str) -> Result<Vec<StoredEvent>, Error> {
    select(conn, "WHERE kind = ?1 ORDER BY seq", [kind])
}

/// What the audit screen searches for. Every part is optional; `text` matches the kind, the
/// actor or anything in the body (a login ID, a contract number…), case-insensitively — except
/// the password hashes the body keeps for the fold (`hash`, `rehash`): searching them would let
/// anyone at the screen test guesses of a hash prefix by prefix.
#[derive(Debug, Clone, Default)]
pub struct AuditQuery {
    pub text: String,
    pub kind: Option<String>,
    pub from: Option<Millis>,
    pub to: Option<Millis>,
    /// Only entries older than this sequence number (the next page).
    pub before_seq: Option<i64>,
    pub limit: u32,
}

/// Entries matching `q`, newest first.
pub fn search(conn: &Connection, q: &AuditQuery) -> Result<Vec<StoredEvent>, Error> {
    let text = q.text.trim().to_lowercase();
    select(
        conn,
        "WHERE (?1 = '' OR instr(lower(kind), ?1) > 0 OR instr(lower(coalesce(actor, '')), ?1) > 0 \
                OR instr(lower(json_remove(body, '$.hash', '$.rehash')), ?1) > 0) \
           AND (?2 IS NULL OR kind = ?2) AND (?3 IS NULL OR at >= ?3) AND (?4 IS NULL OR at < ?4) \
           AND (?5 IS NULL OR seq < ?5) \
         ORDER BY seq DESC LIMIT ?6",
        rusqlite::params![text, q.kind, q.from, q.to, q.before_seq, q.limit.clamp(1, 100_000)],
    )
}

/// The distinct event kinds in the log, for the audit screen's filter.
pub fn kinds(conn: &Connection) -> Result<Vec<String>, Error> {
    rows(
        conn,
        "SELECT DISTINCT kind FROM events ORDER BY kind",
        [],
        |r| r.get(0),
    )
}

/// The last entry's (seq, hash), if any.
pub fn head(conn: &Connection) -> Result<Option<(i64, String)>, Error> {
    conn.query_row(
        "SELECT seq, hash FROM events ORDER BY seq DESC LIMIT 1",
        [],
        |r| Ok((r.get(0)?, r.get(1)?)),
    )
    .optional()
    .map_err(storage)
}

/// The hash of entry `seq`, if there is one.
pub fn hash_at(conn: &Connection, seq: i64) -> Result<Option<String>, Error> {
    conn.query_row("SELECT hash FROM events WHERE seq = ?1", [seq], |r| {
        r.get(0)
    })
    .optional()
    .map_err(storage)
}

/// Walks the whole log from the first entry and checks every link. Returns the number of entries,
/// or `AuditChainBroken` naming the first entry that does not fit.
pub fn verify(conn: &Connection) -> Result<i64, Error> {
    let rows = select(conn, "ORDER BY seq", [])?;
    match first_broken(&rows) {
        Some(seq) => Err(Error::AuditChainBroken { seq }),
        None => Ok(rows.len() as i64),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Store;

    fn store() -> (tempfile::TempDir, Store) {
        let dir = tempfile::tempdir().unwrap();
        let s = Store::open(&dir.path().join("k.db"), &crate::db::test_key()).unwrap();
        (dir, s)
    }

    fn signed_in(id: &str) -> EventKind {
        EventKind::OperatorSignedIn {
            operator_id: id.into(),
        }
    }

    #[test]
    fn appends_chain_and_verify() {
        let (_d, s) = store();
        for i in 0..5 {
            s.write(|tx| append(tx, 1000 + i, Some("sv001"), signed_in("sv001")))
                .unwrap();
        }
        assert_eq!(verify(&s.conn()).unwrap(), 5);
        let r = recent(&s.conn(), 2).unwrap();
        assert_eq!(r.iter().map(|e| e.seq).collect::<Vec<_>>(), vec![5, 4]);
        assert_eq!(r[1].hash, r[0].prev_hash);
    }

    #[test]
    fn updates_and_deletes_are_refused_by_the_database() {
        let (_d, s) = store();
        s.write(|tx| append(tx, 1, None, signed_in("a"))).unwrap();
        let upd = s.conn().execute("UPDATE events SET actor = 'x'", []);
        assert!(upd.unwrap_err().to_string().contains("append-only"));
        let del = s.conn().execute("DELETE FROM events", []);
        assert!(del.unwrap_err().to_string().contains("append-only"));
        assert_eq!(verify(&s.conn()).unwrap(), 1);
    }

    #[test]
    fn tampering_behind_the_triggers_is_detected() {
        let (_d, s) = store();
        for i in 0..3 {
            s.write(|tx| append(tx, i, None, signed_in("a"))).unwrap();
        }
        // Someone with raw file access drops the trigger and edits an entry.
        s.conn()
            .execute_batch(
                "DROP TRIGGER events_no_update;
                 UPDATE events SET body = replace(body, '\"a\"', '\"b\"') WHERE seq = 2;",
            )
            .unwrap();
        assert_eq!(verify(&s.conn()), Err(Error::AuditChainBroken { seq: 2 }));
    }
}
