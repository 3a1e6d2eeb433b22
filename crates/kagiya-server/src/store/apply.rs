//! Storing what the engine decided. A directory event is applied with the core's own fold
//! (`Directory::apply`) to the rows it touches — loaded into a small directory after their
//! customer is locked, written back where they changed — and appended to that customer's chain,
//! in the same transaction. The tables are therefore always the fold of the chains, as on the
//! branch, and `Directory::apply` is the only place that says what an event does.

use std::cell::{Cell, RefCell};
use std::collections::BTreeSet;

use crate::db::Tx as Transaction;
use kagiya_core::directory::fold::{address_user_of, new_tenant, new_user, request_of, user_of};
use kagiya_core::directory::ids::fold;
use kagiya_core::directory::Directory;
use kagiya_core::event::{EventKind, Scope};
use kagiya_core::{Error, Millis};
use kagiya_engine::port::Change;

use super::reads::{doc, lock_chain};
use super::storage;
use crate::events::{self, SERVER_CHAIN};
use crate::mail::outbox::{self, MailQueue};

/// What one change needs from the transaction.
struct Ctx<'a> {
    tx: &'a Transaction<'a>,
    locked: &'a RefCell<BTreeSet<String>>,
    retry: &'a Cell<bool>,
}

impl Ctx<'_> {
    fn db(&self) -> impl Fn(tokio_postgres::Error) -> Error + '_ {
        |e| storage(e, Some(self.retry))
    }

    async fn lock(&self, chain: &str) -> Result<(), Error> {
        lock_chain(self.tx, self.locked, self.retry, chain).await
    }

    /// The folded contract number of `login_id`'s customer, if there is such a user.
    async fn customer_of(&self, login_id: &str) -> Result<Option<String>, Error> {
        if !super::reads::storable(login_id) {
            return Ok(None);
        }
        Ok(self
            .tx
            .query_opt(
                "SELECT contract_key FROM users WHERE login_key = $1",
                &[&fold(login_id)],
            )
            .await
            .map_err(self.db())?
            .map(|r| r.get(0)))
    }

    async fn load_tenant(&self, d: &mut Directory, key: &str) -> Result<(), Error> {
        if let Some(r) = self
            .tx
            .query_opt(
                "SELECT doc::text FROM tenants WHERE contract_key = $1",
                &[&key],
            )
            .await
            .map_err(self.db())?
        {
            d.tenants.insert(key.to_owned(), doc(r.get(0))?);
        }
        Ok(())
    }

    /// Loads a user, their customer and their addresses into `d`; returns the customer. One
    /// statement when the decision already locked the customer (the usual case); otherwise the
    /// customer is locked and the rows read again, fresh.
    async fn load_user(&self, d: &mut Directory, login_id: &str) -> Result<String, Error> {
        let key = fold(login_id);
        let read = || async {
            crate::db::query_opt(
                self.tx,
                "SELECT u.contract_key, u.doc::text, u.addresses::text, t.doc::text \
                     FROM users u JOIN tenants t ON t.contract_key = u.contract_key \
                     WHERE u.login_key = $1",
                &[&key],
            )
            .await
            .map_err(self.db())?
            .ok_or(Error::UnknownUser)
        };
        let mut row = read().await?;
        let chain: String = row.get(0);
        if !self.locked.borrow().contains(&chain) {
            self.lock(&chain).await?;
            row = read().await?;
        }
        d.users.insert(key.clone(), doc(row.get(1))?);
        let list: Vec<kagiya_core::directory::Address> = doc(row.get(2))?;
        if !list.is_empty() {
            d.addresses.insert(key, list);
        }
        d.tenants.insert(chain.clone(), doc(row.get(3))?);
        Ok(chain)
    }

    /// Locks the customer `event` is about and loads the rows it touches; returns the chain it
    /// is recorded in.
    async fn load_for(&self, d: &mut Directory, kind: &EventKind) -> Result<String, Error> {
        if let Some(t) = new_tenant(kind, 0) {
            let chain = fold(&t.contract_no);
            self.lock(&chain).await?;
            return Ok(chain);
        }
        if let EventKind::TenantPolicyChanged { contract_no, .. } = kind {
            let chain = fold(contract_no);
            self.lock(&chain).await?;
            self.load_tenant(d, &chain).await?;
            return Ok(chain);
        }
        if let Some(u) = new_user(kind, 0) {
            let chain = fold(&u.contract_no);
            self.lock(&chain).await?;
            return Ok(chain);
        }
        if let Some(id) = user_of(kind).or_else(|| address_user_of(kind)) {
            return self.load_user(d, id).await;
        }
        if let EventKind::InitRequestRecorded { request } = kind {
            let chain = fold(&request.contract_no);
            self.lock(&chain).await?;
            return Ok(chain);
        }
        if let Some(no) = request_of(kind) {
            let key = fold(no);
            let Some(r) = self
                .tx
                .query_opt(
                    "SELECT contract_key FROM init_requests WHERE request_key = $1",
                    &[&key],
                )
                .await
                .map_err(self.db())?
            else {
                return Err(Error::UnknownRequest);
            };
            let chain: String = r.get(0);
            self.lock(&chain).await?;
            let r = self
                .tx
                .query_one(
                    "SELECT doc::text FROM init_requests WHERE request_key = $1",
                    &[&key],
                )
                .await
                .map_err(self.db())?;
            d.init_requests.insert(key, doc(r.get(0))?);
            return Ok(chain);
        }
        let chain = match kind {
            EventKind::IpRulesSet { contract_no, .. }
            | EventKind::IpRestrictionsReleased { contract_no, .. } => fold(contract_no),
            // A refusal of a known user goes to their customer's chain; of anyone else, to the
            // server's own.
            EventKind::CredentialRefused { attempted_id, .. } => self
                .customer_of(attempted_id)
                .await?
                .unwrap_or_else(|| SERVER_CHAIN.to_owned()),
            _ => SERVER_CHAIN.to_owned(),
        };
        self.lock(&chain).await?;
        Ok(chain)
    }

    /// Writes back every row of `after` that differs from `before`.
    async fn save(&self, before: &Directory, after: &Directory) -> Result<(), Error> {
        for (key, t) in &after.tenants {
            match before.tenants.get(key) {
                Some(old) if old == t => {}
                Some(_) => {
                    crate::db::execute(
                        self.tx,
                        "UPDATE tenants SET doc = $2::text::jsonb WHERE contract_key = $1",
                        &[key, &json(t)],
                    )
                    .await
                    .map_err(self.db())?;
                }
                None => {
                    crate::db::execute(
                        self.tx,
                        "INSERT INTO tenants (contract_key, doc) VALUES ($1, $2::text::jsonb)",
                        &[key, &json(t)],
                    )
                    .await
                    .map_err(self.db())?;
                }
            }
        }
        for (key, u) in &after.users {
            match before.users.get(key) {
                Some(old) if old == u => {}
                Some(_) => {
                    crate::db::execute(
                        self.tx,
                        "UPDATE users SET doc = $2::text::jsonb WHERE login_key = $1",
                        &[key, &json(u)],
                    )
                    .await
                    .map_err(self.db())?;
                }
                None => {
                    let contract = fold(&u.contract_no);
                    crate::db::execute(
                        self.tx,
                        "INSERT INTO users (login_key, contract_key, doc) \
                             VALUES ($1, $2, $3::text::jsonb)",
                        &[key, &contract, &json(u)],
                    )
                    .await
                    .map_err(self.db())?;
                }
            }
        }
        let keys: BTreeSet<&String> = before
            .addresses
            .keys()
            .chain(after.addresses.keys())
            .collect();
        for key in keys {
            let new = after.addresses.get(key).cloned().unwrap_or_default();
            if before.addresses.get(key).cloned().unwrap_or_default() != new {
                crate::db::execute(
                    self.tx,
                    "UPDATE users SET addresses = $2::text::jsonb WHERE login_key = $1",
                    &[key, &json(&new)],
                )
                .await
                .map_err(self.db())?;
            }
        }
        for (key, r) in &after.init_requests {
            let contract = fold(&r.contract_no);
            match before.init_requests.get(key) {
                Some(old) if old == r => {}
                Some(_) => {
                    crate::db::execute(
                        self.tx,
                        "UPDATE init_requests SET doc = $2::text::jsonb WHERE request_key = $1",
                        &[key, &json(r)],
                    )
                    .await
                    .map_err(self.db())?;
                }
                None => {
                    crate::db::execute(
                        self.tx,
                        "INSERT INTO init_requests (request_key, contract_key, doc) \
                             VALUES ($1, $2, $3::text::jsonb)",
                        &[key, &contract, &json(r)],
                    )
                    .await
                    .map_err(self.db())?;
                }
            }
        }
        for (key, rules) in &after.ip_rules {
            if before.ip_rules.get(key) == Some(rules) {
                continue;
            }
            let (contract, service) = key.split_once('/').unwrap_or((key, ""));
            crate::db::execute(self.tx,
                    "INSERT INTO ip_rules (contract_key, service, doc) VALUES ($1, $2, $3::text::jsonb) \
                     ON CONFLICT (contract_key, service) DO UPDATE SET doc = excluded.doc",
                    &[&contract, &service, &json(rules)],
                )
                .await
                .map_err(self.db())?;
        }
        for (key, until) in &after.ip_releases {
            if before.ip_releases.get(key) == Some(until) {
                continue;
            }
            crate::db::execute(
                self.tx,
                "INSERT INTO ip_releases (contract_key, until_ms) VALUES ($1, $2) \
                     ON CONFLICT (contract_key) DO UPDATE SET until_ms = excluded.until_ms",
                &[key, until],
            )
            .await
            .map_err(self.db())?;
        }
        for (sha, (subject, der)) in &after.trusted_roots {
            if before.trusted_roots.contains_key(sha) {
                continue;
            }
            crate::db::execute(
                self.tx,
                "INSERT INTO trusted_roots (sha256, subject, der_base64) VALUES ($1, $2, $3)",
                &[sha, subject, der],
            )
            .await
            .map_err(self.db())?;
        }
        Ok(())
    }
}

