//! Sign-in sessions: an opaque token of 32 bytes from the OS CSPRNG, handed to the client once and
//! kept only as its SHA-256. A session has a stage — the one-time code still owed, a password
//! that must change first, or complete — an idle limit and an absolute end. It also ends the
//! moment its user is suspended, locked or given a new password (checked on every use against
//! the user as the engine sees them, so a change made anywhere — another process, a branch —
//! ends it without a list of sessions to chase).

use base64::Engine as _;
use deadpool_postgres::Pool;
use kagiya_core::directory::ids::fold;
use kagiya_core::directory::{CredentialKind, Tenant, User, UserStatus};
use kagiya_core::{Error, Millis, MINUTE};
use sha2::{Digest, Sha256};

use crate::config::SessionConfig;

/// How far a sign-in has gone.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Stage {
    /// The password was right; the one-time code sent to the user must come back.
    Code,
    /// Signed in, but a password must be changed before anything else (seed 004 §2.4/§2.5).
    Change,
    /// Signed in.
    Full,
}

impl Stage {
    fn code(self) -> &'static str {
        match self {
            Stage::Code => "code",
            Stage::Change => "change",
            Stage::Full => "full",
        }
    }

    fn parse(s: &str) -> Stage {
        match s {
            "code" => Stage::Code,
            "change" => Stage::Change,
            _ => Stage::Full,
        }
    }
}

/// A session found by its token.
#[derive(Debug, Clone)]
pub struct Session {
    pub token_hash: String,
    pub login_id: String,
    pub stage: Stage,
    pub created_ms: Millis,
    pub expires_ms: Millis,
}

/// The SHA-256 a session's token is kept as.
pub fn token_hash(token: &str) -> String {
    hex::encode(Sha256::digest(token.as_bytes()))
}

/// A statement that failed.
fn stored(e: tokio_postgres::Error) -> Error {
    Error::Storage(crate::db::message(e))
}

fn db(e: impl std::fmt::Display) -> Error {
    Error::DatabaseUnavailable(format!("database: {e}"))
}

/// A new session of `user` at `stage`; returns the token (the only time it exists in clear).
pub async fn create(
    pool: &Pool,
    user: &User,
    stage: Stage,
    now: Millis,
    c: &SessionConfig,
) -> Result<(String, Millis), Error> {
    let mut raw = [0u8; 32];
    kagiya_core::random::fill(&mut raw);
    let token = base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(raw);
    let expires = now + i64::from(c.max_hours) * 60 * MINUTE;
    let client = pool.get().await.map_err(db)?;
    client
        .execute(
            "INSERT INTO sessions (token_hash, login_key, contract_key, created_ms, expires_ms, \
             last_seen_ms, stage) VALUES ($1, $2, $3, $4, $5, $4, $6)",
            &[
                &token_hash(&token),
                &fold(&user.login_id),
                &fold(&user.contract_no),
                &now,
                &expires,
                &stage.code(),
            ],
        )
        .await
        .map_err(stored)?;
    Ok((token, expires))
}

/// The live session of `token` at `now` (touched: its idle time starts again), or none when it
/// is unknown, revoked, past its end or idle too long.
pub async fn find(
    pool: &Pool,
    token: &str,
    now: Millis,
    c: &SessionConfig,
) -> Result<Option<Session>, Error> {
    let idle = i64::from(c.idle_minutes) * MINUTE;
    let client = pool.get().await.map_err(db)?;
    let row = client
        .query_opt(
            "UPDATE sessions SET last_seen_ms = $2 WHERE token_hash = $1 AND revoked_ms IS NULL \
             AND expires_ms > $2 AND last_seen_ms > $2 - $3 \
             RETURNING token_hash, (SELECT doc->>'login_id' FROM users u \
                                    WHERE u.login_key = sessions.login_key), \
                       stage, created_ms, expires_ms",
            &[&token_hash(token), &now, &idle],
        )
        .await
        .map_err(stored)?;
    Ok(row.and_then(|r| {
        Some(Session {
            token_hash: r.get(0),
            login_id: r.get::<_, Option<String>>(1)?,
            stage: Stage::parse(r.get(2)),
            created_ms: r.get(3),
            expires_ms: r.get(4),
        })
    }))
}

/// Whether `user` may still use a session made at `created_ms`: active, their login password
/// not locked, and no password of theirs set since.
pub fn still_valid(user: &User, tenant: &Tenant, created_ms: Millis, now: Millis) -> bool {
    user.status == UserStatus::Active
        && !user
            .credential_state(tenant, CredentialKind::Login, now)
            .is_locked()
        && tenant
            .credentials()
            .iter()
            .all(|k| user.credential(*k).set_at <= created_ms)
}

/// Ends one session (sign-out, or a sign-in step done: the next step gets a new token).
pub async fn revoke(pool: &Pool, token_hash: &str, now: Millis) -> Result<(), Error> {
    let client = pool.get().await.map_err(db)?;
    client
        .execute(
            "UPDATE sessions SET revoked_ms = $2 WHERE token_hash = $1 AND revoked_ms IS NULL",
            &[&token_hash, &now],
        )
        .await
        .map_err(stored)?;
    Ok(())
}

/// Ends every session of `login_id` (after their own password change).
pub async fn revoke_all(pool: &Pool, login_id: &str, now: Millis) -> Result<u64, Error> {
    let client = pool.get().await.map_err(db)?;
    client
        .execute(
            "UPDATE sessions SET revoked_ms = $2 WHERE login_key = $1 AND revoked_ms IS NULL",
            &[&fold(login_id), &now],
        )
        .await
        .map_err(stored)
}

/// Deletes sessions that ended more than a day ago (the maintenance task calls it).
pub async fn purge(pool: &Pool, now: Millis) -> Result<u64, Error> {
    let client = pool.get().await.map_err(db)?;
    client
        .execute(
            "DELETE FROM sessions WHERE expires_ms < $1 OR revoked_ms < $1",
            &[&(now - 24 * 60 * MINUTE)],
        )
        .await
        .map_err(stored)
}
