//! Ingesting the ops a branch device pushes (issue 14, docs/sync.md). One transaction per batch:
//! the device's row is taken first (`FOR UPDATE`), so one device's batches are ingested one at a
//! time and in device order; each new op is checked (signature, link to the device's previous
//! op), its customer's chain head is taken like any other write, and it is decided again with
//! `kagiya_sync::decide` against the fresh central state. Its effect, its chain entry and its
//! stored outcome commit together, so a retry (the same device sequence and hash) returns the
//! stored outcome and nothing is decided twice; a crash before the commit leaves nothing.

use std::cell::{Cell, RefCell};
use std::collections::BTreeSet;

use kagiya_core::directory::ids::fold;
use kagiya_core::directory::{Directory, Service};
use kagiya_core::event::{EventBody, EventKind};
use kagiya_core::{Error, Millis};
use kagiya_engine::port::Reads;
use kagiya_sync::{decide, Decided, Entry, Op, Outcome, Reason};
use serde::Serialize;

use super::reads::{lock_chain, PgReads};
use super::{apply, storage, PgPort, WRITE_TRIES};
use crate::db::Tx as Transaction;
use crate::events::NewEntry;

/// Why a whole push was refused: nothing of it was kept.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "code", rename_all = "snake_case")]
pub enum PushRefused {
    /// The device is unknown or revoked.
    Device,
    /// The batch does not continue the device's ops: send again from `expected`.
    Gap { expected: i64 },
    /// The op at `seq` is not what the device signed, or does not link to its previous op, or
    /// reuses a sequence already stored with other contents.
    Forged { seq: i64 },
    /// The batch is empty or too long.
    Batch,
}

pub use kagiya_sync::wire::{Anchor, OpOutcome, MAX_BATCH};

impl PgPort {
    /// Ingests `ops` from `device_id` at `now`: all or nothing.
    pub fn ingest(
        &self,
        device_id: &str,
        ops: &[Op],
        anchor: Option<&Anchor>,
        now: Millis,
    ) -> Result<Result<Vec<OpOutcome>, PushRefused>, Error> {
        if ops.is_empty() || ops.len() > MAX_BATCH {
            return Ok(Err(PushRefused::Batch));
        }
        let mut last = Error::Internal("ingest not tried".into());
        for _ in 0..WRITE_TRIES {
            let mut client = self.client()?;
            let tx = self
                .rt
                .block_on(client.transaction())
                .map_err(|e| storage(e, None))?;
            let locked = RefCell::new(BTreeSet::new());
            let retry = Cell::new(false);
            let out = self.ingest_in(&tx, &locked, &retry, device_id, ops, anchor, now);
            let result = match out {
                Ok(Ok(outcomes)) => self
                    .rt
                    .block_on(tx.commit())
                    .map_err(|e| storage(e, Some(&retry)))
                    .map(|()| Ok(outcomes)),
                other => {
                    let _ = self.rt.block_on(tx.rollback());
                    other
                }
            };
            match result {
                Err(e) if retry.get() => last = e,
                other => return other,
            }
        }
        Err(last)
    }

