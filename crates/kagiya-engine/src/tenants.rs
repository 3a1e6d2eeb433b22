//! Customers (tenants): registering one with a preset, and adjusting the policy of one credential.

use kagiya_core::directory::ids::{parse_display_name, ContractNo};
use kagiya_core::directory::{
    authorize, Action, CredentialKind, CredentialPolicy, Service, Tenant,
};
use kagiya_core::event::EventKind;
use kagiya_core::iprules::initial_rules;
use kagiya_core::password::Preset;
use kagiya_core::secret::Secret;
use kagiya_core::Error;

use crate::{ActorRef, Engine};

/// The registration form of a customer.
#[derive(Debug, Clone)]
pub struct NewTenant {
    pub contract_no: String,
    pub name: String,
    pub services: Vec<Service>,
    pub preset: Preset,
}

impl Engine {
    /// Registers a customer with the preset's policies for both credentials.
    pub fn create_tenant(
        &self,
        who: &ActorRef,
        confirmation: &Secret,
        form: NewTenant,
    ) -> Result<Tenant, Error> {
        let contract_no = ContractNo::parse(&form.contract_no)?;
        let name = parse_display_name(&form.name)?;
        let mut services = form.services.clone();
        services.sort();
        services.dedup();
        let acting = self.confirm(who, confirmation, "create_tenant")?;
        authorize(acting.actor(), Action::CreateTenant)?;
        // The preset's starting IP rules (Biz Mail: Japan only, the database denied to all),
        // recorded with the customer in one transaction.
        let rules = initial_rules(form.preset, &services);
        let mut evs = vec![EventKind::TenantCreated {
            contract_no: contract_no.as_str().to_owned(),
            name,
            services,
            preset: form.preset,
            login: CredentialPolicy::from_preset(form.preset),
            confirmation: CredentialPolicy::from_preset(form.preset),
        }];
        evs.extend(
            rules
                .into_iter()
                .map(|(service, rules)| EventKind::IpRulesSet {
                    contract_no: contract_no.as_str().to_owned(),
                    service,
                    rules,
                }),
        );
        let (now, actor) = (self.now(), acting.audit_name());
        self.record_all(Some(&actor), now, evs)?;
        self.tenant(contract_no.as_str())
    }

    /// Replaces the password and lockout policy of one credential of a customer.
    pub fn set_tenant_policy(
        &self,
        who: &ActorRef,
        confirmation: &Secret,
        contract_no: &str,
        kind: CredentialKind,
        policy: CredentialPolicy,
    ) -> Result<Tenant, Error> {
        policy.validate().map_err(Error::InvalidValue)?;
        let tenant = self.tenant(contract_no)?;
        let acting = self.confirm(who, confirmation, "set_tenant_policy")?;
        authorize(acting.actor(), Action::ChangeTenantPolicy)?;
        let ev = EventKind::TenantPolicyChanged {
            contract_no: tenant.contract_no.clone(),
            credential: kind,
            policy,
        };
        let (now, actor) = (self.now(), acting.audit_name());
        self.record_all(Some(&actor), now, vec![ev])?;
        self.tenant(&tenant.contract_no)
    }
}