/// JSON text of one of the core's documents.
fn json<T: serde::Serialize>(v: &T) -> String {
    serde_json::to_string(v).expect("directory values always serialize")
}

/// The user whose sign-in sessions an event ends: a password of theirs set anew (by anyone, for
/// any reason), their suspension, or their login password locked.
pub(crate) fn ends_sessions(kind: &EventKind) -> Option<&str> {
    use kagiya_core::directory::CredentialKind;
    use kagiya_core::lockout::FailureOutcome;
    match kind {
        EventKind::PasswordSet { login_id, .. }
        | EventKind::AddressPasswordSet { login_id, .. }
        | EventKind::UserSuspended { login_id } => Some(login_id),
        EventKind::CredentialFailed {
            login_id,
            credential: CredentialKind::Login,
            outcome: FailureOutcome::LockedNow { .. } | FailureOutcome::LockedPermanently { .. },
            ..
        } => Some(login_id),
        _ => None,
    }
}

/// Writes back every row of `after` that differs from `before`, inside `tx` (the sync ingest's
/// bulk path, which applied a batch's events in memory with the core's fold).
pub(crate) async fn save_rows(
    tx: &Transaction<'_>,
    locked: &RefCell<BTreeSet<String>>,
    retry: &Cell<bool>,
    before: &Directory,
    after: &Directory,
) -> Result<(), Error> {
    Ctx { tx, locked, retry }.save(before, after).await
}

