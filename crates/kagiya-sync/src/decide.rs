//! The conflict rules (docs/sync.md): a branch's op decided again against the central state, by
//! server order and `base_seq`, never by a device's clock. Pure: the same function decides in the
//! server's PostgreSQL transaction, in the reference model the properties test, and in the
//! simulations, so none of them can drift from the others.

use kagiya_core::directory::addresses::{dup_key, find};
use kagiya_core::directory::fold::{rules_key, unlocked_keeping};
use kagiya_core::directory::ids::fold;
use kagiya_core::directory::{CredentialKind, Directory};
use kagiya_core::event::{EventKind, PasswordSetReason};
use kagiya_core::lockout::FailureOutcome;
use kagiya_core::Millis;

use crate::outcome::{Outcome, Reason};
use crate::rebase::{kept_failures, Rebased};
use crate::{Entry, OpDraft};

/// What to do with an op.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Verdict {
    pub outcome: Outcome,
    pub reason: Option<Reason>,
    /// The event to record in the customer's chain (for `applied` only).
    pub record: Option<EventKind>,
}

impl Verdict {
    fn applied(record: EventKind, reason: Option<Reason>) -> Verdict {
        Verdict {
            outcome: Outcome::Applied,
            reason,
            record: Some(record),
        }
    }

    fn not(outcome: Outcome, reason: Reason) -> Verdict {
        Verdict {
            outcome,
            reason: Some(reason),
            record: None,
        }
    }
}

/// The customer (contract number) an event names itself, if it names one.
pub fn named_customer(kind: &EventKind) -> Option<&str> {
    match kind {
        EventKind::TenantCreated { contract_no, .. }
        | EventKind::TenantPolicyChanged { contract_no, .. }
        | EventKind::UserCreated { contract_no, .. }
        | EventKind::IpRulesSet { contract_no, .. }
        | EventKind::IpRestrictionsReleased { contract_no, .. } => Some(contract_no),
        EventKind::InitRequestRecorded { request } => Some(&request.contract_no),
        _ => None,
    }
}

/// The customer (contract number) an event belongs to, read from the event or the directory.
/// `None` for what no customer owns (trusted roots, the country table) or a user the
/// directory does not have.
pub fn customer_of(dir: &Directory, kind: &EventKind) -> Option<String> {
    use kagiya_core::directory::fold::{address_user_of, request_of, user_of};
    if let Some(c) = named_customer(kind) {
        return Some(c.to_owned());
    }
    if let Some(no) = request_of(kind) {
        return dir
            .init_requests
            .get(&fold(no))
            .map(|r| r.contract_no.clone());
    }
    let id = user_of(kind).or_else(|| address_user_of(kind))?;
    dir.user(id).map(|u| u.contract_no.clone())
}

