//! The directory tables: recording a directory event appends it to the log *and* applies it to
//! the tables with the core's fold functions, in one transaction. Reading back every table gives
//! the same `Directory` as folding the whole log (checked by `rebuild_matches`).

use std::collections::HashMap;

use kagiya_core::directory::fold::{
    address_user_of, apply_to_addresses, apply_to_request, apply_to_tenant, apply_to_user,
    new_tenant, new_user, request_of, rules_key, user_of,
};
use kagiya_core::directory::ids::fold;
use kagiya_core::directory::{Address, Service};
use kagiya_core::directory::{
    Credential, CredentialKind, Directory, InitRequest, Tenant, User, UserRole, UserStatus,
};
use kagiya_core::event::{EventKind, StoredEvent};
use kagiya_core::iprules::RuleSet;
use kagiya_core::lockout::LockoutFacts;
use kagiya_core::{Error, Millis};
use rusqlite::{params, Connection, ErrorCode, OptionalExtension, Row};

use crate::db::{rows, storage, Tx};
use crate::events;

fn json<T: serde::Serialize>(v: &T) -> String {
    serde_json::to_string(v).expect("directory values always serialize")
}

pub(crate) fn parse<T: serde::de::DeserializeOwned>(s: &str) -> rusqlite::Result<T> {
    serde_json::from_str(s).map_err(|e| {
        rusqlite::Error::FromSqlConversionFailure(0, rusqlite::types::Type::Text, Box::new(e))
    })
}

