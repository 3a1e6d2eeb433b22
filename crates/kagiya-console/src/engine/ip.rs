//! IP access rules (seed 003): set a customer's rules for a service with the warnings shown, check
//! an address, a supervisor's forced release for a bounded time, and the country table.

use std::net::IpAddr;

use kagiya_core::directory::{authorize, Action, Service, UserRole};
use kagiya_core::event::{EventBody, EventKind};
use kagiya_core::iprules::rules::warnings;
use kagiya_core::iprules::{CountryTable, Decision, IpRuleProblem, RuleSet, RuleWarning};
use kagiya_core::secret::Secret;
use kagiya_core::{Error, MINUTE};
use kagiya_store::{countries, directory, events};
use sha2::{Digest, Sha256};

use super::{ActorRef, Engine};

/// The longest forced release: 24 hours.
pub const MAX_RELEASE_MINUTES: u32 = 24 * 60;

impl Engine {
    /// The addresses from which the customer's masters and admins have been verified (recorded by
    /// the authentication path as `ip=` in the event's origin).
    pub fn admin_addresses(&self, contract_no: &str) -> Result<Vec<IpAddr>, Error> {
        let conn = self.store.conn();
        let managers: Vec<String> = directory::users_of(conn, contract_no)?
            .into_iter()
            .filter(|u| matches!(u.role, UserRole::Master | UserRole::Admin))
            .map(|u| u.login_id.to_ascii_lowercase())
            .collect();
        let mut out: Vec<IpAddr> = Vec::new();
        for e in events::of_kind(conn, "credential_verified")? {
            let Ok(body) = serde_json::from_str::<EventBody>(&e.body) else {
                continue;
            };
            let EventKind::CredentialVerified { login_id, .. } = &body.kind else {
                continue;
            };
            if !managers.contains(&login_id.to_ascii_lowercase()) {
                continue;
            }
            let ip = body
                .origin
                .as_deref()
                .and_then(|o| o.split_whitespace().find_map(|p| p.strip_prefix("ip=")))
                .and_then(|s| s.parse::<IpAddr>().ok());
            if let Some(ip) = ip.filter(|ip| !out.contains(ip)) {
                out.push(ip);
            }
        }
        Ok(out)
    }

    /// The warnings `rules` would raise for the customer (nothing is saved).
    pub fn ip_rule_warnings(
        &self,
        contract_no: &str,
        rules: &RuleSet,
    ) -> Result<Vec<RuleWarning>, Error> {
        let table = countries::load(self.store.conn())?;
        Ok(warnings(rules, &self.admin_addresses(contract_no)?, &table))
    }

    /// Replaces the rules of one service of a customer; returns the warnings (saving anyway, as
    /// the administrator decided after seeing them).
    pub fn set_ip_rules(
        &mut self,
        who: &ActorRef,
        confirmation: &Secret,
        contract_no: &str,
        service: Service,
        rules: RuleSet,
    ) -> Result<Vec<RuleWarning>, Error> {
        rules.validate()?;
        let tenant =
            directory::tenant(self.store.conn(), contract_no)?.ok_or(Error::UnknownTenant)?;
        if !tenant.services.contains(&service) {
            return Err(Error::InvalidValue("service"));
        }
        let warned = self.ip_rule_warnings(&tenant.contract_no, &rules)?;
        let acting = self.confirm(who, confirmation, "set_ip_rules")?;
        authorize(acting.actor(), Action::ChangeTenantPolicy)?;
        let ev = EventKind::IpRulesSet {
            contract_no: tenant.contract_no,
            service,
            rules,
        };
        self.record_all(Some(&acting.audit_name()), self.now(), vec![ev])?;
        Ok(warned)
    }

    /// Allow or deny for `ip` on a customer's service, and what decided.
    pub fn check_ip(
        &self,
        contract_no: &str,
        service: Service,
        ip: IpAddr,
    ) -> Result<Decision, Error> {
        let conn = self.store.conn();
        let rules = directory::ip_rules(conn, contract_no, service)?;
        let release = directory::ip_release(conn, contract_no)?;
        let table = countries::load(conn)?;
        Ok(rules.compile().check(ip, &table, release, self.now()))
    }

    /// A supervisor suspends a customer's IP restrictions for `minutes` (at most 24 hours); the
    /// release ends by itself.
    pub fn release_ip_restrictions(
        &mut self,
        who: &ActorRef,
        confirmation: &Secret,
        contract_no: &str,
        minutes: u32,
        reason: &str,
    ) -> Result<i64, Error> {
        if !(1..=MAX_RELEASE_MINUTES).contains(&minutes) {
            return Err(Error::InvalidValue("minutes"));
        }
        let reason = reason.trim();
        if reason.is_empty() || reason.chars().count() > 200 {
            return Err(Error::InvalidValue("reason"));
        }
        let tenant =
            directory::tenant(self.store.conn(), contract_no)?.ok_or(Error::UnknownTenant)?;
        let acting = self.confirm(who, confirmation, "release_ip_restrictions")?;
        authorize(acting.actor(), Action::ChangeTenantPolicy)?;
        let until = self.now() + minutes as i64 * MINUTE;
        let ev = EventKind::IpRestrictionsReleased {
            contract_no: tenant.contract_no,
            until,
            reason: reason.to_owned(),
        };
        self.record_all(Some(&acting.audit_name()), self.now(), vec![ev])?;
        Ok(until)
    }

    /// A supervisor replaces the country table with `csv`.
    pub fn import_countries(
        &mut self,
        who: &ActorRef,
        confirmation: &Secret,
        csv: &str,
    ) -> Result<usize, Error> {
        let table = CountryTable::from_csv(csv)?;
        if table.is_empty() {
            return Err(Error::InvalidIpRule(IpRuleProblem::EmptyCountryTable));
        }
        let acting = self.confirm(who, confirmation, "import_countries")?;
        authorize(acting.actor(), Action::ChangeTenantPolicy)?;
        let sha = hex::encode(Sha256::digest(csv.as_bytes()));
        let (now, actor, origin) = (self.now(), acting.audit_name(), self.origin.clone());
        let ev = EventKind::CountryTableImported {
            ranges: table.len(),
            sha256: sha.clone(),
        };
        self.store.write(|tx| {
            countries::save(tx, csv, &sha)?;
            directory::record(tx, now, Some(&actor), Some(&origin), ev).map(|_| ())
        })?;
        Ok(table.len())
    }
}
