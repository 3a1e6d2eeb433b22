//! IP access rules (seed 003): set a customer's rules for a service with the warnings shown, check
//! an address, a supervisor's forced release for a bounded time, and the country table.

use std::net::IpAddr;

use std::sync::Arc;

use kagiya_core::directory::authz::Denial;
use kagiya_core::directory::{authorize, Action, Channel, Service, Tenant, UserRole};
use kagiya_core::event::EventKind;
use kagiya_core::iprules::rules::warnings;
use kagiya_core::iprules::{
    CountryTable, DecidedBy, Decision, IpAction, IpRuleProblem, RuleSet, RuleWarning,
};
use kagiya_core::password::Preset;
use kagiya_core::secret::Secret;
use kagiya_core::{Error, MINUTE};
use sha2::{Digest, Sha256};

use crate::port::Change;
use crate::{ActorRef, Engine};

/// The longest forced release: 24 hours (the core's, so that sync holds offline releases to it).
pub const MAX_RELEASE_MINUTES: u32 = kagiya_core::iprules::MAX_RELEASE_MINUTES;

impl Engine {
    /// The addresses from which the customer's masters and admins have been verified (recorded by
    /// the authentication path as `ip=` in the event's origin).
    pub fn admin_addresses(&self, contract_no: &str) -> Result<Vec<IpAddr>, Error> {
        self.read(|r| {
            let managers: Vec<String> = r
                .users_of(contract_no)?
                .into_iter()
                .filter(|u| matches!(u.role, UserRole::Master | UserRole::Admin))
                .map(|u| u.login_id)
                .collect();
            r.verified_sources(&managers)
        })
    }

    /// The warnings `rules` would raise for the customer (nothing is saved).
    pub fn ip_rule_warnings(
        &self,
        contract_no: &str,
        rules: &RuleSet,
    ) -> Result<Vec<RuleWarning>, Error> {
        let table = self.read(|r| r.country_table())?;
        Ok(warnings(rules, &self.admin_addresses(contract_no)?, &table))
    }

    /// Replaces the rules of one service of a customer; returns the warnings (saving anyway, as
    /// the administrator decided after seeing them).
    pub fn set_ip_rules(
        &self,
        who: &ActorRef,
        confirmation: &Secret,
        contract_no: &str,
        service: Service,
        rules: RuleSet,
    ) -> Result<Vec<RuleWarning>, Error> {
        rules.validate()?;
        let tenant = self.tenant(contract_no)?;
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

    /// The rules of one service of a customer, as they stand.
    pub fn ip_rules(&self, contract_no: &str, service: Service) -> Result<RuleSet, Error> {
        self.read(|r| r.ip_rules(contract_no, service))
    }

    /// A Biz Mail customer's master or admin replaces the rules of one of their services from
    /// their control panel (seed 003: 「コントロールパネルと各サービスポートに対して特定のIPアドレス
    /// からのアクセスを制限」), confirmed with their own password. Rules that would refuse `from`
    /// — the address they are working from — on the service their own console is reached by are
    /// refused and nothing is saved: seed 003 says a locked-out administrator needs the
    /// provider's forced release (「誤設定等により管理者がログインできなくなった場合は…強制的に
    /// 解除」), which this guard spares them. Returns the warnings, as `set_ip_rules` does.
    pub fn set_own_ip_rules(
        &self,
        login_id: &str,
        confirmation: &Secret,
        service: Service,
        rules: RuleSet,
        from: IpAddr,
    ) -> Result<Vec<RuleWarning>, Error> {
        rules.validate()?;
        let (user, tenant) = self.user_and_tenant(login_id)?;
        if !user.role.is_manager() {
            return Err(Error::NotPermitted(Denial::RoleTooLow));
        }
        if tenant.preset != Preset::BizMail {
            return Err(Error::NotPermitted(Denial::BranchOnly));
        }
        if !tenant.services.contains(&service) {
            return Err(Error::InvalidValue("service"));
        }
        let console = Channel::Web.service(user.role, &tenant.services);
        if service == console {
            let table = self.read(|r| r.country_table())?;
            if rules.compile().check(from, &table, None, 0).action == IpAction::Deny {
                return Err(Error::InvalidIpRule(IpRuleProblem::LocksOutSelf {
                    address: from.to_string(),
                }));
            }
        }
        let warned = self.ip_rule_warnings(&tenant.contract_no, &rules)?;
        let who = ActorRef::User(user.login_id.clone());
        let acting = self.confirm(&who, confirmation, "set_ip_rules")?;
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
        let tenant = self.tenant(contract_no)?;
        self.address_decision(&tenant, service, ip)
    }

    /// Whether `user` of `tenant` may use `channel` from `ip` now — the check a sign-in passes
    /// before any password, asked again by the server on every request of a session, so that a
    /// token taken elsewhere, rules tightened since, or a user made an admin (whose console has
    /// rules of its own) are held to the rules as they are.
    pub fn address_allows(
        &self,
        tenant: &Tenant,
        user: &kagiya_core::directory::User,
        channel: kagiya_core::directory::Channel,
        ip: IpAddr,
    ) -> Result<bool, Error> {
        let service = channel.service(user.role, &tenant.services);
        Ok(self.address_decision(tenant, service, ip)?.action == IpAction::Allow)
    }

    /// The decision for `ip` on `tenant`'s `service`: a service the customer does not use is
    /// denied at home and abroad (seed 003); otherwise its rules decide, the country table
    /// consulted only when the rules ask for it.
    pub(crate) fn address_decision(
        &self,
        tenant: &Tenant,
        service: Service,
        ip: IpAddr,
    ) -> Result<Decision, Error> {
        if !tenant.services.contains(&service) {
            return Ok(Decision {
                action: IpAction::Deny,
                by: DecidedBy::NotUsed,
            });
        }
        let (rules, release, sha) = self.read(|r| {
            Ok((
                r.ip_rules(&tenant.contract_no, service)?,
                r.ip_release(&tenant.contract_no)?,
                r.country_table_sha256()?,
            ))
        })?;
        let table = if rules.allowed_countries.is_some() {
            self.countries(sha)?
        } else {
            Arc::new(CountryTable::default())
        };
        Ok(rules.compile().check(ip, &table, release, self.now()))
    }

    /// The country table whose SHA-256 is `sha`, parsed once per import.
    fn countries(&self, sha: Option<String>) -> Result<Arc<CountryTable>, Error> {
        let mut cache = self
            .countries
            .lock()
            .map_err(|_| Error::Internal("country table cache poisoned".into()))?;
        if let (Some(sha), Some((cached, table))) = (&sha, cache.as_ref()) {
            if sha == cached {
                return Ok(table.clone());
            }
        }
        let table = Arc::new(self.read(|r| r.country_table())?);
        *cache = sha.map(|s| (s, table.clone()));
        Ok(table)
    }

    /// A supervisor suspends a customer's IP restrictions for `minutes` (at most 24 hours); the
    /// release ends by itself.
    pub fn release_ip_restrictions(
        &self,
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
        let tenant = self.tenant(contract_no)?;
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
        &self,
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
        let actor = acting.audit_name();
        let ev = EventKind::CountryTableImported {
            ranges: table.len(),
            sha256: sha.clone(),
        };
        self.commit(
            self.now(),
            vec![
                Change::CountryTable {
                    csv: csv.to_owned(),
                    sha256: sha,
                },
                Change::event(Some(&actor), ev),
            ],
        )?;
        Ok(table.len())
    }
}
