//! The rebase of an offline unlock (docs/sync.md, the first conflict rule): the unlock acts as if
//! given at `base_seq`, the last entry the branch had seen, so it clears only failures the branch
//! knew of. The customer's entries after `base_seq` are replayed over the unlock with the core's
//! lockout rules, and the wrong passwords among them that still count are what the recorded
//! unlock keeps (`UserUnlocked.kept_failures`); the fold then gives exactly the replayed state.

use kagiya_core::directory::addresses::dup_key;
use kagiya_core::directory::fold::unlocked_keeping;
use kagiya_core::directory::ids::fold;
use kagiya_core::directory::{CredentialKind, Tenant, User};
use kagiya_core::event::{EventKind, KeptFailure};
use kagiya_core::lockout::{FailureOutcome, LockoutFacts, LockoutPolicy};
use kagiya_core::Millis;

use crate::Entry;

/// One password an unlock reaches: the user's own, or an added address's.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Slot {
    Own(CredentialKind),
    Address(String),
}

/// What the rebase found.
pub enum Rebased {
    /// The failures to keep, in order.
    Keep(Vec<KeptFailure>),
    /// A lock that became permanent after `base_seq`: the unlock is rejected.
    PermanentSinceSeen,
}

/// The failures an unlock of `credentials` (and, with the login password, of the added
/// addresses `addresses`) must keep, replaying `after` (entries after `base_seq`, in order).
pub fn kept_failures(
    user: &User,
    tenant: &Tenant,
    credentials: &[CredentialKind],
    addresses: &[String],
    after: &[Entry],
) -> Rebased {
    let mut slots: Vec<Slot> = credentials.iter().map(|k| Slot::Own(*k)).collect();
    if credentials.contains(&CredentialKind::Login) {
        slots.extend(addresses.iter().map(|a| Slot::Address(dup_key(a))));
    }
    let me = fold(&user.login_id);
    let mut kept = Vec::new();
    for slot in &slots {
        let policy = match slot {
            Slot::Own(k) => tenant.policy(*k).lockout,
            Slot::Address(_) => tenant.policy(CredentialKind::Login).lockout,
        };
        let mut replay = Replay::new(policy);
        // A permanent lock recorded after `base_seq` and not lifted since by someone who saw it.
        let mut permanent_unseen = false;
        for e in after {
            match step(&e.kind, &me, slot) {
                Some(Step::Wrong { permanent }) => {
                    permanent_unseen |= permanent;
                    replay.wrong(e.at);
                }
                Some(Step::Right) => replay.right(e.at),
                Some(Step::Unlocked(times)) => {
                    permanent_unseen = false;
                    replay.unlocked(times);
                }
                None => {}
            }
        }
        if permanent_unseen {
            return Rebased::PermanentSinceSeen;
        }
        kept.extend(replay.kept.into_iter().map(|at| KeptFailure {
            credential: match slot {
                Slot::Own(k) => *k,
                Slot::Address(_) => CredentialKind::Login,
            },
            address: match slot {
                Slot::Own(_) => None,
                Slot::Address(a) => Some(address_as_written(addresses, a)),
            },
            at,
        }));
    }
    Rebased::Keep(kept)
}

fn address_as_written(addresses: &[String], key: &str) -> String {
    addresses
        .iter()
        .find(|a| dup_key(a) == key)
        .cloned()
        .unwrap_or_else(|| key.to_owned())
}

/// The lockout of one password replayed from the unlock on.
struct Replay {
    policy: LockoutPolicy,
    facts: LockoutFacts,
    kept: Vec<Millis>,
}

impl Replay {
    fn new(policy: LockoutPolicy) -> Replay {
        Replay {
            policy,
            facts: policy.on_admin_unlock(0),
            kept: Vec::new(),
        }
    }

    fn wrong(&mut self, at: Millis) {
        self.kept.push(at);
        self.facts = self.policy.on_failure(&self.facts, at).0;
    }

    /// A right password: in the rebased timeline it signed in unless the kept failures had
    /// locked again by then, and a sign-in clears the count.
    fn right(&mut self, at: Millis) {
        if !self.policy.status(&self.facts, at).is_locked() {
            self.kept.clear();
            self.facts = self.policy.on_success_keeping(&self.facts);
        }
    }

    /// Another unlock after `base_seq`: it cleared everything before it, keeping its own.
    fn unlocked(&mut self, times: Vec<Millis>) {
        self.facts = unlocked_keeping(&self.policy, 0, times.iter().copied());
        self.kept = times;
    }
}

enum Step {
    Wrong { permanent: bool },
    Right,
    Unlocked(Vec<Millis>),
}

/// What an entry did to the password in `slot` of the user `me` (folded login ID).
fn step(kind: &EventKind, me: &str, slot: &Slot) -> Option<Step> {
    let mine = |id: &str| fold(id) == me;
    let wrong = |outcome: &FailureOutcome, right: bool| {
        if right {
            Step::Right
        } else {
            Step::Wrong {
                permanent: matches!(outcome, FailureOutcome::LockedPermanently { .. }),
            }
        }
    };
    match (kind, slot) {
        (
            EventKind::CredentialFailed {
                login_id,
                credential,
                outcome,
                right_password,
                ..
            },
            Slot::Own(k),
        ) if mine(login_id) && credential == k => Some(wrong(outcome, *right_password)),
        (
            EventKind::CredentialVerified {
                login_id,
                credential,
                ..
            },
            Slot::Own(k),
        ) if mine(login_id) && credential == k => Some(Step::Right),
        (
            EventKind::AddressCredentialFailed {
                login_id,
                address,
                outcome,
                right_password,
                ..
            },
            Slot::Address(a),
        ) if mine(login_id) && dup_key(address) == *a => Some(wrong(outcome, *right_password)),
        (
            EventKind::AddressCredentialVerified {
                login_id, address, ..
            },
            Slot::Address(a),
        ) if mine(login_id) && dup_key(address) == *a => Some(Step::Right),
        (
            EventKind::UserUnlocked {
                login_id,
                credentials,
                kept_failures,
                ..
            },
            slot,
        ) if mine(login_id) => {
            let reached = match slot {
                Slot::Own(k) => credentials.contains(k),
                Slot::Address(_) => credentials.contains(&CredentialKind::Login),
            };
            reached.then(|| {
                Step::Unlocked(
                    kept_failures
                        .iter()
                        .filter(|f| match slot {
                            Slot::Own(k) => f.credential == *k && f.address.is_none(),
                            Slot::Address(a) => {
                                f.address.as_deref().is_some_and(|x| dup_key(x) == *a)
                            }
                        })
                        .map(|f| f.at)
                        .collect(),
                )
            })
        }
        _ => None,
    }
}
