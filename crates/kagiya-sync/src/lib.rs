//! Sync between the branches and kagiya-server (issue 14, docs/sync.md), free of any database or
//! network: the signed op a branch pushes, the conflict rules the server decides it by, and the
//! reference models of the central store and of a branch's replica. The server's PostgreSQL
//! ingest and the desktop's client call the same `decide`, and the property tests and the
//! simulation run these models, so what is proven here is what runs there.

pub mod central;
pub mod decide;
pub mod op;
pub mod outcome;
pub mod rebase;
pub mod replica;
pub mod wire;

use kagiya_core::event::EventKind;
use kagiya_core::Millis;
use serde::{Deserialize, Serialize};

pub use decide::{decide, Verdict};
pub use op::{DeviceKey, Op, OpDraft};
pub use outcome::{Decided, Outcome, Reason};

/// One entry of a customer's chain as sync reads it: its place, the server's time, who acted and
/// what happened.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Entry {
    pub seq: i64,
    pub at: Millis,
    pub actor: Option<String>,
    /// The device whose op the entry records, if it records one.
    pub device: Option<String>,
    pub kind: EventKind,
}

/// The origin a sync entry is recorded with at the server.
pub fn origin(device_id: &str, op_id: &str) -> String {
    format!("sync device={device_id} op={op_id}")
}

/// The device named in an entry's origin (see `origin`).
pub fn device_of(origin: Option<&str>) -> Option<String> {
    let o = origin?.strip_prefix("sync ")?;
    o.split_whitespace()
        .find_map(|p| p.strip_prefix("device="))
        .map(str::to_owned)
}

/// The entries after `base_seq` that the pushing device had not seen: its own earlier ops it
/// knew of when it acted, whether or not it had pulled them back yet.
pub fn unseen_by(after: &[Entry], device_id: &str) -> Vec<Entry> {
    after
        .iter()
        .filter(|e| e.device.as_deref() != Some(device_id))
        .cloned()
        .collect()
}
