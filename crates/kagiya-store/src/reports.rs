//! The counts behind the dashboard and the users table, asked of SQLite directly so that a branch
//! with 100,000 users gets them from the indexes instead of loading every user. Each condition
//! here is the SQL form of a core rule (a lock is `permanent_at` set or `locked_until` in the
//! future, as in `LockoutPolicy::status`); the console's tests compare them with the core's own
//! answer over the folded directory.

use kagiya_core::directory::{Address, User};
use kagiya_core::{Error, Millis};
use rusqlite::types::Value;
use rusqlite::{params, params_from_iter, Connection};

use crate::db::{rows, storage};
use crate::directory::parse;

/// A credential row that is locked at `:now`: for good, or until a time still to come.
const LOCKED: &str = "(c.permanent_at IS NOT NULL OR c.locked_until > :now)";

/// Locked credentials, by credential and kind of lock (deleted users left out).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct LockCounts {
    pub login_temporary: i64,
    pub login_permanent: i64,
    pub confirmation_temporary: i64,
    pub confirmation_permanent: i64,
}

pub fn lock_counts(conn: &Connection, now: Millis) -> Result<LockCounts, Error> {
    // Two index ranges (permanent_at set; locked_until still ahead) instead of one OR, which
    // would read every credential.
    let by_kind: Vec<(String, i64, i64)> = rows(
        conn,
        "SELECT x.kind, sum(NOT x.permanent), sum(x.permanent) FROM ( \
             SELECT kind, user_id, 1 AS permanent FROM credentials \
             WHERE permanent_at IS NOT NULL \
             UNION ALL \
             SELECT kind, user_id, 0 FROM credentials \
             WHERE locked_until > :now AND permanent_at IS NULL) x \
         JOIN users u ON u.id = x.user_id \
         WHERE u.status != 'deleted' GROUP BY x.kind",
        rusqlite::named_params! {":now": now},
        |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
    )?;
    let mut counts = LockCounts::default();
    for (kind, temporary, permanent) in by_kind {
        if kind == "login" {
            (counts.login_temporary, counts.login_permanent) = (temporary, permanent);
        } else {
            (counts.confirmation_temporary, counts.confirmation_permanent) = (temporary, permanent);
        }
    }
    Ok(counts)
}

/// Users (not deleted) with a password that expires after `now` and no later than `until`.
pub fn passwords_expiring(conn: &Connection, now: Millis, until: Millis) -> Result<i64, Error> {
    conn.query_row(
        "SELECT count(DISTINCT c.user_id) FROM credentials c JOIN users u ON u.id = c.user_id \
         WHERE u.status != 'deleted' AND c.expires_at > ?1 AND c.expires_at <= ?2",
        params![now, until],
        |r| r.get(0),
    )
    .map_err(storage)
}

/// Customers that have masters or admins and none of them can act at `now` (each is locked on a
/// credential, suspended or deleted). The index-backed first cut of seed 004's rule: the engine's
/// `managers_outlook` then tells, for these few, a request apart from a wait for a temporary stop.
pub fn tenants_without_available_manager(
    conn: &Connection,
    now: Millis,
) -> Result<Vec<String>, Error> {
    rows(
        conn,
        &format!(
            "SELECT t.contract_no FROM tenants t \
             WHERE EXISTS (SELECT 1 FROM users m \
                           WHERE m.tenant_id = t.id AND m.role IN ('master', 'admin')) \
               AND NOT EXISTS ( \
                   SELECT 1 FROM users m \
                   WHERE m.tenant_id = t.id AND m.role IN ('master', 'admin') \
                     AND m.status = 'active' \
                     AND NOT EXISTS (SELECT 1 FROM credentials c \
                                     WHERE c.user_id = m.id AND {LOCKED})) \
             ORDER BY t.contract_no"
        ),
        rusqlite::named_params! {":now": now},
        |r| r.get(0),
    )
}

/// Users per customer, keyed by contract number.
pub fn user_counts(conn: &Connection) -> Result<Vec<(String, i64)>, Error> {
    rows(
        conn,
        "SELECT t.contract_no, count(u.id) FROM tenants t \
         LEFT JOIN users u ON u.tenant_id = t.id AND u.status != 'deleted' \
         GROUP BY t.id ORDER BY t.contract_no",
        [],
        |r| Ok((r.get(0)?, r.get(1)?)),
    )
}

/// Initialization requests per state (`recorded`, `approved`, …).
pub fn init_request_counts(conn: &Connection) -> Result<Vec<(String, i64)>, Error> {
    rows(
        conn,
        "SELECT state, count(*) FROM init_requests GROUP BY state",
        [],
        |r| Ok((r.get(0)?, r.get(1)?)),
    )
}

