//! The reference model of a branch's replica: the chains it pulled for its customers, the ops
//! it made and has not yet seen decided, and the outcomes to review. Its directory is the fold
//! of what was pulled plus what is pending, so the screen shows the branch's own work at once
//! and the decided state after the next pull. The desktop keeps the same three things in its
//! SQLCipher file.

use std::collections::BTreeMap;

use kagiya_core::directory::ids::fold;
use kagiya_core::directory::Directory;
use kagiya_core::event::EventKind;
use kagiya_core::Millis;

use crate::op::{DeviceKey, Op, OpDraft, DEVICE_GENESIS};
use crate::outcome::{Decided, Outcome};
use crate::Entry;

/// A branch PC's sync state.
pub struct Replica {
    pub device_id: String,
    key: DeviceKey,
    /// By folded contract number: the entries pulled, gap-free from 1.
    pub mirror: BTreeMap<String, Vec<Entry>>,
    /// Ops made and not yet decided, in device order.
    pub outbox: Vec<Op>,
    last_seq: i64,
    last_hash: String,
    /// Every op that was decided other than plainly applied, for the review screen.
    pub review: Vec<(Op, Decided)>,
    next_op: u64,
}

impl Replica {
    pub fn new(device_id: &str, key: DeviceKey) -> Replica {
        Replica {
            device_id: device_id.to_owned(),
            key,
            mirror: BTreeMap::new(),
            outbox: Vec::new(),
            last_seq: 0,
            last_hash: DEVICE_GENESIS.to_owned(),
            review: Vec::new(),
            next_op: 0,
        }
    }

    /// The device's public key (for enrolment).
    pub fn public(&self) -> String {
        self.key.public()
    }

    /// The pull cursor: each customer's last pulled sequence.
    pub fn cursor(&self) -> BTreeMap<String, i64> {
        self.mirror
            .iter()
            .map(|(c, e)| (c.clone(), e.last().map_or(0, |e| e.seq)))
            .collect()
    }

    /// Records what the branch's operator did, offline or not: it is pending until decided.
    pub fn act(
        &mut self,
        customer: &str,
        operator: Option<&str>,
        at: Millis,
        event: EventKind,
    ) -> Op {
        self.next_op += 1;
        let draft = OpDraft {
            op_id: format!("{}-{}", self.device_id, self.next_op),
            customer: customer.to_owned(),
            base_seq: self.cursor().get(&fold(customer)).copied().unwrap_or(0),
            operator: operator.map(str::to_owned),
            at,
            event,
        };
        let op = self
            .key
            .seal(&self.device_id, self.last_seq, &self.last_hash, draft);
        self.last_seq = op.device_seq;
        self.last_hash = op.hash.clone();
        self.outbox.push(op.clone());
        op
    }

    /// Takes pulled entries; an entry that does not continue its chain is refused (the pull is
    /// then repeated from the cursor).
    pub fn absorb(&mut self, pulled: &[(String, Entry)]) -> Result<(), i64> {
        for (customer, e) in pulled {
            let chain = self.mirror.entry(customer.clone()).or_default();
            let last = chain.last().map_or(0, |x| x.seq);
            if e.seq <= last {
                continue; // a duplicate delivery
            }
            if e.seq != last + 1 {
                return Err(last + 1);
            }
            chain.push(e.clone());
        }
        Ok(())
    }

    /// Takes the outcomes the server gave, by device sequence: the ops they answer leave the
    /// outbox (a late or repeated answer finds them gone and changes nothing).
    pub fn acknowledge(&mut self, decided: &[(i64, Decided)]) {
        for (seq, d) in decided {
            let Some(i) = self.outbox.iter().position(|o| o.device_seq == *seq) else {
                continue;
            };
            let op = self.outbox.remove(i);
            if d.outcome != Outcome::Applied || d.reason.is_some() {
                self.review.push((op, d.clone()));
            }
        }
    }

    /// What the screens show: the pulled chains folded, then each pending op that still folds.
    pub fn directory(&self) -> Directory {
        let mut d = self.pulled_directory();
        for op in &self.outbox {
            let mut next = d.clone();
            if next
                .apply(op.draft.at, op.draft.operator.as_deref(), &op.draft.event)
                .is_ok()
            {
                d = next;
            }
        }
        d
    }

    /// The pulled chains alone, folded.
    pub fn pulled_directory(&self) -> Directory {
        let mut d = Directory::default();
        for chain in self.mirror.values() {
            for e in chain {
                // The server's chains fold; an entry that does not is left out of the view.
                let _ = d.apply(e.at, e.actor.as_deref(), &e.kind);
            }
        }
        d
    }
}