/// Decides `op` against `dir` (the central state: at least the op's customer, the user it
/// concerns with their addresses, and the customer's rules), given `after`, the customer's chain
/// entries after `op.base_seq`, in order; `now` is the server's time.
pub fn decide(dir: &Directory, after: &[Entry], op: &OpDraft, now: Millis) -> Verdict {
    let kind = &op.event;
    // The server's own record of its mail is never a branch's to make.
    if matches!(
        kind,
        EventKind::TrustedRootAdded { .. }
            | EventKind::CountryTableImported { .. }
            | EventKind::MailUndelivered { .. }
    ) || kind.scope() != kagiya_core::event::Scope::Directory
    {
        return Verdict::not(Outcome::Rejected, Reason::NotShared);
    }
    if let Some(v) = identity(dir, op) {
        return v;
    }
    let verdict = match kind {
        EventKind::UserUnlocked {
            login_id,
            credentials,
            batch,
            ..
        } => unlock(dir, after, login_id, credentials, batch.clone(), now),
        EventKind::CredentialFailed {
            login_id,
            credential,
            channel,
            ..
        } => failure(dir, login_id, *credential, now, |outcome| {
            EventKind::CredentialFailed {
                login_id: login_id.clone(),
                credential: *credential,
                channel: *channel,
                outcome,
                // A device's word that the password was right is not taken: a later rebase
                // would let it clear the failures before it. Counted as wrong (the safe side).
                right_password: false,
            }
        }),
        EventKind::AddressCredentialFailed {
            login_id,
            address,
            channel,
            ..
        } => address_failure(dir, login_id, address, now, |outcome| {
            EventKind::AddressCredentialFailed {
                login_id: login_id.clone(),
                address: address.clone(),
                channel: *channel,
                outcome,
                right_password: false,
            }
        }),
        EventKind::CredentialVerified {
            login_id,
            credential,
            ..
        } => verified(dir, after, login_id, Some(*credential), None, kind, now),
        EventKind::AddressCredentialVerified {
            login_id, address, ..
        } => verified(dir, after, login_id, None, Some(address), kind, now),
        EventKind::CredentialLockReleased {
            login_id,
            credential,
            ..
        } => release(dir, login_id, *credential, now),
        EventKind::PasswordSet {
            login_id,
            credential,
            reason,
            ..
        } => password(dir, after, login_id, *credential, *reason, kind),
        EventKind::UserResumed { login_id } => {
            let suspended = after.iter().any(|e| {
                matches!(&e.kind, EventKind::UserSuspended { login_id: x } if fold(x) == fold(login_id))
            });
            if suspended {
                Verdict::not(Outcome::Superseded, Reason::SuspendedSinceSeen)
            } else {
                Verdict::applied(kind.clone(), None)
            }
        }
        EventKind::IpRestrictionsReleased { until, .. }
            if *until
                > now
                    + i64::from(kagiya_core::iprules::MAX_RELEASE_MINUTES)
                        * kagiya_core::MINUTE =>
        {
            Verdict::not(
                Outcome::Rejected,
                Reason::NotApplicable {
                    detail: "ip_release_too_long".into(),
                },
            )
        }
        EventKind::IpRulesSet {
            contract_no,
            service,
            rules,
        } => {
            let changed = after.iter().any(|e| {
                matches!(&e.kind, EventKind::IpRulesSet { contract_no: c, service: s, .. }
                    if fold(c) == fold(contract_no) && s == service)
            });
            if changed {
                let current = dir
                    .ip_rules
                    .get(&rules_key(contract_no, *service))
                    .cloned()
                    .unwrap_or_default();
                Verdict::applied(
                    EventKind::IpRulesSet {
                        contract_no: contract_no.clone(),
                        service: *service,
                        rules: current.restrictive_merge(rules),
                    },
                    Some(Reason::RulesMerged),
                )
            } else {
                Verdict::applied(kind.clone(), None)
            }
        }
        _ => match address_of(kind) {
            Some((login_id, address)) => address_op(dir, after, login_id, address, kind),
            None => Verdict::applied(kind.clone(), None),
        },
    };
    validated(dir, op, verdict, now)
}

/// Creations that would take a name someone else has, and ops about what does not exist.
fn identity(dir: &Directory, op: &OpDraft) -> Option<Verdict> {
    let rejected = |r| Some(Verdict::not(Outcome::Rejected, r));
    let taken = match &op.event {
        EventKind::TenantCreated { contract_no, .. } => dir
            .tenant(contract_no)
            .is_some()
            .then_some(Reason::ContractTaken),
        EventKind::UserCreated {
            login_id,
            contract_no,
            ..
        } => {
            if dir.user(login_id).is_some() {
                Some(Reason::LoginIdTaken)
            } else {
                dir.tenant(contract_no)
                    .is_none()
                    .then_some(Reason::UnknownCustomer)
            }
        }
        EventKind::AddressAdded {
            login_id, address, ..
        } => dir
            .addresses
            .get(&fold(login_id))
            .is_some_and(|l| find(l, address).is_some())
            .then_some(Reason::AddressTaken),
        EventKind::InitRequestRecorded { request } => dir
            .init_requests
            .contains_key(&fold(&request.request_no))
            .then_some(Reason::RequestTaken),
        // A first password for a login ID whose creation was refused must never land on the
        // user who holds that ID.
        EventKind::PasswordSet {
            login_id,
            credential,
            reason: PasswordSetReason::Initial,
            ..
        } => dir
            .user(login_id)
            .is_some_and(|u| u.credential(*credential).initial_hash.is_some())
            .then_some(Reason::LoginIdTaken),
        _ => None,
    };
    if let Some(r) = taken {
        return rejected(r);
    }
    match customer_of(dir, &op.event) {
        None if dir.tenant(&op.customer).is_none() => rejected(Reason::UnknownCustomer),
        None => rejected(Reason::UnknownUser),
        // An op sent as one customer's about another's: refused as if the user were unknown.
        Some(c) if fold(&c) != fold(&op.customer) => rejected(Reason::UnknownUser),
        Some(_) if dir.tenant(&op.customer).is_none() && !is_tenant_creation(&op.event) => {
            rejected(Reason::UnknownCustomer)
        }
        Some(_) => None,
    }
}