/// Every row of `sql` (no parameters), mapped by `f`.
fn all<T>(
    conn: &Connection,
    sql: &str,
    f: impl FnMut(&Row<'_>) -> rusqlite::Result<T>,
) -> Result<Vec<T>, Error> {
    rows(conn, sql, [], f)
}

fn is_unique_violation(e: &rusqlite::Error) -> bool {
    matches!(e, rusqlite::Error::SqliteFailure(f, _) if f.code == ErrorCode::ConstraintViolation)
}

// ---- tenants

const TENANT_COLUMNS: &str =
    "contract_no, name, services, preset, login_policy, confirmation_policy, created_at";

fn tenant_from_row(r: &Row<'_>) -> rusqlite::Result<Tenant> {
    Ok(Tenant {
        contract_no: r.get(0)?,
        name: r.get(1)?,
        services: parse(&r.get::<_, String>(2)?)?,
        preset: parse(&format!("\"{}\"", r.get::<_, String>(3)?))?,
        login: parse(&r.get::<_, String>(4)?)?,
        confirmation: parse(&r.get::<_, String>(5)?)?,
        created_at: r.get(6)?,
    })
}

pub fn tenant(conn: &Connection, contract_no: &str) -> Result<Option<Tenant>, Error> {
    conn.query_row(
        &format!("SELECT {TENANT_COLUMNS} FROM tenants WHERE contract_no = ?1"),
        [contract_no.trim()],
        tenant_from_row,
    )
    .optional()
    .map_err(storage)
}

pub fn tenants(conn: &Connection) -> Result<Vec<Tenant>, Error> {
    let mut st = conn
        .prepare(&format!(
            "SELECT {TENANT_COLUMNS} FROM tenants ORDER BY contract_no"
        ))
        .map_err(storage)?;
    let rows = st.query_map([], tenant_from_row).map_err(storage)?;
    rows.collect::<rusqlite::Result<_>>().map_err(storage)
}

fn insert_tenant(tx: &Tx<'_>, t: &Tenant) -> Result<(), Error> {
    tx.execute(
        &format!("INSERT INTO tenants ({TENANT_COLUMNS}) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)"),
        params![
            t.contract_no,
            t.name,
            json(&t.services),
            t.preset.code(),
            json(&t.login),
            json(&t.confirmation),
            t.created_at
        ],
    )
    .map_err(|e| {
        if is_unique_violation(&e) {
            Error::AlreadyExists("contract_no")
        } else {
            storage(e)
        }
    })?;
    Ok(())
}

fn save_tenant_policies(tx: &Tx<'_>, t: &Tenant) -> Result<(), Error> {
    tx.execute(
        "UPDATE tenants SET login_policy = ?2, confirmation_policy = ?3 WHERE contract_no = ?1",
        params![t.contract_no, json(&t.login), json(&t.confirmation)],
    )
    .map_err(storage)?;
    Ok(())
}

// ---- users

const USER_COLUMNS: &str = "u.id, u.login_id, t.contract_no, u.name, u.role, u.status, u.email, \
                            u.mfa, u.created_at";
const CRED_COLUMNS: &str = "user_id, kind, hash, set_at, expires_at, must_change, temporary, \
                            initial_hash, history, failures, first_failure_at, last_failure_at, \
                            locked_until, temp_locks, permanent_at, admin_unlocked_at";

fn user_from_row(r: &Row<'_>) -> rusqlite::Result<(i64, User)> {
    let role: String = r.get(4)?;
    let status: String = r.get(5)?;
    let empty = Credential::new(String::new(), 0);
    Ok((
        r.get(0)?,
        User {
            login_id: r.get(1)?,
            contract_no: r.get(2)?,
            name: r.get(3)?,
            role: UserRole::parse(&role).unwrap_or(UserRole::General),
            status: UserStatus::parse(&status).unwrap_or(UserStatus::Suspended),
            email: r.get(6)?,
            mfa: r.get(7)?,
            created_at: r.get(8)?,
            login: empty.clone(),
            confirmation: empty,
        },
    ))
}

fn cred_from_row(r: &Row<'_>) -> rusqlite::Result<(i64, CredentialKind, Credential)> {
    let kind: String = r.get(1)?;
    Ok((
        r.get(0)?,
        CredentialKind::parse(&kind).unwrap_or(CredentialKind::Login),
        Credential {
            hash: r.get(2)?,
            set_at: r.get(3)?,
            expires_at: r.get(4)?,
            must_change: r.get(5)?,
            temporary: r.get(6)?,
            initial_hash: r.get(7)?,
            history: parse(&r.get::<_, String>(8)?)?,
            lockout: LockoutFacts {
                failures: r.get(9)?,
                first_failure_at: r.get(10)?,
                last_failure_at: r.get(11)?,
                locked_until: r.get(12)?,
                temp_locks: r.get(13)?,
                permanent_at: r.get(14)?,
                admin_unlocked_at: r.get(15)?,
            },
        },
    ))
}

/// Users selected by `tail` (WHERE / ORDER BY / LIMIT over `users u JOIN tenants t`), with their
/// credentials.
fn select_users(
    conn: &Connection,
    tail: &str,
    p: impl rusqlite::Params,
) -> Result<Vec<User>, Error> {
    let mut users = rows(
        conn,
        &format!("SELECT {USER_COLUMNS} FROM users u JOIN tenants t ON t.id = u.tenant_id {tail}"),
        p,
        user_from_row,
    )?;
    with_credentials(conn, &mut users)?;
    Ok(users.into_iter().map(|(_, u)| u).collect())
}

/// Reads each user's two credentials into it (one query for all of them).
fn with_credentials(conn: &Connection, users: &mut [(i64, User)]) -> Result<(), Error> {
    if users.is_empty() {
        return Ok(());
    }
    let marks = vec!["?"; users.len()].join(", ");
    let mut st = conn
        .prepare(&format!(
            "SELECT {CRED_COLUMNS} FROM credentials WHERE user_id IN ({marks})"
        ))
        .map_err(storage)?;
    let ids: Vec<i64> = users.iter().map(|(id, _)| *id).collect();
    let at: HashMap<i64, usize> = ids.iter().enumerate().map(|(i, id)| (*id, i)).collect();
    let rows = st
        .query_map(rusqlite::params_from_iter(&ids), cred_from_row)
        .map_err(storage)?;
    for row in rows {
        let (user_id, kind, c) = row.map_err(storage)?;
        if let Some(i) = at.get(&user_id) {
            *users[*i].1.credential_mut(kind) = c;
        }
    }
    Ok(())
}

/// A user by login ID (case-insensitive).
pub fn user(conn: &Connection, login_id: &str) -> Result<Option<User>, Error> {
    Ok(
        select_users(conn, "WHERE u.login_key = ?1", [fold(login_id)])?
            .into_iter()
            .next(),
    )
}

/// The users of a tenant, by login ID.
pub fn users_of(conn: &Connection, contract_no: &str) -> Result<Vec<User>, Error> {
    select_users(
        conn,
        "WHERE t.contract_no = ?1 ORDER BY u.login_key",
        [contract_no.trim()],
    )
}

/// A customer's masters and admins, by login ID (the partial index `users_managers`).
pub fn managers_of(conn: &Connection, contract_no: &str) -> Result<Vec<User>, Error> {
    select_users(
        conn,
        "WHERE t.contract_no = ?1 AND u.role IN ('master', 'admin') ORDER BY u.login_key",
        [contract_no.trim()],
    )
}

/// How many users there are.
pub fn user_count(conn: &Connection) -> Result<i64, Error> {
    conn.query_row("SELECT count(*) FROM users", [], |r| r.get(0))
        .map_err(storage)
}

/// Users whose login ID, name or e-mail address starts with `prefix` (case-insensitive), by
/// login ID, at most `limit`. Each of the three is an index range scan.
pub fn search(conn: &Connection, prefix: &str, limit: u32) -> Result<Vec<User>, Error> {
    let p = prefix.trim().to_lowercase();
    if p.is_empty() {
        return select_users(conn, "ORDER BY u.login_key LIMIT ?1", [limit]);
    }
    let hi = format!("{p}\u{10FFFF}");
    select_users(
        conn,
        "WHERE u.id IN (
            SELECT id FROM users WHERE login_key >= ?1 AND login_key < ?2
            UNION SELECT id FROM users WHERE name_key >= ?1 AND name_key < ?2
            UNION SELECT id FROM users WHERE email_key >= ?1 AND email_key < ?2)
         ORDER BY u.login_key LIMIT ?3",
        params![p, hi, limit],
    )
}

