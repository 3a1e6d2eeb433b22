//! The merge properties of issue 14, on random histories of online attempts, offline branch
//! work and syncs (with duplicate pushes) against the reference central store:
//! 1. replicas that applied the same server log are equal;
//! 2. replaying from scratch equals applying incrementally;
//! 3. duplicate pushes give the same outcomes and record nothing twice;
//! 4. no unlock clears a failure recorded after what its branch had seen;
//! 5. every pushed op ends with an outcome.

mod support;

use std::collections::BTreeMap;

use kagiya_core::directory::{CredentialKind, Service};
use kagiya_core::event::{EventKind, PasswordSetReason};
use kagiya_core::iprules::{IpAction, RuleSet};
use kagiya_core::MINUTE;
use kagiya_sync::central::Central;
use kagiya_sync::replica::Replica;
use kagiya_sync::{DeviceKey, Op, Outcome};
use proptest::prelude::*;
use support::*;

const USERS: [&str; 3] = ["master01", "admin02", "user03"];

#[derive(Debug, Clone)]
enum Act {
    Unlock(usize),
    Reset(usize, u8),
    Suspend(usize),
    Resume(usize),
    Rules(bool),
}

#[derive(Debug, Clone)]
enum Step {
    Online {
        user: usize,
        right: bool,
        minutes: i64,
    },
    Branch {
        branch: usize,
        act: Act,
    },
    Sync {
        branch: usize,
        duplicate: bool,
    },
}

fn step() -> impl Strategy<Value = Step> {
    let act = prop_oneof![
        4 => (0..3usize).prop_map(Act::Unlock),
        2 => (0..3usize, 0..3u8).prop_map(|(u, r)| Act::Reset(u, r)),
        1 => (0..3usize).prop_map(Act::Suspend),
        1 => (0..3usize).prop_map(Act::Resume),
        1 => any::<bool>().prop_map(Act::Rules),
    ];
    prop_oneof![
        6 => (0..3usize, prop::bool::weighted(0.2), 0..20i64)
            .prop_map(|(user, right, minutes)| Step::Online { user, right, minutes }),
        3 => (0..2usize, act).prop_map(|(branch, act)| Step::Branch { branch, act }),
        2 => (0..2usize, any::<bool>()).prop_map(|(branch, duplicate)| Step::Sync { branch, duplicate }),
    ]
}

fn event(act: &Act, n: usize) -> EventKind {
    match act {
        Act::Unlock(u) => unlock(USERS[*u]),
        Act::Reset(u, r) => EventKind::PasswordSet {
            login_id: USERS[*u].into(),
            credential: CredentialKind::Login,
            hash: format!("$argon2id$branch{n}"),
            reason: [
                PasswordSetReason::AdminReset,
                PasswordSetReason::InitRequest,
                PasswordSetReason::OwnChange,
            ][*r as usize],
            must_change: true,
            temporary: true,
            expires_at: None,
            exception: None,
        },
        Act::Suspend(u) => EventKind::UserSuspended {
            login_id: USERS[*u].into(),
        },
        Act::Resume(u) => EventKind::UserResumed {
            login_id: USERS[*u].into(),
        },
        Act::Rules(deny) => EventKind::IpRulesSet {
            contract_no: CUSTOMER.into(),
            service: Service::UserWeb,
            rules: RuleSet {
                default: if *deny {
                    IpAction::Deny
                } else {
                    IpAction::Allow
                },
                rules: vec![RuleSet::parse_rule(&format!("deny 192.0.2.{n}/32")).unwrap()],
                allowed_countries: None,
            },
        },
    }
}

/// Pushes (twice when asked: property 3), checks property 4 for what was applied, pulls.
fn sync_checked(
    c: &mut Central,
    r: &mut Replica,
    now: i64,
    duplicate: bool,
) -> Result<(), TestCaseError> {
    let ops: Vec<Op> = r.outbox.clone();
    let decided = c.push(&r.device_id, &ops, now).expect("whole");
    if duplicate {
        let chains = c.chains.clone();
        let again = c.push(&r.device_id, &ops, now + 1).expect("whole");
        prop_assert_eq!(&again, &decided);
        prop_assert_eq!(&c.chains, &chains);
    }
    for (op, d) in ops.iter().zip(&decided) {
        if let (EventKind::UserUnlocked { login_id, .. }, Some(seq)) = (&op.draft.event, d.seq) {
            let kept = unseen_failures_kept(c, login_id, op.draft.base_seq, seq);
            prop_assert!(kept.is_ok(), "{:?}", kept);
        }
    }
    r.acknowledge(&seqs(&ops, &decided));
    let pulled = c.pull(&r.device_id, &r.cursor());
    r.absorb(&pulled).expect("continues");
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig { cases: cases(), ..ProptestConfig::default() })]
    #[test]
    fn histories_converge_and_keep_every_unseen_failure(steps in prop::collection::vec(step(), 1..60)) {
        let mut c = central(&USERS);
        let mut branches = [branch(&mut c, "branch-a"), branch(&mut c, "branch-b")];
        let mut now = T0;
        let mut made: Vec<(usize, i64)> = Vec::new();
        for (n, s) in steps.iter().enumerate() {
            now += MINUTE;
            match s {
                Step::Online { user, right, minutes } => {
                    now += minutes * MINUTE;
                    c.attempt(USERS[*user], *right, now);
                }
                Step::Branch { branch, act } => {
                    let op = branches[*branch].act(CUSTOMER, Some("op101"), now, event(act, n));
                    made.push((*branch, op.device_seq));
                }
                Step::Sync { branch, duplicate } => {
                    sync_checked(&mut c, &mut branches[*branch], now, *duplicate)?;
                }
            }
        }
        for b in branches.iter_mut() {
            sync_checked(&mut c, b, now + MINUTE, false)?;
        }
        for b in branches.iter_mut() {
            sync_checked(&mut c, b, now + 2 * MINUTE, false)?;
        }
        // 5. Every op has its outcome, stored at the server and seen by its branch.
        for (b, seq) in &made {
            prop_assert!(c.outcome_of(&branches[*b].device_id, *seq).is_some());
            prop_assert!(branches[*b].outbox.is_empty());
        }
        let reviewed: usize = branches.iter().map(|b| b.review.len()).sum();
        let not_plain = made.iter().filter(|(b, seq)| {
            let d = c.outcome_of(&branches[*b].device_id, *seq).unwrap();
            d.outcome != Outcome::Applied || d.reason.is_some()
        }).count();
        prop_assert_eq!(reviewed, not_plain);
        // 1. Both replicas applied the same log: equal to each other and to the server.
        prop_assert_eq!(branches[0].pulled_directory(), branches[1].pulled_directory());
        prop_assert_eq!(&branches[0].directory(), &c.dir);
        // 2. From scratch equals incremental, at the server and at a new branch.
        prop_assert_eq!(&c.refold(), &c.dir);
        let mut fresh = Replica::new("branch-new", DeviceKey::generate());
        c.enroll("branch-new", &fresh.public(), &[CUSTOMER]);
        let all = c.pull("branch-new", &BTreeMap::new());
        fresh.absorb(&all).unwrap();
        prop_assert_eq!(fresh.pulled_directory(), branches[0].pulled_directory());
    }
}

/// 256 histories in the test command (about a second); `KAGIYA_SYNC_CASES` for more.
fn cases() -> u32 {
    std::env::var("KAGIYA_SYNC_CASES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(256)
}