    #[allow(clippy::too_many_arguments)]
    fn ingest_in(
        &self,
        tx: &Transaction<'_>,
        locked: &RefCell<BTreeSet<String>>,
        retry: &Cell<bool>,
        device_id: &str,
        ops: &[Op],
        anchor: Option<&Anchor>,
        now: Millis,
    ) -> Result<Result<Vec<OpOutcome>, PushRefused>, Error> {
        let db = |e| storage(e, Some(retry));
        let rt = &self.rt;
        let Some(dev) = rt
            .block_on(crate::db::query_opt(
                tx,
                "SELECT branch, public_key, revoked_ms, last_seq, last_hash FROM devices \
                 WHERE device_id = $1 FOR UPDATE",
                &[&device_id],
            ))
            .map_err(db)?
        else {
            return Ok(Err(PushRefused::Device));
        };
        if dev.get::<_, Option<i64>>(2).is_some() {
            return Ok(Err(PushRefused::Device));
        }
        let branch: String = dev.get(0);
        let public: String = dev.get(1);
        let mut last_seq: i64 = dev.get(3);
        let mut last_hash: String = dev.get(4);
        let mut out = Vec::with_capacity(ops.len());
        let mut batch = Batch::default();
        for op in ops {
            if op.device_id != device_id {
                return Ok(Err(PushRefused::Forged { seq: op.device_seq }));
            }
            if op.device_seq <= last_seq {
                let stored = rt
                    .block_on(crate::db::query_opt(
                        tx,
                        "SELECT hash, outcome, reason::text, chain_seq FROM sync_ops \
                         WHERE device_id = $1 AND device_seq = $2",
                        &[&device_id, &op.device_seq],
                    ))
                    .map_err(db)?;
                let Some(row) = stored.filter(|r| r.get::<_, &str>(0) == op.hash) else {
                    return Ok(Err(PushRefused::Forged { seq: op.device_seq }));
                };
                out.push(OpOutcome {
                    device_seq: op.device_seq,
                    decided: stored_decided(&row)?,
                });
                continue;
            }
            if op.device_seq != last_seq + 1 {
                return Ok(Err(PushRefused::Gap {
                    expected: last_seq + 1,
                }));
            }
            if op.check(&public).is_err() || op.prev_hash != last_hash {
                return Ok(Err(PushRefused::Forged { seq: op.device_seq }));
            }
            // PostgreSQL's text holds no NUL character: such an op is answered, not stored as is.
            let decided = if serde_json::to_string(op).map_or(true, |j| j.contains("\\u0000")) {
                Decided {
                    outcome: Outcome::Rejected,
                    reason: Some(Reason::NotApplicable {
                        detail: "nul_character".into(),
                    }),
                    seq: None,
                }
            } else {
                self.decide_op(tx, locked, retry, &branch, op, now, &mut batch)?
            };
            batch.decided.push((op, decided.clone()));
            last_seq = op.device_seq;
            last_hash = op.hash.clone();
            out.push(OpOutcome {
                device_seq: op.device_seq,
                decided,
            });
        }
        rt.block_on(batch.write(tx, locked, retry, device_id, now, self.mail()))?;
        rt.block_on(crate::db::execute(
            tx,
            "UPDATE devices SET last_seq = $2, last_hash = $3 WHERE device_id = $1",
            &[&device_id, &last_seq, &last_hash],
        ))
        .map_err(db)?;
        if let Some(a) = anchor.filter(|a| !a.hash.contains('\0')) {
            rt.block_on(crate::db::execute(
                tx,
                "UPDATE branches SET anchor_seq = $2, anchor_hash = $3, anchor_ms = $4 \
                 WHERE branch = $1",
                &[&branch, &a.seq, &a.hash, &now],
            ))
            .map_err(db)?;
        }
        Ok(Ok(out))
    }

