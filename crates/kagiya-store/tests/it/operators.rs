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

fn sign_in(e: &Branch, id: &str, pw: &str) -> Result<(), Error> {
    e.authenticate_operator(id, &Secret::new(pw), |id| EventKind::OperatorSignedIn {
        operator_id: id.to_owned(),
    })
    .map(|_| ())
}

/// Issue 12, finding 3: 「supervisors disable/enable operators and change roles (never their own,
/// never the last supervisor), operators change their own passwords with the current one,
/// supervisors reset an operator's passwords (forced change), operator passwords expire per a
/// branch setting, disabled operators are refused everywhere; all confirmed and audited」.
#[test]
fn supervisors_manage_operators_and_operators_their_own_passwords() {
    let (_f, clock, e) = env();
    let op = ActorRef::Operator("op001".into());
    // Only a supervisor, never on themself, never leaving no supervisor.
    assert_eq!(
        e.set_operator_disabled(&op, &Secret::new(OP_CONF), "sv001", true)
            .unwrap_err(),
        Error::NotPermitted(kagiya_core::directory::authz::Denial::SupervisorOnly)
    );
    assert_eq!(
        e.set_operator_disabled(&sv(), &conf(), "sv001", true)
            .unwrap_err(),
        Error::NotPermitted(kagiya_core::directory::authz::Denial::OwnAccount)
    );
    e.set_operator_role(&sv(), &conf(), "op001", Role::Supervisor)
        .unwrap();
    // op001, now a supervisor, may not demote sv001 if that left none — but sv001 can demote
    // op001 back while sv001 remains.
    e.set_operator_role(&sv(), &conf(), "op001", Role::Operator)
        .unwrap();
    assert_eq!(
        e.read(|r| r.operator("op001")).unwrap().unwrap().role,
        Role::Operator
    );

    // Disabled: refused at sign-in and confirmation with the answer of a wrong password.
    e.set_operator_disabled(&sv(), &conf(), "op001", true)
        .unwrap();
    assert_eq!(
        sign_in(&e, "op001", OP_LOGIN).unwrap_err(),
        Error::InvalidCredentials
    );
    assert_eq!(
        e.confirm(&op, &Secret::new(OP_CONF), "x").unwrap_err(),
        Error::ConfirmationFailed
    );
    e.set_operator_disabled(&sv(), &conf(), "op001", false)
        .unwrap();
    sign_in(&e, "op001", OP_LOGIN).unwrap();

    // A reset: temporary passwords, the old ones gone, nothing done until the login one changes.
    let issued = e.reset_operator_passwords(&sv(), &conf(), "op001").unwrap();
    assert_eq!(
        sign_in(&e, "op001", OP_LOGIN).unwrap_err(),
        Error::InvalidCredentials
    );
    sign_in(&e, "op001", issued.login.expose()).unwrap();
    assert_eq!(
        e.confirm(&op, &issued.confirmation, "x").unwrap_err(),
        Error::NotPermitted(kagiya_core::directory::authz::Denial::PasswordChangeRequired)
    );
    // The new one follows the policy and is not the current one.
    assert!(matches!(
        e.change_own_operator_passwords("op001", &issued.login, &issued.login, None),
        Err(Error::PasswordPolicy(_))
    ));
    let mine = Secret::new("My-Own-Login-2026");
    e.change_own_operator_passwords("op001", &issued.login, &mine, None)
        .unwrap();
    e.confirm(&op, &issued.confirmation, "x").unwrap();

    // Expiry per the branch's setting (a supervisor's, confirmed).
    assert_eq!(
        e.set_operator_expiry_days(&sv(), &conf(), 7).unwrap_err(),
        Error::InvalidValue("operator_expiry_days")
    );
    e.set_operator_expiry_days(&sv(), &conf(), 90).unwrap();
    clock.advance(90 * 24 * 60 * MINUTE);
    assert_eq!(
        e.confirm(&op, &issued.confirmation, "x").unwrap_err(),
        Error::NotPermitted(kagiya_core::directory::authz::Denial::PasswordChangeRequired)
    );
    // The supervisor's own expired too: sv001 changes theirs and goes on.
    e.change_own_operator_passwords(
        "sv001",
        &Secret::new(SV_LOGIN),
        &Secret::new("Branch-Login-2027"),
        None,
    )
    .unwrap();
    e.confirm(&sv(), &conf(), "x").unwrap();

    // Every step is in the log with its actor.
    let conn = e.store().conn();
    let mut st = conn
        .prepare("SELECT kind, coalesce(actor, '') FROM events WHERE kind LIKE 'operator_%' AND kind NOT IN ('operator_signed_in', 'operator_sign_in_failed', 'operator_created') ORDER BY seq")
        .unwrap();
    let rows: Vec<(String, String)> = st
        .query_map([], |r| Ok((r.get(0)?, r.get(1)?)))
        .unwrap()
        .map(Result::unwrap)
        .collect();
    let kinds: Vec<&str> = rows.iter().map(|(k, _)| k.as_str()).collect();
    assert_eq!(
        kinds,
        [
            "operator_role_changed",
            "operator_role_changed",
            "operator_disabled",
            "operator_enabled",
            "operator_passwords_reset",
            "operator_password_changed",
            "operator_password_changed",
        ]
    );
    assert_eq!(rows[2].1, "sv001");
}

