//! Demo data for a first look and for screenshots: a branch with three operators and a few days of
//! sign-in history, one of them currently locked. Only ever written to an empty database.

use kagiya_core::branch_fold::CredentialDigests;
use kagiya_core::event::{EventKind, SignInFailure};
use kagiya_core::lockout::LockoutFacts;
use kagiya_core::operator::Role;
use kagiya_core::password::PasswordHasher;
use kagiya_core::secret::Secret;
use kagiya_core::{Error, Millis, MINUTE};
use kagiya_store::operators::{self, NewOperatorRow};
use kagiya_store::{events, settings, Store};

/// The demo operators: (ID, name, role, login password, confirmation password).
/// The passwords are published in the README and only ever used with `--demo`.
pub const OPERATORS: [(&str, &str, Role, &str, &str); 3] = [
    (
        "sv001",
        "山田 花子",
        Role::Supervisor,
        "Kagiya-Demo-2026",
        "Kakunin-Demo-2026",
    ),
    (
        "op101",
        "佐藤 健",
        Role::Operator,
        "Sato-Branch-0101",
        "Sato-Kakunin-0101",
    ),
    (
        "op102",
        "鈴木 美咲",
        Role::Operator,
        "Suzuki-Branch-0102",
        "Suzuki-Kakunin-0102",
    ),
];

const DAY: Millis = 24 * 60 * MINUTE;
/// Japan Standard Time is UTC+9 (no daylight saving): the demo branch works 9:00–17:00 JST.
const JST: Millis = 9 * 60 * MINUTE;

/// Fills an empty database with the demo branch. Returns false (and writes nothing) when operators
/// already exist.
pub fn seed(store: &Store, hasher: &PasswordHasher, now: Millis) -> Result<bool, Error> {
    if operators::count(&store.conn())? > 0 {
        return Ok(false);
    }
    let mut hashes = Vec::new();
    for (_, _, _, login, confirm) in OPERATORS {
        hashes.push((
            hasher.hash(&Secret::new(login))?,
            hasher.hash(&Secret::new(confirm))?,
        ));
    }
    store.write(|tx| {
        let start = now - 7 * DAY;
        // Marked for good, first: the whole fill is one transaction with its mark.
        settings::set(tx, settings::DEMO, "1")?;
        let mark = EventKind::SettingChanged {
            key: settings::DEMO.into(),
            value: "1".into(),
        };
        events::append(tx, start, None, mark)?;
        for ((id, name, role, _, _), (login_hash, confirm_hash)) in OPERATORS.iter().zip(&hashes) {
            operators::insert(
                tx,
                &NewOperatorRow {
                    operator_id: id,
                    name,
                    role: *role,
                    login_hash,
                    confirm_hash,
                    created_at: start,
                },
            )?;
            let kind = EventKind::OperatorCreated {
                operator_id: (*id).into(),
                name: (*name).into(),
                role: *role,
                credentials: Some(CredentialDigests::of(login_hash, Some(confirm_hash))),
            };
            events::append(tx, start, Some("sv001"), kind)?;
        }
        // The last six days' office hours: sign-in around 9:00 JST, sign-out eight hours later.
        let today_jst = (now + JST).div_euclid(DAY) * DAY - JST;
        for days_ago in (1..7).rev() {
            let morning = today_jst - days_ago * DAY + 9 * 60 * MINUTE;
            for (i, (id, ..)) in OPERATORS.iter().enumerate() {
                let at = morning + i as Millis * 7 * MINUTE;
                let signed_in = EventKind::OperatorSignedIn {
                    operator_id: (*id).into(),
                };
                events::append(tx, at, Some(id), signed_in)?;
                let signed_out = EventKind::OperatorSignedOut {
                    operator_id: (*id).into(),
                };
                events::append(tx, at + 8 * 60 * MINUTE, Some(id), signed_out)?;
            }
        }
        // op102 mistyped five times a few minutes ago and is locked now.
        let first = now - 4 * MINUTE;
        for n in 1..=5u32 {
            let kind = EventKind::OperatorSignInFailed {
                attempted_id: "op102".into(),
                reason: SignInFailure::WrongPassword,
                failures: n,
            };
            events::append(tx, first + Millis::from(n) * 20_000, None, kind)?;
        }
        let until = first + 100_000 + 15 * MINUTE;
        let locked = EventKind::OperatorLocked {
            operator_id: "op102".into(),
            until,
        };
        events::append(tx, first + 100_000, None, locked)?;
        operators::set_lockout(
            tx,
            "op102",
            &LockoutFacts {
                failures: 5,
                first_failure_at: Some(first + 20_000),
                locked_until: Some(until),
                ..LockoutFacts::default()
            },
        )?;
        Ok(())
    })?;
    Ok(true)
}
