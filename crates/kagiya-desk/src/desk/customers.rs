//! Customers (tenants): the list, a customer's detail with its policies for both passwords, its
//! services and IP access rules, and the changes a supervisor makes to them.

use std::net::IpAddr;

use kagiya_core::directory::{
    CredentialKind, CredentialPolicy, ManagersOutlook, Service, Tenant, UserRole,
};
use kagiya_core::iprules::rules::DecidedBy;
use kagiya_core::iprules::{IpAction, RuleSet};
use kagiya_core::password::{PolicyContext, Preset, RuleStatus};
use kagiya_core::secret::Secret;
use kagiya_core::{Error, Lang, Millis, MINUTE};
use kagiya_store::{directory, reports};
use serde::{Deserialize, Serialize};

use crate::console::Console;
use kagiya_engine::NewTenant;

#[derive(Debug, Clone, Serialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
pub struct CustomerRow {
    pub contract_no: String,
    pub name: String,
    pub services: Vec<String>,
    pub preset_title: String,
    pub users: u32,
    /// Every master and admin is stopped for good (seed 004's 利用停止): a paper request is needed.
    pub needs_init_request: bool,
    /// Every master and admin is out of action, some only temporarily: when the first is back.
    pub managers_back_at: Option<Millis>,
}

/// One credential's policy as the detail screen shows it.
#[derive(Debug, Clone, Serialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
pub struct PolicyView {
    pub credential: CredentialKind,
    /// The password rules in words (the checklist with nothing typed).
    pub rules: Vec<RuleStatus>,
    pub expiry_days: Option<u16>,
    pub warn_days: u16,
    pub history: u8,
    pub lock_threshold: u32,
    pub lock_window_minutes: u32,
    /// 0: the first lock is already permanent.
    pub lock_minutes: u32,
    pub permanent_after: Option<u32>,
}

/// A service's IP rules as editable text: one `allow|deny CIDR note` per line.
#[derive(Debug, Clone, Serialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
pub struct IpRulesView {
    pub service: Service,
    pub service_label: String,
    pub lines: Vec<String>,
    pub default_allow: bool,
    pub allowed_countries: Option<Vec<String>>,
}

#[derive(Debug, Clone, Serialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
pub struct CustomerDetail {
    pub customer: CustomerRow,
    pub preset: Preset,
    pub policies: Vec<PolicyView>,
    pub ip_rules: Vec<IpRulesView>,
    /// The end of a supervisor's forced release of the IP rules, if one is in force.
    pub ip_released_until: Option<i64>,
}

/// The registration form of a customer.
#[derive(Debug, Clone, Deserialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
pub struct CustomerForm {
    pub contract_no: String,
    pub name: String,
    pub services: Vec<Service>,
    pub preset: Preset,
}

/// Rules typed in the editor.
#[derive(Debug, Clone, Deserialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
pub struct IpRulesForm {
    pub service: Service,
    pub lines: Vec<String>,
    pub default_allow: bool,
    /// ISO country codes; `None` or empty: no country rule.
    pub allowed_countries: Option<Vec<String>>,
}

#[derive(Debug, Clone, Serialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
pub struct IpCheckView {
    pub allowed: bool,
    /// What decided, in words.
    pub reason: String,
}

/// A preset and its title in the UI language.
#[derive(Debug, Clone, Serialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
pub struct PresetChoice {
    pub code: Preset,
    pub label: &'static str,
}

/// A service and its label in the UI language.
#[derive(Debug, Clone, Serialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
pub struct ServiceChoice {
    pub code: Service,
    pub label: &'static str,
}

/// A user role (利用者区分) and its label in the UI language.
#[derive(Debug, Clone, Serialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
pub struct RoleChoice {
    pub code: UserRole,
    pub label: &'static str,
}