/// Two supervisors demoting each other at the same moment: the rule is read inside each write,
/// so one wins and the other is refused — the branch always keeps an enabled supervisor.
#[test]
fn two_supervisors_demoting_each_other_at_once_leave_one() {
    use kagiya_core::directory::authz::Denial;
    let (f, clock, e) = env();
    e.set_operator_role(&sv(), &conf(), "op001", Role::Supervisor)
        .unwrap();
    let a = f.open(&clock, HashParams::default(), "a");
    let b = f.open(&clock, HashParams::default(), "b");
    let gate = Arc::new(std::sync::Barrier::new(2));
    let g = gate.clone();
    let t1 = std::thread::spawn(move || {
        g.wait();
        a.set_operator_role(&sv(), &conf(), "op001", Role::Operator)
    });
    let t2 = std::thread::spawn(move || {
        gate.wait();
        b.set_operator_role(
            &ActorRef::Operator("op001".into()),
            &Secret::new(OP_CONF),
            "sv001",
            Role::Operator,
        )
    });
    let results = [t1.join().unwrap(), t2.join().unwrap()];
    assert_eq!(
        results.iter().filter(|r| r.is_ok()).count(),
        1,
        "{results:?}"
    );
    for r in &results {
        if let Err(err) = r {
            assert!(
                matches!(
                    err,
                    Error::NotPermitted(Denial::LastSupervisor | Denial::SupervisorOnly)
                ),
                "{err:?}"
            );
        }
    }
    let supervisors = e
        .operators()
        .unwrap()
        .into_iter()
        .filter(|o| o.role == Role::Supervisor && !o.disabled)
        .count();
    assert_eq!(supervisors, 1);
}

