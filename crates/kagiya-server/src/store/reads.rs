//! The engine's reads over a PostgreSQL transaction. The directory is kept as JSON documents the
//! core's types (de)serialise, so what is read here is exactly what the fold wrote. In a write,
//! every customer is locked (its chain head) before its rows are read.

use std::cell::{Cell, RefCell};
use std::collections::BTreeSet;
use std::net::IpAddr;

use kagiya_core::directory::ids::fold;
use kagiya_core::directory::{Address, InitRequest, Service, Tenant, User};
use kagiya_core::event::{EventBody, GENESIS_HASH};
use kagiya_core::iprules::{CountryTable, RuleSet};
use kagiya_core::operator::OperatorRecord;
use kagiya_core::{Error, Millis};
use kagiya_engine::port::Reads;
use tokio::runtime::Handle;
use tokio_postgres::types::ToSql;
use tokio_postgres::Row;

use crate::db::Tx as Transaction;

use super::storage;

/// Reads over one transaction; `locked` is present in a write.
pub struct PgReads<'a> {
    tx: &'a Transaction<'a>,
    rt: &'a Handle,
    locked: Option<&'a RefCell<BTreeSet<String>>>,
    retry: Option<&'a Cell<bool>>,
}

/// A JSON document column read as text, parsed into the core's type.
pub fn doc<T: serde::de::DeserializeOwned>(text: &str) -> Result<T, Error> {
    serde_json::from_str(text).map_err(|e| Error::Storage(format!("stored document: {e}")))
}

/// Takes `chain`'s head row for the rest of `tx` (made at the genesis when it is new), once per
/// transaction. Everything read about the customer after this is fresh: no other writer for it
/// can commit until this transaction ends.
pub(crate) async fn lock_chain(
    tx: &Transaction<'_>,
    locked: &RefCell<BTreeSet<String>>,
    retry: &Cell<bool>,
    chain: &str,
) -> Result<(), Error> {
    if locked.borrow().contains(chain) {
        return Ok(());
    }
    // One round trip: made at the genesis when new, row-locked either way (an upsert that
    // rewrites nothing but takes the row's lock).
    crate::db::execute(
        tx,
        "INSERT INTO chains (chain, seq, hash) VALUES ($1, 0, $2) \
         ON CONFLICT (chain) DO UPDATE SET seq = chains.seq",
        &[&chain, &GENESIS_HASH],
    )
    .await
    .map_err(|e| storage(e, Some(retry)))?;
    locked.borrow_mut().insert(chain.to_owned());
    Ok(())
}

impl<'a> PgReads<'a> {
    pub fn reading(tx: &'a Transaction<'a>, rt: &'a Handle) -> PgReads<'a> {
        PgReads {
            tx,
            rt,
            locked: None,
            retry: None,
        }
    }

    pub fn writing(
        tx: &'a Transaction<'a>,
        rt: &'a Handle,
        locked: &'a RefCell<BTreeSet<String>>,
        retry: &'a Cell<bool>,
    ) -> PgReads<'a> {
        PgReads {
            tx,
            rt,
            locked: Some(locked),
            retry: Some(retry),
        }
    }

    fn query(&self, sql: &str, params: &[&(dyn ToSql + Sync)]) -> Result<Vec<Row>, Error> {
        self.rt
            .block_on(crate::db::query(self.tx, sql, params))
            .map_err(|e| storage(e, self.retry))
    }

    /// In a write, locks the customer `contract_key` before its rows are read.
    fn lock(&self, contract_key: &str) -> Result<(), Error> {
        match (self.locked, self.retry) {
            (Some(locked), Some(retry)) => {
                self.rt
                    .block_on(lock_chain(self.tx, locked, retry, contract_key))
            }
            _ => Ok(()),
        }
    }

    /// In a write, locks the customer of `login_id` (if there is such a user) — found and locked
    /// in one statement (a customer with users has its chain row since its creation).
    fn lock_user(&self, login_id: &str) -> Result<(), Error> {
        let (Some(locked), Some(_)) = (self.locked, self.retry) else {
            return Ok(());
        };
        let rows = self.query(
            "SELECT c.chain FROM users u JOIN chains c ON c.chain = u.contract_key \
             WHERE u.login_key = $1 FOR UPDATE OF c",
            &[&fold(login_id)],
        )?;
        match rows.first() {
            Some(r) => {
                locked.borrow_mut().insert(r.get(0));
                Ok(())
            }
            None => Ok(()),
        }
    }

    fn docs<T: serde::de::DeserializeOwned>(
        &self,
        sql: &str,
        params: &[&(dyn ToSql + Sync)],
    ) -> Result<Vec<T>, Error> {
        self.query(sql, params)?
            .iter()
            .map(|r| doc(r.get::<_, &str>(0)))
            .collect()
    }
}

