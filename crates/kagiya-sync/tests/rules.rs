//! The conflict rules of docs/sync.md, one scenario each, on the reference central store.

mod support;

use kagiya_core::directory::CredentialKind;
use kagiya_core::directory::Service;
use kagiya_core::event::{EventKind, PasswordSetReason};
use kagiya_core::iprules::{IpAction, RuleSet};
use kagiya_core::lockout::LockStatus;
use kagiya_sync::central::PushError;
use kagiya_sync::{Outcome, Reason};
use support::*;

fn login_status(c: &kagiya_sync::central::Central, id: &str, now: i64) -> LockStatus {
    let u = c.dir.user(id).unwrap();
    let t = c.dir.tenant(&u.contract_no).unwrap();
    t.policy(CredentialKind::Login)
        .lockout
        .status(&u.login.lockout, now)
}

/// Seed 004: 「誤ったログインパスワードを一定回数入力すると、一時的に利用停止の状態になります」.
/// The branch unlocks offline what it saw locked; meanwhile the user keeps failing online. The
/// unlock clears only what the branch had seen, and the failures after it lock again.
#[test]
fn an_offline_unlock_clears_only_the_failures_the_branch_had_seen() {
    let mut c = central(&["master01"]);
    let mut a = branch(&mut c, "branch-a");
    for i in 0..5 {
        c.attempt("master01", false, minutes(i));
    }
    assert!(login_status(&c, "master01", minutes(5)).is_locked());
    sync(&mut c, &mut a, minutes(6));
    // Offline from here: the branch unlocks what it saw.
    a.act(CUSTOMER, Some("op101"), minutes(7), unlock("master01"));
    // Online meanwhile: the lock runs out at 34; five more wrong passwords lock it again.
    for i in 0..5 {
        c.attempt("master01", false, minutes(40 + i));
    }
    sync(&mut c, &mut a, minutes(50));
    let (_, d) = a.review.last().expect("the unlock is reviewed");
    assert_eq!(d.outcome, Outcome::Applied);
    assert_eq!(d.reason, Some(Reason::LockedAgain { failures: 5 }));
    assert!(login_status(&c, "master01", minutes(50)).is_locked());
    // The branch shows the decided state.
    assert_eq!(a.pulled_directory(), c.dir);
    assert_eq!(c.refold(), c.dir);
}

#[test]
fn failures_before_the_branch_saw_them_are_cleared_and_later_ones_kept() {
    let mut c = central(&["master01"]);
    let mut a = branch(&mut c, "branch-a");
    for i in 0..5 {
        c.attempt("master01", false, minutes(i));
    }
    sync(&mut c, &mut a, minutes(6));
    a.act(CUSTOMER, Some("op101"), minutes(7), unlock("master01"));
    // Still locked online (the lock runs to 34): these are refused, yet they were wrong
    // passwords, and after the unlock they count.
    c.attempt("master01", false, minutes(10));
    c.attempt("master01", false, minutes(11));
    sync(&mut c, &mut a, minutes(12));
    let (_, d) = a.review.last().unwrap();
    assert_eq!(d.reason, Some(Reason::FailuresKept { failures: 2 }));
    assert_eq!(
        login_status(&c, "master01", minutes(12)),
        LockStatus::Open { failures: 2 }
    );
    // Three more lock it: the two kept ones were not lost.
    for i in 0..3 {
        c.attempt("master01", false, minutes(13 + i));
    }
    assert!(login_status(&c, "master01", minutes(16)).is_locked());
}

#[test]
fn a_right_password_refused_during_the_lock_is_not_counted_after_the_rebase() {
    let mut c = central(&["master01"]);
    let mut a = branch(&mut c, "branch-a");
    for i in 0..5 {
        c.attempt("master01", false, minutes(i));
    }
    sync(&mut c, &mut a, minutes(6));
    a.act(CUSTOMER, Some("op101"), minutes(7), unlock("master01"));
    c.attempt("master01", false, minutes(8));
    // The right password, refused because of the lock: in the rebased timeline it signed in.
    c.attempt("master01", true, minutes(9));
    c.attempt("master01", false, minutes(10));
    sync(&mut c, &mut a, minutes(12));
    assert_eq!(
        login_status(&c, "master01", minutes(12)),
        LockStatus::Open { failures: 1 }
    );
}