/// What the forms offer: presets, services and user roles, labelled by the console.
#[derive(Debug, Clone, Serialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
pub struct Choices {
    pub presets: Vec<PresetChoice>,
    pub services: Vec<ServiceChoice>,
    pub roles: Vec<RoleChoice>,
    /// The users table's "expiring" filter: passwords expiring within this many days.
    pub password_expiry_days: u32,
    /// The longest forced release of a customer's IP restrictions, in minutes.
    pub ip_release_max_minutes: u32,
}

/// The forms' choices in `lang`.
pub fn choices(lang: Lang) -> Choices {
    Choices {
        presets: Preset::ALL
            .into_iter()
            .map(|p| PresetChoice {
                code: p,
                label: p.title(lang),
            })
            .collect(),
        services: Service::ALL
            .into_iter()
            .map(|s| ServiceChoice {
                code: s,
                label: s.label(lang),
            })
            .collect(),
        roles: [UserRole::Master, UserRole::Admin, UserRole::General]
            .into_iter()
            .map(|r| RoleChoice {
                code: r,
                label: r.label(lang),
            })
            .collect(),
        password_expiry_days: super::dashboard::PASSWORD_EXPIRY_DAYS as u32,
        ip_release_max_minutes: kagiya_engine::MAX_RELEASE_MINUTES,
    }
}

fn policy_view(kind: CredentialKind, p: &CredentialPolicy, lang: Lang) -> PolicyView {
    let minutes = |ms: i64| u32::try_from(ms / MINUTE).unwrap_or(u32::MAX);
    PolicyView {
        credential: kind,
        rules: p.password.checklist("", &PolicyContext::default(), lang),
        expiry_days: p.password.expiry_days,
        warn_days: p.password.warn_days,
        history: p.password.history,
        lock_threshold: p.lockout.threshold,
        lock_window_minutes: minutes(p.lockout.window_ms),
        lock_minutes: minutes(p.lockout.lock_ms),
        permanent_after: p.lockout.permanent_after,
    }
}

fn rule_lines(rules: &RuleSet) -> Vec<String> {
    rules
        .rules
        .iter()
        .map(|r| {
            let action = match r.action {
                IpAction::Allow => "allow",
                IpAction::Deny => "deny",
            };
            format!("{action} {} {}", r.net, r.note)
                .trim_end()
                .to_owned()
        })
        .collect()
}

/// The rule set the editor's text describes (an invalid line is refused with its number).
fn rules_of(form: &IpRulesForm) -> Result<RuleSet, Error> {
    let mut rules = Vec::new();
    for line in form
        .lines
        .iter()
        .map(|l| l.trim())
        .filter(|l| !l.is_empty())
    {
        rules.push(RuleSet::parse_rule(line)?);
    }
    let set = RuleSet {
        rules,
        default: if form.default_allow {
            IpAction::Allow
        } else {
            IpAction::Deny
        },
        allowed_countries: form
            .allowed_countries
            .clone()
            .map(|c| {
                c.iter()
                    .map(|s| s.trim().to_ascii_uppercase())
                    .filter(|s| !s.is_empty())
                    .collect::<Vec<_>>()
            })
            .filter(|c| !c.is_empty()),
    };
    set.validate()?;
    Ok(set)
}

/// What decided an IP check, in words.
fn decided_by(by: &DecidedBy, lang: Lang) -> String {
    match (by, lang) {
        (DecidedBy::Rule { index, net }, Lang::Ja) => format!("ルール {}（{net}）", index + 1),
        (DecidedBy::Rule { index, net }, Lang::En) => format!("rule {} ({net})", index + 1),
        (DecidedBy::Country { country }, _) => {
            let c = country.as_deref().unwrap_or(lang.pick("不明", "unknown"));
            match lang {
                Lang::Ja => format!("許可された国の外（{c}）"),
                Lang::En => format!("outside the allowed countries ({c})"),
            }
        }
        (DecidedBy::Default, _) => lang.pick("既定の動作", "the default action").to_owned(),
        (DecidedBy::NotUsed, _) => lang
            .pick(
                "利用しないサービス（国内外を問わず拒否）",
                "a service the customer does not use (denied at home and abroad)",
            )
            .to_owned(),
        (DecidedBy::Released { .. }, _) => lang
            .pick(
                "スーパーバイザーによる強制解除中",
                "a supervisor's forced release",
            )
            .to_owned(),
    }
}

