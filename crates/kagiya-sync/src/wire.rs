//! What travels between a branch and kagiya-server: the bodies of push and pull and their
//! answers. The server and the desktop's client both use these types, so they cannot drift.

use std::collections::BTreeMap;

use kagiya_core::event::StoredEvent;
use kagiya_core::Millis;
use serde::{Deserialize, Serialize};

use crate::{Decided, Op};

/// The paths of the sync API.
pub const ENROLL: &str = "/v1/sync/enroll";
pub const PUSH: &str = "/v1/sync/push";
pub const PULL: &str = "/v1/sync/pull";

/// The most ops one push carries (the server refuses more).
pub const MAX_BATCH: usize = 500;

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct EnrolRequest {
    pub code: String,
    pub public_key: String,
    pub signature: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Enrolled {
    pub device_id: String,
    pub branch: String,
    /// The folded contract numbers the branch serves.
    pub customers: Vec<String>,
}

/// The branch's own audit head, sent with each push and kept as its external anchor.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Anchor {
    pub seq: i64,
    pub hash: String,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct PushRequest {
    pub ops: Vec<Op>,
    #[serde(default)]
    pub anchor: Option<Anchor>,
}

/// One op's outcome as answered.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct OpOutcome {
    pub device_seq: i64,
    #[serde(flatten)]
    pub decided: Decided,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct PushAnswer {
    pub outcomes: Vec<OpOutcome>,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct PullRequest {
    /// Per customer (folded contract number), the last sequence the branch has.
    #[serde(default)]
    pub cursor: BTreeMap<String, i64>,
    #[serde(default)]
    pub limit: Option<i64>,
}

/// One pulled entry: a customer's chain entry exactly as stored (the branch checks the links).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Pulled {
    /// The folded contract number (the chain).
    pub customer: String,
    pub seq: i64,
    pub at: Millis,
    pub actor: Option<String>,
    pub kind: String,
    /// The event body, the exact text the hash covers.
    pub body: String,
    pub prev_hash: String,
    pub hash: String,
}

impl Pulled {
    /// The entry as the audit chain's code reads it.
    pub fn stored(&self) -> StoredEvent {
        StoredEvent {
            seq: self.seq,
            at: self.at,
            actor: self.actor.clone(),
            kind: self.kind.clone(),
            body: self.body.clone(),
            prev_hash: self.prev_hash.clone(),
            hash: self.hash.clone(),
        }
    }

    /// True when this entry is the one that follows (`last_seq`, `last_hash`) in its chain: the
    /// right number, the right link and a hash that covers what it says.
    pub fn follows(&self, last_seq: i64, last_hash: &str) -> bool {
        self.seq == last_seq + 1
            && self.prev_hash == last_hash
            && self.hash
                == kagiya_core::event::chain_hash(
                    &self.prev_hash,
                    self.seq,
                    self.at,
                    self.actor.as_deref(),
                    &self.body,
                )
    }
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct PullAnswer {
    pub entries: Vec<Pulled>,
    pub more: bool,
}