/// When each lock of a customer's user happened (temporary or permanent) since `since`, oldest
/// first: the failures whose outcome locked the credential.
pub fn lock_times(conn: &Connection, since: Millis) -> Result<Vec<Millis>, Error> {
    rows(
        conn,
        "SELECT at FROM events WHERE kind = 'credential_failed' AND at >= ?1 \
           AND json_extract(body, '$.outcome.result') IN ('locked_now', 'locked_permanently') \
         ORDER BY at",
        [since],
        |r| r.get(0),
    )
}

/// Every user's addresses that hold a certificate: (login ID, contract number, address).
pub fn addresses_with_certificates(
    conn: &Connection,
) -> Result<Vec<(String, String, Address)>, Error> {
    let found: Vec<(String, String, Vec<Address>)> = rows(
        conn,
        "SELECT u.login_id, t.contract_no, a.body FROM user_addresses a \
         JOIN users u ON u.id = a.user_id JOIN tenants t ON t.id = u.tenant_id \
         WHERE u.status != 'deleted' ORDER BY u.login_key",
        [],
        |r| Ok((r.get(0)?, r.get(1)?, parse(&r.get::<_, String>(2)?)?)),
    )?;
    Ok(found
        .into_iter()
        .flat_map(|(login_id, contract_no, list)| {
            list.into_iter()
                .filter(|a| a.certificate.is_some())
                .map(move |a| (login_id.clone(), contract_no.clone(), a))
        })
        .collect())
}

/// The login IDs of the users who registered `address` (case-insensitively).
pub fn address_holders(conn: &Connection, address: &str) -> Result<Vec<String>, Error> {
    use kagiya_core::directory::addresses::dup_key;
    let found: Vec<(String, Vec<Address>)> = rows(
        conn,
        "SELECT u.login_id, a.body FROM user_addresses a \
         JOIN users u ON u.id = a.user_id WHERE u.status != 'deleted' ORDER BY u.login_key",
        [],
        |r| Ok((r.get(0)?, parse(&r.get::<_, String>(1)?)?)),
    )?;
    let key = dup_key(address);
    Ok(found
        .into_iter()
        .filter(|(_, list)| list.iter().any(|a| dup_key(&a.address) == key))
        .map(|(login_id, _)| login_id)
        .collect())
}

// ---- the users table

/// Which users the table shows.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum UserFilter {
    #[default]
    All,
    /// Either credential locked (temporarily or for good).
    Locked,
    /// Either password past its expiry.
    Expired,
    /// Either password expires after `now` and no later than the given time.
    ExpiringBy(Millis),
    /// Either password must be changed at the next login.
    MustChange,
    Suspended,
}

/// The table's sort column.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum UserSort {
    #[default]
    LoginId,
    Name,
    Customer,
}

/// One page of the users table.
#[derive(Debug, Clone, Default)]
pub struct UserQuery {
    /// A prefix of the login ID, the name or an e-mail address (case-insensitive).
    pub text: String,
    pub contract_no: Option<String>,
    pub filter: UserFilter,
    pub sort: UserSort,
    pub descending: bool,
    pub offset: u32,
    pub limit: u32,
}

/// A text search counts its matches up to this many; beyond, the table says "10,000 or more"
/// and the operator types on. Counting every match of a one-letter prefix among 100,000 users
/// would cost more than a keystroke may.
pub const TEXT_COUNT_CAP: i64 = 10_000;

/// Up to this many matches, a text search's page is read through the three prefix indexes and
/// sorted; above it the matches are dense and reading the sort index in order while testing each
/// row finds a page sooner (measured: 100 ms against 0.2 ms for a one-letter prefix).
const DENSE_FROM: i64 = 2_000;

/// One page of the users table.
#[derive(Debug, Clone)]
pub struct UserPage {
    /// How many users match (at most [`TEXT_COUNT_CAP`] for a text search).
    pub total: i64,
    /// The text search has more matches than `total`.
    pub capped: bool,
    pub users: Vec<User>,
}

/// The prefix test on the three search columns; `indexed: false` hides the columns from the
/// planner (unary `+`) so that it reads the sort order's index instead.
fn prefix_test(lo: &str, hi: &str, indexed: bool) -> String {
    let p = if indexed { "" } else { "+" };
    ["login_key", "name_key", "email_key"]
        .iter()
        .map(|c| format!("{p}u.{c} >= {lo} AND {p}u.{c} < {hi}"))
        .collect::<Vec<_>>()
        .join(" OR ")
}