fn is_tenant_creation(kind: &EventKind) -> bool {
    matches!(kind, EventKind::TenantCreated { .. })
}

/// Checks the recorded event folds onto the central state (the fold is the one judge of what an
/// event may do); a refusal becomes `rejected` with the rule's code.
fn validated(dir: &Directory, op: &OpDraft, v: Verdict, now: Millis) -> Verdict {
    let Some(record) = &v.record else {
        return v;
    };
    let mut d = dir.clone();
    match d.apply(now, op.operator.as_deref(), record) {
        Ok(()) => v,
        Err(e) => Verdict::not(
            Outcome::Rejected,
            Reason::NotApplicable {
                detail: e.code().to_owned(),
            },
        ),
    }
}

fn unknown_user() -> Verdict {
    Verdict::not(Outcome::Rejected, Reason::UnknownUser)
}

fn unlock(
    dir: &Directory,
    after: &[Entry],
    login_id: &str,
    credentials: &[CredentialKind],
    batch: Option<String>,
    now: Millis,
) -> Verdict {
    let Some(u) = dir.user(login_id) else {
        return unknown_user();
    };
    let Some(t) = dir.tenant(&u.contract_no) else {
        return Verdict::not(Outcome::Rejected, Reason::UnknownCustomer);
    };
    let with_passwords: Vec<String> = dir
        .addresses
        .get(&fold(login_id))
        .map(|l| {
            l.iter()
                .filter(|a| a.credential.is_some())
                .map(|a| a.address.clone())
                .collect()
        })
        .unwrap_or_default();
    let kept = match kept_failures(u, t, credentials, &with_passwords, after) {
        Rebased::PermanentSinceSeen => {
            return Verdict::not(Outcome::Rejected, Reason::PermanentSinceSeen)
        }
        Rebased::Keep(k) => k,
    };
    let failures = kept.len() as u32;
    let locked_again = credentials.iter().any(|k| {
        let policy = t.policy(*k).lockout;
        let times = kept
            .iter()
            .filter(|f| f.credential == *k && f.address.is_none())
            .map(|f| f.at);
        policy
            .status(&unlocked_keeping(&policy, now, times), now)
            .is_locked()
    }) || with_passwords.iter().any(|a| {
        let policy = t.policy(CredentialKind::Login).lockout;
        let times = kept
            .iter()
            .filter(|f| {
                f.address
                    .as_deref()
                    .is_some_and(|x| dup_key(x) == dup_key(a))
            })
            .map(|f| f.at);
        credentials.contains(&CredentialKind::Login)
            && policy
                .status(&unlocked_keeping(&policy, now, times), now)
                .is_locked()
    });
    let reason = if locked_again {
        Some(Reason::LockedAgain { failures })
    } else if failures > 0 {
        Some(Reason::FailuresKept { failures })
    } else {
        None
    };
    Verdict::applied(
        EventKind::UserUnlocked {
            login_id: u.login_id.clone(),
            credentials: credentials.to_vec(),
            batch,
            kept_failures: kept,
        },
        reason,
    )
}

