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

/// Mails handed over at once, and so the rows one round takes (ours: eight connections keep a
/// mail server busy without looking like a flood). All of a round's rows are sent together, so
/// the lease of each covers its own hand-over only.
pub const PARALLEL: usize = 8;

/// How often old rows are purged: sent and expired ones after 30 days, dead and held ones after
/// 90 once reported (ours: the operators' window to look at an undeliverable mail; the entries
/// in the chains stay for good).
const PURGE_EVERY: Duration = Duration::from_secs(3600);

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
    crls: std::sync::Mutex<Revocations>,
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
                crls: std::sync::Mutex::new(crls),
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

impl Mailer {
    /// Whether a certificate (DER) is on the configured revocation lists (read again when they
    /// change); an unreadable certificate counts as revoked.
    pub fn revoked(&self, der: &[u8]) -> bool {
        let Ok(cert) = openssl::x509::X509::from_der(der) else {
            return true;
        };
        match self.crls.lock() {
            Ok(mut crls) => {
                let _ = crls.refresh();
                crls.revoked(&cert)
            }
            Err(_) => true,
        }
    }
}

/// Delivers until the process ends.
pub fn spawn(state: AppState, mailer: Arc<Mailer>) -> tokio::task::JoinHandle<()> {
    tokio::spawn(async move {
        let mut purged: Option<std::time::Instant> = None;
        loop {
            if purged.is_none_or(|p| p.elapsed() >= PURGE_EVERY) {
                purged = Some(std::time::Instant::now());
                if let Err(e) = purge(&state).await {
                    tracing::warn!(error = %e, "old mails not purged");
                }
            }
            if let Err(e) = report_unreported(&state, &mailer).await {
                tracing::warn!(error = %e, "undeliverable mails not reported yet");
            }
            match round(&state, &mailer).await {
                // A full round: there may be more at once.
                Ok(n) if n >= PARALLEL => continue,
                Ok(_) => {}
                Err(e) => tracing::warn!(error = %e, "mail round failed; trying again"),
            }
            tokio::time::sleep(mailer.poll).await;
        }
    })
}

async fn client(state: &AppState) -> Result<deadpool_postgres::Object, Error> {
    state
        .pool
        .get()
        .await
        .map_err(|e| Error::DatabaseUnavailable(e.to_string()))
}

fn db(e: tokio_postgres::Error) -> Error {
    Error::Storage(crate::db::message(e))
}

/// Deletes what nobody needs any more (see `PURGE_EVERY`).
async fn purge(state: &AppState) -> Result<(), Error> {
    let now = state.engine.now();
    let day: Millis = 24 * 3_600_000;
    let n = client(state)
        .await?
        .execute(
            "DELETE FROM mail_outbox WHERE (state IN ('sent', 'expired') AND created_ms < $1) \
             OR (state IN ('dead', 'held') AND reported AND created_ms < $2)",
            &[&(now - 30 * day), &(now - 90 * day)],
        )
        .await
        .map_err(db)?;
    if n > 0 {
        tracing::info!(rows = n, "old mails purged");
    }
    Ok(())
}

/// Records for the branch the undeliverable mails a worker settled but did not get to report
/// (it stopped in between), once the row's lease has ended.
async fn report_unreported(state: &AppState, mailer: &Mailer) -> Result<(), Error> {
    let now = state.engine.now();
    let rows = client(state)
        .await?
        .query(
            "SELECT id, kind, login_id, recipient, state, last_error FROM mail_outbox \
             WHERE state IN ('dead', 'held') AND NOT reported AND next_ms < $1 \
             ORDER BY id LIMIT 8",
            &[&now],
        )
        .await
        .map_err(db)?;
    let _ = mailer;
    for r in rows {
        let kind: String = r.get(1);
        let state_name: String = r.get(4);
        let why: Option<String> = r.get(5);
        let reason = if state_name == "held" {
            Undelivered::CertificateUnusable
        } else if why
            .as_deref()
            .is_some_and(|w| w.trim_start().starts_with('5'))
        {
            Undelivered::Refused
        } else {
            Undelivered::GaveUp
        };
        let id: i64 = r.get(0);
        match MailKind::parse(&kind) {
            Some(k) => report(state, id, r.get(2), r.get(3), k, reason).await?,
            None => mark_reported(state, id).await?,
        }
    }
    Ok(())
}

