//! The outbox table (`mail_outbox`, migration V4): rows are queued inside the transaction of the
//! event that owes them, and moved through their states by the worker with single statements, so
//! that what the database says is what happened.
//!
//! The guarantee (docs/mail.md): every queued mail is handed to the mail server at least once,
//! unless it is held (a certificate that cannot be used), refused for good, out of tries, or
//! expired first — each of which is recorded. A mail is handed over twice only when the worker
//! stops between the mail server's 250 and the commit of `sent` (a crash, a cut database
//! connection); the second copy has the same Message-ID and the same code or link.

use std::cell::Cell;

use kagiya_core::mail::{MailDue, MailKind};
use kagiya_core::secret::Secret;
use kagiya_core::{Error, Lang, Millis};
use kagiya_engine::MailOrder;
use sha2::{Digest, Sha256};

use super::seal::OutboxKey;
use crate::db::Tx;
use crate::store::storage;

/// What the port needs to queue mail: the key that seals codes and links (none when the server
/// has no mail configured) and the language of mails no request chose.
#[derive(Debug, Clone)]
pub struct MailQueue {
    pub key: Option<std::sync::Arc<OutboxKey>>,
    pub lang: Lang,
}

impl Default for MailQueue {
    fn default() -> Self {
        MailQueue {
            key: None,
            lang: Lang::Ja,
        }
    }
}

/// The entry a mail was owed by.
pub type EventRef<'a> = Option<(&'a str, i64)>;

/// What seals a row's secret to it: its kind, user and recipient.
pub fn context(kind: MailKind, login_id: &str, recipient: &str) -> String {
    format!(
        "{}|{}|{}",
        kind.code(),
        login_id.to_lowercase(),
        recipient.to_lowercase()
    )
}

/// The SHA-256 (hex) by which a link's row is found.
pub fn link_digest(secret: &Secret) -> String {
    hex::encode(Sha256::digest(secret.expose().as_bytes()))
}

/// One row to insert.
struct Row<'a> {
    kind: MailKind,
    login_id: &'a str,
    to: &'a str,
    lang: Lang,
    sealed: Option<Vec<u8>>,
    link: Option<String>,
    expires: Option<Millis>,
    detail: Option<&'a str>,
    encrypt_cert: Option<&'a str>,
}

async fn insert(
    tx: &Tx<'_>,
    retry: &Cell<bool>,
    at: Millis,
    event: EventRef<'_>,
    r: Row<'_>,
) -> Result<(), Error> {
    let (chain, seq) = match event {
        Some((c, s)) => (Some(c), Some(s)),
        None => (None, None),
    };
    crate::db::execute(
        tx,
        "INSERT INTO mail_outbox (created_ms, kind, login_id, recipient, lang, event_chain, \
         event_seq, secret_sealed, link_sha256, expires_ms, detail, encrypt_cert, next_ms) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $1)",
        &[
            &at,
            &r.kind.code(),
            &r.login_id,
            &r.to,
            &r.lang.code(),
            &chain,
            &seq,
            &r.sealed,
            &r.link,
            &r.expires,
            &r.detail,
            &r.encrypt_cert,
        ],
    )
    .await
    .map_err(|e| storage(e, Some(retry)))?;
    Ok(())
}

/// Queues the engine's order (a code, a reply), sealing what it carries.
pub async fn queue_order(
    tx: &Tx<'_>,
    retry: &Cell<bool>,
    q: &MailQueue,
    at: Millis,
    event: EventRef<'_>,
    o: &MailOrder,
) -> Result<(), Error> {
    let (sealed, link) = match &o.secret {
        Some(secret) => {
            let key = q.key.as_ref().ok_or(Error::MailUnavailable)?;
            // A new code or link voids the one before: a mail still waiting with the old one
            // would only mislead, so it goes no further.
            crate::db::execute(
                tx,
                "UPDATE mail_outbox SET state = 'expired', secret_sealed = NULL, \
                 last_error = 'replaced by a newer one' WHERE state = 'queued' AND kind = $1 \
                 AND lower(login_id) = lower($2) AND lower(recipient) = lower($3) \
                 AND secret_sealed IS NOT NULL",
                &[&o.kind.code(), &o.login_id, &o.to],
            )
            .await
            .map_err(|e| storage(e, Some(retry)))?;
            let sealed = key.seal(secret, &context(o.kind, &o.login_id, &o.to))?;
            let link = o
                .kind
                .secret()
                .filter(|p| p.is_link())
                .map(|_| link_digest(secret));
            (Some(sealed), link)
        }
        None => (None, None),
    };
    insert(
        tx,
        retry,
        at,
        event,
        Row {
            kind: o.kind,
            login_id: &o.login_id,
            to: &o.to,
            lang: o.lang.unwrap_or(q.lang),
            sealed,
            link,
            expires: o.expires_at,
            detail: o.detail.as_deref(),
            encrypt_cert: None,
        },
    )
    .await
}

/// Queues the mails an appended entry owes (`kagiya_core::mail::owed`); a link they carry is made
/// by the worker when it sends them.
pub async fn queue_owed(
    tx: &Tx<'_>,
    retry: &Cell<bool>,
    q: &MailQueue,
    at: Millis,
    event: EventRef<'_>,
    owed: &[MailDue],
) -> Result<(), Error> {
    for d in owed {
        insert(
            tx,
            retry,
            at,
            event,
            Row {
                kind: d.kind,
                login_id: &d.login_id,
                to: &d.to,
                lang: q.lang,
                sealed: None,
                link: None,
                expires: None,
                detail: None,
                encrypt_cert: d.encrypt_to.as_deref(),
            },
        )
        .await?;
    }
    Ok(())
}
