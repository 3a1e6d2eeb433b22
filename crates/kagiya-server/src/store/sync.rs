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
            let decided = self.decide_op(tx, locked, retry, &branch, op, now)?;
            let op_json = serde_json::to_string(op).map_err(|e| Error::Internal(e.to_string()))?;
            let reason = decided
                .reason
                .as_ref()
                .map(|r| serde_json::to_string(r).expect("reasons serialize"));
            rt.block_on(crate::db::execute(
                tx,
                "INSERT INTO sync_ops (device_id, device_seq, op_id, hash, contract_key, base_seq, \
                     outcome, reason, chain_seq, op, decided_ms) \
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8::text::jsonb, $9, $10::text::jsonb, $11)",
                &[
                    &device_id,
                    &op.device_seq,
                    &op.draft.op_id,
                    &op.hash,
                    &fold(&op.draft.customer),
                    &op.draft.base_seq,
                    &decided.outcome.code(),
                    &reason,
                    &decided.seq,
                    &op_json,
                    &now,
                ],
            ))
            .map_err(db)?;
            last_seq = op.device_seq;
            last_hash = op.hash.clone();
            out.push(OpOutcome {
                device_seq: op.device_seq,
                decided,
            });
        }
        rt.block_on(crate::db::execute(
            tx,
            "UPDATE devices SET last_seq = $2, last_hash = $3 WHERE device_id = $1",
            &[&device_id, &last_seq, &last_hash],
        ))
        .map_err(db)?;
        if let Some(a) = anchor {
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

    /// Decides one new op and records what it decided (its event, in its customer's chain).
    fn decide_op(
        &self,
        tx: &Transaction<'_>,
        locked: &RefCell<BTreeSet<String>>,
        retry: &Cell<bool>,
        branch: &str,
        op: &Op,
        now: Millis,
    ) -> Result<Decided, Error> {
        let db = |e| storage(e, Some(retry));
        let rt = &self.rt;
        let customer = fold(&op.draft.customer);
        let creates = matches!(op.draft.event, EventKind::TenantCreated { .. });
        let serves = rt
            .block_on(crate::db::query_opt(
                tx,
                "SELECT 1 FROM branch_customers WHERE branch = $1 AND contract_key = $2",
                &[&branch, &customer],
            ))
            .map_err(db)?
            .is_some();
        if !(serves || creates) || customer.is_empty() {
            return Ok(Decided {
                outcome: Outcome::Rejected,
                reason: Some(Reason::UnknownCustomer),
                seq: None,
            });
        }
        rt.block_on(lock_chain(tx, locked, retry, &customer))?;
        let dir = {
            let reads = PgReads::writing(tx, rt, locked, retry);
            directory_for(&reads, &customer, &op.draft.event)?
        };
        let after = rt
            .block_on(crate::db::query(
                tx,
                "SELECT seq, at_ms, actor, body FROM events WHERE chain = $1 AND seq > $2 \
                 ORDER BY seq",
                &[&customer, &op.draft.base_seq.max(0)],
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
        let verdict = decide(
            &dir,
            &kagiya_sync::unseen_by(&after, &op.device_id),
            &op.draft,
            now,
        );
        let seq = match verdict.record {
            Some(kind) => {
                let origin = kagiya_sync::origin(&op.device_id, &op.draft.op_id);
                let e = rt.block_on(apply::event(
                    tx,
                    locked,
                    retry,
                    now,
                    &origin,
                    op.draft.operator.as_deref(),
                    kind,
                ))?;
                if creates {
                    rt.block_on(crate::db::execute(
                        tx,
                        "INSERT INTO branch_customers (branch, contract_key) VALUES ($1, $2) \
                         ON CONFLICT DO NOTHING",
                        &[&branch, &customer],
                    ))
                    .map_err(db)?;
                }
                Some(e.seq)
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
