//! Opening the encrypted database file, its pragmas and its versioned migrations.

use std::path::{Path, PathBuf};
use std::sync::{Mutex, MutexGuard};

use kagiya_core::Error;
use rusqlite::{Connection, TransactionBehavior};
use rusqlite_migration::{Migrations, M};

use crate::key::DbKey;

/// An open store: one connection behind a mutex, so that the engine can be shared across
/// threads (the window's commands run off its main thread) while SQLite sees one writer.
pub struct Store {
    conn: Mutex<Connection>,
    path: PathBuf,
}

/// A write transaction (BEGIN IMMEDIATE: the write lock is taken at the start, so two writers
/// never interleave a read-decide-write sequence).
pub type Tx<'a> = rusqlite::Transaction<'a>;

pub(crate) fn storage(e: impl std::fmt::Display) -> Error {
    Error::Storage(e.to_string())
}

/// Every row of `sql` with `params`, mapped by `f` (the statement is cached on the connection).
pub(crate) fn rows<T>(
    conn: &rusqlite::Connection,
    sql: &str,
    params: impl rusqlite::Params,
    f: impl FnMut(&rusqlite::Row<'_>) -> rusqlite::Result<T>,
) -> Result<Vec<T>, Error> {
    let mut st = conn.prepare_cached(sql).map_err(storage)?;
    let rows = st.query_map(params, f).map_err(storage)?;
    rows.collect::<rusqlite::Result<_>>().map_err(storage)
}

/// The schema, one migration per step; never edit a released step, add a new one.
fn migrations() -> Migrations<'static> {
    Migrations::new(vec![
        M::up(include_str!(
            "migrations/0001_operators_events_settings.sql"
        )),
        M::up(include_str!("migrations/0002_directory.sql")),
        M::up(include_str!(
            "migrations/0003_addresses_certificates_ip_rules.sql"
        )),
        M::up(include_str!("migrations/0004_console_indexes.sql")),
        M::up(include_str!("migrations/0005_operator_hardening.sql")),
        M::up(include_str!("migrations/0006_sync.sql")),
    ])
}

/// Opens a connection to `path` with `key` and checks that the key fits (SQLCipher only finds out
/// at the first read).
/// The file beside the database `path` named with `suffix` appended (`kagiya.db` →
/// `kagiya.db.keylock`): where the locks, the part-written copies and the checkpoints go.
pub fn beside(path: &Path, suffix: &str) -> std::path::PathBuf {
    let mut name = path.as_os_str().to_owned();
    name.push(suffix);
    std::path::PathBuf::from(name)
}

/// An exclusive lock on the file beside `path` named with `suffix`, held until the returned
/// file is dropped (the OS releases it if the process dies).
pub(crate) fn lock_beside(path: &Path, suffix: &str) -> Result<std::fs::File, Error> {
    let f = std::fs::OpenOptions::new()
        .create(true)
        .truncate(false)
        .write(true)
        .open(beside(path, suffix))
        .map_err(|e| Error::DatabaseUnavailable(e.to_string()))?;
    f.lock()
        .map_err(|e| Error::DatabaseUnavailable(e.to_string()))?;
    Ok(f)
}

/// The copy kept of a database before its schema is upgraded from `version` at `stamp` (the
/// time in milliseconds, so that each upgrade keeps its own copy and none is taken for another).
pub fn pre_upgrade_copy(path: &Path, version: usize, stamp: u128) -> PathBuf {
    beside(path, &format!(".before-upgrade-v{version}-{stamp}"))
}

/// Removes a scratch database with its write-ahead log files and its upgrade lock, ignoring what
/// is not there.
pub(crate) fn remove_with_journal(path: &Path) {
    for suffix in ["", "-wal", "-shm", ".migrate-lock"] {
        let _ = std::fs::remove_file(beside(path, suffix));
    }
}