/// Records wrong passwords for one credential of `id` at `at` until `lock` locks it (or locks it
/// for good), as the authentication path would — without a password check. For demo data and
/// test fixtures, which need locked users without paying an argon2 hash per attempt.
pub fn fail_until_locked(
    tx: &Tx<'_>,
    id: &str,
    kind: CredentialKind,
    lock: &kagiya_core::lockout::LockoutPolicy,
    at: Millis,
    origin: &str,
) -> Result<(), Error> {
    use kagiya_core::directory::Channel;
    use kagiya_core::lockout::FailureOutcome;
    let u = user(tx, id)?.ok_or(Error::UnknownUser)?;
    let mut facts = u.credential(kind).lockout;
    if let Some(ended_at) = lock.expired_lock(&facts, at) {
        let ev = EventKind::CredentialLockReleased {
            login_id: id.to_owned(),
            credential: kind,
            ended_at,
        };
        record(tx, at, None, Some(origin), ev)?;
        facts = lock.on_release(&facts);
    }
    for _ in 0..lock.threshold {
        let (f, outcome) = lock.on_failure(&facts, at);
        facts = f;
        let ev = EventKind::CredentialFailed {
            login_id: id.to_owned(),
            credential: kind,
            channel: Channel::Web,
            outcome,
            right_password: false,
        };
        record(tx, at, None, Some(origin), ev)?;
        if !matches!(outcome, FailureOutcome::Counted { .. }) {
            break;
        }
    }
    Ok(())
}

/// The users with these row IDs, in the same order (IDs that do not exist are left out).
pub(crate) fn users_by_ids(conn: &Connection, ids: &[i64]) -> Result<Vec<User>, Error> {
    if ids.is_empty() {
        return Ok(Vec::new());
    }
    let marks = vec!["?"; ids.len()].join(", ");
    let mut st = conn
        .prepare(&format!(
            "SELECT {USER_COLUMNS} FROM users u JOIN tenants t ON t.id = u.tenant_id \
             WHERE u.id IN ({marks})"
        ))
        .map_err(storage)?;
    let mut found: HashMap<i64, User> = st
        .query_map(rusqlite::params_from_iter(ids), user_from_row)
        .map_err(storage)?
        .collect::<rusqlite::Result<_>>()
        .map_err(storage)?;
    let mut users: Vec<(i64, User)> = ids
        .iter()
        .filter_map(|id| found.remove(id).map(|u| (*id, u)))
        .collect();
    with_credentials(conn, &mut users)?;
    Ok(users.into_iter().map(|(_, u)| u).collect())
}

