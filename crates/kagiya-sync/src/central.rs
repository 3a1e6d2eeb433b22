//! The reference model of the central store: what kagiya-server does on PostgreSQL, in memory.
//! The property tests and the simulation run it, and the server's own tests hold the real store
//! to the same outcomes. One chain per customer; devices with their public keys and the
//! customers their branch serves; every pushed op's outcome kept by (device, device sequence).

use std::collections::{BTreeMap, BTreeSet};

use kagiya_core::directory::ids::fold;
use kagiya_core::directory::{Channel, CredentialKind, Directory};
use kagiya_core::event::EventKind;
use kagiya_core::Millis;

use crate::decide::decide;
use crate::op::{Op, OpFault, DEVICE_GENESIS};
use crate::outcome::Decided;
use crate::Entry;

/// Why a whole push was refused (nothing of it was kept).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PushError {
    UnknownDevice,
    Revoked,
    /// The batch does not continue the device's ops: send again from `expected`.
    Gap {
        expected: i64,
    },
    /// The op at `seq` is not what the device signed.
    Fault {
        seq: i64,
        fault: OpFault,
    },
    /// The op at `seq` does not link to the device's previous op.
    Broken {
        seq: i64,
    },
    /// `seq` was already stored with other contents.
    Reused {
        seq: i64,
    },
}

#[derive(Debug, Clone)]
struct Device {
    public: String,
    customers: BTreeSet<String>,
    revoked: bool,
    last_seq: i64,
    last_hash: String,
    /// Stored ops' hashes and outcomes, by device sequence.
    ops: BTreeMap<i64, (String, Decided)>,
}

/// The central store.
#[derive(Debug, Clone, Default)]
pub struct Central {
    pub dir: Directory,
    /// By folded contract number.
    pub chains: BTreeMap<String, Vec<Entry>>,
    devices: BTreeMap<String, Device>,
}

impl Central {
    /// Records `kind` in its customer's chain and applies it (what every server write does).
    pub fn record(
        &mut self,
        customer: &str,
        at: Millis,
        actor: Option<&str>,
        kind: EventKind,
    ) -> i64 {
        self.record_from(customer, at, actor, None, kind)
    }

    /// As `record`, for an entry that records `device`'s op.
    fn record_from(
        &mut self,
        customer: &str,
        at: Millis,
        actor: Option<&str>,
        device: Option<&str>,
        kind: EventKind,
    ) -> i64 {
        self.dir
            .apply(at, actor, &kind)
            .expect("the model records only what folds");
        let chain = self.chains.entry(fold(customer)).or_default();
        let seq = chain.len() as i64 + 1;
        chain.push(Entry {
            seq,
            at,
            actor: actor.map(str::to_owned),
            device: device.map(str::to_owned),
            kind,
        });
        seq
    }

    pub fn enroll(&mut self, device_id: &str, public: &str, customers: &[&str]) {
        self.devices.insert(
            device_id.to_owned(),
            Device {
                public: public.to_owned(),
                customers: customers.iter().map(|c| fold(c)).collect(),
                revoked: false,
                last_seq: 0,
                last_hash: DEVICE_GENESIS.to_owned(),
                ops: BTreeMap::new(),
            },
        );
    }

    pub fn revoke(&mut self, device_id: &str) {
        if let Some(d) = self.devices.get_mut(device_id) {
            d.revoked = true;
        }
    }

    /// Ingests a batch in device order, all or nothing; returns each op's outcome. Ops already
    /// stored return their stored outcome.
    pub fn push(
        &mut self,
        device_id: &str,
        ops: &[Op],
        now: Millis,
    ) -> Result<Vec<Decided>, PushError> {
        let mut next = self.clone();
        let out = next.push_into(device_id, ops, now)?;
        *self = next;
        Ok(out)
    }

    fn push_into(
        &mut self,
        device_id: &str,
        ops: &[Op],
        now: Millis,
    ) -> Result<Vec<Decided>, PushError> {
        let mut out = Vec::with_capacity(ops.len());
        for op in ops {
            let dev = self
                .devices
                .get(device_id)
                .ok_or(PushError::UnknownDevice)?;
            if dev.revoked {
                return Err(PushError::Revoked);
            }
            if op.device_id != device_id {
                return Err(PushError::Fault {
                    seq: op.device_seq,
                    fault: OpFault::Signature,
                });
            }
            if let Some((hash, decided)) = dev.ops.get(&op.device_seq) {
                if *hash != op.hash {
                    return Err(PushError::Reused { seq: op.device_seq });
                }
                out.push(decided.clone());
                continue;
            }
            if op.device_seq != dev.last_seq + 1 {
                return Err(PushError::Gap {
                    expected: dev.last_seq + 1,
                });
            }
            op.check(&dev.public).map_err(|fault| PushError::Fault {
                seq: op.device_seq,
                fault,
            })?;
            if op.prev_hash != dev.last_hash {
                return Err(PushError::Broken { seq: op.device_seq });
            }
            let decided = self.decide_one(device_id, op, now);
            let dev = self.devices.get_mut(device_id).expect("checked above");
            dev.last_seq = op.device_seq;
            dev.last_hash = op.hash.clone();
            dev.ops
                .insert(op.device_seq, (op.hash.clone(), decided.clone()));
            out.push(decided);
        }
        Ok(out)
    }