/// A wrong password recorded at the branch: counted against the central state now.
fn failure(
    dir: &Directory,
    login_id: &str,
    credential: CredentialKind,
    now: Millis,
    record: impl Fn(FailureOutcome) -> EventKind,
) -> Verdict {
    let Some(u) = dir.user(login_id) else {
        return unknown_user();
    };
    let Some(t) = dir.tenant(&u.contract_no) else {
        return Verdict::not(Outcome::Rejected, Reason::UnknownCustomer);
    };
    let (_, outcome) = t
        .policy(credential)
        .lockout
        .on_failure(&u.credential(credential).lockout, now);
    Verdict::applied(record(outcome), None)
}

fn address_failure(
    dir: &Directory,
    login_id: &str,
    address: &str,
    now: Millis,
    record: impl Fn(FailureOutcome) -> EventKind,
) -> Verdict {
    let Some(u) = dir.user(login_id) else {
        return unknown_user();
    };
    let list = dir.addresses.get(&fold(login_id)).map(Vec::as_slice);
    let (Some(t), Some(c)) = (
        dir.tenant(&u.contract_no),
        list.and_then(|l| find(l, address))
            .and_then(|a| a.credential.as_ref()),
    ) else {
        return Verdict::not(Outcome::Rejected, Reason::AddressDeleted);
    };
    let (_, outcome) = t
        .policy(CredentialKind::Login)
        .lockout
        .on_failure(&c.lockout, now);
    Verdict::applied(record(outcome), None)
}

/// A right password checked at the branch clears counts, so it applies only when no failure the
/// branch did not see would be cleared with them, and never through a lock.
fn verified(
    dir: &Directory,
    after: &[Entry],
    login_id: &str,
    credential: Option<CredentialKind>,
    address: Option<&String>,
    kind: &EventKind,
    now: Millis,
) -> Verdict {
    let Some(u) = dir.user(login_id) else {
        return unknown_user();
    };
    let me = fold(login_id);
    // Failures, or a new password, after what the branch saw: its check cannot clear the one
    // nor stand for the other.
    let unseen = after.iter().any(|e| match (&e.kind, credential, address) {
        (
            EventKind::CredentialFailed {
                login_id,
                credential: c,
                ..
            }
            | EventKind::PasswordSet {
                login_id,
                credential: c,
                ..
            },
            Some(k),
            _,
        ) => fold(login_id) == me && *c == k,
        (
            EventKind::AddressCredentialFailed {
                login_id,
                address: a,
                ..
            }
            | EventKind::AddressPasswordSet {
                login_id,
                address: a,
                ..
            },
            _,
            Some(x),
        ) => fold(login_id) == me && dup_key(a) == dup_key(x),
        _ => false,
    });
    let Some(t) = dir.tenant(&u.contract_no) else {
        return Verdict::not(Outcome::Rejected, Reason::UnknownCustomer);
    };
    let locked = match (credential, address) {
        (Some(k), _) => t
            .policy(k)
            .lockout
            .status(&u.credential(k).lockout, now)
            .is_locked(),
        (None, Some(a)) => dir
            .addresses
            .get(&me)
            .and_then(|l| find(l, a))
            .and_then(|x| x.credential.as_ref())
            .is_none_or(|c| {
                t.policy(CredentialKind::Login)
                    .lockout
                    .status(&c.lockout, now)
                    .is_locked()
            }),
        (None, None) => true,
    };
    if unseen || locked {
        return Verdict::not(Outcome::Superseded, Reason::FailuresSinceSeen);
    }
    // A new hash made at the branch from the password it checked is not taken: the server's
    // own checks upgrade hashes.
    let kind = match kind.clone() {
        EventKind::CredentialVerified {
            login_id,
            credential,
            channel,
            ..
        } => EventKind::CredentialVerified {
            login_id,
            credential,
            channel,
            rehash: None,
        },
        EventKind::AddressCredentialVerified {
            login_id,
            address,
            channel,
            ..
        } => EventKind::AddressCredentialVerified {
            login_id,
            address,
            channel,
            rehash: None,
        },
        other => other,
    };
    Verdict::applied(kind, None)
}