/// Seed 004: 「利用停止状態は、自動的に解除されることはありません」 — a permanent stop that the
/// branch did not see is not lifted by its offline unlock.
#[test]
fn an_unlock_of_a_lock_that_became_permanent_afterwards_is_rejected() {
    let mut c = central(&["master01"]);
    let mut a = branch(&mut c, "branch-a");
    a.act(CUSTOMER, Some("op101"), minutes(0), unlock("master01"));
    // Three temporary locks online, the last permanent (Business Web: permanent_after 3 → the
    // fourth crossing).
    let mut t = 1;
    for _ in 0..4 {
        for _ in 0..5 {
            c.attempt("master01", false, minutes(t));
            t += 1;
        }
        t += 31;
    }
    assert!(matches!(
        login_status(&c, "master01", minutes(t)),
        LockStatus::LockedPermanently { .. }
    ));
    sync(&mut c, &mut a, minutes(t));
    let (_, d) = a.review.last().unwrap();
    assert_eq!(d.outcome, Outcome::Rejected);
    assert_eq!(d.reason, Some(Reason::PermanentSinceSeen));
    assert!(d.seq.is_none());
    assert!(login_status(&c, "master01", minutes(t)).is_locked());
    // Japanese and English, with what to do next.
    let r = d.reason.as_ref().unwrap();
    assert!(r.message(kagiya_core::Lang::Ja).contains("永久"));
    assert!(r.next_step(kagiya_core::Lang::En).contains("unlock again"));
}

fn reset(id: &str, reason: PasswordSetReason, hash: &str) -> EventKind {
    EventKind::PasswordSet {
        login_id: id.into(),
        credential: CredentialKind::Login,
        hash: hash.into(),
        reason,
        must_change: reason != PasswordSetReason::OwnChange,
        temporary: reason == PasswordSetReason::AdminReset,
        expires_at: None,
        exception: None,
    }
}

#[test]
fn the_users_own_change_beats_an_offline_reset_for_a_forgotten_password() {
    let mut c = central(&["master01", "user02"]);
    let mut a = branch(&mut c, "branch-a");
    a.act(
        CUSTOMER,
        Some("op101"),
        minutes(1),
        reset("user02", PasswordSetReason::AdminReset, "$argon2id$branch"),
    );
    c.record(
        CUSTOMER,
        minutes(2),
        Some("user02"),
        reset("user02", PasswordSetReason::OwnChange, "$argon2id$own"),
    );
    sync(&mut c, &mut a, minutes(3));
    let (_, d) = a.review.last().unwrap();
    assert_eq!(d.outcome, Outcome::Superseded);
    assert_eq!(
        d.reason,
        Some(Reason::NewerPassword {
            by: PasswordSetReason::OwnChange
        })
    );
    assert_eq!(c.dir.user("user02").unwrap().login.hash, "$argon2id$own");
}

#[test]
fn an_initialization_request_beats_the_users_change_and_two_resets_go_by_server_order() {
    let mut c = central(&["master01", "user02"]);
    let mut a = branch(&mut c, "branch-a");
    let mut b = branch(&mut c, "branch-b");
    a.act(
        CUSTOMER,
        Some("op101"),
        minutes(1),
        reset("user02", PasswordSetReason::InitRequest, "$argon2id$init"),
    );
    c.record(
        CUSTOMER,
        minutes(2),
        Some("user02"),
        reset("user02", PasswordSetReason::OwnChange, "$argon2id$own"),
    );
    sync(&mut c, &mut a, minutes(3));
    assert_eq!(c.dir.user("user02").unwrap().login.hash, "$argon2id$init");
    assert!(c.dir.user("user02").unwrap().login.must_change);

    a.act(
        CUSTOMER,
        Some("op101"),
        minutes(4),
        reset("master01", PasswordSetReason::AdminReset, "$argon2id$a"),
    );
    b.act(
        CUSTOMER,
        Some("op201"),
        minutes(4),
        reset("master01", PasswordSetReason::AdminReset, "$argon2id$b"),
    );
    sync(&mut c, &mut a, minutes(5));
    sync(&mut c, &mut b, minutes(6));
    assert_eq!(c.dir.user("master01").unwrap().login.hash, "$argon2id$b");
}

