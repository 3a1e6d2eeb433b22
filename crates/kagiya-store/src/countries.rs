//! The imported country table, kept as its CSV text (one row) and parsed when needed.

use kagiya_core::iprules::CountryTable;
use kagiya_core::Error;
use rusqlite::{params, Connection, OptionalExtension};

use crate::db::{storage, Tx};

/// Replaces the table.
pub fn save(tx: &Tx<'_>, csv: &str, sha256: &str) -> Result<(), Error> {
    tx.execute(
        "INSERT INTO country_table (id, csv, sha256) VALUES (1, ?1, ?2) \
         ON CONFLICT (id) DO UPDATE SET csv = excluded.csv, sha256 = excluded.sha256",
        params![csv, sha256],
    )
    .map_err(storage)?;
    Ok(())
}

/// The table, empty when none was imported.
pub fn load(conn: &Connection) -> Result<CountryTable, Error> {
    let csv: Option<String> = conn
        .query_row("SELECT csv FROM country_table WHERE id = 1", [], |r| {
            r.get(0)
        })
        .optional()
        .map_err(storage)?;
    match csv {
        Some(text) => CountryTable::from_csv(&text),
        None => Ok(CountryTable::default()),
    }
}

/// The imported table's SHA-256, `None` when none was imported.
pub fn sha256(conn: &Connection) -> Result<Option<String>, Error> {
    conn.query_row("SELECT sha256 FROM country_table WHERE id = 1", [], |r| {
        r.get(0)
    })
    .optional()
    .map_err(storage)
}