pub(crate) fn connect(path: &Path, key: &DbKey) -> Result<Connection, Error> {
    let unavailable = |e: &dyn std::fmt::Display| Error::DatabaseUnavailable(e.to_string());
    let conn = Connection::open(path).map_err(|e| unavailable(&e))?;
    conn.execute_batch(&key.pragma())
        .map_err(|e| unavailable(&e))?;
    // SQLCipher writes its own diagnostics to stderr once keyed; every failure is reported as an
    // error here instead (the CLI's stderr is for its users).
    conn.query_row("PRAGMA cipher_log_level = NONE", [], |_| Ok(()))
        .map_err(|e| unavailable(&e))?;
    conn.query_row("SELECT count(*) FROM sqlite_master", [], |r| {
        r.get::<_, i64>(0)
    })
    .map_err(|e| unavailable(&e))?;
    conn.busy_timeout(std::time::Duration::from_secs(10))
        .map_err(|e| unavailable(&e))?;
    conn.pragma_update(None, "journal_mode", "WAL")
        .map_err(|e| unavailable(&e))?;
    conn.pragma_update(None, "synchronous", "FULL")
        .map_err(|e| unavailable(&e))?;
    conn.pragma_update(None, "foreign_keys", true)
        .map_err(|e| unavailable(&e))?;
    Ok(conn)
}

/// The number of schema steps this build knows.
pub const SCHEMA_VERSION: usize = 6;

/// Brings the schema up to date under `<db>.migrate-lock`, so that two programs opening an old
/// database at once upgrade it once (the second finds it done). A database that has data is
/// copied whole, checked, to `<db>.before-upgrade-vN` first: an upgrade that goes wrong, or a
/// newer version that must be rolled back, leaves the branch its data as it was (issue 12, low).
fn upgrade(path: &Path, key: &DbKey, conn: &mut Connection, keep_copy: bool) -> Result<(), Error> {
    let unavailable = |e: &dyn std::fmt::Display| Error::DatabaseUnavailable(e.to_string());
    let m = migrations();
    let _lock = lock_beside(path, ".migrate-lock")?;
    let version = match m.current_version(conn).map_err(|e| unavailable(&e))? {
        rusqlite_migration::SchemaVersion::NoneSet => 0,
        rusqlite_migration::SchemaVersion::Inside(v) => v.get(),
        rusqlite_migration::SchemaVersion::Outside(v) => {
            return Err(unavailable(&format!(
            "the database's schema (version {v}) is newer than this program's ({SCHEMA_VERSION})"
        )))
        }
    };
    if version == SCHEMA_VERSION {
        return Ok(());
    }
    if version > 0 && keep_copy {
        let stamp = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_millis())
            .unwrap_or(0);
        let dest = pre_upgrade_copy(path, version, stamp);
        copy_into_place(&dest, key, |out| run_backup(conn, out), |_, _| Ok(()))?;
    }
    m.to_latest(conn).map_err(|e| unavailable(&e))
}

/// Copies the whole database `src` reads into `out` with SQLite's online backup API.
pub(crate) fn run_backup(src: &Connection, out: &mut Connection) -> Result<(), Error> {
    rusqlite::backup::Backup::new(src, out)
        .and_then(|b| b.run_to_completion(256, std::time::Duration::ZERO, None))
        .map_err(storage)
}

/// A copy of a database written beside `dest` (`<dest>.part`) by `fill`, opened again with
/// `key` (so the file is known to decrypt), checked (integrity and foreign keys), made one
/// self-contained file (no write-ahead log beside it), read by `read`, and only then renamed to
/// `dest` — which must not exist by then. A copy cut short by a crash or a full disk never
/// carries the final name; the part and its journal files are removed either way. Backups and
/// the copy kept before a schema upgrade are both written this way.
pub(crate) fn copy_into_place<T>(
    dest: &Path,
    key: &DbKey,
    fill: impl FnOnce(&mut Connection) -> Result<(), Error>,
    read: impl FnOnce(&Connection, &Path) -> Result<T, Error>,
) -> Result<T, Error> {
    let part = beside(dest, ".part");
    remove_with_journal(&part);
    let result = (|| {
        let mut out = connect(&part, key)?;
        fill(&mut out)?;
        out.execute_batch("PRAGMA wal_checkpoint(TRUNCATE);")
            .map_err(storage)?;
        drop(out);
        let copy = connect(&part, key)?;
        check_integrity(&copy)?;
        copy.execute_batch("PRAGMA wal_checkpoint(TRUNCATE); PRAGMA journal_mode = DELETE;")
            .map_err(storage)?;
        let t = read(&copy, &part)?;
        drop(copy);
        if dest.exists() {
            return Err(Error::File(format!("{} already exists", dest.display())));
        }
        std::fs::rename(&part, dest).map_err(|e| Error::File(e.to_string()))?;
        Ok(t)
    })();
    remove_with_journal(&part);
    result
}