#[test]
fn an_op_on_an_address_deleted_meanwhile_is_refused_and_misses_the_address_added_again() {
    use kagiya_core::directory::addresses::Purpose;
    let mut c = central(&["master01"]);
    c.record(
        CUSTOMER,
        minutes(0),
        None,
        EventKind::AddressAdded {
            login_id: "master01".into(),
            address: "keiri@example.jp".into(),
            purposes: vec![Purpose::Notifications],
        },
    );
    let mut a = branch(&mut c, "branch-a");
    // The branch sets the address's flags; the server deletes it and adds it again.
    a.act(
        CUSTOMER,
        Some("op101"),
        minutes(1),
        EventKind::AddressFlagsSet {
            login_id: "master01".into(),
            address: "keiri@example.jp".into(),
            sign: true,
            encrypt: false,
        },
    );
    c.record(
        CUSTOMER,
        minutes(2),
        None,
        EventKind::AddressDeleted {
            login_id: "master01".into(),
            address: "keiri@example.jp".into(),
        },
    );
    c.record(
        CUSTOMER,
        minutes(3),
        None,
        EventKind::AddressAdded {
            login_id: "master01".into(),
            address: "KEIRI@example.jp".into(),
            purposes: vec![Purpose::Notifications],
        },
    );
    sync(&mut c, &mut a, minutes(4));
    let (_, d) = a.review.last().unwrap();
    assert_eq!(
        (d.outcome, d.reason.clone()),
        (Outcome::Rejected, Some(Reason::AddressDeleted))
    );
    // The re-added address is a new one: the old op did not reach it.
    assert!(!c.dir.addresses["master01"][0].sign);
}

#[test]
fn ip_rules_edited_on_both_sides_merge_restrictively() {
    let mut c = central(&["master01"]);
    let mut a = branch(&mut c, "branch-a");
    let deny_default = RuleSet {
        default: IpAction::Deny,
        rules: vec![RuleSet::parse_rule("allow 203.0.113.0/24 head office").unwrap()],
        allowed_countries: None,
    };
    let open_but_one = RuleSet {
        rules: vec![RuleSet::parse_rule("deny 203.0.113.7/32 old kiosk").unwrap()],
        ..RuleSet::default()
    };
    a.act(
        CUSTOMER,
        Some("op101"),
        minutes(1),
        EventKind::IpRulesSet {
            contract_no: CUSTOMER.into(),
            service: Service::UserWeb,
            rules: open_but_one.clone(),
        },
    );
    c.record(
        CUSTOMER,
        minutes(2),
        None,
        EventKind::IpRulesSet {
            contract_no: CUSTOMER.into(),
            service: Service::UserWeb,
            rules: deny_default.clone(),
        },
    );
    sync(&mut c, &mut a, minutes(3));
    let (_, d) = a.review.last().unwrap();
    assert_eq!(
        (d.outcome, d.reason.clone()),
        (Outcome::Applied, Some(Reason::RulesMerged))
    );
    let merged =
        &c.dir.ip_rules[&kagiya_core::directory::fold::rules_key(CUSTOMER, Service::UserWeb)];
    assert_eq!(merged.default, IpAction::Deny);
    let t = kagiya_core::iprules::CountryTable::default();
    let allow = |ip: &str| {
        merged
            .compile()
            .check(ip.parse().unwrap(), &t, None, 0)
            .action
            == IpAction::Allow
    };
    assert!(allow("203.0.113.8"));
    assert!(!allow("203.0.113.7"), "closed by the branch");
    assert!(!allow("198.51.100.1"), "closed by the server");
}

