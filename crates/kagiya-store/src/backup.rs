//! Backups and restores of the whole database with SQLite's online backup API: a backup is a
//! consistent copy taken while the app runs, encrypted with the same key; a restore first checks
//! the copy (opens with the key, integrity check, intact audit chain) and only then replaces the
//! live data, in one step.

use std::path::Path;

use kagiya_core::event::EventKind;
use kagiya_core::{Error, Millis};
use rusqlite::Connection;

use crate::db::{beside, copy_into_place, remove_with_journal, run_backup, storage};
use crate::key::DbKey;
use crate::{events, Store};

/// How a backup's log relates to the live one, decided before a restore.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RestorePlan {
    pub backup_head_seq: i64,
    /// The live log's head (seq, hash) that the restore replaces.
    pub replaced_head: Option<(i64, String)>,
    /// Live entries the restore drops.
    pub discarded: i64,
    /// The backup's log is the beginning of the live one.
    pub prefix: bool,
}

/// What a finished backup or restore holds.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct BackupSummary {
    pub events: i64,
    pub users: i64,
    pub bytes: u64,
}

fn summary(conn: &Connection, file: &Path) -> Result<BackupSummary, Error> {
    let events: i64 = conn
        .query_row("SELECT count(*) FROM events", [], |r| r.get(0))
        .map_err(storage)?;
    Ok(BackupSummary {
        events,
        users: crate::directory::user_count(conn)?,
        bytes: std::fs::metadata(file).map(|m| m.len()).unwrap_or(0),
    })
}

impl Store {
    /// Copies the database to `dest` (which must not exist yet), encrypted with `key`. The copy
    /// is written as `<dest>.part`, checked, and only then renamed to `dest` (issue 12, low): a
    /// backup cut short by a crash or a full disk never carries the final name.
    pub fn backup_to(&self, dest: &Path, key: &DbKey) -> Result<BackupSummary, Error> {
        if dest.exists() {
            return Err(Error::File(format!("{} already exists", dest.display())));
        }
        copy_into_place(
            dest,
            key,
            // The live database is held only while its pages are copied.
            |out| run_backup(&self.conn(), out),
            summary,
        )
    }

    /// Replaces the whole database with the backup at `src`, after checking it. The backup is
    /// read from a private copy (the file given is never changed); `record` is told how the
    /// backup's log relates to the live one and returns the entry that records the restore,
    /// which is appended to the copy before the copy replaces the live data — so the
    /// replacement and its record land together. On any error the live database is unchanged.
    pub fn restore_from(
        &self,
        src: &Path,
        key: &DbKey,
        record: impl FnOnce(
            &RestorePlan,
        )
            -> Result<(Millis, Option<String>, Option<String>, EventKind), Error>,
    ) -> Result<BackupSummary, Error> {
        if !src.exists() {
            return Err(Error::File(format!("{} does not exist", src.display())));
        }
        let mut nonce = [0u8; 8];
        kagiya_core::random::fill(&mut nonce);
        let tmp = beside(self.path(), &format!(".restore-{}", hex::encode(nonce)));
        std::fs::copy(src, &tmp).map_err(|e| Error::File(e.to_string()))?;
        let result = self.restore_through(&tmp, key, record);
        remove_with_journal(&tmp);
        result
    }

    fn restore_through(
        &self,
        tmp: &Path,
        key: &DbKey,
        record: impl FnOnce(
            &RestorePlan,
        )
            -> Result<(Millis, Option<String>, Option<String>, EventKind), Error>,
    ) -> Result<BackupSummary, Error> {
        let copy = Store::open_scratch(tmp, key)?;
        copy.integrity_check()?;
        events::verify(&copy.conn())?;
        let backup_head = events::head(&copy.conn())?;
        let live_head = events::head(&self.conn())?;
        let live_count = live_head.as_ref().map_or(0, |h| h.0);
        // A prefix: the live log holds the backup's head entry with the same hash.
        let prefix = match &backup_head {
            None => true,
            Some((seq, hash)) => events::hash_at(&self.conn(), *seq)?.as_deref() == Some(hash),
        };
        let plan = RestorePlan {
            backup_head_seq: backup_head.as_ref().map_or(0, |h| h.0),
            replaced_head: live_head,
            discarded: if prefix {
                live_count - backup_head.as_ref().map_or(0, |h| h.0)
            } else {
                live_count
            },
            prefix,
        };
        let (at, actor, origin, ev) = record(&plan)?;
        copy.write(|tx| {
            events::append_from(tx, at, actor.as_deref(), origin.as_deref(), ev).map(|_| ())
        })?;
        copy.conn()
            .execute_batch("PRAGMA wal_checkpoint(TRUNCATE);")
            .map_err(storage)?;
        let s = summary(&copy.conn(), tmp)?;
        run_backup(&copy.conn(), &mut self.conn())?;
        self.integrity_check()?;
        Ok(s)
    }
}