fn insert_user(tx: &Tx<'_>, u: &User) -> Result<(), Error> {
    let tenant_id: i64 = tx
        .query_row(
            "SELECT id FROM tenants WHERE contract_no = ?1",
            [&u.contract_no],
            |r| r.get(0),
        )
        .optional()
        .map_err(storage)?
        .ok_or(Error::UnknownTenant)?;
    tx.execute(
        "INSERT INTO users (tenant_id, login_id, login_key, name, name_key, role, status, email, \
         email_key, mfa, created_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11)",
        params![
            tenant_id,
            u.login_id,
            fold(&u.login_id),
            u.name,
            u.name.to_lowercase(),
            u.role.code(),
            u.status.code(),
            u.email,
            u.email.as_deref().map(str::to_lowercase),
            u.mfa,
            u.created_at
        ],
    )
    .map_err(|e| {
        if is_unique_violation(&e) {
            Error::AlreadyExists("login_id")
        } else {
            storage(e)
        }
    })?;
    let id = tx.last_insert_rowid();
    for kind in CredentialKind::BOTH {
        tx.execute(
            &format!(
                "INSERT INTO credentials ({CRED_COLUMNS}) VALUES \
                 (?1, ?2, '', ?3, NULL, 0, 0, NULL, '[]', 0, NULL, NULL, NULL, 0, NULL, NULL)"
            ),
            params![id, kind.code(), u.created_at],
        )
        .map_err(storage)?;
    }
    save_user(tx, u)
}

/// Writes a user's status and both credentials back.
fn save_user(tx: &Tx<'_>, u: &User) -> Result<(), Error> {
    let id: i64 = tx
        .query_row(
            "SELECT id FROM users WHERE login_key = ?1",
            [fold(&u.login_id)],
            |r| r.get(0),
        )
        .map_err(storage)?;
    tx.execute(
        "UPDATE users SET status = ?2, mfa = ?3 WHERE id = ?1",
        params![id, u.status.code(), u.mfa],
    )
    .map_err(storage)?;
    let mut st = tx
        .prepare_cached(
            "UPDATE credentials SET hash = ?3, set_at = ?4, expires_at = ?5, must_change = ?6, \
             temporary = ?7, initial_hash = ?8, history = ?9, failures = ?10, \
             first_failure_at = ?11, last_failure_at = ?12, locked_until = ?13, temp_locks = ?14, \
             permanent_at = ?15, admin_unlocked_at = ?16 WHERE user_id = ?1 AND kind = ?2",
        )
        .map_err(storage)?;
    for kind in CredentialKind::BOTH {
        let c = u.credential(kind);
        let f = &c.lockout;
        st.execute(params![
            id,
            kind.code(),
            c.hash,
            c.set_at,
            c.expires_at,
            c.must_change,
            c.temporary,
            c.initial_hash,
            json(&c.history),
            f.failures,
            f.first_failure_at,
            f.last_failure_at,
            f.locked_until,
            f.temp_locks,
            f.permanent_at,
            f.admin_unlocked_at
        ])
        .map_err(storage)?;
    }
    Ok(())
}

// ---- initialization requests

pub fn init_request(conn: &Connection, request_no: &str) -> Result<Option<InitRequest>, Error> {
    conn.query_row(
        "SELECT body FROM init_requests WHERE request_no = ?1",
        [request_no.trim()],
        |r| parse(&r.get::<_, String>(0)?),
    )
    .optional()
    .map_err(storage)
}

pub fn init_requests(conn: &Connection) -> Result<Vec<InitRequest>, Error> {
    all(
        conn,
        "SELECT body FROM init_requests ORDER BY request_no",
        |r| parse(&r.get::<_, String>(0)?),
    )
}

fn save_request(tx: &Tx<'_>, r: &InitRequest, insert: bool) -> Result<(), Error> {
    let sql = if insert {
        "INSERT INTO init_requests (request_no, contract_no, state, body) VALUES (?1, ?2, ?3, ?4)"
    } else {
        "UPDATE init_requests SET contract_no = ?2, state = ?3, body = ?4 WHERE request_no = ?1"
    };
    tx.execute(
        sql,
        params![r.request_no, r.contract_no, r.state.code(), json(r)],
    )
    .map_err(|e| {
        if is_unique_violation(&e) {
            Error::AlreadyExists("request_no")
        } else {
            storage(e)
        }
    })?;
    Ok(())
}

// ---- recording