#[test]
fn a_login_id_taken_meanwhile_is_rejected_and_its_first_password_never_lands() {
    let mut c = central(&["master01"]);
    let mut a = branch(&mut c, "branch-a");
    let create = |by: &str| EventKind::UserCreated {
        login_id: "sato".into(),
        contract_no: CUSTOMER.into(),
        name: by.into(),
        role: kagiya_core::directory::UserRole::General,
        email: None,
    };
    a.act(CUSTOMER, Some("op101"), minutes(1), create("branch"));
    a.act(
        CUSTOMER,
        Some("op101"),
        minutes(1),
        reset("sato", PasswordSetReason::Initial, "$argon2id$branch"),
    );
    c.record(CUSTOMER, minutes(2), None, create("server"));
    c.record(
        CUSTOMER,
        minutes(2),
        None,
        reset("sato", PasswordSetReason::Initial, "$argon2id$server"),
    );
    sync(&mut c, &mut a, minutes(3));
    let reasons: Vec<_> = a
        .review
        .iter()
        .map(|(_, d)| (d.outcome, d.reason.clone()))
        .collect();
    assert_eq!(
        reasons,
        vec![
            (Outcome::Rejected, Some(Reason::LoginIdTaken)),
            (Outcome::Rejected, Some(Reason::LoginIdTaken)),
        ]
    );
    assert_eq!(c.dir.user("sato").unwrap().name, "server");
    assert_eq!(c.dir.user("sato").unwrap().login.hash, "$argon2id$server");
}

#[test]
fn pushes_are_idempotent_gap_free_and_refused_from_a_revoked_device() {
    let mut c = central(&["master01"]);
    let mut a = branch(&mut c, "branch-a");
    let op1 = a.act(
        CUSTOMER,
        Some("op101"),
        minutes(1),
        EventKind::UserSuspended {
            login_id: "master01".into(),
        },
    );
    let op2 = a.act(
        CUSTOMER,
        Some("op101"),
        minutes(1),
        EventKind::UserResumed {
            login_id: "master01".into(),
        },
    );
    let first = c
        .push("branch-a", &[op1.clone(), op2.clone()], minutes(2))
        .unwrap();
    let chain_len = c.chains[&kagiya_core::directory::ids::fold(CUSTOMER)].len();
    let again = c
        .push("branch-a", &[op1.clone(), op2.clone()], minutes(3))
        .unwrap();
    assert_eq!(first, again);
    assert_eq!(
        c.chains[&kagiya_core::directory::ids::fold(CUSTOMER)].len(),
        chain_len,
        "nothing doubled"
    );

    let op3 = a.act(CUSTOMER, Some("op101"), minutes(4), unlock("master01"));
    let op4 = a.act(CUSTOMER, Some("op101"), minutes(4), unlock("master01"));
    assert_eq!(
        c.push("branch-a", std::slice::from_ref(&op4), minutes(5)),
        Err(PushError::Gap { expected: 3 })
    );
    let mut forged = op3.clone();
    forged.draft.operator = Some("sv999".into());
    assert!(matches!(
        c.push("branch-a", &[forged], minutes(5)),
        Err(PushError::Fault { seq: 3, .. })
    ));
    c.revoke("branch-a");
    assert_eq!(
        c.push("branch-a", &[op3, op4], minutes(5)),
        Err(PushError::Revoked)
    );
}

/// A branch's own earlier ops are not news to it: suspending and resuming offline, both apply,
/// while a suspension by someone else after what it saw stops its resume.
#[test]
fn a_branchs_own_earlier_ops_are_not_unseen_changes() {
    let mut c = central(&["master01", "user02"]);
    let mut a = branch(&mut c, "branch-a");
    let mut b = branch(&mut c, "branch-b");
    let suspend = || EventKind::UserSuspended {
        login_id: "user02".into(),
    };
    let resume = || EventKind::UserResumed {
        login_id: "user02".into(),
    };
    a.act(CUSTOMER, Some("op101"), minutes(1), suspend());
    a.act(CUSTOMER, Some("op101"), minutes(2), resume());
    sync(&mut c, &mut a, minutes(3));
    assert!(a.review.is_empty(), "{:?}", a.review);
    assert_eq!(
        c.dir.user("user02").unwrap().status,
        kagiya_core::directory::UserStatus::Active
    );

    b.act(CUSTOMER, Some("op201"), minutes(4), resume());
    a.act(CUSTOMER, Some("op101"), minutes(4), suspend());
    sync(&mut c, &mut a, minutes(5));
    sync(&mut c, &mut b, minutes(6));
    let (_, d) = b.review.last().unwrap();
    assert_eq!(
        (d.outcome, d.reason.clone()),
        (Outcome::Superseded, Some(Reason::SuspendedSinceSeen))
    );
    assert_eq!(
        c.dir.user("user02").unwrap().status,
        kagiya_core::directory::UserStatus::Suspended
    );
}