/// SQLite's own consistency check plus the foreign-key check; `Ok(())` when both are clean.
pub(crate) fn check_integrity(conn: &Connection) -> Result<(), Error> {
    let res: String = conn
        .query_row("PRAGMA integrity_check", [], |r| r.get(0))
        .map_err(storage)?;
    if res != "ok" {
        return Err(Error::Storage(format!("integrity_check: {res}")));
    }
    let fk: Option<String> = conn
        .query_row("PRAGMA foreign_key_check", [], |r| r.get(0))
        .ok();
    match fk {
        None => Ok(()),
        Some(table) => Err(Error::Storage(format!("foreign_key_check: {table}"))),
    }
}

impl Store {
    /// Opens (creating if needed) the database at `path`, encrypted with `key`, and brings its
    /// schema up to date.
    pub fn open(path: &Path, key: &DbKey) -> Result<Store, Error> {
        Self::open_with(path, key, true)
    }

    /// Opens a private copy (a backup being written or restored): upgraded like any database,
    /// but without a copy of its own before the upgrade — it is one.
    pub(crate) fn open_scratch(path: &Path, key: &DbKey) -> Result<Store, Error> {
        Self::open_with(path, key, false)
    }

    fn open_with(path: &Path, key: &DbKey, keep_copy: bool) -> Result<Store, Error> {
        let unavailable = |e: &dyn std::fmt::Display| Error::DatabaseUnavailable(e.to_string());
        if let Some(dir) = path.parent() {
            std::fs::create_dir_all(dir).map_err(|e| unavailable(&e))?;
        }
        let mut conn = connect(path, key)?;
        upgrade(path, key, &mut conn, keep_copy)?;
        Ok(Store {
            conn: Mutex::new(conn),
            path: path.to_owned(),
        })
    }

    /// The database file.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// The connection, held until the guard is dropped. Never keep it across a call into the
    /// engine, which takes it too. A panic while it was held leaves no transaction open (a
    /// dropped transaction rolls back), so a poisoned lock is taken over as it is.
    pub fn conn(&self) -> MutexGuard<'_, Connection> {
        self.conn
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// Runs `f` in an immediate transaction: committed if it returns Ok, rolled back otherwise.
    pub fn write<T>(&self, f: impl FnOnce(&Tx<'_>) -> Result<T, Error>) -> Result<T, Error> {
        let mut conn = self.conn();
        let tx = conn
            .transaction_with_behavior(TransactionBehavior::Immediate)
            .map_err(storage)?;
        let out = f(&tx)?;
        tx.commit().map_err(storage)?;
        Ok(out)
    }

    /// SQLite's own consistency check plus the foreign-key check; `Ok(())` when both are clean.
    pub fn integrity_check(&self) -> Result<(), Error> {
        check_integrity(&self.conn())
    }

    /// The schema version (`user_version`).
    pub fn schema_version(&self) -> Result<i64, Error> {
        self.conn()
            .query_row("PRAGMA user_version", [], |r| r.get(0))
            .map_err(storage)
    }
}

/// A fixed key for the store's own tests (each test database is a fresh file).
#[cfg(test)]
pub(crate) fn test_key() -> DbKey {
    DbKey::from_bytes([7; 32])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn migrations_are_valid() {
        migrations().validate().unwrap();
        let mut conn = Connection::open_in_memory().unwrap();
        migrations().to_latest(&mut conn).unwrap();
        let v = migrations().current_version(&conn).unwrap();
        assert_eq!(usize::from(v), SCHEMA_VERSION);
    }

    /// Issue 12, low: 「migrations under a lock with a backup before an upgrade」. A database at
    /// an older schema is copied whole, at that schema, before it is upgraded; a database of a
    /// newer program is refused and left alone.
    #[test]
    fn an_upgrade_keeps_a_copy_of_the_old_database_and_a_newer_one_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("kagiya.db");
        {
            let mut conn = connect(&path, &test_key()).unwrap();
            migrations().to_version(&mut conn, 4).unwrap();
            conn.execute(
                "INSERT INTO settings (key, value) VALUES ('language', 'ja')",
                [],
            )
            .unwrap();
        }
        let s = Store::open(&path, &test_key()).unwrap();
        assert_eq!(s.schema_version().unwrap(), SCHEMA_VERSION as i64);
        drop(s);
        let copies: Vec<_> = std::fs::read_dir(dir.path())
            .unwrap()
            .map(|d| d.unwrap().path())
            .filter(|p| p.to_string_lossy().contains(".before-upgrade-v4-"))
            .collect();
        assert_eq!(copies.len(), 1, "{copies:?}");
        let copy = copies[0].clone();
        let old = connect(&copy, &test_key()).unwrap();
        let v: i64 = old
            .query_row("PRAGMA user_version", [], |r| r.get(0))
            .unwrap();
        assert_eq!(v, 4, "the copy is the database as it was");
        let lang: String = old
            .query_row(
                "SELECT value FROM settings WHERE key = 'language'",
                [],
                |r| r.get(0),
            )
            .unwrap();
        assert_eq!(lang, "ja");
        drop(old);
        // Opening again upgrades nothing and copies nothing more.
        drop(Store::open(&path, &test_key()).unwrap());
        let n = std::fs::read_dir(dir.path())
            .unwrap()
            .filter(|d| {
                let name = d.as_ref().unwrap().file_name();
                name.to_string_lossy().contains(".before-upgrade-")
                    && !name.to_string_lossy().ends_with("-wal")
                    && !name.to_string_lossy().ends_with("-shm")
            })
            .count();
        assert_eq!(n, 1);

        connect(&path, &test_key())
            .unwrap()
            .pragma_update(None, "user_version", 99)
            .unwrap();
        let err = Store::open(&path, &test_key()).err().unwrap();
        assert!(
            matches!(&err, Error::DatabaseUnavailable(m) if m.contains("newer")),
            "{err:?}"
        );
    }