/// The users matching `q` (deleted ones never) and the page of them `q` asks for.
pub fn user_page(conn: &Connection, q: &UserQuery, now: Millis) -> Result<UserPage, Error> {
    let mut cond = vec!["u.status != 'deleted'".to_owned()];
    let mut args: Vec<Value> = Vec::new();
    if let Some(c) = &q.contract_no {
        let p = arg_push(&mut args, Value::Text(c.trim().to_owned()));
        cond.push(format!(
            "u.tenant_id = (SELECT id FROM tenants WHERE contract_no = {p})"
        ));
    }
    match q.filter {
        UserFilter::All => {}
        UserFilter::Locked => {
            let n = arg_push(&mut args, Value::Integer(now));
            cond.push(format!(
                "u.id IN (SELECT c.user_id FROM credentials c \
                 WHERE c.permanent_at IS NOT NULL UNION \
                 SELECT c.user_id FROM credentials c WHERE c.locked_until > {n})"
            ));
        }
        UserFilter::Expired => {
            let n = arg_push(&mut args, Value::Integer(now));
            cond.push(format!(
                "u.id IN (SELECT c.user_id FROM credentials c WHERE c.expires_at <= {n})"
            ));
        }
        UserFilter::ExpiringBy(until) => {
            let n = arg_push(&mut args, Value::Integer(now));
            let u = arg_push(&mut args, Value::Integer(until));
            cond.push(format!(
                "u.id IN (SELECT c.user_id FROM credentials c \
                 WHERE c.expires_at > {n} AND c.expires_at <= {u})"
            ));
        }
        UserFilter::MustChange => cond.push(
            "u.id IN (SELECT c.user_id FROM credentials c WHERE c.must_change = 1)".to_owned(),
        ),
        UserFilter::Suspended => cond.push("u.status = 'suspended'".to_owned()),
    }
    let text = q.text.trim().to_lowercase();
    let count = |cond: &[String], args: &[Value], cap: Option<i64>| -> Result<i64, Error> {
        let sql = match cap {
            Some(cap) => format!(
                "SELECT count(*) FROM (SELECT 1 FROM users u WHERE {} LIMIT {})",
                cond.join(" AND "),
                cap + 1
            ),
            None => format!("SELECT count(*) FROM users u WHERE {}", cond.join(" AND ")),
        };
        conn.prepare_cached(&sql)
            .and_then(|mut st| st.query_row(params_from_iter(args.iter()), |r| r.get(0)))
            .map_err(storage)
    };
    let (total, capped, text_test) = if text.is_empty() {
        let total = if cond.len() == 1 {
            // Every user: the table's row count less the deleted (both from small indexes).
            conn.query_row(
                "SELECT (SELECT count(*) FROM users) \
                      - (SELECT count(*) FROM users WHERE status = 'deleted')",
                [],
                |r| r.get(0),
            )
            .map_err(storage)?
        } else {
            count(&cond, &args, None)?
        };
        (total, false, None)
    } else {
        let lo = arg_push(&mut args, Value::Text(text.clone()));
        let hi = arg_push(&mut args, Value::Text(format!("{text}\u{10FFFF}")));
        let mut with_text = cond.clone();
        with_text.push(format!("({})", prefix_test(&lo, &hi, true)));
        let n = count(&with_text, &args, Some(TEXT_COUNT_CAP))?;
        let dense = n > DENSE_FROM;
        (
            n.min(TEXT_COUNT_CAP),
            n > TEXT_COUNT_CAP,
            Some(format!("({})", prefix_test(&lo, &hi, !dense))),
        )
    };
    cond.extend(text_test);
    let dir = if q.descending { "DESC" } else { "ASC" };
    let (from, order) = match q.sort {
        UserSort::LoginId => ("users u", format!("u.login_key {dir}")),
        UserSort::Name => ("users u", format!("u.name_key {dir}, u.login_key {dir}")),
        UserSort::Customer => (
            "users u JOIN tenants t ON t.id = u.tenant_id",
            format!("t.contract_no {dir}, u.login_key {dir}"),
        ),
    };
    // A capped search shows its first TEXT_COUNT_CAP rows only.
    let last = if capped { TEXT_COUNT_CAP } else { i64::MAX };
    let offset = i64::from(q.offset).min(last);
    let limit = i64::from(q.limit.clamp(1, 500)).min(last - offset);
    let limit = arg_push(&mut args, Value::Integer(limit));
    let offset = arg_push(&mut args, Value::Integer(offset));
    let ids: Vec<i64> = rows(
        conn,
        &format!(
            "SELECT u.id FROM {from} WHERE {} ORDER BY {order} LIMIT {limit} OFFSET {offset}",
            cond.join(" AND ")
        ),
        params_from_iter(args.iter()),
        |r| r.get(0),
    )?;
    Ok(UserPage {
        total,
        capped,
        users: crate::directory::users_by_ids(conn, &ids)?,
    })
}

fn arg_push(args: &mut Vec<Value>, v: Value) -> String {
    args.push(v);
    format!("?{}", args.len())
}