/// Records an undeliverable mail in the customer's chain (for the branch) and marks its row.
async fn report(
    state: &AppState,
    id: i64,
    login_id: String,
    address: String,
    kind: MailKind,
    reason: Undelivered,
) -> Result<(), Error> {
    let recorded = crate::api::run(state, move |e| {
        e.record_mail_undelivered(&login_id, &address, kind, reason)
    })
    .await;
    match recorded {
        Ok(()) => {}
        // A user deleted meanwhile has no chain to tell; the row says it all.
        Err(kagiya_core::Error::UnknownUser) => {
            tracing::warn!(mail = id, "undelivered mail of a user who is gone")
        }
        Err(e) => return Err(e),
    }
    mark_reported(state, id).await
}

async fn mark_reported(state: &AppState, id: i64) -> Result<(), Error> {
    client(state)
        .await?
        .execute(
            "UPDATE mail_outbox SET reported = true WHERE id = $1",
            &[&id],
        )
        .await
        .map_err(db)?;
    Ok(())
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
    encrypt_cert: Option<String>,
    attempts: i32,
}

/// One round: takes what is due (at most `PARALLEL` rows) and delivers it all at once. Returns
/// how many rows it took.
pub async fn round(state: &AppState, mailer: &Arc<Mailer>) -> Result<usize, Error> {
    let now = state.engine.now();
    let client = client(state).await?;
    let rows = client
        .query(
            "UPDATE mail_outbox SET next_ms = $1 + $3, attempts = attempts + 1 \
             WHERE id IN (SELECT id FROM mail_outbox WHERE state = 'queued' AND next_ms <= $1 \
                          ORDER BY next_ms, id LIMIT $2 FOR UPDATE SKIP LOCKED) \
             RETURNING id, created_ms, kind, login_id, recipient, lang, event_chain, event_seq, \
                       secret_sealed, expires_ms, detail, attempts, encrypt_cert",
            &[&now, &(PARALLEL as i64), &mailer.lease_ms],
        )
        .await
        .map_err(db)?;
    drop(client);
    let n = rows.len();
    let mut set = tokio::task::JoinSet::new();
    for r in rows {
        let id: i64 = r.get(0);
        let attempts: i32 = r.get(11);
        let kind: String = r.get(2);
        let Some(kind) = MailKind::parse(&kind) else {
            // Written by a newer program, or damaged: nothing here can send it.
            let fence = Fence { id, attempts };
            settle_row(state, &fence, "dead", &format!("unknown kind {kind}")).await?;
            continue;
        };
        let lang: String = r.get(5);
        let chain: Option<String> = r.get(6);
        let seq: Option<i64> = r.get(7);
        let t = Taken {
            id,
            created_ms: r.get(1),
            kind,
            login_id: r.get(3),
            recipient: r.get(4),
            lang: Lang::parse(&lang).unwrap_or(Lang::Ja),
            event: chain.zip(seq),
            sealed: r.get(8),
            expires_ms: r.get(9),
            detail: r.get(10),
            encrypt_cert: r.get(12),
            attempts,
        };
        let (state, mailer) = (state.clone(), mailer.clone());
        set.spawn(async move {
            if let Err(e) = deliver(&state, &mailer, t).await {
                // The lease runs out and the row is tried again.
                tracing::warn!(mail = id, error = %e, "mail not settled this round");
            }
        });
    }
    while let Some(done) = set.join_next().await {
        if let Err(e) = done {
            tracing::error!(error = %e, "a mail task failed");
        }
    }
    Ok(n)
}

