//! Opening the database file, its pragmas and its versioned migrations.

use std::path::Path;

use kagiya_core::Error;
use rusqlite::{Connection, TransactionBehavior};
use rusqlite_migration::{Migrations, M};

/// An open store.
pub struct Store {
    conn: Connection,
}

/// A write transaction (BEGIN IMMEDIATE: the write lock is taken at the start, so two writers
/// never interleave a read-decide-write sequence).
pub type Tx<'a> = rusqlite::Transaction<'a>;

pub(crate) fn storage(e: impl std::fmt::Display) -> Error {
    Error::Storage(e.to_string())
}

/// The schema, one migration per step; never edit a released step, add a new one.
fn migrations() -> Migrations<'static> {
    Migrations::new(vec![M::up(include_str!(
        "migrations/0001_operators_events_settings.sql"
    ))])
}

impl Store {
    /// Opens (creating if needed) the database at `path` and brings its schema up to date.
    pub fn open(path: &Path) -> Result<Store, Error> {
        let unavailable = |e: &dyn std::fmt::Display| Error::DatabaseUnavailable(e.to_string());
        if let Some(dir) = path.parent() {
            std::fs::create_dir_all(dir).map_err(|e| unavailable(&e))?;
        }
        let mut conn = Connection::open(path).map_err(|e| unavailable(&e))?;
        conn.busy_timeout(std::time::Duration::from_secs(5))
            .map_err(|e| unavailable(&e))?;
        conn.pragma_update(None, "journal_mode", "WAL")
            .map_err(|e| unavailable(&e))?;
        conn.pragma_update(None, "synchronous", "FULL")
            .map_err(|e| unavailable(&e))?;
        conn.pragma_update(None, "foreign_keys", true)
            .map_err(|e| unavailable(&e))?;
        migrations()
            .to_latest(&mut conn)
            .map_err(|e| unavailable(&e))?;
        Ok(Store { conn })
    }

    /// Read access.
    pub fn conn(&self) -> &Connection {
        &self.conn
    }

    /// Runs `f` in an immediate transaction: committed if it returns Ok, rolled back otherwise.
    pub fn write<T>(&mut self, f: impl FnOnce(&Tx<'_>) -> Result<T, Error>) -> Result<T, Error> {
        let tx = self
            .conn
            .transaction_with_behavior(TransactionBehavior::Immediate)
            .map_err(storage)?;
        let out = f(&tx)?;
        tx.commit().map_err(storage)?;
        Ok(out)
    }

    /// SQLite's own consistency check plus the foreign-key check; `Ok(())` when both are clean.
    pub fn integrity_check(&self) -> Result<(), Error> {
        let res: String = self
            .conn
            .query_row("PRAGMA integrity_check", [], |r| r.get(0))
            .map_err(storage)?;
        if res != "ok" {
            return Err(Error::Storage(format!("integrity_check: {res}")));
        }
        let fk: Option<String> = self
            .conn
            .query_row("PRAGMA foreign_key_check", [], |r| r.get(0))
            .ok();
        match fk {
            None => Ok(()),
            Some(table) => Err(Error::Storage(format!("foreign_key_check: {table}"))),
        }
    }

    /// The schema version (`user_version`).
    pub fn schema_version(&self) -> Result<i64, Error> {
        self.conn
            .query_row("PRAGMA user_version", [], |r| r.get(0))
            .map_err(storage)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn migrations_are_valid() {
        migrations().validate().unwrap();
    }

    #[test]
    fn opens_a_real_file_in_wal_mode_with_foreign_keys() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("nested/kagiya.db");
        let s = Store::open(&path).unwrap();
        assert!(path.exists());
        let mode: String = s
            .conn()
            .query_row("PRAGMA journal_mode", [], |r| r.get(0))
            .unwrap();
        assert_eq!(mode, "wal");
        let fk: i64 = s
            .conn()
            .query_row("PRAGMA foreign_keys", [], |r| r.get(0))
            .unwrap();
        assert_eq!(fk, 1);
        assert_eq!(s.schema_version().unwrap(), 1);
        s.integrity_check().unwrap();
        drop(s);
        // Re-opening an up-to-date file is a no-op.
        let s = Store::open(&path).unwrap();
        assert_eq!(s.schema_version().unwrap(), 1);
    }

    #[test]
    fn a_failed_write_changes_nothing() {
        let dir = tempfile::tempdir().unwrap();
        let mut s = Store::open(&dir.path().join("k.db")).unwrap();
        let r: Result<(), Error> = s.write(|tx| {
            tx.execute("INSERT INTO settings(key, value) VALUES ('a', '1')", [])
                .map_err(storage)?;
            Err(Error::Internal("stop".into()))
        });
        assert!(r.is_err());
        let n: i64 = s
            .conn()
            .query_row("SELECT count(*) FROM settings", [], |r| r.get(0))
            .unwrap();
        assert_eq!(n, 0);
    }

    #[test]
    fn a_file_that_is_not_a_database_is_refused_and_left_alone() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("k.db");
        let junk = b"this is not sqlite, just some text long enough to be read".repeat(100);
        std::fs::write(&path, &junk).unwrap();
        match Store::open(&path) {
            Err(Error::DatabaseUnavailable(_)) => {}
            Err(e) => panic!("unexpected error {e:?}"),
            Ok(_) => panic!("opened a non-database"),
        }
        assert_eq!(std::fs::read(&path).unwrap(), junk, "the file is untouched");
    }
}