/// Issue 12, finding 2: 「`db restore` silently discards later history」. Now the restore's own
/// entry names the head it replaced and how much it dropped, lands with the restored data, and
/// a backup that is not the beginning of the live log takes a second supervisor.
#[test]
fn a_restore_records_what_it_drops_and_a_foreign_backup_takes_two_supervisors() {
    let (f, clock, e) = env();
    let dir = tempfile::tempdir().unwrap();
    let backup = dir.path().join("a.db");
    e.backup(&backup).unwrap();
    // Written beside and renamed (issue 12, low): one self-contained file, nothing left over,
    // and an existing file is never overwritten.
    let names: Vec<String> = std::fs::read_dir(dir.path())
        .unwrap()
        .map(|d| d.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    let mut sorted = names.clone();
    sorted.sort();
    assert_eq!(sorted, ["a.db", "a.db.checkpoint.json"], "{names:?}");
    assert!(matches!(e.backup(&backup), Err(Error::File(_))));
    let before = std::fs::read(&backup).unwrap();
    // Later history: two more entries after the backup's own.
    e.set_operator_role(&sv(), &conf(), "op001", Role::Supervisor)
        .unwrap();
    let (live_seq, live_hash) = events::head(&e.store().conn()).unwrap().unwrap();
    let backup_seq = events::head(
        &kagiya_store::Store::open(&backup, &kagiya_store::DbKey::from_bytes([11; 32]))
            .unwrap()
            .conn(),
    )
    .unwrap()
    .unwrap()
    .0;
    std::fs::write(&backup, &before).unwrap(); // opening it ran no change worth keeping
    e.restore(&sv(), &conf(), &backup, None).unwrap();
    assert_eq!(
        std::fs::read(&backup).unwrap(),
        before,
        "the backup file is not touched"
    );
    let conn = e.store().conn();
    let last: String = conn
        .query_row(
            "SELECT body FROM events ORDER BY seq DESC LIMIT 1",
            [],
            |r| r.get(0),
        )
        .unwrap();
    let body: serde_json::Value = serde_json::from_str(&last).unwrap();
    assert_eq!(body["type"], "database_restored");
    assert_eq!(body["replaced_head_seq"], live_seq);
    assert_eq!(body["replaced_head_hash"], live_hash.as_str());
    assert_eq!(body["discarded"], live_seq - backup_seq);
    assert_eq!(body["prefix"], true);
    drop(conn);
    events::verify(&e.store().conn()).unwrap();
    assert_eq!(
        e.read(|r| r.operator("op001")).unwrap().unwrap().role,
        Role::Operator,
        "the later role change is gone"
    );

    // A backup of another database under the same key (set up a minute later): not a prefix.
    clock.advance(MINUTE);
    let other = BranchFile::new(11, &clock, HashParams::default());
    let foreign = dir.path().join("foreign.db");
    other
        .open(&clock, HashParams::default(), "other")
        .backup(&foreign)
        .unwrap();
    assert_eq!(
        e.restore(&sv(), &conf(), &foreign, None).unwrap_err(),
        Error::NotPermitted(kagiya_core::directory::authz::Denial::SecondSupervisorRequired)
    );
    assert_eq!(
        events::head(&e.store().conn()).unwrap().unwrap().0,
        backup_seq + 1,
        "unchanged"
    );
    e.set_operator_role(&sv(), &conf(), "op001", Role::Supervisor)
        .unwrap();
    let second = ActorRef::Operator("op001".into());
    assert_eq!(
        e.restore(&sv(), &conf(), &foreign, Some((&sv(), &conf())))
            .unwrap_err(),
        Error::NotPermitted(kagiya_core::directory::authz::Denial::SamePerson)
    );
    e.restore(
        &sv(),
        &conf(),
        &foreign,
        Some((&second, &Secret::new(OP_CONF))),
    )
    .unwrap();
    let last: String = e
        .store()
        .conn()
        .query_row(
            "SELECT body FROM events ORDER BY seq DESC LIMIT 1",
            [],
            |r| r.get(0),
        )
        .unwrap();
    let body: serde_json::Value = serde_json::from_str(&last).unwrap();
    assert_eq!(body["prefix"], false);
    assert_eq!(body["second_supervisor"], "op001");
    let _ = f;
}

/// Issue 12, finding 2: 「whoever holds the key can drop the triggers, rewrite or truncate and
/// re-hash」. The re-hashed log verifies on its own — but no longer fits the signed checkpoint
/// written beside the backup, kept outside the database.
#[test]
fn a_rehashed_log_fails_the_checkpoint_kept_outside() {
    let (_f, _clock, e) = env();
    let dir = tempfile::tempdir().unwrap();
    let backup = dir.path().join("b.db");
    e.backup(&backup).unwrap();
    let file = dir.path().join("b.db.checkpoint.json");
    let c: kagiya_core::checkpoint::Checkpoint =
        serde_json::from_str(&std::fs::read_to_string(&file).unwrap()).unwrap();
    e.check_checkpoint(&c).unwrap();
    // A forged checkpoint (its signature no longer fits) is refused.
    let forged = kagiya_core::checkpoint::Checkpoint {
        seq: c.seq - 1,
        ..c.clone()
    };
    assert_eq!(
        e.check_checkpoint(&forged).unwrap_err(),
        Error::InvalidValue("checkpoint")
    );
    // The attacker: drop the triggers, change who created op001, re-hash the whole chain.
    {
        let conn = e.store().conn();
        conn.execute_batch("DROP TRIGGER events_no_update; DROP TRIGGER events_only_at_the_head;")
            .unwrap();
        conn.execute(
            "UPDATE events SET actor = 'nobody' WHERE kind = 'operator_created' AND seq > 1",
            [],
        )
        .unwrap();
        let rows: Vec<(i64, i64, Option<String>, String)> = {
            let mut st = conn
                .prepare("SELECT seq, at, actor, body FROM events ORDER BY seq")
                .unwrap();
            st.query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?)))
                .unwrap()
                .map(Result::unwrap)
                .collect()
        };
        let mut prev = kagiya_core::event::GENESIS_HASH.to_owned();
        for (seq, at, actor, body) in rows {
            let h = kagiya_core::event::chain_hash(&prev, seq, at, actor.as_deref(), &body);
            conn.execute(
                "UPDATE events SET prev_hash = ?2, hash = ?3 WHERE seq = ?1",
                rusqlite::params![seq, prev, h],
            )
            .unwrap();
            prev = h;
        }
    }
    events::verify(&e.store().conn()).expect("the re-hashed chain holds together");
    assert_eq!(
        e.check_checkpoint(&c).unwrap_err(),
        Error::AuditChainBroken { seq: c.seq }
    );
}

