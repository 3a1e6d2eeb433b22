//! Operator rows: registration, look-up by ID (case-insensitive), lockout facts and hashes.

use kagiya_core::lockout::LockoutFacts;
use kagiya_core::operator::{OperatorRecord, Role};
use kagiya_core::{Error, Millis};
use rusqlite::{params, Connection, ErrorCode, OptionalExtension, Row};

use crate::db::{storage, Tx};

/// What registration stores.
pub struct NewOperatorRow<'a> {
    pub operator_id: &'a str,
    pub name: &'a str,
    pub role: Role,
    pub login_hash: &'a str,
    pub confirm_hash: &'a str,
    pub created_at: Millis,
}

const COLUMNS: &str = "operator_id, name, role, login_hash, confirm_hash, created_at, \
                       failures, first_failure_at, locked_until, last_sign_in_at, temp_locks, \
                       disabled, coalesce(password_set_at, created_at), must_change";

fn from_row(r: &Row<'_>) -> rusqlite::Result<OperatorRecord> {
    let role: String = r.get(2)?;
    Ok(OperatorRecord {
        operator_id: r.get(0)?,
        name: r.get(1)?,
        role: Role::parse(&role).unwrap_or(Role::Operator),
        login_hash: r.get(3)?,
        confirm_hash: r.get(4)?,
        created_at: r.get(5)?,
        lockout: LockoutFacts {
            failures: r.get(6)?,
            first_failure_at: r.get(7)?,
            locked_until: r.get(8)?,
            temp_locks: r.get(10)?,
            ..LockoutFacts::default()
        },
        last_sign_in_at: r.get(9)?,
        disabled: r.get(11)?,
        password_set_at: r.get(12)?,
        must_change: r.get(13)?,
    })
}

/// How many operators are registered.
pub fn count(conn: &Connection) -> Result<i64, Error> {
    conn.query_row("SELECT count(*) FROM operators", [], |r| r.get(0))
        .map_err(storage)
}

/// Finds an operator by ID, ignoring case.
pub fn find(conn: &Connection, operator_id: &str) -> Result<Option<OperatorRecord>, Error> {
    conn.query_row(
        &format!("SELECT {COLUMNS} FROM operators WHERE operator_id = ?1"),
        [operator_id],
        from_row,
    )
    .optional()
    .map_err(storage)
}

/// All operators, by ID.
pub fn list(conn: &Connection) -> Result<Vec<OperatorRecord>, Error> {
    let mut st = conn
        .prepare(&format!(
            "SELECT {COLUMNS} FROM operators ORDER BY operator_id"
        ))
        .map_err(storage)?;
    let rows = st.query_map([], from_row).map_err(storage)?;
    rows.collect::<rusqlite::Result<Vec<_>>>().map_err(storage)
}

/// Registers an operator. A taken ID (in any case) is `OperatorIdTaken`.
pub fn insert(tx: &Tx<'_>, o: &NewOperatorRow<'_>) -> Result<(), Error> {
    let r = tx.execute(
        "INSERT INTO operators (operator_id, name, role, login_hash, confirm_hash, created_at,
         password_set_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?6)",
        params![
            o.operator_id,
            o.name,
            o.role.code(),
            o.login_hash,
            o.confirm_hash,
            o.created_at
        ],
    );
    match r {
        Ok(_) => Ok(()),
        Err(rusqlite::Error::SqliteFailure(e, _)) if e.code == ErrorCode::ConstraintViolation => {
            Err(Error::OperatorIdTaken)
        }
        Err(e) => Err(storage(e)),
    }
}

fn changed_one(n: usize) -> Result<(), Error> {
    if n == 1 {
        Ok(())
    } else {
        Err(Error::Storage(format!(
            "expected one operator row, changed {n}"
        )))
    }
}

/// Stores new lockout facts.
pub fn set_lockout(tx: &Tx<'_>, operator_id: &str, f: &LockoutFacts) -> Result<(), Error> {
    let n = tx
        .execute(
            "UPDATE operators SET failures = ?2, first_failure_at = ?3, locked_until = ?4,
             temp_locks = ?5 WHERE operator_id = ?1",
            params![
                operator_id,
                f.failures,
                f.first_failure_at,
                f.locked_until,
                f.temp_locks
            ],
        )
        .map_err(storage)?;
    changed_one(n)
}

/// Records a successful sign-in: clears the lockout facts and stamps the time.
pub fn record_sign_in(tx: &Tx<'_>, operator_id: &str, at: Millis) -> Result<(), Error> {
    let n = tx
        .execute(
            "UPDATE operators SET failures = 0, first_failure_at = NULL, locked_until = NULL,
             temp_locks = 0, last_sign_in_at = ?2 WHERE operator_id = ?1",
            params![operator_id, at],
        )
        .map_err(storage)?;
    changed_one(n)
}

