//! The engine's storage port over the branch's SQLCipher file: its reads are the directory
//! tables (the fold of the log), and its one write is an immediate transaction that appends every
//! decided event with its table changes and the local rows that travel with them.

use std::net::IpAddr;

use kagiya_core::directory::{Address, InitRequest, Service, Tenant, User};
use kagiya_core::event::{EventBody, Scope};
use kagiya_core::iprules::{CountryTable, RuleSet};
use kagiya_core::operator::OperatorRecord;
use kagiya_core::{Error, Millis};
use kagiya_engine::port::{Change, DecideFn, Port, ReadFn, Reads};
use rusqlite::{Connection, TransactionBehavior};

use crate::db::{rows, storage};
use crate::operators::NewOperatorRow;
use crate::{countries, directory, events, operators, settings, Store};

/// The engine's reads over one connection (or the transaction it is in).
pub struct ConnReads<'a>(pub &'a Connection);

impl Reads for ConnReads<'_> {
    fn tenant(&self, contract_no: &str) -> Result<Option<Tenant>, Error> {
        directory::tenant(self.0, contract_no)
    }
    fn tenants(&self) -> Result<Vec<Tenant>, Error> {
        directory::tenants(self.0)
    }
    fn user(&self, login_id: &str) -> Result<Option<User>, Error> {
        directory::user(self.0, login_id)
    }
    fn users_of(&self, contract_no: &str) -> Result<Vec<User>, Error> {
        directory::users_of(self.0, contract_no)
    }
    fn managers_of(&self, contract_no: &str) -> Result<Vec<User>, Error> {
        directory::managers_of(self.0, contract_no)
    }
    fn search_users(&self, prefix: &str, limit: u32) -> Result<Vec<User>, Error> {
        directory::search(self.0, prefix, limit)
    }
    fn init_request(&self, request_no: &str) -> Result<Option<InitRequest>, Error> {
        directory::init_request(self.0, request_no)
    }
    fn init_requests(&self) -> Result<Vec<InitRequest>, Error> {
        directory::init_requests(self.0)
    }
    fn encrypting_addresses(&self) -> Result<Vec<(String, Address)>, Error> {
        Ok(crate::reports::addresses_with_certificates(self.0)?
            .into_iter()
            .filter(|(_, _, a)| a.encrypt)
            .map(|(login_id, _, a)| (login_id, a))
            .collect())
    }
    fn address_holders(&self, address: &str) -> Result<Vec<String>, Error> {
        crate::reports::address_holders(self.0, address)
    }
    fn addresses(&self, login_id: &str) -> Result<Vec<Address>, Error> {
        directory::addresses(self.0, login_id)
    }
    fn ip_rules(&self, contract_no: &str, service: Service) -> Result<RuleSet, Error> {
        directory::ip_rules(self.0, contract_no, service)
    }
    fn ip_release(&self, contract_no: &str) -> Result<Option<Millis>, Error> {
        directory::ip_release(self.0, contract_no)
    }
    fn trusted_roots(&self) -> Result<Vec<(String, Vec<u8>)>, Error> {
        directory::trusted_roots(self.0)
    }
    fn country_table(&self) -> Result<CountryTable, Error> {
        countries::load(self.0)
    }
    fn country_table_sha256(&self) -> Result<Option<String>, Error> {
        countries::sha256(self.0)
    }
    fn verified_sources(&self, login_ids: &[String]) -> Result<Vec<IpAddr>, Error> {
        verified_sources(self.0, login_ids)
    }
    fn operator(&self, operator_id: &str) -> Result<Option<OperatorRecord>, Error> {
        operators::find(self.0, operator_id)
    }
    fn operator_count(&self) -> Result<i64, Error> {
        operators::count(self.0)
    }
    fn operators(&self) -> Result<Vec<OperatorRecord>, Error> {
        operators::list(self.0)
    }
    fn setting(&self, key: &str) -> Result<Option<String>, Error> {
        settings::get(self.0, key)
    }
}

/// The `ip=` addresses of the origins of successful verifications of `login_ids`, distinct, in
/// the order first seen.
fn verified_sources(conn: &Connection, login_ids: &[String]) -> Result<Vec<IpAddr>, Error> {
    let wanted: Vec<String> = login_ids.iter().map(|id| id.to_ascii_lowercase()).collect();
    if wanted.is_empty() {
        return Ok(Vec::new());
    }
    let bodies: Vec<String> = rows(
        conn,
        "SELECT body FROM events WHERE kind = 'credential_verified' AND instr(body, 'ip=') > 0 \
         ORDER BY seq",
        [],
        |r| r.get(0),
    )?;
    let mut out: Vec<IpAddr> = Vec::new();
    for body in bodies {
        if let Some(ip) = EventBody::verified_source(&body, &wanted).filter(|ip| !out.contains(ip))
        {
            out.push(ip);
        }
    }
    Ok(out)
}

/// Stores one decided change inside `tx`.
fn apply(tx: &rusqlite::Transaction<'_>, at: Millis, origin: &str, c: Change) -> Result<(), Error> {
    match c {
        Change::Event { actor, kind } => match kind.scope() {
            Scope::Directory => {
                directory::record(tx, at, actor.as_deref(), Some(origin), kind).map(|_| ())
            }
            Scope::Branch => {
                events::append_from(tx, at, actor.as_deref(), Some(origin), kind).map(|_| ())
            }
        },
        Change::Operator(o) => operators::insert(
            tx,
            &NewOperatorRow {
                operator_id: &o.operator_id,
                name: &o.name,
                role: o.role,
                login_hash: &o.login_hash,
                confirm_hash: &o.confirm_hash,
                created_at: at,
            },
        ),
        Change::OperatorLockout { operator_id, facts } => {
            operators::set_lockout(tx, &operator_id, &facts)
        }
        Change::OperatorSignedIn { operator_id } => operators::record_sign_in(tx, &operator_id, at),
        Change::OperatorLoginHash { operator_id, phc } => {
            operators::set_login_hash(tx, &operator_id, &phc)
        }
        Change::OperatorDisabled {
            operator_id,
            disabled,
        } => operators::set_disabled(tx, &operator_id, disabled),
        Change::OperatorRole { operator_id, role } => operators::set_role(tx, &operator_id, role),
        Change::OperatorPasswords {
            operator_id,
            login_hash,
            confirm_hash,
            must_change,
        } => operators::set_passwords(
            tx,
            &operator_id,
            &login_hash,
            confirm_hash.as_deref(),
            must_change,
            at,
        ),
        Change::Setting { key, value } => settings::set(tx, &key, &value),
        Change::CountryTable { csv, sha256 } => countries::save(tx, &csv, &sha256),
        // The branch sends no mail: a code made here is not kept (see `Change::Mail`).
        Change::Mail(_) => Ok(()),
    }
}

impl Port for Store {
    fn read(&self, f: &mut ReadFn<'_>) -> Result<(), Error> {
        let conn = self.conn();
        f(&ConnReads(&conn))
    }

    fn write(&self, at: Millis, origin: &str, f: &mut DecideFn<'_>) -> Result<(), Error> {
        let mut conn = self.conn();
        let tx = conn
            .transaction_with_behavior(TransactionBehavior::Immediate)
            .map_err(storage)?;
        for c in f(&ConnReads(&tx))? {
            apply(&tx, at, origin, c)?;
        }
        tx.commit().map_err(storage)
    }
}
