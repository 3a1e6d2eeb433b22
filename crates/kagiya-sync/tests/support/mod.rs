//! A central store with one seed-004 customer (Business Web: 5 wrong passwords lock for
//! 30 minutes; the third temporary lock is permanent) and the branches that serve it.
#![allow(dead_code)]

use kagiya_core::directory::{CredentialKind, CredentialPolicy, Service, UserRole};
use kagiya_core::event::{EventKind, PasswordSetReason};
use kagiya_core::password::Preset;
use kagiya_core::{Millis, MINUTE};
use kagiya_sync::central::Central;
use kagiya_sync::replica::Replica;
use kagiya_sync::DeviceKey;

pub const CUSTOMER: &str = "C-004";
pub const T0: Millis = 1_800_000_000_000;

pub fn central(users: &[&str]) -> Central {
    let mut c = Central::default();
    let p = Preset::BusinessWeb;
    c.record(
        CUSTOMER,
        T0,
        None,
        EventKind::TenantCreated {
            contract_no: CUSTOMER.into(),
            name: "Shoko Trading".into(),
            services: vec![Service::AdminConsole, Service::UserWeb],
            preset: p,
            login: CredentialPolicy::from_preset(p),
            confirmation: CredentialPolicy::from_preset(p),
        },
    );
    for (i, id) in users.iter().enumerate() {
        c.record(
            CUSTOMER,
            T0,
            None,
            EventKind::UserCreated {
                login_id: (*id).into(),
                contract_no: CUSTOMER.into(),
                name: (*id).into(),
                role: if i == 0 {
                    UserRole::Master
                } else {
                    UserRole::General
                },
                email: None,
            },
        );
        for credential in CredentialKind::BOTH {
            c.record(
                CUSTOMER,
                T0,
                None,
                EventKind::PasswordSet {
                    login_id: (*id).into(),
                    credential,
                    hash: format!("$argon2id$v=19$m=19456,t=2,p=1$c2FsdA${id}"),
                    reason: PasswordSetReason::Initial,
                    must_change: false,
                    temporary: false,
                    expires_at: None,
                    exception: None,
                },
            );
        }
    }
    c
}

/// A branch enrolled for the customer, having pulled everything so far.
pub fn branch(c: &mut Central, name: &str) -> Replica {
    let mut r = Replica::new(name, DeviceKey::generate());
    c.enroll(name, &r.public(), &[CUSTOMER]);
    sync(c, &mut r, T0);
    r
}

/// Push everything pending, then pull.
pub fn sync(c: &mut Central, r: &mut Replica, now: Millis) {
    let ops = r.outbox.clone();
    let decided = c.push(&r.device_id, &ops, now).expect("the push is whole");
    r.acknowledge(&seqs(&ops, &decided));
    let pulled = c.pull(&r.device_id, &r.cursor());
    r.absorb(&pulled).expect("the pull continues the chains");
}

pub fn unlock(login_id: &str) -> EventKind {
    EventKind::UserUnlocked {
        login_id: login_id.into(),
        credentials: vec![CredentialKind::Login],
        batch: None,
        kept_failures: Vec::new(),
    }
}

pub fn minutes(n: i64) -> Millis {
    T0 + n * MINUTE
}

/// Pairs a push's outcomes with the device sequences of the ops they answer.
pub fn seqs(
    ops: &[kagiya_sync::Op],
    decided: &[kagiya_sync::Decided],
) -> Vec<(i64, kagiya_sync::Decided)> {
    ops.iter()
        .map(|o| o.device_seq)
        .zip(decided.iter().cloned())
        .collect()
}

/// Property 4 of issue 14: every wrong login password recorded after `base` (and before the
/// unlock recorded at `seq`) with no right password or other unlock after it is among the
/// failures the unlock kept.
pub fn unseen_failures_kept(
    c: &kagiya_sync::central::Central,
    login_id: &str,
    base: i64,
    seq: i64,
) -> Result<(), String> {
    use kagiya_core::directory::ids::fold;
    let chain = &c.chains[&fold(CUSTOMER)];
    let EventKind::UserUnlocked { kept_failures, .. } = &chain[(seq - 1) as usize].kind else {
        return Err(format!("entry {seq} is not the applied unlock"));
    };
    let me = fold(login_id);
    let mut unseen = Vec::new();
    for e in &chain[base as usize..(seq - 1) as usize] {
        match &e.kind {
            EventKind::CredentialFailed {
                login_id: id,
                credential: CredentialKind::Login,
                right_password,
                ..
            } if fold(id) == me => {
                if *right_password {
                    unseen.clear();
                } else {
                    unseen.push(e.at);
                }
            }
            EventKind::CredentialVerified { login_id: id, .. }
            | EventKind::UserUnlocked { login_id: id, .. }
                if fold(id) == me =>
            {
                unseen.clear();
            }
            _ => {}
        }
    }
    let kept: Vec<Millis> = kept_failures
        .iter()
        .filter(|f| f.address.is_none())
        .map(|f| f.at)
        .collect();
    match unseen.iter().find(|t| !kept.contains(t)) {
        Some(t) => Err(format!("failure at {t} not kept: {kept:?}")),
        None => Ok(()),
    }
}