/// Whether `s` can be a key at all: PostgreSQL's text holds no NUL character, so a lookup of a
/// typed value that contains one is answered "none" here instead of failing in the database.
pub(crate) fn storable(s: &str) -> bool {
    !s.contains('\0')
}

impl Reads for PgReads<'_> {
    fn tenant(&self, contract_no: &str) -> Result<Option<Tenant>, Error> {
        if !storable(contract_no) {
            return Ok(None);
        }
        let key = fold(contract_no);
        self.lock(&key)?;
        Ok(self
            .docs(
                "SELECT doc::text FROM tenants WHERE contract_key = $1",
                &[&key],
            )?
            .pop())
    }

    fn tenants(&self) -> Result<Vec<Tenant>, Error> {
        self.docs(
            "SELECT doc::text FROM tenants ORDER BY doc->>'contract_no'",
            &[],
        )
    }

    fn user(&self, login_id: &str) -> Result<Option<User>, Error> {
        if !storable(login_id) {
            return Ok(None);
        }
        self.lock_user(login_id)?;
        Ok(self
            .docs(
                "SELECT doc::text FROM users WHERE login_key = $1",
                &[&fold(login_id)],
            )?
            .pop())
    }

    fn users_of(&self, contract_no: &str) -> Result<Vec<User>, Error> {
        if !storable(contract_no) {
            return Ok(Vec::new());
        }
        let key = fold(contract_no);
        self.lock(&key)?;
        self.docs(
            "SELECT doc::text FROM users WHERE contract_key = $1 ORDER BY login_key",
            &[&key],
        )
    }

    fn managers_of(&self, contract_no: &str) -> Result<Vec<User>, Error> {
        if !storable(contract_no) {
            return Ok(Vec::new());
        }
        let key = fold(contract_no);
        self.lock(&key)?;
        self.docs(
            "SELECT doc::text FROM users WHERE contract_key = $1 \
             AND doc->>'role' IN ('master', 'admin') ORDER BY login_key",
            &[&key],
        )
    }

    fn search_users(&self, prefix: &str, limit: u32) -> Result<Vec<User>, Error> {
        if !storable(prefix) {
            return Ok(Vec::new());
        }
        // LIKE's own characters in the prefix are matched as themselves.
        let p = prefix
            .trim()
            .to_lowercase()
            .replace('\\', "\\\\")
            .replace('%', "\\%")
            .replace('_', "\\_");
        let pattern = format!("{p}%");
        self.docs(
            "SELECT doc::text FROM users WHERE login_key LIKE $1 \
             OR lower(doc->>'name') LIKE $1 OR lower(doc->>'email') LIKE $1 \
             ORDER BY login_key LIMIT $2",
            &[&pattern, &i64::from(limit)],
        )
    }

    fn init_request(&self, request_no: &str) -> Result<Option<InitRequest>, Error> {
        if !storable(request_no) {
            return Ok(None);
        }
        let key = fold(request_no);
        if self.locked.is_some() {
            let rows = self.query(
                "SELECT contract_key FROM init_requests WHERE request_key = $1",
                &[&key],
            )?;
            if let Some(r) = rows.first() {
                self.lock(r.get(0))?;
            }
        }
        Ok(self
            .docs(
                "SELECT doc::text FROM init_requests WHERE request_key = $1",
                &[&key],
            )?
            .pop())
    }

    fn init_requests(&self) -> Result<Vec<InitRequest>, Error> {
        self.docs(
            "SELECT doc::text FROM init_requests ORDER BY request_key",
            &[],
        )
    }

    fn encrypting_addresses(&self) -> Result<Vec<(String, Address)>, Error> {
        let rows = self.query(
            "SELECT doc->>'login_id', addresses::text FROM users \
             WHERE addresses @> '[{\"encrypt\": true}]' ORDER BY login_key",
            &[],
        )?;
        let mut out = Vec::new();
        for r in rows {
            let login_id: String = r.get(0);
            let list: Vec<Address> = doc(r.get::<_, &str>(1))?;
            out.extend(
                list.into_iter()
                    .filter(|a| a.encrypt && a.certificate.is_some())
                    .map(|a| (login_id.clone(), a)),
            );
        }
        Ok(out)
    }

    fn address_holders(&self, address: &str) -> Result<Vec<String>, Error> {
        use kagiya_core::directory::addresses::dup_key;
        // A scan: registration by signed mail is rare, and addresses live inside the users' rows.
        let rows = self.query(
            "SELECT doc->>'login_id', addresses::text FROM users \
             WHERE EXISTS (SELECT 1 FROM jsonb_array_elements(addresses) e \
                           WHERE lower(e->>'address') = lower($1)) ORDER BY login_key",
            &[&address.trim()],
        )?;
        let key = dup_key(address);
        let mut out = Vec::new();
        for r in rows {
            let list: Vec<Address> = doc(r.get::<_, &str>(1))?;
            if list.iter().any(|a| dup_key(&a.address) == key) {
                out.push(r.get(0));
            }
        }
        Ok(out)
    }

    fn addresses(&self, login_id: &str) -> Result<Vec<Address>, Error> {
        if !storable(login_id) {
            return Err(Error::UnknownUser);
        }
        self.lock_user(login_id)?;
        let rows = self.query(
            "SELECT addresses::text FROM users WHERE login_key = $1",
            &[&fold(login_id)],
        )?;
        match rows.first() {
            Some(r) => doc(r.get::<_, &str>(0)),
            None => Err(Error::UnknownUser),
        }
    }

    fn ip_rules(&self, contract_no: &str, service: Service) -> Result<RuleSet, Error> {
        if !storable(contract_no) {
            return Err(Error::UnknownTenant);
        }
        let key = fold(contract_no);
        self.lock(&key)?;
        Ok(self
            .docs(
                "SELECT doc::text FROM ip_rules WHERE contract_key = $1 AND service = $2",
                &[&key, &service.code()],
            )?
            .pop()
            .unwrap_or_default())
    }

    fn ip_release(&self, contract_no: &str) -> Result<Option<Millis>, Error> {
        if !storable(contract_no) {
            return Ok(None);
        }
        let key = fold(contract_no);
        self.lock(&key)?;
        Ok(self
            .query(
                "SELECT until_ms FROM ip_releases WHERE contract_key = $1",
                &[&key],
            )?
            .first()
            .map(|r| r.get(0)))
    }

    fn trusted_roots(&self) -> Result<Vec<(String, Vec<u8>)>, Error> {
        use base64::Engine as _;
        self.query(
            "SELECT subject, der_base64 FROM trusted_roots ORDER BY subject",
            &[],
        )?
        .iter()
        .map(|r| {
            base64::engine::general_purpose::STANDARD
                .decode(r.get::<_, &str>(1))
                .map(|der| (r.get(0), der))
                .map_err(|e| Error::Storage(format!("trusted root: {e}")))
        })
        .collect()
    }

    fn country_table(&self) -> Result<CountryTable, Error> {
        match self.query("SELECT csv FROM country_table", &[])?.first() {
            Some(r) => CountryTable::from_csv(r.get(0)),
            None => Ok(CountryTable::default()),
        }
    }

    fn country_table_sha256(&self) -> Result<Option<String>, Error> {
        Ok(self
            .query("SELECT sha256 FROM country_table", &[])?
            .first()
            .map(|r| r.get(0)))
    }

    fn verified_sources(&self, login_ids: &[String]) -> Result<Vec<IpAddr>, Error> {
        let wanted: Vec<String> = login_ids
            .iter()
            .filter(|id| storable(id))
            .map(|id| id.to_ascii_lowercase())
            .collect();
        if wanted.is_empty() {
            return Ok(Vec::new());
        }
        // Only the chains of the users' customers are looked at.
        let rows = self.query(
            "SELECT e.body FROM events e WHERE e.chain IN \
                (SELECT DISTINCT contract_key FROM users WHERE login_key = ANY($1)) \
             AND e.kind = 'credential_verified' AND strpos(e.body, 'ip=') > 0 \
             ORDER BY e.chain, e.seq",
            &[&wanted],
        )?;
        let mut out: Vec<IpAddr> = Vec::new();
        for r in rows {
            if let Some(ip) = EventBody::verified_source(r.get(0), &wanted) {
                if !out.contains(&ip) {
                    out.push(ip);
                }
            }
        }
        Ok(out)
    }

    /// Branch operators are the branch's own: the server has none.
    fn operator(&self, _operator_id: &str) -> Result<Option<OperatorRecord>, Error> {
        Ok(None)
    }

    fn operator_count(&self) -> Result<i64, Error> {
        Ok(0)
    }

    fn operators(&self) -> Result<Vec<OperatorRecord>, Error> {
        Ok(Vec::new())
    }

    fn setting(&self, key: &str) -> Result<Option<String>, Error> {
        if !storable(key) {
            return Ok(None);
        }
        Ok(self
            .query("SELECT value FROM settings WHERE key = $1", &[&key])?
            .first()
            .map(|r| r.get(0)))
    }
}