    /// Decides one new op against the batch's state and keeps what it decided for `Batch::write`.
    #[allow(clippy::too_many_arguments)]
    fn decide_op(
        &self,
        tx: &Transaction<'_>,
        locked: &RefCell<BTreeSet<String>>,
        retry: &Cell<bool>,
        branch: &str,
        op: &Op,
        now: Millis,
        batch: &mut Batch,
    ) -> Result<Decided, Error> {
        let db = |e| storage(e, Some(retry));
        let rt = &self.rt;
        let customer = fold(&op.draft.customer);
        let creates = matches!(op.draft.event, EventKind::TenantCreated { .. });
        let serves = match batch.serves.get(&customer) {
            Some(s) => *s,
            None => {
                let s = rt
                    .block_on(crate::db::query_opt(
                        tx,
                        "SELECT 1 FROM branch_customers WHERE branch = $1 AND contract_key = $2",
                        &[&branch, &customer],
                    ))
                    .map_err(db)?
                    .is_some();
                batch.serves.insert(customer.clone(), s);
                s
            }
        };
        if !(serves || creates) || customer.is_empty() {
            return Ok(Decided {
                outcome: Outcome::Rejected,
                reason: Some(Reason::UnknownCustomer),
                seq: None,
            });
        }
        if !batch.heads.contains_key(&customer) {
            rt.block_on(lock_chain(tx, locked, retry, &customer))?;
            let head: i64 = rt
                .block_on(crate::db::query_one(
                    tx,
                    "SELECT seq FROM chains WHERE chain = $1",
                    &[&customer],
                ))
                .map_err(db)?
                .get(0);
            batch.heads.insert(customer.clone(), head);
            let sent: i64 = rt
                .block_on(crate::db::query_opt(
                    tx,
                    "SELECT seq FROM device_pulled WHERE device_id = $1 AND contract_key = $2",
                    &[&op.device_id, &customer],
                ))
                .map_err(db)?
                .map_or(0, |r| r.get(0));
            batch.sent.insert(customer.clone(), sent);
        }
        {
            let reads = PgReads::writing(tx, rt, locked, retry);
            batch.load(&reads, &customer, &op.draft.event)?;
        }
        // Never further than what the device was sent: a claim to have seen more would let an
        // unlock clear failures it never saw.
        let base = op.draft.base_seq.clamp(0, batch.sent[&customer]);
        let cached = batch
            .unseen
            .get(&customer)
            .is_some_and(|(from, _)| *from <= base);
        if !cached {
            let entries = rt
                .block_on(crate::db::query(
                    tx,
                    "SELECT seq, at_ms, actor, body FROM events WHERE chain = $1 AND seq > $2 \
                     AND device IS DISTINCT FROM $3 ORDER BY seq",
                    &[&customer, &base, &op.device_id],
                ))
                .map_err(db)?
                .iter()
                .map(|r| {
                    let body: EventBody = serde_json::from_str(r.get::<_, &str>(3))
                        .map_err(|e| Error::Storage(format!("stored entry: {e}")))?;
                    Ok(Entry {
                        seq: r.get(0),
                        at: r.get(1),
                        actor: r.get(2),
                        device: kagiya_sync::device_of(body.origin.as_deref()),
                        kind: body.kind,
                    })
                })
                .collect::<Result<Vec<_>, Error>>()?;
            batch.unseen.insert(customer.clone(), (base, entries));
        }
        let after: Vec<Entry> = batch.unseen[&customer]
            .1
            .iter()
            .filter(|e| e.seq > base)
            .cloned()
            .collect();
        let verdict = decide(&batch.dir, &after, &op.draft, now);
        // Recorded as the branch's operator, named so that no branch can pass for the server's
        // own actors or another branch's.
        let actor = format!(
            "branch:{branch}/{}",
            op.draft.operator.as_deref().unwrap_or("-")
        );
        let seq = match verdict.record {
            Some(kind) => {
                let remembered = kagiya_core::mail::before(&batch.dir, &kind);
                batch.dir.apply(now, Some(&actor), &kind)?;
                // The mails a branch's change owes (an added address's setup link, a deleted
                // address's notice) are queued as the server's own changes' are.
                let owed = if kagiya_core::mail::may_owe(&kind) {
                    kagiya_core::mail::owed(&batch.dir, &kind, remembered)
                } else {
                    Vec::new()
                };
                if creates {
                    rt.block_on(crate::db::execute(
                        tx,
                        "INSERT INTO branch_customers (branch, contract_key) VALUES ($1, $2) \
                         ON CONFLICT DO NOTHING",
                        &[&branch, &customer],
                    ))
                    .map_err(db)?;
                    batch.serves.insert(customer.clone(), true);
                }
                let entries = batch.events.entry(customer.clone()).or_default();
                entries.push(NewEntry {
                    at: now,
                    actor: Some(actor),
                    origin: kagiya_sync::origin(&op.device_id, &op.draft.op_id),
                    kind,
                });
                let seq = batch.heads[&customer] + entries.len() as i64;
                if !owed.is_empty() {
                    batch.mails.push((customer.clone(), seq, owed));
                }
                Some(seq)
            }
            None => None,
        };
        Ok(Decided {
            outcome: verdict.outcome,
            reason: verdict.reason,
            seq,
        })
    }
}

/// One push's work in memory: the rows its ops read (as loaded, and as changed by the core's
/// fold of what they decided), the entries to append per customer, and the outcomes. The
/// transaction holds every customer's head from its first op on, so nothing read here can change
/// under it; the batch is written at the end in a few statements instead of a dozen per op.
#[derive(Default)]
struct Batch<'o> {
    before: Directory,
    dir: Directory,
    /// Users (folded login IDs), requests and rule keys already read.
    loaded: BTreeSet<String>,
    serves: std::collections::HashMap<String, bool>,
    heads: std::collections::HashMap<String, i64>,
    /// How far the device was sent of each customer's chain.
    sent: std::collections::HashMap<String, i64>,
    /// Per customer: the entries other writers made after some base sequence.
    unseen: std::collections::HashMap<String, (i64, Vec<Entry>)>,
    events: std::collections::BTreeMap<String, Vec<NewEntry>>,
    decided: Vec<(&'o Op, Decided)>,
    /// The mails the recorded entries owe: (customer, entry's sequence, mails).
    mails: Vec<(String, i64, Vec<kagiya_core::mail::MailDue>)>,
}

