//! What the CLI and screens show of tenants and users: plain serialisable views with the states
//! already put into seed 004's words in the chosen language, and no hashes.

use kagiya_core::directory::services::{affected_services, AffectedService};
use kagiya_core::directory::{
    managers_outlook, CredentialKind, CredentialState, Tenant, User, UserRole, UserStatus,
};
use kagiya_core::password::{PolicyContext, RuleStatus};
use kagiya_core::{Error, Lang, Millis};
use serde::Serialize;

use crate::unlock::state_label;
use crate::Engine;

#[cfg_attr(feature = "specta", derive(specta::Type))]
#[derive(Debug, Clone, Serialize)]
pub struct CredentialView {
    pub kind: CredentialKind,
    pub state: CredentialState,
    pub label: String,
    pub failures: u32,
    pub last_failure_at: Option<Millis>,
    pub locked_until: Option<Millis>,
    pub temporary_locks: u32,
    pub set_at: Millis,
    pub expires_at: Option<Millis>,
    /// Past its expiry, whether or not it is also locked (the state shows the lock first).
    pub expired: bool,
    pub must_change: bool,
    pub temporary: bool,
}

#[cfg_attr(feature = "specta", derive(specta::Type))]
#[derive(Debug, Clone, Serialize)]
pub struct UserView {
    pub login_id: String,
    pub contract_no: String,
    pub name: String,
    pub role: String,
    pub role_code: UserRole,
    pub status: UserStatus,
    /// サービス状態 in seed 004's words.
    pub service_state: String,
    pub email: Option<String>,
    pub mfa: bool,
    pub login: CredentialView,
    /// Only where the customer's service has a confirmation password (seed 004).
    pub confirmation: Option<CredentialView>,
    /// Seed 000's table, when the account is locked.
    pub affected_services: Vec<AffectedService>,
}

#[derive(Debug, Clone, Serialize)]
pub struct TenantView {
    pub contract_no: String,
    pub name: String,
    pub services: Vec<&'static str>,
    pub preset: &'static str,
    pub preset_title: &'static str,
    pub login: kagiya_core::directory::CredentialPolicy,
    pub confirmation: kagiya_core::directory::CredentialPolicy,
    pub users: usize,
    /// Every master and admin is stopped for good (利用停止), suspended or deleted: an
    /// initialization request is needed.
    pub needs_init_request: bool,
    /// Every master and admin is out of action but some only temporarily: when the first of
    /// them can act again by itself.
    pub managers_back_at: Option<Millis>,
}

fn credential_view(
    u: &User,
    t: &Tenant,
    kind: CredentialKind,
    now: Millis,
    lang: Lang,
) -> CredentialView {
    let c = u.credential(kind);
    let state = u.credential_state(t, kind, now);
    CredentialView {
        kind,
        state,
        label: state.label(kind, lang),
        failures: match state {
            CredentialState::Available { failures, .. } => failures,
            _ => c.lockout.failures,
        },
        last_failure_at: c.lockout.last_failure_at,
        locked_until: c.lockout.locked_until.filter(|u| *u > now),
        temporary_locks: c.lockout.temp_locks,
        set_at: c.set_at,
        expires_at: c.expires_at,
        expired: c.expired_since(now).is_some(),
        must_change: c.must_change,
        temporary: c.temporary,
    }
}

/// The view of a user at `now`.
pub fn user_view(u: &User, t: &Tenant, now: Millis, lang: Lang) -> UserView {
    let locked = u.is_locked(t, now);
    UserView {
        login_id: u.login_id.clone(),
        contract_no: u.contract_no.clone(),
        name: u.name.clone(),
        role: u.role.label(lang).to_owned(),
        role_code: u.role,
        status: u.status,
        service_state: state_label(u, t, now, lang),
        email: u.email.clone(),
        mfa: u.mfa,
        login: credential_view(u, t, CredentialKind::Login, now, lang),
        confirmation: t
            .uses(CredentialKind::Confirmation)
            .then(|| credential_view(u, t, CredentialKind::Confirmation, now, lang)),
        affected_services: if locked {
            affected_services(t.preset, &t.services, lang)
        } else {
            Vec::new()
        },
    }
}

