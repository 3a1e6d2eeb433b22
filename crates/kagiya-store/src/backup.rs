//! Backups and restores of the whole database with SQLite's online backup API: a backup is a
//! consistent copy taken while the app runs, encrypted with the same key; a restore first checks
//! the copy (opens with the key, integrity check, intact audit chain) and only then replaces the
//! live data, in one step.

use std::path::Path;
use std::time::Duration;

use kagiya_core::Error;
use rusqlite::backup::Backup;

use crate::db::{connect, storage};
use crate::key::DbKey;
use crate::{events, Store};

/// What a finished backup or restore holds.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct BackupSummary {
    pub events: i64,
    pub users: i64,
    pub bytes: u64,
}

fn summary(store: &Store, file: &Path) -> Result<BackupSummary, Error> {
    let events: i64 = store
        .conn()
        .query_row("SELECT count(*) FROM events", [], |r| r.get(0))
        .map_err(storage)?;
    Ok(BackupSummary {
        events,
        users: crate::directory::user_count(&store.conn())?,
        bytes: std::fs::metadata(file).map(|m| m.len()).unwrap_or(0),
    })
}

impl Store {
    /// Copies the database to `dest` (which must not exist yet), encrypted with `key`.
    pub fn backup_to(&self, dest: &Path, key: &DbKey) -> Result<BackupSummary, Error> {
        if dest.exists() {
            return Err(Error::File(format!("{} already exists", dest.display())));
        }
        let mut out = connect(dest, key)?;
        {
            let conn = self.conn();
            let b = Backup::new(&conn, &mut out).map_err(storage)?;
            b.run_to_completion(256, Duration::from_millis(0), None)
                .map_err(storage)?;
        }
        out.execute_batch("PRAGMA wal_checkpoint(TRUNCATE);")
            .map_err(storage)?;
        drop(out);
        let copy = Store::open(dest, key)?;
        copy.integrity_check()?;
        summary(&copy, dest)
    }

    /// Replaces the whole database with the backup at `src`, after checking it. On any error
    /// the live database is unchanged.
    pub fn restore_from(&self, src: &Path, key: &DbKey) -> Result<BackupSummary, Error> {
        if !src.exists() {
            return Err(Error::File(format!("{} does not exist", src.display())));
        }
        let copy = Store::open(src, key)?;
        copy.integrity_check()?;
        events::verify(&copy.conn())?;
        let s = summary(&copy, src)?;
        {
            let from = copy.conn();
            let mut to = self.conn();
            let b = Backup::new(&from, &mut to).map_err(storage)?;
            b.run_to_completion(256, Duration::from_millis(0), None)
                .map_err(storage)?;
            drop(b);
        }
        self.integrity_check()?;
        Ok(s)
    }
}
