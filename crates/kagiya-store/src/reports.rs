//! The counts behind the dashboard and the users table, asked of SQLite directly so that a branch
//! with 100,000 users gets them from the indexes instead of loading every user. Each condition
//! here is the SQL form of a core rule (a lock is `permanent_at` set or `locked_until` in the
//! future, as in `LockoutPolicy::status`); the console's tests compare them with the core's own
//! answer over the folded directory.

use kagiya_core::directory::{Address, User};
use kagiya_core::{Error, Millis};
use rusqlite::types::Value;
use rusqlite::{params, params_from_iter, Connection};

use crate::db::storage;

/// A credential row that is locked at `?now`: for good, or until a time still to come.
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
    let mut st = conn
        .prepare_cached(&format!(
            "SELECT c.kind, \
                    sum(c.permanent_at IS NULL), \
                    sum(c.permanent_at IS NOT NULL) \
             FROM credentials c JOIN users u ON u.id = c.user_id \
             WHERE u.status != 'deleted' AND {LOCKED} GROUP BY c.kind"
        ))
        .map_err(storage)?;
    let mut counts = LockCounts::default();
    let rows = st
        .query_map(rusqlite::named_params! {":now": now}, |r| {
            Ok((
                r.get::<_, String>(0)?,
                r.get::<_, i64>(1)?,
                r.get::<_, i64>(2)?,
            ))
        })
        .map_err(storage)?;
    for row in rows {
        let (kind, temporary, permanent) = row.map_err(storage)?;
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
/// credential, suspended or deleted): they need an initialization request.
pub fn tenants_needing_init_request(conn: &Connection, now: Millis) -> Result<Vec<String>, Error> {
    let mut st = conn
        .prepare_cached(&format!(
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
        ))
        .map_err(storage)?;
    let rows = st
        .query_map(rusqlite::named_params! {":now": now}, |r| r.get(0))
        .map_err(storage)?;
    rows.collect::<rusqlite::Result<_>>().map_err(storage)
}

/// Users per customer, keyed by contract number.
pub fn user_counts(conn: &Connection) -> Result<Vec<(String, i64)>, Error> {
    let mut st = conn
        .prepare_cached(
            "SELECT t.contract_no, count(u.id) FROM tenants t \
             LEFT JOIN users u ON u.tenant_id = t.id AND u.status != 'deleted' \
             GROUP BY t.id ORDER BY t.contract_no",
        )
        .map_err(storage)?;
    let rows = st
        .query_map([], |r| Ok((r.get(0)?, r.get(1)?)))
        .map_err(storage)?;
    rows.collect::<rusqlite::Result<_>>().map_err(storage)
}

/// Initialization requests per state (`recorded`, `approved`, …).
pub fn init_request_counts(conn: &Connection) -> Result<Vec<(String, i64)>, Error> {
    let mut st = conn
        .prepare_cached("SELECT state, count(*) FROM init_requests GROUP BY state")
        .map_err(storage)?;
    let rows = st
        .query_map([], |r| Ok((r.get(0)?, r.get(1)?)))
        .map_err(storage)?;
    rows.collect::<rusqlite::Result<_>>().map_err(storage)
}

/// When each lock of a customer's user happened (temporary or permanent) since `since`, oldest
/// first: the failures whose outcome locked the credential.
pub fn lock_times(conn: &Connection, since: Millis) -> Result<Vec<Millis>, Error> {
    let mut st = conn
        .prepare_cached(
            "SELECT at FROM events WHERE kind = 'credential_failed' AND at >= ?1 \
               AND json_extract(body, '$.outcome.result') IN ('locked_now', 'locked_permanently') \
             ORDER BY at",
        )
        .map_err(storage)?;
    let rows = st.query_map([since], |r| r.get(0)).map_err(storage)?;
    rows.collect::<rusqlite::Result<_>>().map_err(storage)
}

/// Every user's addresses that hold a certificate: (login ID, contract number, address).
pub fn addresses_with_certificates(
    conn: &Connection,
) -> Result<Vec<(String, String, Address)>, Error> {
    let mut st = conn
        .prepare_cached(
            "SELECT u.login_id, t.contract_no, a.body FROM user_addresses a \
             JOIN users u ON u.id = a.user_id JOIN tenants t ON t.id = u.tenant_id \
             WHERE u.status != 'deleted' ORDER BY u.login_key",
        )
        .map_err(storage)?;
    let rows = st
        .query_map([], |r| {
            Ok((
                r.get::<_, String>(0)?,
                r.get::<_, String>(1)?,
                r.get::<_, String>(2)?,
            ))
        })
        .map_err(storage)?;
    let mut out = Vec::new();
    for row in rows {
        let (login_id, contract_no, body) = row.map_err(storage)?;
        let list: Vec<Address> = serde_json::from_str(&body)
            .map_err(|e| Error::Storage(format!("addresses of {login_id}: {e}")))?;
        for a in list.into_iter().filter(|a| a.certificate.is_some()) {
            out.push((login_id.clone(), contract_no.clone(), a));
        }
    }
    Ok(out)
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

/// How many users match `q` (ignoring its page), and the users of its page.
pub fn user_page(conn: &Connection, q: &UserQuery, now: Millis) -> Result<(i64, Vec<User>), Error> {
    let mut cond = vec!["u.status != 'deleted'".to_owned()];
    let mut args: Vec<Value> = Vec::new();
    let text = q.text.trim().to_lowercase();
    if !text.is_empty() {
        let (lo, hi) = (
            arg_push(&mut args, Value::Text(text.clone())),
            arg_push(&mut args, Value::Text(format!("{text}\u{10FFFF}"))),
        );
        cond.push(format!(
            "u.id IN (SELECT id FROM users WHERE login_key >= {lo} AND login_key < {hi} \
             UNION SELECT id FROM users WHERE name_key >= {lo} AND name_key < {hi} \
             UNION SELECT id FROM users WHERE email_key >= {lo} AND email_key < {hi})"
        ));
    }
    if let Some(c) = &q.contract_no {
        let p = arg_push(&mut args, Value::Text(c.trim().to_owned()));
        cond.push(format!("t.contract_no = {p}"));
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
    let filter = format!(
        "FROM users u JOIN tenants t ON t.id = u.tenant_id WHERE {}",
        cond.join(" AND ")
    );
    let total: i64 = conn
        .prepare_cached(&format!("SELECT count(*) {filter}"))
        .and_then(|mut st| st.query_row(params_from_iter(args.iter()), |r| r.get(0)))
        .map_err(storage)?;
    let dir = if q.descending { "DESC" } else { "ASC" };
    let order = match q.sort {
        UserSort::LoginId => format!("u.login_key {dir}"),
        UserSort::Name => format!("u.name_key {dir}, u.login_key {dir}"),
        UserSort::Customer => format!("t.contract_no {dir}, u.login_key {dir}"),
    };
    let limit = arg_push(&mut args, Value::Integer(i64::from(q.limit.clamp(1, 500))));
    let offset = arg_push(&mut args, Value::Integer(i64::from(q.offset)));
    let ids: Vec<i64> = {
        let mut st = conn
            .prepare_cached(&format!(
                "SELECT u.id {filter} ORDER BY {order} LIMIT {limit} OFFSET {offset}"
            ))
            .map_err(storage)?;
        let rows = st
            .query_map(params_from_iter(args.iter()), |r| r.get(0))
            .map_err(storage)?;
        rows.collect::<rusqlite::Result<_>>().map_err(storage)?
    };
    let users = crate::directory::users_by_ids(conn, &ids)?;
    Ok((total, users))
}

fn arg_push(args: &mut Vec<Value>, v: Value) -> String {
    args.push(v);
    format!("?{}", args.len())
}
