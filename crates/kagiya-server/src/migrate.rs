//! The versioned schema (`migrations/Vn__name.sql`, embedded). All pending steps run in one
//! transaction under a transaction-level advisory lock, so several server processes starting at
//! once upgrade the schema exactly once (the others wait and find it done), and a step that fails
//! leaves nothing behind. (refinery's tokio-postgres driver takes no lock and commits step by step,
//! which is why this is ours.) A database already ahead of this program is refused, not touched.

use deadpool_postgres::GenericClient;
use deadpool_postgres::Pool;

use crate::db::message as db;

/// One step of the schema.
pub struct Step {
    pub version: i32,
    pub name: &'static str,
    pub sql: &'static str,
}

/// Every step, in order; never edit a released step, add a new one.
pub const STEPS: &[Step] = &[
    Step {
        version: 1,
        name: "directory_chains_sessions",
        sql: include_str!("../migrations/V1__directory_chains_sessions.sql"),
    },
    Step {
        version: 2,
        name: "sign_in_sessions_countries",
        sql: include_str!("../migrations/V2__sign_in_sessions_countries.sql"),
    },
    Step {
        version: 3,
        name: "sync_devices_ops",
        sql: include_str!("../migrations/V3__sync_devices_ops.sql"),
    },
    Step {
        version: 4,
        name: "mail_outbox",
        sql: include_str!("../migrations/V4__mail_outbox.sql"),
    },
];

/// The version this program runs on.
pub fn latest() -> i32 {
    STEPS.last().map_or(0, |s| s.version)
}

/// A number no other advisory lock of ours uses ("kagiya" in ASCII).
const LOCK_KEY: i64 = 0x6b61_6769_7961;

/// What `run` did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Report {
    pub from: i32,
    pub to: i32,
    pub applied: Vec<i32>,
}

/// Brings the schema up to date.
pub async fn run(pool: &Pool) -> Result<Report, String> {
    let mut client = pool.get().await.map_err(|e| format!("database: {e}"))?;
    let tx = client.transaction().await.map_err(db)?;
    tx.execute("SELECT pg_advisory_xact_lock($1)", &[&LOCK_KEY])
        .await
        .map_err(db)?;
    tx.batch_execute(
        "CREATE TABLE IF NOT EXISTS schema_migrations (
             version    integer PRIMARY KEY,
             name       text NOT NULL,
             applied_at timestamptz NOT NULL DEFAULT now())",
    )
    .await
    .map_err(db)?;
    let from = version(&tx).await?;
    if from > latest() {
        return Err(format!(
            "the database's schema (version {from}) is newer than this program's ({})",
            latest()
        ));
    }
    let mut applied = Vec::new();
    for step in STEPS.iter().filter(|s| s.version > from) {
        tx.batch_execute(step.sql)
            .await
            .map_err(|e| format!("migration V{}__{}: {}", step.version, step.name, db(e)))?;
        tx.execute(
            "INSERT INTO schema_migrations (version, name) VALUES ($1, $2)",
            &[&step.version, &step.name],
        )
        .await
        .map_err(db)?;
        applied.push(step.version);
    }
    tx.commit().await.map_err(db)?;
    Ok(Report {
        from,
        to: latest(),
        applied,
    })
}

/// The schema version the database is at (0 before the first migration).
pub async fn current(pool: &Pool) -> Result<i32, String> {
    let client = pool.get().await.map_err(|e| format!("database: {e}"))?;
    let exists: bool = client
        .query_one("SELECT to_regclass('schema_migrations') IS NOT NULL", &[])
        .await
        .map_err(db)?
        .get(0);
    if !exists {
        return Ok(0);
    }
    version(&client).await
}

/// The newest step recorded in `schema_migrations`.
async fn version(c: &impl GenericClient) -> Result<i32, String> {
    Ok(c.query_one(
        "SELECT coalesce(max(version), 0) FROM schema_migrations",
        &[],
    )
    .await
    .map_err(db)?
    .get(0))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn steps_are_numbered_one_by_one() {
        for (i, s) in STEPS.iter().enumerate() {
            assert_eq!(s.version, i as i32 + 1, "{}", s.name);
        }
    }
}