/// Which try of which row a worker holds: its writes land only while that is still so (another
/// process that took the row after the lease ended has a higher try).
struct Fence {
    id: i64,
    attempts: i32,
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
    let later = |why: String| {
        if t.attempts >= mailer.max_attempts {
            Outcome::Dead(Undelivered::GaveUp, why)
        } else {
            Outcome::Later(why, now + backoff(mailer.retry_ms, t.attempts))
        }
    };
    let prepared = match prepare(state, mailer, &t, now).await {
        Ok(p) => p,
        // The database, the outbox key, OpenSSL: a try spent like a mail server's 4xx, so that a
        // row that can never be made ends as dead rather than coming back for ever.
        Err(e) => Err(later(format!("{}: {e}", e.code()))),
    };
    let outcome = match prepared {
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
                Err(SendError::Temporary(why)) => later(why),
            }
        }
    };
    settle(state, &t, outcome, now).await
}

/// Writes the row's outcome; an undeliverable mail is also recorded for the branch.
async fn settle(state: &AppState, t: &Taken, outcome: Outcome, now: Millis) -> Result<(), Error> {
    let fence = Fence {
        id: t.id,
        attempts: t.attempts,
    };
    let (landed, report) = match &outcome {
        Outcome::Sent => {
            let landed = fenced(
                state,
                "UPDATE mail_outbox SET state = 'sent', sent_ms = $3, secret_sealed = NULL, \
                 last_error = NULL WHERE id = $1 AND attempts = $2 AND state = 'queued'",
                &fence,
                &now,
            )
            .await?;
            tracing::info!(mail = t.id, kind = t.kind.code(), "mail sent");
            (landed, None)
        }
        Outcome::Later(why, next) => {
            let landed = client(state)
                .await?
                .execute(
                    "UPDATE mail_outbox SET next_ms = $3, last_error = $4 \
                     WHERE id = $1 AND attempts = $2 AND state = 'queued'",
                    &[&t.id, &t.attempts, next, why],
                )
                .await
                .map_err(db)?
                > 0;
            tracing::info!(mail = t.id, attempts = t.attempts, error = %why, "mail deferred");
            (landed, None)
        }
        Outcome::Dead(reason, why) => {
            tracing::warn!(mail = t.id, error = %why, "mail undeliverable");
            (settle_row(state, &fence, "dead", why).await?, Some(*reason))
        }
        Outcome::Held(why) => {
            tracing::warn!(mail = t.id, error = %why, "mail held: not sent in clear");
            let landed = settle_row(state, &fence, "held", why).await?;
            (landed, Some(Undelivered::CertificateUnusable))
        }
        Outcome::Expired(why) => (settle_row(state, &fence, "expired", why).await?, None),
    };
    if !landed {
        // Another worker took the row after this one's lease ended: its outcome stands.
        tracing::warn!(
            mail = t.id,
            "the mail was taken over; this outcome is dropped"
        );
        return Ok(());
    }
    if let Some(reason) = report {
        report_row(state, t, reason).await?;
    }
    Ok(())
}

async fn report_row(state: &AppState, t: &Taken, reason: Undelivered) -> Result<(), Error> {
    let (login_id, address) = (t.login_id.clone(), t.recipient.clone());
    report(state, t.id, login_id, address, t.kind, reason).await
}

/// Runs a fenced update with one more parameter; whether it landed.
async fn fenced(
    state: &AppState,
    sql: &str,
    f: &Fence,
    extra: &(dyn tokio_postgres::types::ToSql + Sync),
) -> Result<bool, Error> {
    Ok(client(state)
        .await?
        .execute(sql, &[&f.id, &f.attempts, extra])
        .await
        .map_err(db)?
        > 0)
}