/// The end of a temporary lock is the server's to observe, at its own time.
fn release(dir: &Directory, login_id: &str, credential: CredentialKind, now: Millis) -> Verdict {
    let Some(u) = dir.user(login_id) else {
        return unknown_user();
    };
    let ended = dir.tenant(&u.contract_no).and_then(|t| {
        t.policy(credential)
            .lockout
            .expired_lock(&u.credential(credential).lockout, now)
    });
    match ended {
        Some(ended_at) => Verdict::applied(
            EventKind::CredentialLockReleased {
                login_id: u.login_id.clone(),
                credential,
                ended_at,
            },
            None,
        ),
        None => Verdict::not(Outcome::Superseded, Reason::ServerObservesRelease),
    }
}

/// How a password set ranks against a concurrent one (docs/sync.md): a reset for compromise —
/// here the initialization request, made in person — beats everything; the user's own change
/// beats an administrator's reset for a forgotten password; equal ranks: the later in server
/// order wins.
pub fn rank(reason: PasswordSetReason) -> u8 {
    match reason {
        PasswordSetReason::InitRequest => 3,
        PasswordSetReason::OwnChange
        | PasswordSetReason::MailReset
        | PasswordSetReason::ExpiredChange
        | PasswordSetReason::ForcedChange => 2,
        PasswordSetReason::AdminReset => 1,
        PasswordSetReason::Initial => 0,
    }
}

fn password(
    dir: &Directory,
    after: &[Entry],
    login_id: &str,
    credential: CredentialKind,
    reason: PasswordSetReason,
    kind: &EventKind,
) -> Verdict {
    if dir.user(login_id).is_none() {
        return unknown_user();
    }
    let me = fold(login_id);
    let top = after
        .iter()
        .filter_map(|e| match &e.kind {
            EventKind::PasswordSet {
                login_id,
                credential: c,
                reason,
                ..
            } if fold(login_id) == me && *c == credential => Some(*reason),
            _ => None,
        })
        .max_by_key(|r| rank(*r));
    match top {
        Some(by) if rank(by) > rank(reason) => {
            Verdict::not(Outcome::Superseded, Reason::NewerPassword { by })
        }
        _ => Verdict::applied(kind.clone(), None),
    }
}

/// The user and address an address op concerns (not the creation of one).
fn address_of(kind: &EventKind) -> Option<(&str, &str)> {
    match kind {
        EventKind::AddressChangeRequested {
            login_id, address, ..
        }
        | EventKind::AddressChangeConfirmed {
            login_id, address, ..
        }
        | EventKind::AddressDeleted { login_id, address }
        | EventKind::AddressFlagsSet {
            login_id, address, ..
        }
        | EventKind::CertificateImported {
            login_id, address, ..
        }
        | EventKind::MfaEnrolled { login_id, address }
        | EventKind::OneTimeIssued {
            login_id, address, ..
        }
        | EventKind::OneTimeFailed {
            login_id, address, ..
        }
        | EventKind::OneTimeUsed {
            login_id, address, ..
        }
        | EventKind::AddressPasswordSet {
            login_id, address, ..
        } => Some((login_id, address)),
        _ => None,
    }
}

/// Ops on an address: a deleted address is a tombstone — a certificate for it is kept for review
/// (quarantined), anything else about it is rejected — even when it was added again since.
fn address_op(
    dir: &Directory,
    after: &[Entry],
    login_id: &str,
    address: &str,
    kind: &EventKind,
) -> Verdict {
    let me = fold(login_id);
    let key = dup_key(address);
    let deleted = after.iter().any(|e| {
        matches!(&e.kind, EventKind::AddressDeleted { login_id, address }
            if fold(login_id) == me && dup_key(address) == key)
    });
    let live = dir
        .addresses
        .get(&me)
        .is_some_and(|l| find(l, address).is_some());
    if deleted || !live {
        let outcome = if matches!(kind, EventKind::CertificateImported { .. }) {
            Outcome::Quarantined
        } else {
            Outcome::Rejected
        };
        return Verdict::not(outcome, Reason::AddressDeleted);
    }
    Verdict::applied(kind.clone(), None)
}