impl Console {
    /// The forms' choices in the UI language.
    pub fn choices(&self) -> Choices {
        choices(self.lang())
    }

    /// Seed 004's outlook for every customer none of whose masters and admins can act now; the
    /// others need nothing. The SQL finds the few candidates, the engine's rule decides.
    pub(crate) fn managers_out(&self) -> Result<Vec<(String, ManagersOutlook)>, Error> {
        let now = self.engine().now();
        let candidates = {
            let guard = self.branch.store().conn();
            reports::tenants_without_available_manager(&guard, now)?
        };
        candidates
            .into_iter()
            .map(|c| Ok((c.clone(), self.engine().managers_outlook(&c)?)))
            .collect()
    }

    fn customer_row(&self, t: &Tenant, users: i64, outlook: ManagersOutlook) -> CustomerRow {
        let lang = self.lang();
        CustomerRow {
            contract_no: t.contract_no.clone(),
            name: t.name.clone(),
            services: t
                .services
                .iter()
                .map(|s| s.label(lang).to_owned())
                .collect(),
            preset_title: t.preset.title(lang).to_owned(),
            users: u32::try_from(users).unwrap_or(u32::MAX),
            needs_init_request: outlook.needs_request(),
            managers_back_at: outlook.back_at(),
        }
    }

    /// Every customer with its number of users and whether it needs an initialization request.
    pub fn customers(&mut self) -> Result<Vec<CustomerRow>, Error> {
        self.active_operator()?;
        let out = self.managers_out()?;
        let guard = self.branch.store().conn();
        let conn = &*guard;
        let counts = reports::user_counts(conn)?;
        let tenants = directory::tenants(conn)?;
        Ok(tenants
            .iter()
            .map(|t| {
                let users = counts
                    .iter()
                    .find(|(c, _)| *c == t.contract_no)
                    .map_or(0, |(_, n)| *n);
                let outlook = out
                    .iter()
                    .find(|(c, _)| *c == t.contract_no)
                    .map_or(ManagersOutlook::Available, |(_, o)| *o);
                self.customer_row(t, users, outlook)
            })
            .collect())
    }

    /// A customer's detail.
    pub fn customer(&mut self, contract_no: &str) -> Result<CustomerDetail, Error> {
        self.active_operator()?;
        let now = self.engine().now();
        let lang = self.lang();
        let outlook = self.engine().managers_outlook(contract_no)?;
        let guard = self.branch.store().conn();
        let conn = &*guard;
        let t = directory::tenant(conn, contract_no)?.ok_or(Error::UnknownTenant)?;
        let users = reports::user_counts(conn)?
            .into_iter()
            .find(|(c, _)| *c == t.contract_no)
            .map_or(0, |(_, n)| n);
        let mut ip_rules = Vec::new();
        for s in &t.services {
            let rules = directory::ip_rules(conn, &t.contract_no, *s)?;
            ip_rules.push(IpRulesView {
                service: *s,
                service_label: s.label(lang).to_owned(),
                lines: rule_lines(&rules),
                default_allow: rules.default == IpAction::Allow,
                allowed_countries: rules.allowed_countries.clone(),
            });
        }
        let released = directory::ip_release(conn, &t.contract_no)?.filter(|u| *u > now);
        Ok(CustomerDetail {
            customer: self.customer_row(&t, users, outlook),
            preset: t.preset,
            // Only the passwords the customer's service has (seed 004 alone has two).
            policies: t
                .credentials()
                .iter()
                .map(|&k| policy_view(k, t.policy(k), lang))
                .collect(),
            ip_rules,
            ip_released_until: released,
        })
    }

