//! Mail on the central server (issue 15, docs/mail.md): the durable outbox the engine's writes
//! queue into (`outbox`), the key that seals the codes and links waiting there (`seal`), the
//! worker that delivers them over SMTP, signed and where asked encrypted (`worker`), and the
//! listener for seed 001's registration by signed mail (`inbox`).

pub mod inbox;
pub mod outbox;
pub mod seal;
pub mod worker;

use std::sync::Arc;

/// Starts the delivery worker and, when configured, the registration listener (whose address is
/// returned). Without `[mail]` nothing starts: the outbox keeps the mails.
pub fn start(
    state: &crate::http::AppState,
    config: &crate::config::Config,
) -> Result<Option<std::net::SocketAddr>, String> {
    let (Some(mailer), Some(m)) = (&state.mailer, &config.mail) else {
        tracing::warn!(
            "no [mail] configured: mails wait in the outbox, and requests whose mail carries a \
             code are refused"
        );
        return Ok(None);
    };
    worker::spawn(state.clone(), mailer.clone());
    tracing::info!("mail delivery on");
    let Some(reg) = &m.registration else {
        return Ok(None);
    };
    let listener = inbox::bind(reg.listen)?;
    let addr = listener
        .local_addr()
        .map_err(|e| format!("registration listener: {e}"))?;
    let crls = mailer.clone();
    let revoked: inbox::Revoked = Arc::new(move |der: &[u8]| crls.revoked(der));
    inbox::spawn(state.engine.clone(), revoked, reg, m.language, listener)?;
    tracing::info!(listen = %addr, address = %reg.address, "registration mail listener");
    Ok(Some(addr))
}

/// The mails of the outbox in `state` (`queued`, `sent`, `held`, `dead`, `expired`), newest
/// first, at most `limit`: what operators look at (`kagiya-server mail list`).
pub async fn list(
    pool: &deadpool_postgres::Pool,
    state: &str,
    limit: i64,
) -> Result<Vec<Listed>, String> {
    let client = pool.get().await.map_err(|e| format!("database: {e}"))?;
    let rows = client
        .query(
            "SELECT id, created_ms, kind, login_id, recipient, state, attempts, last_error, \
             reported FROM mail_outbox WHERE state = $1 ORDER BY id DESC LIMIT $2",
            &[&state, &limit],
        )
        .await
        .map_err(crate::db::message)?;
    Ok(rows
        .iter()
        .map(|r| Listed {
            id: r.get(0),
            created_ms: r.get(1),
            kind: r.get(2),
            login_id: r.get(3),
            recipient: r.get(4),
            state: r.get(5),
            attempts: r.get(6),
            last_error: r.get(7),
            reported: r.get(8),
        })
        .collect())
}

/// Puts a dead or held mail back in the queue (an operator's `kagiya-server mail retry ID`, e.g.
/// after the address's certificate was renewed or the mail server mended). A mail whose code or
/// link was made with its request cannot come back: that secret was erased when it ended, and
/// the user asks again instead.
pub async fn retry(pool: &deadpool_postgres::Pool, id: i64, now: i64) -> Result<(), String> {
    let client = pool.get().await.map_err(|e| format!("database: {e}"))?;
    let row = client
        .query_opt("SELECT kind, state FROM mail_outbox WHERE id = $1", &[&id])
        .await
        .map_err(crate::db::message)?
        .ok_or_else(|| format!("no mail {id}"))?;
    let (kind, state): (String, String) = (row.get(0), row.get(1));
    if state != "dead" && state != "held" {
        return Err(format!(
            "mail {id} is {state}: only dead or held mails are retried"
        ));
    }
    let made_with_request = kagiya_core::mail::MailKind::parse(&kind).is_some_and(|k| {
        matches!(
            k,
            kagiya_core::mail::MailKind::SignInCode
                | kagiya_core::mail::MailKind::EnrollmentCode
                | kagiya_core::mail::MailKind::PasswordReset
        )
    });
    if made_with_request {
        return Err(format!(
            "mail {id} ({kind}) carried a code or link that is gone; the user asks for a new one"
        ));
    }
    client
        .execute(
            "UPDATE mail_outbox SET state = 'queued', attempts = 0, next_ms = $2, \
             last_error = NULL, link_sha256 = NULL, expires_ms = NULL WHERE id = $1",
            &[&id, &now],
        )
        .await
        .map_err(crate::db::message)?;
    Ok(())
}

/// One row as listed.
#[derive(Debug, Clone, serde::Serialize)]
pub struct Listed {
    pub id: i64,
    pub created_ms: i64,
    pub kind: String,
    pub login_id: String,
    pub recipient: String,
    pub state: String,
    pub attempts: i32,
    pub last_error: Option<String>,
    pub reported: bool,
}