/// Ends the sign-in sessions of `login_id` at `at` (in the transaction of the change that ends them).
pub(crate) async fn end_sessions(
    tx: &Transaction<'_>,
    retry: &Cell<bool>,
    login_id: &str,
    at: Millis,
) -> Result<(), Error> {
    crate::db::execute(
        tx,
        "UPDATE sessions SET revoked_ms = $2 WHERE login_key = $1 AND revoked_ms IS NULL",
        &[&fold(login_id), &at],
    )
    .await
    .map_err(|e| storage(e, Some(retry)))?;
    Ok(())
}

/// What one write's changes share: the mail queue, and the entry the write appended last (a
/// mail the engine orders is owed by the event just before it).
pub(super) struct Writing<'a> {
    pub mail: &'a MailQueue,
    pub last: Option<(String, i64)>,
}

/// Stores one decided change inside `tx`.
pub(super) async fn change(
    tx: &Transaction<'_>,
    locked: &RefCell<BTreeSet<String>>,
    retry: &Cell<bool>,
    at: Millis,
    origin: &str,
    w: &mut Writing<'_>,
    c: Change,
) -> Result<(), Error> {
    match c {
        Change::Event { actor, kind } => {
            let (chain, e) = event(
                tx,
                locked,
                retry,
                at,
                origin,
                actor.as_deref(),
                kind,
                w.mail,
            )
            .await?;
            w.last = Some((chain, e.seq));
            Ok(())
        }
        Change::Mail(order) => {
            let event = w.last.as_ref().map(|(c, s)| (c.as_str(), *s));
            outbox::queue_order(tx, retry, w.mail, at, event, &order).await
        }
        other => setting_or_table(tx, retry, other).await,
    }
}