impl<'o> Batch<'o> {
    /// Reads the rows `kind` needs that the batch does not hold yet.
    fn load(&mut self, r: &dyn Reads, customer: &str, kind: &EventKind) -> Result<(), Error> {
        let mut wanted = vec![format!("tenant:{customer}")];
        let login = match kind {
            EventKind::UserCreated { login_id, .. } => Some(login_id.as_str()),
            _ => kagiya_core::directory::fold::user_of(kind)
                .or_else(|| kagiya_core::directory::fold::address_user_of(kind)),
        };
        if let Some(id) = login {
            wanted.push(format!("user:{}", fold(id)));
        }
        if let EventKind::IpRulesSet { service, .. } = kind {
            wanted.push(format!(
                "rules:{}",
                kagiya_core::directory::fold::rules_key(customer, *service)
            ));
        }
        let request = match kind {
            EventKind::InitRequestRecorded { request } => Some(request.request_no.as_str()),
            _ => kagiya_core::directory::fold::request_of(kind),
        };
        if let Some(no) = request {
            wanted.push(format!("request:{}", fold(no)));
        }
        if wanted.iter().all(|w| self.loaded.contains(w)) {
            return Ok(());
        }
        let mini = directory_for(r, customer, kind)?;
        merge_absent(&mut self.before, &mini);
        merge_absent(&mut self.dir, &mini);
        self.loaded.extend(wanted);
        Ok(())
    }

    async fn write(
        &self,
        tx: &Transaction<'_>,
        locked: &RefCell<BTreeSet<String>>,
        retry: &Cell<bool>,
        device_id: &str,
        now: Millis,
        mail: &crate::mail::outbox::MailQueue,
    ) -> Result<(), Error> {
        apply::save_rows(tx, locked, retry, &self.before, &self.dir).await?;
        // Each user whose sessions an event ends, once.
        let ending: BTreeSet<String> = self
            .events
            .values()
            .flatten()
            .filter_map(|e| apply::ends_sessions(&e.kind).map(fold))
            .collect();
        for login_id in &ending {
            apply::end_sessions(tx, retry, login_id, now).await?;
        }
        for (customer, entries) in &self.events {
            let written = crate::events::append_many(
                tx,
                customer,
                entries
                    .iter()
                    .map(|e| NewEntry {
                        at: e.at,
                        actor: e.actor.clone(),
                        origin: e.origin.clone(),
                        kind: e.kind.clone(),
                    })
                    .collect(),
            )
            .await
            .map_err(Error::Storage)?;
            debug_assert_eq!(written.len(), entries.len());
        }
        for (customer, seq, owed) in &self.mails {
            crate::mail::outbox::queue_owed(tx, retry, mail, now, Some((customer, *seq)), owed)
                .await?;
        }
        for chunk in self.decided.chunks(50) {
            let mut sql = String::from(
                "INSERT INTO sync_ops (device_id, device_seq, op_id, hash, contract_key, base_seq, \
                 outcome, reason, chain_seq, op, decided_ms) VALUES ",
            );
            let rows: Vec<(String, String, Option<String>, String)> = chunk
                .iter()
                .map(|(op, d)| {
                    (
                        fold(&op.draft.customer).replace('\0', ""),
                        d.outcome.code().to_owned(),
                        d.reason
                            .as_ref()
                            .map(|r| serde_json::to_string(r).expect("reasons serialize")),
                        serde_json::to_string(op)
                            .expect("ops serialize")
                            .replace("\\u0000", ""),
                    )
                })
                .collect();
            let op_ids: Vec<String> = chunk
                .iter()
                .map(|(op, _)| op.draft.op_id.replace('\0', ""))
                .collect();
            let hashes: Vec<String> = chunk
                .iter()
                .map(|(op, _)| op.hash.replace('\0', ""))
                .collect();
            let mut params: Vec<&(dyn tokio_postgres::types::ToSql + Sync)> = Vec::new();
            for (i, ((((op, d), (customer, outcome, reason, json)), op_id), hash)) in chunk
                .iter()
                .zip(&rows)
                .zip(&op_ids)
                .zip(&hashes)
                .enumerate()
            {
                let b = i * 11;
                if i > 0 {
                    sql.push_str(", ");
                }
                sql.push_str(&format!(
                    "(${}, ${}, ${}, ${}, ${}, ${}, ${}, ${}::text::jsonb, ${}, ${}::text::jsonb, ${})",
                    b + 1, b + 2, b + 3, b + 4, b + 5, b + 6, b + 7, b + 8, b + 9, b + 10, b + 11
                ));
                params.extend_from_slice(&[
                    &device_id as &(dyn tokio_postgres::types::ToSql + Sync),
                    &op.device_seq,
                    op_id,
                    hash,
                    customer,
                    &op.draft.base_seq,
                    outcome,
                    reason,
                    &d.seq,
                    json,
                    &now,
                ]);
            }
            crate::db::execute(tx, &sql, &params)
                .await
                .map_err(|e| storage(e, Some(retry)))?;
        }
        Ok(())
    }
}

