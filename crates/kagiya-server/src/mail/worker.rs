//! The delivery worker: takes the mails that are due from the outbox (leasing each row, so that
//! several server processes never send one mail at once and a worker that dies leaves its rows
//! to be tried again), writes each one — the link it needs made first, signed, encrypted to an
//! address that asks for it — and hands it to the bank's mail server. Every outcome is one
//! statement on the row; the mails that cannot be delivered are also recorded as
//! `mail_undelivered` entries in the customer's chain, which the branch receives by sync.

use std::sync::Arc;
use std::time::Duration;

use kagiya_core::directory::addresses::find;
use kagiya_core::mail::{MailKind, Undelivered};
use kagiya_core::secret::Secret;
use kagiya_core::{Error, Lang, Millis};
use kagiya_mail::{
    compose, letter, recipient, Envelope, Facts, Mailbox, Protection, Revocations, SendError,
    Signer, Smtp, SmtpSettings,
};

use super::outbox::{context, link_digest, MailQueue};
use super::seal::OutboxKey;
use crate::config::MailConfig;
use crate::http::AppState;

/// How many rows one round takes (ours: enough to keep a pooled SMTP connection busy; small
/// enough that a lease never covers more than a few seconds of work).
pub const BATCH: i64 = 32;

/// Mails handed over at once within a round (lettre's pool holds up to 10 connections).
pub const PARALLEL: usize = 8;

/// Everything the worker needs, read from the configuration at start.
pub struct Mailer {
    smtp: Smtp,
    signer: Signer,
    from: Mailbox,
    reply_to: Option<Mailbox>,
    domain: String,
    link_base: String,
    service: String,
    contact: Option<String>,
    crls: Revocations,
    key: Arc<OutboxKey>,
    poll: Duration,
    lease_ms: Millis,
    retry_ms: Millis,
    max_attempts: i32,
}

impl Mailer {
    /// The mailer and the queue settings the port uses, from `[mail]`; refuses what cannot work
    /// (no signing certificate, an unreadable key, a sender that is no address).
    pub fn from_config(c: &MailConfig) -> Result<(Mailer, MailQueue), String> {
        let key = Arc::new(OutboxKey::load(&c.outbox_key_file)?);
        let from: Mailbox = c
            .from
            .parse()
            .map_err(|e| format!("mail.from {:?}: {e}", c.from))?;
        let reply_to = match &c.reply_to {
            Some(r) => Some(r.parse().map_err(|e| format!("mail.reply_to {r:?}: {e}"))?),
            None => None,
        };
        let password = match &c.smtp_password_file {
            Some(p) => Some(Secret::new(
                std::fs::read_to_string(p)
                    .map_err(|e| format!("{}: {e}", p.display()))?
                    .trim_end_matches(['\r', '\n']),
            )),
            None => None,
        };
        let smtp = Smtp::new(&SmtpSettings {
            host: c.smtp_host.clone(),
            port: c.smtp_port,
            security: c.smtp_security,
            user: c.smtp_user.clone(),
            password,
            ca_file: c.smtp_ca_file.clone(),
            timeout: Duration::from_secs(c.smtp_timeout_seconds),
        })
        .map_err(|e| e.to_string())?;
        let signer = Signer::load(
            c.signing_cert.as_deref(),
            c.signing_key.as_deref(),
            c.signing_p12.as_deref(),
            c.signing_p12_password_file.as_deref(),
        )
        .map_err(|e| e.to_string())?;
        let crls = Revocations::load(&c.crl_files).map_err(|e| e.to_string())?;
        let domain = from.email.domain().to_owned();
        let queue = MailQueue {
            key: Some(key.clone()),
            lang: c.language,
        };
        Ok((
            Mailer {
                smtp,
                signer,
                from,
                reply_to,
                domain,
                link_base: c.link_base.trim_end_matches('/').to_owned(),
                service: c.service_name.clone(),
                contact: c.contact.clone(),
                crls,
                key,
                poll: Duration::from_millis(c.poll_ms),
                // Longer than the slowest hand-over the time limit allows, with room for making
                // the mail.
                lease_ms: c.lease_seconds.unwrap_or(c.smtp_timeout_seconds * 2) as Millis * 1000,
                retry_ms: c.retry_ms.min(3_600_000) as Millis,
                max_attempts: c.max_attempts.min(i32::MAX as u32) as i32,
            },
            queue,
        ))
    }
}

/// Delivers until the process ends.
pub fn spawn(state: AppState, mailer: Arc<Mailer>) -> tokio::task::JoinHandle<()> {
    tokio::spawn(async move {
        loop {
            match round(&state, &mailer).await {
                // A full round: there may be more at once.
                Ok(n) if n as i64 >= BATCH => continue,
                Ok(_) => {}
                Err(e) => tracing::warn!(error = %e, "mail round failed; trying again"),
            }
            tokio::time::sleep(mailer.poll).await;
        }
    })
}