/// Seed 004: 「利用停止状態は、自動的に解除されることはありません」. A failure the branch recorded
/// offline is decided again at the server, where with the failures made online it may be the one
/// that locks for good: the branch did not see that, so its own unlock is rejected.
#[test]
fn a_permanent_lock_reached_by_the_branchs_own_offline_failure_is_not_lifted_by_its_unlock() {
    let mut c = central(&["master01"]);
    let mut a = branch(&mut c, "branch-a");
    // Three temporary locks online (each run out), then four more wrong passwords.
    let mut t = 0;
    for _ in 0..3 {
        for _ in 0..5 {
            c.attempt("master01", false, minutes(t));
            t += 1;
        }
        t += 31;
    }
    for _ in 0..4 {
        c.attempt("master01", false, minutes(t));
        t += 1;
    }
    sync(&mut c, &mut a, minutes(t));
    // Offline at the branch: one more wrong password, then an unlock.
    a.act(
        CUSTOMER,
        Some("op101"),
        minutes(t),
        EventKind::CredentialFailed {
            login_id: "master01".into(),
            credential: CredentialKind::Login,
            channel: kagiya_core::directory::Channel::Web,
            outcome: kagiya_core::lockout::FailureOutcome::Counted { failures: 5 },
            right_password: true,
        },
    );
    a.act(CUSTOMER, Some("op101"), minutes(t + 1), unlock("master01"));
    sync(&mut c, &mut a, minutes(t + 2));
    let reasons: Vec<_> = a
        .review
        .iter()
        .map(|(_, d)| (d.outcome, d.reason.clone()))
        .collect();
    assert_eq!(
        reasons,
        vec![(Outcome::Rejected, Some(Reason::PermanentSinceSeen))]
    );
    assert!(matches!(
        login_status(&c, "master01", minutes(t + 2)),
        LockStatus::LockedPermanently { .. }
    ));
    // The device's claim that the password was right is not taken.
    let failed = c.chains[&kagiya_core::directory::ids::fold(CUSTOMER)]
        .iter()
        .rev()
        .find_map(|e| match &e.kind {
            EventKind::CredentialFailed { right_password, .. } => Some(*right_password),
            _ => None,
        });
    assert_eq!(failed, Some(false));
}

#[test]
fn a_branchs_password_check_sets_no_hash_and_a_release_is_held_to_24_hours() {
    let mut c = central(&["master01"]);
    let mut a = branch(&mut c, "branch-a");
    let before = c.dir.user("master01").unwrap().login.hash.clone();
    a.act(
        CUSTOMER,
        Some("op101"),
        minutes(1),
        EventKind::CredentialVerified {
            login_id: "master01".into(),
            credential: CredentialKind::Login,
            channel: kagiya_core::directory::Channel::Web,
            rehash: Some("$argon2id$v=19$m=19456,t=2,p=1$c2FsdA$old".into()),
        },
    );
    a.act(
        CUSTOMER,
        Some("op101"),
        minutes(1),
        EventKind::IpRestrictionsReleased {
            contract_no: CUSTOMER.into(),
            until: minutes(60 * 24 * 365),
            reason: "forever".into(),
        },
    );
    sync(&mut c, &mut a, minutes(2));
    assert_eq!(c.dir.user("master01").unwrap().login.hash, before);
    let (_, d) = a.review.last().unwrap();
    assert_eq!(d.outcome, Outcome::Rejected);
    assert!(c.dir.ip_releases.is_empty());
}