impl Engine {
    pub fn tenant_views(&self, lang: Lang) -> Result<Vec<TenantView>, Error> {
        let now = self.now();
        self.read(|r| {
            r.tenants()?
                .into_iter()
                .map(|t| {
                    let users = r.users_of(&t.contract_no)?;
                    let outlook = managers_outlook(&t, &users, now);
                    Ok(TenantView {
                        needs_init_request: outlook.needs_request(),
                        managers_back_at: outlook.back_at(),
                        contract_no: t.contract_no.clone(),
                        name: t.name.clone(),
                        services: t.services.iter().map(|s| s.code()).collect(),
                        preset: t.preset.code(),
                        preset_title: t.preset.title(lang),
                        users: users.len(),
                        login: t.login.clone(),
                        confirmation: t.confirmation.clone(),
                    })
                })
                .collect()
        })
    }

    pub fn user_view(&self, login_id: &str, lang: Lang) -> Result<UserView, Error> {
        let (u, t) = self.user_and_tenant(login_id)?;
        Ok(user_view(&u, &t, self.now(), lang))
    }

    /// Users of a customer, or found by a prefix of login ID, name or e-mail address.
    pub fn user_views(
        &self,
        contract_no: Option<&str>,
        prefix: Option<&str>,
        limit: u32,
        lang: Lang,
    ) -> Result<Vec<UserView>, Error> {
        let users = match (contract_no, prefix) {
            (Some(c), p) => {
                self.tenant(c)?;
                let p = p.unwrap_or("").to_lowercase();
                let mut users = self.read(|r| r.users_of(c))?;
                users.retain(|u| {
                    u.login_id.to_lowercase().starts_with(&p)
                        || u.name.to_lowercase().starts_with(&p)
                });
                users
            }
            (None, p) => self.read(|r| r.search_users(p.unwrap_or(""), limit))?,
        };
        let now = self.now();
        let mut tenants: std::collections::HashMap<String, Tenant> = Default::default();
        let mut out = Vec::with_capacity(users.len());
        for u in &users {
            if !tenants.contains_key(&u.contract_no) {
                let t = self.tenant(&u.contract_no)?;
                tenants.insert(u.contract_no.clone(), t);
            }
            out.push(user_view(u, &tenants[&u.contract_no], now, lang));
        }
        Ok(out)
    }

    /// The checklist of `password` as a new `kind` password of `login_id` — the rules the
    /// customers' pages tick as the user types (the same rules, with the user's own context, that
    /// decide when it is saved; the rules that need the stored hashes are left to the save).
    /// `address`: the address whose own password it is (seed 002's setup link), checked in
    /// place of the user's contact address, as the save does.
    pub fn own_policy_check(
        &self,
        login_id: &str,
        kind: CredentialKind,
        password: &str,
        address: Option<&str>,
        lang: Lang,
    ) -> Result<Vec<RuleStatus>, Error> {
        let (user, tenant) = self.user_and_tenant(login_id)?;
        let context = crate::passwords::context_words(&user, &tenant);
        let ctx = PolicyContext {
            login_id: &user.login_id,
            email: address.or(user.email.as_deref()),
            must_differ_from: None,
            mfa: user.mfa,
            context: &context,
        };
        Ok(tenant.policy(kind).password.checklist(password, &ctx, lang))
    }

    /// The checklist of a password against a customer's policy for one credential. (Against a
    /// preset it needs no engine: `Preset::password().checklist(…)`.)
    pub fn tenant_policy_check(
        &self,
        contract_no: &str,
        kind: CredentialKind,
        password: &str,
        ctx: &PolicyContext<'_>,
        lang: Lang,
    ) -> Result<Vec<RuleStatus>, Error> {
        let policy = self.tenant(contract_no)?.policy(kind).password.clone();
        Ok(policy.checklist(password, ctx, lang))
    }
}