/// A row taken for delivery.
struct Taken {
    id: i64,
    created_ms: Millis,
    kind: MailKind,
    login_id: String,
    recipient: String,
    lang: Lang,
    event: Option<(String, i64)>,
    sealed: Option<Vec<u8>>,
    expires_ms: Option<Millis>,
    detail: Option<String>,
    attempts: i32,
}

/// One round: takes what is due and delivers it. Returns how many rows it took.
pub async fn round(state: &AppState, mailer: &Arc<Mailer>) -> Result<usize, Error> {
    let now = state.engine.now();
    let client = state
        .pool
        .get()
        .await
        .map_err(|e| Error::DatabaseUnavailable(e.to_string()))?;
    let rows = client
        .query(
            "UPDATE mail_outbox SET next_ms = $1 + $3, attempts = attempts + 1 \
             WHERE id IN (SELECT id FROM mail_outbox WHERE state = 'queued' AND next_ms <= $1 \
                          ORDER BY next_ms, id LIMIT $2 FOR UPDATE SKIP LOCKED) \
             RETURNING id, created_ms, kind, login_id, recipient, lang, event_chain, event_seq, \
                       secret_sealed, expires_ms, detail, attempts",
            &[&now, &BATCH, &mailer.lease_ms],
        )
        .await
        .map_err(|e| Error::Storage(crate::db::message(e)))?;
    drop(client);
    let mut taken = Vec::new();
    for r in rows {
        let kind: String = r.get(2);
        let lang: String = r.get(5);
        let chain: Option<String> = r.get(6);
        let seq: Option<i64> = r.get(7);
        taken.push(Taken {
            id: r.get(0),
            created_ms: r.get(1),
            kind: MailKind::parse(&kind)
                .ok_or_else(|| Error::Storage(format!("outbox: unknown kind {kind}")))?,
            login_id: r.get(3),
            recipient: r.get(4),
            lang: Lang::parse(&lang).unwrap_or(Lang::Ja),
            event: chain.zip(seq),
            sealed: r.get(8),
            expires_ms: r.get(9),
            detail: r.get(10),
            attempts: r.get(11),
        });
    }
    let n = taken.len();
    let mut set = tokio::task::JoinSet::new();
    for t in taken {
        while set.len() >= PARALLEL {
            set.join_next().await;
        }
        let (state, mailer) = (state.clone(), mailer.clone());
        set.spawn(async move {
            let id = t.id;
            if let Err(e) = deliver(&state, &mailer, t).await {
                // The lease runs out and the row is tried again.
                tracing::warn!(mail = id, error = %e, "mail not delivered this round");
            }
        });
    }
    while set.join_next().await.is_some() {}
    Ok(n)
}

/// How a row ends, or when it is tried next.
enum Outcome {
    Sent,
    /// Tried again at the time given.
    Later(String, Millis),
    Dead(Undelivered, String),
    Held(String),
    Expired(String),
}

async fn deliver(state: &AppState, mailer: &Mailer, t: Taken) -> Result<(), Error> {
    let now = state.engine.now();
    let outcome = match prepare(state, mailer, &t, now).await? {
        Err(outcome) => outcome,
        Ok(bytes) => {
            let started = std::time::Instant::now();
            let r = mailer
                .smtp
                .send(mailer.from.email.as_ref(), &t.recipient, &bytes)
                .await;
            state
                .metrics
                .outcomes
                .with_label_values(&["mail", if r.is_ok() { "ok" } else { "mail.failed" }])
                .inc();
            tracing::debug!(
                mail = t.id,
                ms = started.elapsed().as_millis() as u64,
                "handed over"
            );
            match r {
                Ok(()) => Outcome::Sent,
                Err(SendError::Permanent(why)) => Outcome::Dead(Undelivered::Refused, why),
                Err(SendError::Temporary(why)) if t.attempts >= mailer.max_attempts => {
                    Outcome::Dead(Undelivered::GaveUp, why)
                }
                Err(SendError::Temporary(why)) => {
                    Outcome::Later(why, now + backoff(mailer.retry_ms, t.attempts))
                }
            }
        }
    };
    settle(state, &t, outcome, now).await
}

