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

/// Replaces in `d` everything of the customer `customer` (folded contract number) with what
/// `from` holds of it: its tenant, its users with their addresses, its initialization requests,
/// its IP rules and release. A branch's tables for a served customer are the server's fold.
pub fn replace_customer(
    d: &mut kagiya_core::directory::Directory,
    from: &kagiya_core::directory::Directory,
    customer: &str,
) {
    use kagiya_core::directory::ids::fold;
    let mine = |contract_no: &str| fold(contract_no) == customer;
    let gone: Vec<String> = d
        .users
        .iter()
        .filter(|(_, u)| mine(&u.contract_no))
        .map(|(k, _)| k.clone())
        .collect();
    for k in &gone {
        d.users.remove(k);
        d.addresses.remove(k);
    }
    d.tenants.remove(customer);
    d.init_requests.retain(|_, r| !mine(&r.contract_no));
    let prefix = format!("{customer}/");
    d.ip_rules.retain(|k, _| !k.starts_with(&prefix));
    d.ip_releases.remove(customer);
    for (k, u) in from.users.iter().filter(|(_, u)| mine(&u.contract_no)) {
        d.users.insert(k.clone(), u.clone());
        if let Some(a) = from.addresses.get(k) {
            d.addresses.insert(k.clone(), a.clone());
        }
    }
    if let Some(t) = from.tenants.get(customer) {
        d.tenants.insert(customer.to_owned(), t.clone());
    }
    for (k, r) in from
        .init_requests
        .iter()
        .filter(|(_, r)| mine(&r.contract_no))
    {
        d.init_requests.insert(k.clone(), r.clone());
    }
    for (k, r) in from.ip_rules.iter().filter(|(k, _)| k.starts_with(&prefix)) {
        d.ip_rules.insert(k.clone(), r.clone());
    }
    if let Some(u) = from.ip_releases.get(customer) {
        d.ip_releases.insert(customer.to_owned(), *u);
    }
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

/// The entries after `base_seq` that the pushing device had not seen: all but its own earlier
/// intents (unlocks, suspensions, password sets, rules…), which it knew of when it acted whether
/// or not it had pulled them back yet. Its own attempts stay in: the server decided them again
/// against a state the branch did not know (a failure recorded offline may have locked for good
/// at the server), so they count as unseen.
pub fn unseen_by(after: &[Entry], device_id: &str) -> Vec<Entry> {
    after
        .iter()
        .filter(|e| e.device.as_deref() != Some(device_id) || decided_again(&e.kind))
        .cloned()
        .collect()
}

/// Whether the server records a kind from a branch as decided again against its own state
/// (an attempt's outcome), rather than as the branch's intent.
pub fn decided_again(kind: &EventKind) -> bool {
    matches!(
        kind,
        EventKind::CredentialFailed { .. }
            | EventKind::AddressCredentialFailed { .. }
            | EventKind::CredentialVerified { .. }
            | EventKind::AddressCredentialVerified { .. }
            | EventKind::CredentialLockReleased { .. }
    )
}
