//! The durable outbox: every event that owes someone a mail (seed 002: the password-setting
//! request to a new address, the change request to the old one, the notice to a deleted one)
//! queues it here in the same transaction, so a crash can never keep the change and lose the mail.

use kagiya_core::event::{EventKind, StoredEvent};
use kagiya_core::{Error, Millis};
use rusqlite::{params, Connection};
use serde::Serialize;

use crate::db::{storage, Tx};

/// A queued mail.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct OutboxRow {
    pub id: i64,
    pub created_at: Millis,
    pub event_seq: i64,
    pub kind: String,
    pub recipient: String,
    pub login_id: String,
    pub sent_at: Option<Millis>,
}

/// A mail an event owes.
pub(crate) struct Owed {
    kind: &'static str,
    recipient: String,
    login_id: String,
}

/// The mail `kind` owes, if any (taken before the event is appended, which consumes it).
pub(crate) fn owed(kind: &EventKind) -> Option<Owed> {
    let (mail, to, login_id) = match kind {
        EventKind::AddressAdded {
            login_id, address, ..
        } => ("password_setup_request", address, login_id),
        EventKind::AddressChangeRequested {
            login_id, address, ..
        } => ("address_change_request", address, login_id),
        EventKind::AddressDeleted { login_id, address } => {
            ("address_deleted_notice", address, login_id)
        }
        _ => return None,
    };
    Some(Owed {
        kind: mail,
        recipient: to.clone(),
        login_id: login_id.clone(),
    })
}

/// Queues `mail`, owed by the appended event `e` (called by `directory::record`).
pub(crate) fn queue(tx: &Tx<'_>, e: &StoredEvent, mail: Owed) -> Result<(), Error> {
    tx.prepare_cached(
        "INSERT INTO outbox (created_at, event_seq, kind, recipient, login_id, body) \
         VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
    )
    .and_then(|mut st| {
        st.execute(params![
            e.at,
            e.seq,
            mail.kind,
            mail.recipient,
            mail.login_id,
            e.body
        ])
    })
    .map_err(storage)?;
    Ok(())
}

/// Mails not sent yet, oldest first.
pub fn pending(conn: &Connection) -> Result<Vec<OutboxRow>, Error> {
    let mut st = conn
        .prepare(
            "SELECT id, created_at, event_seq, kind, recipient, login_id, sent_at FROM outbox \
             WHERE sent_at IS NULL ORDER BY id",
        )
        .map_err(storage)?;
    let rows = st
        .query_map([], |r| {
            Ok(OutboxRow {
                id: r.get(0)?,
                created_at: r.get(1)?,
                event_seq: r.get(2)?,
                kind: r.get(3)?,
                recipient: r.get(4)?,
                login_id: r.get(5)?,
                sent_at: r.get(6)?,
            })
        })
        .map_err(storage)?;
    rows.collect::<rusqlite::Result<_>>().map_err(storage)
}