/// Writes the row's outcome; an undeliverable mail is also recorded for the branch.
async fn settle(state: &AppState, t: &Taken, outcome: Outcome, now: Millis) -> Result<(), Error> {
    let client = state
        .pool
        .get()
        .await
        .map_err(|e| Error::DatabaseUnavailable(e.to_string()))?;
    let db = |e| Error::Storage(crate::db::message(e));
    let report = match &outcome {
        Outcome::Sent => {
            client
                .execute(
                    "UPDATE mail_outbox SET state = 'sent', sent_ms = $2, secret_sealed = NULL, \
                     last_error = NULL WHERE id = $1",
                    &[&t.id, &now],
                )
                .await
                .map_err(db)?;
            tracing::info!(mail = t.id, kind = t.kind.code(), "mail sent");
            None
        }
        Outcome::Later(why, next) => {
            client
                .execute(
                    "UPDATE mail_outbox SET next_ms = $2, last_error = $3 WHERE id = $1",
                    &[&t.id, &next, &why],
                )
                .await
                .map_err(db)?;
            tracing::info!(mail = t.id, attempts = t.attempts, error = %why, "mail deferred");
            None
        }
        Outcome::Dead(reason, why) => {
            finish(&client, t.id, "dead", why).await?;
            tracing::warn!(mail = t.id, error = %why, "mail undeliverable");
            Some(*reason)
        }
        Outcome::Held(why) => {
            finish(&client, t.id, "held", why).await?;
            tracing::warn!(mail = t.id, error = %why, "mail held: not sent in clear");
            Some(Undelivered::CertificateUnusable)
        }
        Outcome::Expired(why) => {
            finish(&client, t.id, "expired", why).await?;
            None
        }
    };
    drop(client);
    if let Some(reason) = report {
        let (login_id, address, kind) = (t.login_id.clone(), t.recipient.clone(), t.kind);
        let recorded = crate::api::run(state, move |e| {
            e.record_mail_undelivered(&login_id, &address, kind, reason)
        })
        .await;
        match recorded {
            Ok(()) => {
                let client = state
                    .pool
                    .get()
                    .await
                    .map_err(|e| Error::DatabaseUnavailable(e.to_string()))?;
                client
                    .execute(
                        "UPDATE mail_outbox SET reported = true WHERE id = $1",
                        &[&t.id],
                    )
                    .await
                    .map_err(db)?;
            }
            // A user deleted meanwhile has no chain entry to tell; the row says it all.
            Err(e) => tracing::warn!(mail = t.id, error = %e, "undelivered mail not recorded"),
        }
    }
    Ok(())
}

async fn finish(
    client: &deadpool_postgres::Object,
    id: i64,
    state: &str,
    why: &str,
) -> Result<(), Error> {
    client
        .execute(
            "UPDATE mail_outbox SET state = $2, secret_sealed = NULL, last_error = $3 WHERE id = $1",
            &[&id, &state, &why],
        )
        .await
        .map_err(|e| Error::Storage(crate::db::message(e)))?;
    Ok(())
}

/// The wait before try `attempts + 1`: `first`, doubling with each try, at most an hour.
pub fn backoff(first: Millis, attempts: i32) -> Millis {
    let step = attempts.clamp(1, 16) - 1;
    first.saturating_mul(1 << step).min(3_600_000)
}

