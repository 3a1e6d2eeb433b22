//! The console's own tables read beside the fold of the log (`kagiya_core::branch_fold`), for
//! the full check: operators, settings and the country table must be what the log says.

use kagiya_core::branch_fold::{digest, BranchFacts, OperatorFacts};
use kagiya_core::Error;
use rusqlite::Connection;
use sha2::{Digest, Sha256};

use crate::db::storage;
use crate::operators;

/// The state the log describes.
pub fn fold(conn: &Connection) -> Result<BranchFacts, Error> {
    let mut facts = BranchFacts::default();
    crate::events::for_each_kind(conn, |_, _, kind| {
        facts.apply(kind);
        Ok(())
    })?;
    Ok(facts)
}

/// The state the tables hold.
pub fn tables(conn: &Connection) -> Result<BranchFacts, Error> {
    let mut facts = BranchFacts::default();
    for o in operators::list(conn)? {
        facts.operators.insert(
            o.operator_id.to_lowercase(),
            OperatorFacts {
                name: o.name,
                role: o.role,
                disabled: o.disabled,
                must_change: o.must_change,
                login: Some(digest(&o.login_hash)),
                confirmation: Some(digest(&o.confirm_hash)),
            },
        );
    }
    let mut st = conn
        .prepare("SELECT key, value FROM settings")
        .map_err(storage)?;
    let rows = st
        .query_map([], |r| Ok((r.get::<_, String>(0)?, r.get::<_, String>(1)?)))
        .map_err(storage)?;
    for row in rows {
        let (k, v) = row.map_err(storage)?;
        facts.settings.insert(k, v);
    }
    // The digest of the text itself, so that a table swapped under its recorded digest shows.
    let csv: Option<String> = conn
        .query_row("SELECT csv FROM country_table WHERE id = 1", [], |r| {
            r.get(0)
        })
        .map(Some)
        .or_else(|e| match e {
            rusqlite::Error::QueryReturnedNoRows => Ok(None),
            e => Err(storage(e)),
        })?;
    facts.country_table = csv.map(|t| hex::encode(Sha256::digest(t.as_bytes())));
    Ok(facts)
}

/// The parts of the console's own tables that differ from the log; empty when all match.
pub fn differences(conn: &Connection) -> Result<Vec<&'static str>, Error> {
    Ok(fold(conn)?.differences(&tables(conn)?))
}