/// Appends a directory event to the log and applies it to the tables, inside `tx`.
pub fn record(
    tx: &Tx<'_>,
    at: Millis,
    actor: Option<&str>,
    origin: Option<&str>,
    kind: EventKind,
) -> Result<StoredEvent, Error> {
    project(tx, at, actor, &kind)?;
    let mail = crate::outbox::owed(&kind);
    let queued = kind.clone();
    let e = events::append_from(tx, at, actor, origin, kind)?;
    if let Some(mail) = mail {
        crate::outbox::queue(tx, &e, mail)?;
    }
    crate::sync::queue(tx, &e, &queued)?;
    Ok(e)
}

// ---- addresses, IP rules, trusted roots

fn user_id(conn: &Connection, login_id: &str) -> Result<i64, Error> {
    conn.query_row(
        "SELECT id FROM users WHERE login_key = ?1",
        [fold(login_id)],
        |r| r.get(0),
    )
    .optional()
    .map_err(storage)?
    .ok_or(Error::UnknownUser)
}

fn tenant_id(conn: &Connection, contract_no: &str) -> Result<i64, Error> {
    conn.query_row(
        "SELECT id FROM tenants WHERE contract_no = ?1",
        [contract_no.trim()],
        |r| r.get(0),
    )
    .optional()
    .map_err(storage)?
    .ok_or(Error::UnknownTenant)
}

/// A user's addresses (empty when none).
pub fn addresses(conn: &Connection, login_id: &str) -> Result<Vec<Address>, Error> {
    let id = user_id(conn, login_id)?;
    let list: Option<Vec<Address>> = conn
        .query_row(
            "SELECT body FROM user_addresses WHERE user_id = ?1",
            [id],
            |r| parse(&r.get::<_, String>(0)?),
        )
        .optional()
        .map_err(storage)?;
    Ok(list.unwrap_or_default())
}

fn save_addresses(tx: &Tx<'_>, login_id: &str, list: &[Address]) -> Result<(), Error> {
    let id = user_id(tx, login_id)?;
    if list.is_empty() {
        tx.execute("DELETE FROM user_addresses WHERE user_id = ?1", [id])
            .map_err(storage)?;
    } else {
        tx.execute(
            "INSERT INTO user_addresses (user_id, body) VALUES (?1, ?2) \
             ON CONFLICT (user_id) DO UPDATE SET body = excluded.body",
            params![id, json(&list)],
        )
        .map_err(storage)?;
    }
    Ok(())
}

/// A customer's rules for one service (no restriction when none were set).
pub fn ip_rules(conn: &Connection, contract_no: &str, service: Service) -> Result<RuleSet, Error> {
    let id = tenant_id(conn, contract_no)?;
    let rules: Option<RuleSet> = conn
        .query_row(
            "SELECT body FROM ip_rules WHERE tenant_id = ?1 AND service = ?2",
            params![id, service.code()],
            |r| parse(&r.get::<_, String>(0)?),
        )
        .optional()
        .map_err(storage)?;
    Ok(rules.unwrap_or_default())
}

/// The end of a customer's forced release, if one was given.
pub fn ip_release(conn: &Connection, contract_no: &str) -> Result<Option<Millis>, Error> {
    let id = tenant_id(conn, contract_no)?;
    conn.query_row(
        "SELECT until FROM ip_releases WHERE tenant_id = ?1",
        [id],
        |r| r.get(0),
    )
    .optional()
    .map_err(storage)
}

/// The trusted roots as (subject, DER). A stored root that does not decode is an error, not
/// left out.
pub fn trusted_roots(conn: &Connection) -> Result<Vec<(String, Vec<u8>)>, Error> {
    use base64::Engine as _;
    let rows = all(
        conn,
        "SELECT subject, der FROM trusted_roots ORDER BY subject",
        |r| Ok((r.get::<_, String>(0)?, r.get::<_, String>(1)?)),
    )?;
    rows.into_iter()
        .map(|(subject, der)| {
            base64::engine::general_purpose::STANDARD
                .decode(der)
                .map(|der| (subject, der))
                .map_err(|e| Error::Storage(format!("trusted root: {e}")))
        })
        .collect()
}