/// Replaces the login password hash (after a rehash with current parameters).
pub fn set_login_hash(tx: &Tx<'_>, operator_id: &str, phc: &str) -> Result<(), Error> {
    let n = tx
        .execute(
            "UPDATE operators SET login_hash = ?2 WHERE operator_id = ?1",
            params![operator_id, phc],
        )
        .map_err(storage)?;
    changed_one(n)
}

pub fn set_disabled(tx: &Tx<'_>, operator_id: &str, disabled: bool) -> Result<(), Error> {
    let n = tx
        .execute(
            "UPDATE operators SET disabled = ?2 WHERE operator_id = ?1",
            params![operator_id, disabled],
        )
        .map_err(storage)?;
    changed_one(n)
}

pub fn set_role(tx: &Tx<'_>, operator_id: &str, role: Role) -> Result<(), Error> {
    let n = tx
        .execute(
            "UPDATE operators SET role = ?2 WHERE operator_id = ?1",
            params![operator_id, role.code()],
        )
        .map_err(storage)?;
    changed_one(n)
}

/// New hashes set at `at` (the confirmation hash kept when `None`); the lock is lifted.
pub fn set_passwords(
    tx: &Tx<'_>,
    operator_id: &str,
    login_hash: &str,
    confirm_hash: Option<&str>,
    must_change: bool,
    at: Millis,
) -> Result<(), Error> {
    let n = tx
        .execute(
            "UPDATE operators SET login_hash = ?2, confirm_hash = coalesce(?3, confirm_hash),
             must_change = ?4, password_set_at = ?5, failures = 0, first_failure_at = NULL,
             locked_until = NULL, temp_locks = 0 WHERE operator_id = ?1",
            params![operator_id, login_hash, confirm_hash, must_change, at],
        )
        .map_err(storage)?;
    changed_one(n)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Store;

    const HASH: &str = "$argon2id$v=19$m=8,t=1,p=1$c2FsdHNhbHQ$aGFzaGhhc2hoYXNoaGFzaA";

    fn row(id: &str) -> NewOperatorRow<'_> {
        NewOperatorRow {
            operator_id: id,
            name: "山田 花子",
            role: Role::Supervisor,
            login_hash: HASH,
            confirm_hash: HASH,
            created_at: 10,
        }
    }

    #[test]
    fn ids_are_unique_ignoring_case_and_found_ignoring_case() {
        let dir = tempfile::tempdir().unwrap();
        let s = Store::open(&dir.path().join("k.db"), &crate::db::test_key()).unwrap();
        s.write(|tx| insert(tx, &row("SV001"))).unwrap();
        assert_eq!(
            s.write(|tx| insert(tx, &row("sv001"))),
            Err(Error::OperatorIdTaken)
        );
        let found = find(&s.conn(), "sv001").unwrap().unwrap();
        assert_eq!(found.operator_id, "SV001");
        assert_eq!(found.role, Role::Supervisor);
        assert_eq!(count(&s.conn()).unwrap(), 1);
        assert!(find(&s.conn(), "nobody").unwrap().is_none());
    }

    #[test]
    fn lockout_facts_round_trip_and_sign_in_clears_them() {
        let dir = tempfile::tempdir().unwrap();
        let s = Store::open(&dir.path().join("k.db"), &crate::db::test_key()).unwrap();
        s.write(|tx| insert(tx, &row("op1"))).unwrap();
        let f = LockoutFacts {
            failures: 5,
            first_failure_at: Some(100),
            locked_until: Some(900),
            ..LockoutFacts::default()
        };
        s.write(|tx| set_lockout(tx, "op1", &f)).unwrap();
        assert_eq!(find(&s.conn(), "op1").unwrap().unwrap().lockout, f);
        s.write(|tx| record_sign_in(tx, "OP1", 1000)).unwrap();
        let r = find(&s.conn(), "op1").unwrap().unwrap();
        assert_eq!(r.lockout, LockoutFacts::default());
        assert_eq!(r.last_sign_in_at, Some(1000));
        assert!(s.write(|tx| set_lockout(tx, "ghost", &f)).is_err());
    }

    #[test]
    fn the_schema_refuses_anything_but_argon2id_hashes() {
        let dir = tempfile::tempdir().unwrap();
        let s = Store::open(&dir.path().join("k.db"), &crate::db::test_key()).unwrap();
        let mut r = row("op2");
        r.login_hash = "plaintext";
        assert!(s.write(|tx| insert(tx, &r)).is_err());
        assert_eq!(count(&s.conn()).unwrap(), 0);
    }
}
