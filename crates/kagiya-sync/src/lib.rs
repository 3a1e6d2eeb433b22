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
    pub kind: EventKind,
}