/// Adds to `d` what `from` holds and `d` does not (what the batch already holds wins: it may
/// have changed in memory).
fn merge_absent(d: &mut Directory, from: &Directory) {
    for (k, v) in &from.tenants {
        d.tenants.entry(k.clone()).or_insert_with(|| v.clone());
    }
    for (k, v) in &from.users {
        if !d.users.contains_key(k) {
            d.users.insert(k.clone(), v.clone());
            if let Some(a) = from.addresses.get(k) {
                d.addresses.insert(k.clone(), a.clone());
            }
        }
    }
    for (k, v) in &from.init_requests {
        d.init_requests
            .entry(k.clone())
            .or_insert_with(|| v.clone());
    }
    for (k, v) in &from.ip_rules {
        d.ip_rules.entry(k.clone()).or_insert_with(|| v.clone());
    }
}

/// The part of the central directory an op's decision reads: its customer, the user it concerns
/// with their addresses, the request it names and the customer's rules for its service.
fn directory_for(r: &dyn Reads, customer: &str, kind: &EventKind) -> Result<Directory, Error> {
    use kagiya_core::directory::fold::{address_user_of, request_of, rules_key, user_of};
    let mut d = Directory::default();
    if let Some(t) = r.tenant(customer)? {
        d.tenants.insert(fold(&t.contract_no), t);
    }
    let login = match kind {
        EventKind::UserCreated { login_id, .. } => Some(login_id.as_str()),
        _ => user_of(kind).or_else(|| address_user_of(kind)),
    };
    if let Some(id) = login {
        if let Some(u) = r.user(id)? {
            if let Some(t) = r.tenant(&u.contract_no)? {
                d.tenants.insert(fold(&t.contract_no), t);
            }
            let list = r.addresses(id)?;
            if !list.is_empty() {
                d.addresses.insert(fold(id), list);
            }
            d.users.insert(fold(id), u);
        }
    }
    let request = match kind {
        EventKind::InitRequestRecorded { request } => Some(request.request_no.as_str()),
        _ => request_of(kind),
    };
    if let Some(no) = request {
        if let Some(req) = r.init_request(no)? {
            d.init_requests.insert(fold(no), req);
        }
    }
    if let EventKind::IpRulesSet { service, .. } = kind {
        let service: Service = *service;
        d.ip_rules
            .insert(rules_key(customer, service), r.ip_rules(customer, service)?);
    }
    Ok(d)
}

fn stored_decided(row: &tokio_postgres::Row) -> Result<Decided, Error> {
    let outcome =
        Outcome::parse(row.get(1)).ok_or_else(|| Error::Storage("stored outcome".into()))?;
    let reason = row
        .get::<_, Option<&str>>(2)
        .map(serde_json::from_str::<Reason>)
        .transpose()
        .map_err(|e| Error::Storage(format!("stored reason: {e}")))?;
    Ok(Decided {
        outcome,
        reason,
        seq: row.get(3),
    })
}
