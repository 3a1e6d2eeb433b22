//! Console settings kept in the database, so that they travel with the branch's data.

use kagiya_core::Error;
use rusqlite::{params, Connection, OptionalExtension};

use crate::db::{storage, Tx};

/// The stored language code ("ja"/"en"), if one was chosen.
pub const LANGUAGE: &str = "language";
/// Minutes without activity before the screen locks.
pub const IDLE_LOCK_MINUTES: &str = "idle_lock_minutes";
/// The colour theme: "system", "light" or "dark".
pub const THEME: &str = "theme";
/// Set for good on a database filled with demo data (issue 12, low): the window says so on every
/// screen and sync will refuse it, so that it never quietly becomes a branch's real database.
/// Nothing clears it.
pub const DEMO: &str = "demo";

pub fn get(conn: &Connection, key: &str) -> Result<Option<String>, Error> {
    conn.query_row("SELECT value FROM settings WHERE key = ?1", [key], |r| {
        r.get(0)
    })
    .optional()
    .map_err(storage)
}

pub fn set(tx: &Tx<'_>, key: &str, value: &str) -> Result<(), Error> {
    tx.execute(
        "INSERT INTO settings (key, value) VALUES (?1, ?2)
         ON CONFLICT (key) DO UPDATE SET value = excluded.value",
        params![key, value],
    )
    .map_err(storage)?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Store;

    #[test]
    fn set_overwrites_and_survives_reopen() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("k.db");
        let s = Store::open(&path, &crate::db::test_key()).unwrap();
        assert_eq!(get(&s.conn(), LANGUAGE).unwrap(), None);
        s.write(|tx| set(tx, LANGUAGE, "ja")).unwrap();
        s.write(|tx| set(tx, LANGUAGE, "en")).unwrap();
        drop(s);
        let s = Store::open(&path, &crate::db::test_key()).unwrap();
        assert_eq!(get(&s.conn(), LANGUAGE).unwrap().as_deref(), Some("en"));
    }
}