/// Ends a row in `to` (dead, held, expired) with its reason; the secret is erased.
async fn settle_row(state: &AppState, f: &Fence, to: &str, why: &str) -> Result<bool, Error> {
    Ok(client(state)
        .await?
        .execute(
            "UPDATE mail_outbox SET state = $3, secret_sealed = NULL, last_error = $4 \
             WHERE id = $1 AND attempts = $2 AND state = 'queued'",
            &[&f.id, &f.attempts, &to, &why],
        )
        .await
        .map_err(db)?
        > 0)
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
                    let landed = client(state)
                        .await?
                        .execute(
                            "UPDATE mail_outbox SET secret_sealed = $3, link_sha256 = $4, \
                             expires_ms = $5 WHERE id = $1 AND attempts = $2 \
                             AND state = 'queued' AND secret_sealed IS NULL",
                            &[
                                &t.id,
                                &t.attempts,
                                &sealed,
                                &link_digest(&issued.secret),
                                &issued.expires_at,
                            ],
                        )
                        .await
                        .map_err(db)?;
                    if landed == 0 {
                        // Taken over meanwhile: the other worker sends a link of its own.
                        return Err(Error::Internal("the mail was taken over".into()));
                    }
                    (Some(issued.secret), Some(issued.expires_at))
                }
                // What it was for is gone (the user or the address deleted, the change confirmed
                // at the branch, no longer a Web member): nothing to send.
                Err(
                    e @ (Error::UnknownUser
                    | Error::UnknownTenant
                    | Error::AddressRule(_)
                    | Error::MfaRule(_)),
                ) => {
                    return Ok(Err(Outcome::Expired(format!(
                        "no link to send: {}",
                        e.code()
                    ))))
                }
                // Anything else (the database) is a try spent.
                Err(e) => return Err(e),
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
    // When it happened, and from where: the entry that owed the mail (a branch's change comes
    // by sync later than it was made).
    let (at, source) = match &t.event {
        Some((chain, seq)) => event_facts(state, chain, *seq).await?,
        None => (None, None),
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
        at: at.unwrap_or(t.created_ms),
        new_address: entry
            .and_then(|a| a.pending_change.as_ref())
            .map(|p| p.new_address.as_str()),
        source: source
            .as_deref()
            .filter(|_| t.kind == MailKind::SignInNotice),
        reasons: t
            .detail
            .as_deref()
            .map(|d| d.split(',').filter(|s| !s.is_empty()).collect())
            .unwrap_or_default(),
        contact: mailer.contact.as_deref(),
    };
    let words = letter(t.kind, t.lang, &facts);
    // Seed 001: an address with 受信メールの暗号化 on gets its mail encrypted, or not at all.
    // The address as it is now; one gone since (a deleted address) as it was when the mail was
    // owed.
    let encrypting: Option<Option<&str>> = match entry {
        Some(a) if a.encrypt => Some(a.certificate.as_ref().map(|c| c.der.as_str())),
        Some(_) => None,
        None => t
            .encrypt_cert
            .as_deref()
            .map(|c| Some(c).filter(|c| !c.is_empty())),
    };
    let encrypt_to = match encrypting {
        Some(cert) => {
            let der = cert.and_then(|c| {
                use base64::Engine as _;
                base64::engine::general_purpose::STANDARD.decode(c).ok()
            });
            let checked = {
                let mut crls = mailer
                    .crls
                    .lock()
                    .map_err(|_| Error::Internal("revocation lists poisoned".into()))?;
                if let Err(e) = crls.refresh() {
                    tracing::warn!(error = %e, "revocation lists not read again; the last ones stand");
                }
                recipient(der.as_deref(), now / 1000, &crls)
            };
            match checked {
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
        // A certificate OpenSSL cannot encrypt to (a key type CMS key transport does not take):
        // held like an expired one, never sent in clear.
        Err(kagiya_mail::MailError::Crypto(why)) if encrypt_to.is_some() => Ok(Err(Outcome::Held(
            format!("cannot encrypt to {}: {why}", t.recipient),
        ))),
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

/// The time an entry was recorded, and the source address of its origin (`ip=`).
async fn event_facts(
    state: &AppState,
    chain: &str,
    seq: i64,
) -> Result<(Option<Millis>, Option<String>), Error> {
    let row = client(state)
        .await?
        .query_opt(
            "SELECT at_ms, body FROM events WHERE chain = $1 AND seq = $2",
            &[&chain, &seq],
        )
        .await
        .map_err(db)?;
    Ok(match row {
        Some(r) => {
            let body: String = r.get(1);
            let ip = serde_json::from_str::<kagiya_core::event::EventBody>(&body)
                .ok()
                .and_then(|b| b.source())
                .map(|ip| ip.to_string());
            (Some(r.get(0)), ip)
        }
        None => (None, None),
    })
}