/// Issue 12, finding 2: 「operators, settings and the country table covered by the fold or the
/// checkpoints」. Whoever holds the key and writes the tables directly — their own hash in place
/// of a supervisor's, an operator raised to supervisor, a disabled one enabled, a setting, the
/// country table — leaves tables that no longer fit the log, and the full check names the part.
#[test]
fn the_console_tables_changed_behind_the_logs_back_fail_the_full_check() {
    let (_f, _clock, e) = env();
    e.set_operator_disabled(&sv(), &conf(), "op001", true)
        .unwrap();
    e.set_operator_expiry_days(&sv(), &conf(), 90).unwrap();
    e.import_countries(&sv(), &conf(), "192.0.2.0/24,JP\n")
        .unwrap();
    e.reset_operator_passwords(&sv(), &conf(), "op001").unwrap();
    let report = e.check().unwrap();
    assert!(report.fold_matches_tables, "{:?}", report.mismatched);

    let tamper = |sql: &str, part: &str| {
        let conn = e.store().conn();
        conn.execute_batch("SAVEPOINT t").unwrap();
        conn.execute_batch(sql).unwrap();
        drop(conn);
        let r = e.check().unwrap();
        assert!(!r.fold_matches_tables, "{sql}");
        assert_eq!(r.mismatched, [part], "{sql}");
        e.store()
            .conn()
            .execute_batch("ROLLBACK TO t; RELEASE t")
            .unwrap();
        assert!(e.check().unwrap().fold_matches_tables);
    };
    let own = e.store().conn().query_row(
        "SELECT login_hash FROM operators WHERE operator_id = 'op001'",
        [],
        |r| r.get::<_, String>(0),
    );
    let own = own.unwrap();
    tamper(
        &format!("UPDATE operators SET login_hash = '{own}' WHERE operator_id = 'sv001'"),
        "operators",
    );
    tamper(
        "UPDATE operators SET role = 'supervisor' WHERE operator_id = 'op001'",
        "operators",
    );
    tamper(
        "UPDATE operators SET disabled = 0 WHERE operator_id = 'op001'",
        "operators",
    );
    tamper(
        "UPDATE operators SET must_change = 0 WHERE operator_id = 'op001'",
        "operators",
    );
    tamper(
        "UPDATE settings SET value = '365' WHERE key = 'operator.password_expiry_days'",
        "settings",
    );
    tamper(
        "UPDATE country_table SET csv = '0.0.0.0/0,JP\n'",
        "country_table",
    );
}
