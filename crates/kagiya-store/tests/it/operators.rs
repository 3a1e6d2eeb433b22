//! Branch staff under the same care as customers' users (issue 12): an operator's confirmation
//! password counts towards a lock that grows, is refused while the operator is locked, and the
//! audit log refuses any row that does not continue its chain.

use std::sync::Arc;

use kagiya_core::event::EventKind;
use kagiya_core::operator::Role;
use kagiya_core::password::HashParams;
use kagiya_core::secret::Secret;
use kagiya_core::{Error, MINUTE};
use kagiya_engine::{ActorRef, FixedClock, NewOperator};
use kagiya_store::{events, Branch};

use crate::support::{conf, sv, BranchFile, SV_LOGIN, T0};

const OP_LOGIN: &str = "Counter-Login-2026";
const OP_CONF: &str = "Counter-Confirm-2026";

fn env() -> (BranchFile, Arc<FixedClock>, Branch) {
    let clock = Arc::new(FixedClock::new(T0));
    let file = BranchFile::new(11, &clock, HashParams::default());
    let e = file.open(&clock, HashParams::default(), "test");
    e.create_operator(
        &sv(),
        &conf(),
        NewOperator {
            operator_id: "op001".into(),
            name: "窓口 一郎".into(),
            role: Role::Operator,
            login: Secret::new(OP_LOGIN),
            confirmation: Secret::new(OP_CONF),
        },
    )
    .unwrap();
    (file, clock, e)
}

/// Issue 12, finding 1: 「an operator's confirmation password can be guessed without limit」 — in
/// the approval dialog, at an unattended session, through the CLI. Now five wrong ones lock the
/// operator (sign-in and confirmation alike), the next lock lasts twice as long, and while
/// locked not even the right confirmation password is checked.
#[test]
fn an_operators_confirmation_password_locks_and_the_lock_grows() {
    let (_f, clock, e) = env();
    let op = ActorRef::Operator("op001".into());
    let guess = |e: &Branch| e.confirm(&op, &Secret::new("guess-1234"), "approve");
    for _ in 0..4 {
        assert_eq!(guess(&e).unwrap_err(), Error::ConfirmationFailed);
    }
    assert_eq!(
        guess(&e).unwrap_err(),
        Error::SignInLocked { minutes_left: 15 }
    );
    // Locked: the right confirmation password is refused, and so is the sign-in.
    assert!(matches!(
        e.confirm(&op, &Secret::new(OP_CONF), "approve"),
        Err(Error::SignInLocked { .. })
    ));
    assert!(matches!(
        e.authenticate_operator("op001", &Secret::new(OP_LOGIN), |id| {
            EventKind::OperatorSignedIn {
                operator_id: id.to_owned(),
            }
        }),
        Err(Error::SignInLocked { .. })
    ));
    // After the lock, five more wrong ones lock for 30 minutes.
    clock.advance(15 * MINUTE);
    e.confirm(&op, &Secret::new(OP_CONF), "approve").unwrap();
    for _ in 0..4 {
        assert_eq!(guess(&e).unwrap_err(), Error::ConfirmationFailed);
    }
    assert_eq!(
        guess(&e).unwrap_err(),
        Error::SignInLocked { minutes_left: 30 }
    );
    // A right login password after the lock starts the count over.
    clock.advance(30 * MINUTE);
    e.authenticate_operator("op001", &Secret::new(OP_LOGIN), |id| {
        EventKind::OperatorSignedIn {
            operator_id: id.to_owned(),
        }
    })
    .unwrap();
    let rec = e.read(|r| r.operator("op001")).unwrap().unwrap();
    assert_eq!((rec.lockout.failures, rec.lockout.temp_locks), (0, 0));
    // Each wrong one is in the log, in the same transaction as its count.
    let conn = e.store().conn();
    let n: i64 = conn
        .query_row(
            "SELECT count(*) FROM events WHERE kind = 'confirmation_failed'",
            [],
            |r| r.get(0),
        )
        .unwrap();
    assert_eq!(n, 11, "10 counted and 1 refused while locked");
    let locks: i64 = conn
        .query_row(
            "SELECT count(*) FROM events WHERE kind = 'operator_locked'",
            [],
            |r| r.get(0),
        )
        .unwrap();
    assert_eq!(locks, 2);
    let _ = SV_LOGIN;
}

/// Issue 12, finding 2: 「`INSERT OR REPLACE` can overwrite a row」; rows slipped in out of order
/// or with another predecessor are refused by the database itself.
#[test]
fn the_audit_log_only_grows_at_its_head() {
    let (_f, _clock, e) = env();
    let conn = e.store().conn();
    let (seq, hash): (i64, String) = conn
        .query_row(
            "SELECT seq, hash FROM events ORDER BY seq DESC LIMIT 1",
            [],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )
        .unwrap();
    let insert = |sql: &str, s: i64, prev: &str| {
        conn.execute(
            sql,
            rusqlite::params![s, T0, "x", "{}", prev, format!("h{s}-{prev}")],
        )
    };
    const INS: &str =
        "INSERT INTO events (seq, at, kind, body, prev_hash, hash) VALUES (?1, ?2, ?3, ?4, ?5, ?6)";
    const REPLACE: &str = "INSERT OR REPLACE INTO events (seq, at, kind, body, prev_hash, hash) \
                           VALUES (?1, ?2, ?3, ?4, ?5, ?6)";
    for (sql, s, prev) in [
        (REPLACE, seq, hash.as_str()),  // overwrite the head
        (REPLACE, 1, hash.as_str()),    // overwrite the first entry
        (INS, seq + 2, hash.as_str()),  // leave a gap
        (INS, seq + 1, "not-the-head"), // another predecessor
    ] {
        let err = insert(sql, s, prev).unwrap_err().to_string();
        assert!(err.contains("only grows at its head"), "{err}");
    }
    drop(conn);
    events::verify(&e.store().conn()).unwrap();
}