fn project_more(tx: &Tx<'_>, at: Millis, kind: &EventKind) -> Result<(), Error> {
    if let Some(id) = address_user_of(kind) {
        let u = user(tx, id)?.ok_or(Error::UnknownUser)?;
        let t = tenant(tx, &u.contract_no)?.ok_or(Error::UnknownTenant)?;
        let before = addresses(tx, id)?;
        let mut list = before.clone();
        apply_to_addresses(&mut list, &t, at, kind)?;
        if list == before {
            // An unlock of a user without address passwords changes nothing here.
            return Ok(());
        }
        return save_addresses(tx, id, &list);
    }
    match kind {
        EventKind::IpRulesSet {
            contract_no,
            service,
            rules,
        } => {
            let id = tenant_id(tx, contract_no)?;
            tx.execute(
                "INSERT INTO ip_rules (tenant_id, service, body) VALUES (?1, ?2, ?3) \
                 ON CONFLICT (tenant_id, service) DO UPDATE SET body = excluded.body",
                params![id, service.code(), json(rules)],
            )
            .map_err(storage)?;
        }
        EventKind::IpRestrictionsReleased {
            contract_no, until, ..
        } => {
            let id = tenant_id(tx, contract_no)?;
            tx.execute(
                "INSERT INTO ip_releases (tenant_id, until) VALUES (?1, ?2) \
             ON CONFLICT (tenant_id) DO UPDATE SET until = excluded.until",
                params![id, until],
            )
            .map_err(storage)?;
        }
        EventKind::TrustedRootAdded {
            sha256,
            subject,
            der,
        } => {
            tx.execute(
                "INSERT INTO trusted_roots (sha256, subject, der) VALUES (?1, ?2, ?3)",
                params![sha256, subject, der],
            )
            .map_err(|e| {
                if is_unique_violation(&e) {
                    Error::AlreadyExists("root")
                } else {
                    storage(e)
                }
            })?;
        }
        _ => {}
    }
    Ok(())
}

/// Applies one event to the tables without recording it (sync makes a served customer's rows
/// from the server's chain this way).
pub(crate) fn project_event(
    tx: &Tx<'_>,
    at: Millis,
    actor: Option<&str>,
    kind: &EventKind,
) -> Result<(), Error> {
    project(tx, at, actor, kind)
}

/// Removes every row of the customer `customer` (folded contract number): its tenant, users,
/// credentials, addresses, requests, IP rules and release.
pub(crate) fn remove_customer(tx: &Tx<'_>, customer: &str) -> Result<(), Error> {
    let ids: Vec<(i64, String)> = all(tx, "SELECT id, contract_no FROM tenants", |r| {
        Ok((r.get(0)?, r.get(1)?))
    })?;
    for (id, contract_no) in ids.into_iter().filter(|(_, c)| fold(c) == customer) {
        for sql in [
            "DELETE FROM credentials WHERE user_id IN (SELECT id FROM users WHERE tenant_id = ?1)",
            "DELETE FROM user_addresses WHERE user_id IN (SELECT id FROM users WHERE tenant_id = ?1)",
            "DELETE FROM users WHERE tenant_id = ?1",
            "DELETE FROM ip_rules WHERE tenant_id = ?1",
            "DELETE FROM ip_releases WHERE tenant_id = ?1",
        ] {
            tx.execute(sql, [id]).map_err(storage)?;
        }
        tx.execute(
            "DELETE FROM init_requests WHERE contract_no = ?1",
            [&contract_no],
        )
        .map_err(storage)?;
        tx.execute("DELETE FROM tenants WHERE id = ?1", [id])
            .map_err(storage)?;
    }
    Ok(())
}

/// Applies one event to the tables.
fn project(tx: &Tx<'_>, at: Millis, actor: Option<&str>, kind: &EventKind) -> Result<(), Error> {
    if let Some(t) = new_tenant(kind, at) {
        insert_tenant(tx, &t)
    } else if let EventKind::TenantPolicyChanged { contract_no, .. } = kind {
        let mut t = tenant(tx, contract_no)?.ok_or(Error::UnknownTenant)?;
        apply_to_tenant(&mut t, kind);
        save_tenant_policies(tx, &t)
    } else if let Some(u) = new_user(kind, at) {
        insert_user(tx, &u)
    } else if let Some(id) = user_of(kind) {
        let mut u = user(tx, id)?.ok_or(Error::UnknownUser)?;
        let t = tenant(tx, &u.contract_no)?.ok_or(Error::UnknownTenant)?;
        apply_to_user(&mut u, &t, at, kind)?;
        save_user(tx, &u)?;
        if address_user_of(kind).is_some() {
            // Events about both (2FA on, an unlock) reach the addresses too.
            project_more(tx, at, kind)?;
        }
        Ok(())
    } else if let EventKind::InitRequestRecorded { request } = kind {
        save_request(tx, request, true)
    } else if let Some(no) = request_of(kind) {
        let mut r = init_request(tx, no)?.ok_or(Error::UnknownRequest)?;
        apply_to_request(&mut r, at, actor, kind)?;
        save_request(tx, &r, false)
    } else {
        project_more(tx, at, kind)
    }
}

