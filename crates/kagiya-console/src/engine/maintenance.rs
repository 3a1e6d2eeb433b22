//! Looking after the database file: the full check (SQLite integrity, foreign keys, the audit
//! chain and the fold), backups and a supervisor's restore. Each leaves an audit entry.

use std::path::Path;

use kagiya_core::directory::authz::Denial;
use kagiya_core::event::EventKind;
use kagiya_core::operator::Role;
use kagiya_core::secret::Secret;
use kagiya_core::Error;
use kagiya_store::backup::BackupSummary;
use kagiya_store::{directory, events};
use serde::Serialize;

use super::acting::Acting;
use super::{ActorRef, Engine};

/// What `check` found.
#[derive(Debug, Clone, Serialize)]
pub struct CheckReport {
    pub integrity: bool,
    pub audit_entries: i64,
    pub audit_chain_intact: bool,
    pub fold_matches_tables: bool,
    pub users: i64,
}

impl CheckReport {
    pub fn ok(&self) -> bool {
        self.integrity && self.audit_chain_intact && self.fold_matches_tables
    }
}

impl Engine {
    /// Runs every check; problems are reported, not returned as errors.
    pub fn check(&self) -> Result<CheckReport, Error> {
        let conn = self.store.conn();
        let integrity = self.store.integrity_check().is_ok();
        let (entries, intact) = match events::verify(conn) {
            Ok(n) => (n, true),
            Err(Error::AuditChainBroken { seq }) => (seq - 1, false),
            Err(e) => return Err(e),
        };
        let fold = directory::rebuild_matches(conn).unwrap_or(false);
        Ok(CheckReport {
            integrity,
            audit_entries: entries,
            audit_chain_intact: intact,
            fold_matches_tables: fold,
            users: directory::user_count(conn)?,
        })
    }

    /// Writes an encrypted, checked copy of the database to `dest`.
    pub fn backup(&mut self, dest: &Path) -> Result<BackupSummary, Error> {
        let summary = self.store.backup_to(dest, &self.key)?;
        let ev = EventKind::DatabaseBackedUp {
            file: dest.display().to_string(),
            events: summary.events,
        };
        let (now, origin) = (self.now(), self.origin.clone());
        self.store
            .write(|tx| events::append_from(tx, now, None, Some(&origin), ev).map(|_| ()))?;
        Ok(summary)
    }

    /// A supervisor replaces the database with a checked backup (same key).
    pub fn restore(
        &mut self,
        who: &ActorRef,
        confirmation: &Secret,
        src: &Path,
    ) -> Result<BackupSummary, Error> {
        let acting = self.confirm(who, confirmation, "restore")?;
        if !matches!(
            acting,
            Acting::Operator {
                role: Role::Supervisor,
                ..
            }
        ) {
            return Err(Error::NotPermitted(Denial::SupervisorOnly));
        }
        let summary = self.store.restore_from(src, &self.key)?;
        let ev = EventKind::DatabaseRestored {
            file: src.display().to_string(),
            events: summary.events,
        };
        let (now, actor, origin) = (self.now(), acting.audit_name(), self.origin.clone());
        self.store.write(|tx| {
            events::append_from(tx, now, Some(&actor), Some(&origin), ev).map(|_| ())
        })?;
        Ok(summary)
    }
}