    fn decide_one(&mut self, device_id: &str, op: &Op, now: Millis) -> Decided {
        let customer = fold(&op.draft.customer);
        let serves = self.devices[device_id].customers.contains(&customer);
        let creates = matches!(op.draft.event, EventKind::TenantCreated { .. });
        let after: &[Entry] = match self.chains.get(&customer) {
            Some(c) => {
                let from = usize::try_from(op.draft.base_seq.max(0)).unwrap_or(usize::MAX);
                c.get(from..).unwrap_or(&[])
            }
            None => &[],
        };
        let verdict = if serves || creates {
            decide(
                &self.dir,
                &crate::unseen_by(after, device_id),
                &op.draft,
                now,
            )
        } else {
            crate::Verdict {
                outcome: crate::Outcome::Rejected,
                reason: Some(crate::Reason::UnknownCustomer),
                record: None,
            }
        };
        let seq = verdict.record.map(|kind| {
            if creates {
                self.devices
                    .get_mut(device_id)
                    .expect("the pushing device")
                    .customers
                    .insert(customer.clone());
            }
            self.record_from(
                &op.draft.customer,
                now,
                op.draft.operator.as_deref(),
                Some(device_id),
                kind,
            )
        });
        Decided {
            outcome: verdict.outcome,
            reason: verdict.reason,
            seq,
        }
    }

    /// Every entry after `cursor` in the chains of the customers `device_id` serves, in chain
    /// order, with its customer.
    pub fn pull(&self, device_id: &str, cursor: &BTreeMap<String, i64>) -> Vec<(String, Entry)> {
        let Some(dev) = self.devices.get(device_id) else {
            return Vec::new();
        };
        let mut out = Vec::new();
        for c in &dev.customers {
            let from = cursor.get(c).copied().unwrap_or(0);
            if let Some(chain) = self.chains.get(c) {
                let start = usize::try_from(from).unwrap_or(0).min(chain.len());
                out.extend(chain[start..].iter().map(|e| (c.clone(), e.clone())));
            }
        }
        out
    }

    /// An online attempt at the server with the right or a wrong password (what the sign-in
    /// endpoint records: a right password during a lock is refused and marked).
    pub fn attempt(&mut self, login_id: &str, right: bool, now: Millis) -> Option<i64> {
        let u = self.dir.user(login_id)?.clone();
        let t = self.dir.tenant(&u.contract_no)?.clone();
        let policy = t.policy(CredentialKind::Login).lockout;
        let facts = u.login.lockout;
        if let Some(ended_at) = policy.expired_lock(&facts, now) {
            self.record(
                &u.contract_no,
                now,
                None,
                EventKind::CredentialLockReleased {
                    login_id: u.login_id.clone(),
                    credential: CredentialKind::Login,
                    ended_at,
                },
            );
        }
        let u = self.dir.user(login_id)?.clone();
        let facts = u.login.lockout;
        let locked = policy.status(&facts, now).is_locked();
        let kind = if right && !locked {
            EventKind::CredentialVerified {
                login_id: u.login_id.clone(),
                credential: CredentialKind::Login,
                channel: Channel::Web,
                rehash: None,
            }
        } else {
            let (_, outcome) = policy.on_failure(&facts, now);
            EventKind::CredentialFailed {
                login_id: u.login_id.clone(),
                credential: CredentialKind::Login,
                channel: Channel::Web,
                outcome,
                right_password: right,
            }
        };
        Some(self.record(&u.contract_no, now, None, kind))
    }

    /// The directory folded again from every chain: must equal `dir`.
    pub fn refold(&self) -> Directory {
        let mut d = Directory::default();
        for chain in self.chains.values() {
            for e in chain {
                d.apply(e.at, e.actor.as_deref(), &e.kind)
                    .expect("the chains fold");
            }
        }
        d
    }

    /// The outcome stored for a device's op.
    pub fn outcome_of(&self, device_id: &str, device_seq: i64) -> Option<&Decided> {
        self.devices
            .get(device_id)?
            .ops
            .get(&device_seq)
            .map(|(_, d)| d)
    }
}