/// The mail's bytes, or why it is not sent now.
async fn prepare(
    state: &AppState,
    mailer: &Mailer,
    t: &Taken,
    now: Millis,
) -> Result<Result<Vec<u8>, Outcome>, Error> {
    if t.expires_ms.is_some_and(|e| e <= now) {
        return Ok(Err(Outcome::Expired(
            "what it carried expired before it could be sent".into(),
        )));
    }
    let ctx = context(t.kind, &t.login_id, &t.recipient);
    // The code or link: sealed with the row, or — for a link an event owes — made now.
    let (secret, expires) = match (&t.sealed, t.kind.secret()) {
        (Some(sealed), _) => (Some(mailer.key.open(sealed, &ctx)?), t.expires_ms),
        (None, Some(p)) if p.is_link() => {
            let (kind, login_id, address) = (t.kind, t.login_id.clone(), t.recipient.clone());
            match crate::api::run(state, move |e| e.issue_mail_link(kind, &login_id, &address))
                .await
            {
                Ok(issued) => {
                    let sealed = mailer.key.seal(&issued.secret, &ctx)?;
                    let client = state
                        .pool
                        .get()
                        .await
                        .map_err(|e| Error::DatabaseUnavailable(e.to_string()))?;
                    client
                        .execute(
                            "UPDATE mail_outbox SET secret_sealed = $2, link_sha256 = $3, \
                             expires_ms = $4 WHERE id = $1",
                            &[
                                &t.id,
                                &sealed,
                                &link_digest(&issued.secret),
                                &issued.expires_at,
                            ],
                        )
                        .await
                        .map_err(|e| Error::Storage(crate::db::message(e)))?;
                    (Some(issued.secret), Some(issued.expires_at))
                }
                // The change it was for is gone (the address deleted, the change confirmed at
                // the branch): nothing to send.
                Err(e) => {
                    return Ok(Err(Outcome::Expired(format!(
                        "no link to send: {}",
                        e.code()
                    ))))
                }
            }
        }
        (None, Some(_)) => {
            return Ok(Err(Outcome::Dead(
                Undelivered::GaveUp,
                "a code mail without its code".into(),
            )))
        }
        (None, None) => (None, None),
    };
    let login_id = t.login_id.clone();
    let (user, addresses) = crate::api::run(state, move |e| {
        e.read(|r| {
            Ok((
                r.user(&login_id)?,
                r.addresses(&login_id).unwrap_or_default(),
            ))
        })
    })
    .await?;
    let entry = find(&addresses, &t.recipient);
    let source = match (&t.event, t.kind) {
        (Some((chain, seq)), MailKind::SignInNotice) => event_source(state, chain, *seq).await?,
        _ => None,
    };
    let link = match (t.kind.secret(), &secret) {
        (Some(p), Some(s)) if p.is_link() => Some(format!(
            "{}/{}?token={}",
            mailer.link_base,
            link_path(t.kind),
            s.expose()
        )),
        _ => None,
    };
    let code = match (t.kind.secret(), &secret) {
        (Some(p), Some(s)) if !p.is_link() => Some(s.expose().to_owned()),
        _ => None,
    };
    let facts = Facts {
        service: &mailer.service,
        login_id: &t.login_id,
        name: user.as_ref().map(|u| u.name.as_str()),
        address: &t.recipient,
        code: code.as_deref(),
        link: link.as_deref(),
        expires_at: expires,
        at: t.created_ms,
        new_address: entry
            .and_then(|a| a.pending_change.as_ref())
            .map(|p| p.new_address.as_str()),
        source: source.as_deref(),
        reasons: t
            .detail
            .as_deref()
            .map(|d| d.split(',').filter(|s| !s.is_empty()).collect())
            .unwrap_or_default(),
        contact: mailer.contact.as_deref(),
    };
    let words = letter(t.kind, t.lang, &facts);
    // Seed 001: an address with 受信メールの暗号化 on gets its mail encrypted, or not at all.
    let encrypt_to = match entry.filter(|a| a.encrypt) {
        Some(a) => {
            let der = a.certificate.as_ref().and_then(|c| {
                use base64::Engine as _;
                base64::engine::general_purpose::STANDARD
                    .decode(&c.der)
                    .ok()
            });
            match recipient(der.as_deref(), now / 1000, &mailer.crls) {
                Ok(cert) => Some(cert),
                Err(why) => {
                    return Ok(Err(Outcome::Held(format!(
                        "the encryption certificate of {} cannot be used: {why:?}",
                        t.recipient
                    ))))
                }
            }
        }
        None => None,
    };
    let message_id = format!("<{}.{}.kagiya@{}>", t.id, t.created_ms, mailer.domain);
    let env = Envelope {
        from: &mailer.from,
        reply_to: mailer.reply_to.as_ref(),
        to: &t.recipient,
        message_id: &message_id,
        date: std::time::UNIX_EPOCH + Duration::from_millis(now.max(0) as u64),
    };
    let protection = match &encrypt_to {
        Some(cert) => Protection::SignedAndEncrypted(&mailer.signer, cert),
        None => Protection::Signed(&mailer.signer),
    };
    match compose(&env, &words, protection) {
        Ok(bytes) => Ok(Ok(bytes)),
        Err(kagiya_mail::MailError::Address(why)) => {
            Ok(Err(Outcome::Dead(Undelivered::Refused, why)))
        }
        Err(e) => Err(Error::Internal(e.to_string())),
    }
}

/// The page a link opens (the customers' pages, issue 16).
pub fn link_path(kind: MailKind) -> &'static str {
    match kind {
        MailKind::PasswordReset => "password-reset",
        MailKind::AddressSetup => "address-setup",
        MailKind::AddressChange => "address-change",
        _ => "",
    }
}

/// The source address an entry was recorded from (its origin's `ip=`).
async fn event_source(state: &AppState, chain: &str, seq: i64) -> Result<Option<String>, Error> {
    let client = state
        .pool
        .get()
        .await
        .map_err(|e| Error::DatabaseUnavailable(e.to_string()))?;
    let row = client
        .query_opt(
            "SELECT body FROM events WHERE chain = $1 AND seq = $2",
            &[&chain, &seq],
        )
        .await
        .map_err(|e| Error::Storage(crate::db::message(e)))?;
    Ok(row.and_then(|r| {
        let body: String = r.get(0);
        let v: serde_json::Value = serde_json::from_str(&body).ok()?;
        v.get("origin")?
            .as_str()?
            .split_whitespace()
            .find_map(|w| w.strip_prefix("ip="))
            .map(str::to_owned)
    }))
}