/// Records one event inside `tx`: its effect on the tables (the core's fold), its entry at the
/// head of its customer's chain, and the mails it owes (`kagiya_core::mail::owed`). Returns the
/// chain and the entry.
#[allow(clippy::too_many_arguments)]
pub(crate) async fn event(
    tx: &Transaction<'_>,
    locked: &RefCell<BTreeSet<String>>,
    retry: &Cell<bool>,
    at: Millis,
    origin: &str,
    actor: Option<&str>,
    kind: EventKind,
    mail: &MailQueue,
) -> Result<(String, kagiya_core::event::StoredEvent), Error> {
    let cx = Ctx { tx, locked, retry };
    let mut owed = Vec::new();
    let chain = match kind.scope() {
        Scope::Directory => {
            let mut d = Directory::default();
            let chain = cx.load_for(&mut d, &kind).await?;
            let before = d.clone();
            d.apply(at, actor, &kind)?;
            cx.save(&before, &d).await?;
            if kagiya_core::mail::may_owe(&kind) {
                owed =
                    kagiya_core::mail::owed(&d, &kind, kagiya_core::mail::before(&before, &kind));
            }
            if let Some(login_id) = ends_sessions(&kind) {
                // In the same transaction: no session of the user outlives the change,
                // whichever process (or imported branch entry) made it.
                end_sessions(tx, retry, login_id, at).await?;
            }
            chain
        }
        // The branch's own events (none are decided on the server today) go to the
        // server's chain.
        Scope::Branch => {
            cx.lock(SERVER_CHAIN).await?;
            SERVER_CHAIN.to_owned()
        }
    };
    let e = events::append(tx, &chain, at, actor, Some(origin), kind)
        .await
        .map_err(Error::Storage)?;
    outbox::queue_owed(tx, retry, mail, at, Some((&chain, e.seq)), &owed).await?;
    Ok((chain, e))
}

/// The changes that are not events: a setting, the country table (and the branch's operator
/// rows, which the server refuses).
async fn setting_or_table(
    tx: &Transaction<'_>,
    retry: &Cell<bool>,
    c: Change,
) -> Result<(), Error> {
    let db = |e| storage(e, Some(retry));
    match c {
        Change::Event { .. } | Change::Mail(_) => Err(Error::Internal(
            "events and mails are recorded by `change`".into(),
        )),
        Change::Setting { key, value } => {
            crate::db::execute(
                tx,
                "INSERT INTO settings (key, value) VALUES ($1, $2) \
                 ON CONFLICT (key) DO UPDATE SET value = excluded.value",
                &[&key, &value],
            )
            .await
            .map_err(db)?;
            Ok(())
        }
        Change::CountryTable { csv, sha256 } => {
            crate::db::execute(
                tx,
                "INSERT INTO country_table (id, csv, sha256) VALUES (true, $1, $2) \
                 ON CONFLICT (id) DO UPDATE SET csv = excluded.csv, sha256 = excluded.sha256",
                &[&csv, &sha256],
            )
            .await
            .map_err(db)?;
            Ok(())
        }
        // Branch operators live only in the branch's file.
        Change::Operator(_)
        | Change::OperatorLockout { .. }
        | Change::OperatorSignedIn { .. }
        | Change::OperatorLoginHash { .. }
        | Change::OperatorDisabled { .. }
        | Change::OperatorRole { .. }
        | Change::OperatorPasswords { .. } => Err(Error::Internal(
            "branch operators are not kept on the central server".into(),
        )),
    }
}