    #[test]
    fn opens_a_real_file_in_wal_mode_with_foreign_keys() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("nested/kagiya.db");
        let s = Store::open(&path, &test_key()).unwrap();
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
        assert_eq!(s.schema_version().unwrap(), 6);
        s.integrity_check().unwrap();
        drop(s);
        // Re-opening an up-to-date file is a no-op.
        let s = Store::open(&path, &test_key()).unwrap();
        assert_eq!(s.schema_version().unwrap(), 6);
    }

    #[test]
    fn the_file_is_encrypted_and_needs_its_key() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("k.db");
        let s = Store::open(&path, &test_key()).unwrap();
        s.write(|tx| {
            tx.execute(
                "INSERT INTO settings(key, value) VALUES ('secret_marker', 'TOPSECRETVALUE')",
                [],
            )
            .map_err(storage)?;
            Ok(())
        })
        .unwrap();
        let version: String = s
            .conn()
            .query_row("PRAGMA cipher_version", [], |r| r.get(0))
            .unwrap();
        assert!(!version.is_empty());
        s.conn()
            .execute_batch("PRAGMA wal_checkpoint(TRUNCATE)")
            .unwrap();
        drop(s);
        let bytes = std::fs::read(&path).unwrap();
        assert!(
            !bytes.starts_with(b"SQLite format 3"),
            "no plain SQLite header"
        );
        let needle = b"TOPSECRETVALUE";
        assert!(
            !bytes.windows(needle.len()).any(|w| w == needle),
            "no plain text"
        );
        // The wrong key is refused, and the file is left as it was.
        match Store::open(&path, &DbKey::from_bytes([8; 32])) {
            Err(Error::DatabaseUnavailable(_)) => {}
            other => panic!("opened with the wrong key: {:?}", other.err()),
        }
        assert_eq!(std::fs::read(&path).unwrap(), bytes);
        Store::open(&path, &test_key())
            .unwrap()
            .integrity_check()
            .unwrap();
    }

    #[test]
    fn a_failed_write_changes_nothing() {
        let dir = tempfile::tempdir().unwrap();
        let s = Store::open(&dir.path().join("k.db"), &test_key()).unwrap();
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
        match Store::open(&path, &test_key()) {
            Err(Error::DatabaseUnavailable(_)) => {}
            Err(e) => panic!("unexpected error {e:?}"),
            Ok(_) => panic!("opened a non-database"),
        }
        assert_eq!(std::fs::read(&path).unwrap(), junk, "the file is untouched");
    }
}