// ---- fold and rebuild

/// The directory as the tables hold it.
pub fn load(conn: &Connection) -> Result<Directory, Error> {
    let mut d = Directory::default();
    for t in tenants(conn)? {
        d.tenants.insert(fold(&t.contract_no), t);
    }
    let mut st = conn
        .prepare(&format!("SELECT {CRED_COLUMNS} FROM credentials"))
        .map_err(storage)?;
    let mut creds: HashMap<(i64, CredentialKind), Credential> = HashMap::new();
    for row in st.query_map([], cred_from_row).map_err(storage)? {
        let (id, kind, c) = row.map_err(storage)?;
        creds.insert((id, kind), c);
    }
    let mut st = conn
        .prepare(&format!(
            "SELECT {USER_COLUMNS} FROM users u JOIN tenants t ON t.id = u.tenant_id"
        ))
        .map_err(storage)?;
    for row in st.query_map([], user_from_row).map_err(storage)? {
        let (id, mut u) = row.map_err(storage)?;
        for kind in CredentialKind::BOTH {
            if let Some(c) = creds.remove(&(id, kind)) {
                *u.credential_mut(kind) = c;
            }
        }
        d.users.insert(fold(&u.login_id), u);
    }
    for r in init_requests(conn)? {
        d.init_requests.insert(fold(&r.request_no), r);
    }
    let addresses = all(
        conn,
        "SELECT u.login_key, a.body FROM user_addresses a JOIN users u ON u.id = a.user_id",
        |r| {
            Ok((
                r.get::<_, String>(0)?,
                parse::<Vec<Address>>(&r.get::<_, String>(1)?)?,
            ))
        },
    )?;
    d.addresses.extend(addresses);
    let rules = all(
        conn,
        "SELECT t.contract_no, r.service, r.body FROM ip_rules r JOIN tenants t ON t.id = r.tenant_id",
        |r| {
            Ok((
                r.get::<_, String>(0)?,
                r.get::<_, String>(1)?,
                parse::<RuleSet>(&r.get::<_, String>(2)?)?,
            ))
        },
    )?;
    for (contract_no, service, set) in rules {
        let service =
            Service::parse(&service).ok_or_else(|| Error::Storage(format!("service {service}")))?;
        d.ip_rules.insert(rules_key(&contract_no, service), set);
    }
    let releases = all(
        conn,
        "SELECT t.contract_no, r.until FROM ip_releases r JOIN tenants t ON t.id = r.tenant_id",
        |r| Ok((fold(&r.get::<_, String>(0)?), r.get::<_, Millis>(1)?)),
    )?;
    d.ip_releases.extend(releases);
    let roots = all(
        conn,
        "SELECT sha256, subject, der FROM trusted_roots",
        |r| Ok((r.get::<_, String>(0)?, (r.get(1)?, r.get(2)?))),
    )?;
    d.trusted_roots.extend(roots);
    Ok(d)
}

/// The directory folded from the whole event log.
pub fn rebuild(conn: &Connection) -> Result<Directory, Error> {
    // On a PC that syncs, the customers it serves are the server's fold plus the ops waiting.
    if let Some(d) = crate::sync::rebuild(conn)? {
        return Ok(d);
    }
    let mut d = Directory::default();
    events::for_each_kind(conn, |at, actor, kind| d.apply(at, actor, kind))?;
    Ok(d)
}

/// True when folding the log gives exactly the tables' state.
pub fn rebuild_matches(conn: &Connection) -> Result<bool, Error> {
    Ok(rebuild(conn)? == load(conn)?)
}