    /// Registers a customer (supervisors).
    pub fn create_customer(
        &mut self,
        form: &CustomerForm,
        confirmation: &Secret,
    ) -> Result<CustomerDetail, Error> {
        let who = self.acting_operator()?;
        let t = self.engine().create_tenant(
            &who,
            confirmation,
            NewTenant {
                contract_no: form.contract_no.clone(),
                name: form.name.clone(),
                services: form.services.clone(),
                preset: form.preset,
            },
        )?;
        self.customer(&t.contract_no)
    }

    /// Replaces one credential's policy with a preset's, then applies the lockout numbers given.
    #[allow(clippy::too_many_arguments)]
    pub fn set_customer_policy(
        &mut self,
        contract_no: &str,
        credential: CredentialKind,
        preset: Preset,
        lock_threshold: u32,
        lock_window_minutes: u32,
        lock_minutes: u32,
        permanent_after: Option<u32>,
        confirmation: &Secret,
    ) -> Result<CustomerDetail, Error> {
        let who = self.acting_operator()?;
        let mut policy = CredentialPolicy::from_preset(preset);
        policy.lockout.threshold = lock_threshold;
        policy.lockout.window_ms = i64::from(lock_window_minutes) * MINUTE;
        policy.lockout.lock_ms = i64::from(lock_minutes) * MINUTE;
        policy.lockout.permanent_after = permanent_after;
        self.engine()
            .set_tenant_policy(&who, confirmation, contract_no, credential, policy)?;
        self.customer(contract_no)
    }

    /// The warnings the rules being typed would raise (nothing saved): for the live editor.
    pub fn ip_rule_warnings(
        &mut self,
        contract_no: &str,
        form: &IpRulesForm,
    ) -> Result<Vec<String>, Error> {
        self.active_operator()?;
        let rules = rules_of(form)?;
        let lang = self.lang();
        Ok(self
            .engine()
            .ip_rule_warnings(contract_no, &rules)?
            .iter()
            .map(|w| w.message(lang))
            .collect())
    }

    /// Saves a service's rules; returns the warnings they raise.
    pub fn set_ip_rules(
        &mut self,
        contract_no: &str,
        form: &IpRulesForm,
        confirmation: &Secret,
    ) -> Result<Vec<String>, Error> {
        let who = self.acting_operator()?;
        let rules = rules_of(form)?;
        let service = form.service;
        let lang = self.lang();
        Ok(self
            .engine()
            .set_ip_rules(&who, confirmation, contract_no, service, rules)?
            .iter()
            .map(|w| w.message(lang))
            .collect())
    }

    /// A supervisor's forced release of the customer's IP restrictions for `minutes` (at most
    /// 24 hours), for a customer shut out by its own rules; it ends by itself.
    pub fn release_ip_restrictions(
        &mut self,
        contract_no: &str,
        minutes: u32,
        reason: &str,
        confirmation: &Secret,
    ) -> Result<CustomerDetail, Error> {
        let who = self.acting_operator()?;
        self.engine()
            .release_ip_restrictions(&who, confirmation, contract_no, minutes, reason)?;
        self.customer(contract_no)
    }

    /// Whether `ip` may use the customer's service now, and why.
    pub fn check_ip(
        &mut self,
        contract_no: &str,
        service: Service,
        ip: &str,
    ) -> Result<IpCheckView, Error> {
        self.active_operator()?;
        let ip: IpAddr = ip.trim().parse().map_err(|_| Error::InvalidValue("ip"))?;
        let d = self.engine().check_ip(contract_no, service, ip)?;
        Ok(IpCheckView {
            allowed: d.action == IpAction::Allow,
            reason: decided_by(&d.by, self.lang()),
        })
    }
}
