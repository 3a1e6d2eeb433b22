//! The directory as a fold of the event log: applying the events in order gives the state, and
//! the store's tables are that state kept up to date one event at a time (the same `apply_*`
//! functions are used for both, so a rebuild from the log equals the incremental state).

use std::collections::BTreeMap;

use serde::Serialize;

use super::addresses::{dup_key, Address, PendingChange, Purpose};
use super::credential::{Credential, CredentialKind};
use super::ids::fold;
use super::init_request::{InitRequest, InitRequestState};
use super::one_time::OneTime;
use super::services::Service;
use super::tenant::Tenant;
use super::user::{User, UserStatus};
use crate::event::{EventKind, PasswordSetReason};
use crate::iprules::RuleSet;
use crate::{Error, Millis};

/// Tenants, users, initialization requests, addresses, IP rules and trusted roots, keyed by their
/// folded IDs.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Directory {
    pub tenants: BTreeMap<String, Tenant>,
    pub users: BTreeMap<String, User>,
    pub init_requests: BTreeMap<String, InitRequest>,
    /// By folded login ID; users without addresses have no entry.
    pub addresses: BTreeMap<String, Vec<Address>>,
    /// By `rules_key(contract, service)`.
    pub ip_rules: BTreeMap<String, RuleSet>,
    /// Forced releases by folded contract number: until when.
    pub ip_releases: BTreeMap<String, Millis>,
    /// Trusted roots by SHA-256: (subject, DER base64).
    pub trusted_roots: BTreeMap<String, (String, String)>,
}

/// The key of a customer's rule set for one service.
pub fn rules_key(contract_no: &str, service: Service) -> String {
    format!("{}/{}", fold(contract_no), service.code())
}

/// The login ID an address event concerns.
pub fn address_user_of(kind: &EventKind) -> Option<&str> {
    match kind {
        EventKind::AddressAdded { login_id, .. }
        | EventKind::AddressChangeRequested { login_id, .. }
        | EventKind::AddressChangeConfirmed { login_id, .. }
        | EventKind::AddressDeleted { login_id, .. }
        | EventKind::AddressFlagsSet { login_id, .. }
        | EventKind::CertificateImported { login_id, .. }
        | EventKind::MfaEnrolled { login_id, .. }
        | EventKind::OneTimeIssued { login_id, .. }
        | EventKind::OneTimeFailed { login_id, .. }
        | EventKind::OneTimeUsed { login_id, .. }
        | EventKind::AddressPasswordSet { login_id, .. }
        | EventKind::AddressCredentialFailed { login_id, .. }
        | EventKind::AddressCredentialVerified { login_id, .. } => Some(login_id),
        // An administrator's unlock of the login password unlocks the added addresses too.
        EventKind::UserUnlocked {
            login_id,
            credentials,
            ..
        } if credentials.contains(&CredentialKind::Login) => Some(login_id),
        _ => None,
    }
}

/// Applies an address event to a user's list of addresses.
pub fn apply_to_addresses(
    list: &mut Vec<Address>,
    tenant: &Tenant,
    at: Millis,
    kind: &EventKind,
) -> Result<(), Error> {
    let find = |list: &mut Vec<Address>, a: &str| -> Result<usize, Error> {
        let key = dup_key(a);
        list.iter()
            .position(|x| dup_key(&x.address) == key)
            .ok_or_else(|| inconsistent(format!("no address {a}")))
    };
    match kind {
        EventKind::AddressAdded {
            address, purposes, ..
        } => list.push(Address {
            address: address.clone(),
            purposes: purposes.clone(),
            verified: false,
            added_at: at,
            sign: false,
            encrypt: false,
            certificate: None,
            history: Vec::new(),
            pending_change: None,
            credential: None,
            one_time: Vec::new(),
        }),
        EventKind::AddressChangeRequested {
            address,
            new_address,
            ..
        } => {
            let i = find(list, address)?;
            list[i].pending_change = Some(PendingChange {
                new_address: new_address.clone(),
                requested_at: at,
            });
        }
        EventKind::AddressChangeConfirmed {
            address,
            new_address,
            ..
        } => {
            let i = find(list, address)?;
            let a = &mut list[i];
            a.address = new_address.clone();
            a.pending_change = None;
            a.verified = true;
            a.encrypt = false;
            if let Some(c) = a.certificate.take() {
                a.history.insert(0, c);
            }
        }
        EventKind::AddressDeleted { address, .. } => {
            let i = find(list, address)?;
            list.remove(i);
        }
        EventKind::AddressFlagsSet {
            address,
            sign,
            encrypt,
            ..
        } => {
            let i = find(list, address)?;
            list[i].sign = *sign;
            list[i].encrypt = *encrypt;
        }
        EventKind::CertificateImported {
            address,
            certificate,
            ..
        } => {
            let i = find(list, address)?;
            let a = &mut list[i];
            if let Some(old) = a.certificate.replace(certificate.clone()) {
                a.history.insert(0, old);
            }
        }
        EventKind::MfaEnrolled { address, .. } => {
            let i = find(list, address)?;
            let a = &mut list[i];
            a.verified = true;
            if !a.purposes.contains(&Purpose::Otp) {
                a.purposes.push(Purpose::Otp);
            }
        }
        EventKind::OneTimeIssued {
            address,
            purpose,
            hash,
            expires_at,
            carried_attempts,
            ..
        } => {
            let i = find(list, address)?;
            let a = &mut list[i];
            a.one_time.retain(|o| o.purpose != *purpose);
            a.one_time.push(OneTime {
                purpose: *purpose,
                hash: hash.clone(),
                issued_at: at,
                expires_at: *expires_at,
                attempts: *carried_attempts,
            });
        }
        EventKind::OneTimeFailed {
            address, purpose, ..
        } => {
            let i = find(list, address)?;
            let a = &mut list[i];
            let o = a
                .one_time
                .iter_mut()
                .find(|o| o.purpose == *purpose)
                .ok_or_else(|| inconsistent(format!("no pending {purpose:?} for {address}")))?;
            o.attempts += 1;
            let spent = o.attempts >= purpose.max_attempts();
            if spent {
                a.one_time.retain(|o| o.purpose != *purpose);
            }
        }
        EventKind::OneTimeUsed {
            address, purpose, ..
        } => {
            let i = find(list, address)?;
            list[i].one_time.retain(|o| o.purpose != *purpose);
        }
        EventKind::AddressPasswordSet {
            address,
            hash,
            expires_at,
            ..
        } => {
            let i = find(list, address)?;
            let a = &mut list[i];
            let c = a
                .credential
                .get_or_insert_with(|| Credential::new(String::new(), at));
            if c.hash.is_empty() {
                c.hash = hash.clone();
            } else {
                c.replace_hash(hash.clone());
            }
            c.set_at = at;
            c.expires_at = *expires_at;
            c.must_change = false;
            c.temporary = false;
            // The link came back from the address: it receives mail.
            a.verified = true;
        }
        EventKind::AddressCredentialFailed {
            address, outcome, ..
        } => {
            let policy = &tenant.policy(CredentialKind::Login).lockout;
            let c = own_credential(list, address)?;
            let (facts, got) = policy.on_failure(&c.lockout, at);
            if got != *outcome {
                return Err(inconsistent(format!(
                    "{address}: recorded {outcome:?}, folded {got:?}"
                )));
            }
            c.lockout = facts;
        }
        EventKind::AddressCredentialVerified {
            address, rehash, ..
        } => {
            let policy = &tenant.policy(CredentialKind::Login).lockout;
            let c = own_credential(list, address)?;
            c.lockout = policy.on_success_keeping(&c.lockout);
            if let Some(h) = rehash {
                c.hash = h.clone();
            }
        }
        EventKind::UserUnlocked { kept_failures, .. } => {
            let policy = &tenant.policy(CredentialKind::Login).lockout;
            for a in list.iter_mut() {
                let key = dup_key(&a.address);
                let Some(c) = a.credential.as_mut() else {
                    continue;
                };
                let kept = kept_failures
                    .iter()
                    .filter(|k| k.address.as_deref().is_some_and(|x| dup_key(x) == key));
                c.lockout = unlocked_keeping(policy, at, kept.map(|k| k.at));
            }
        }
        _ => {}
    }
    Ok(())
}

/// The facts after an administrator's unlock at `at` that keeps the failures at `kept` (an
/// offline unlock rebased by sync, docs/sync.md): the unlock, then each failure in order, so
/// that enough of them lock again exactly as they would have.
pub fn unlocked_keeping(
    policy: &crate::lockout::LockoutPolicy,
    at: Millis,
    kept: impl Iterator<Item = Millis>,
) -> crate::lockout::LockoutFacts {
    kept.fold(policy.on_admin_unlock(at), |facts, t| {
        policy.on_failure(&facts, t).0
    })
}

/// The password of an added address (seed 002), which the event says it has.
fn own_credential<'a>(list: &'a mut [Address], address: &str) -> Result<&'a mut Credential, Error> {
    let key = dup_key(address);
    list.iter_mut()
        .find(|a| dup_key(&a.address) == key)
        .and_then(|a| a.credential.as_mut())
        .ok_or_else(|| inconsistent(format!("{address} has no password")))
}

fn inconsistent(what: impl Into<String>) -> Error {
    Error::EventLogInconsistent(what.into())
}

/// Applies an event that concerns one user to that user, given its tenant.
pub fn apply_to_user(
    user: &mut User,
    tenant: &Tenant,
    at: Millis,
    kind: &EventKind,
) -> Result<(), Error> {
    match kind {
        EventKind::PasswordSet {
            credential,
            hash,
            reason,
            must_change,
            temporary,
            expires_at,
            ..
        } => {
            let c = user.credential_mut(*credential);
            if *reason == PasswordSetReason::Initial {
                *c = Credential::new(hash.clone(), at);
                c.initial_hash = Some(hash.clone());
            } else {
                c.replace_hash(hash.clone());
                c.set_at = at;
            }
            c.must_change = *must_change;
            c.temporary = *temporary;
            c.expires_at = *expires_at;
        }
        EventKind::CredentialFailed {
            credential,
            outcome,
            ..
        } => {
            let policy = &tenant.policy(*credential).lockout;
            let c = user.credential_mut(*credential);
            let (facts, got) = policy.on_failure(&c.lockout, at);
            if got != *outcome {
                return Err(inconsistent(format!(
                    "{}: recorded {outcome:?}, folded {got:?}",
                    user.login_id
                )));
            }
            c.lockout = facts;
        }
        EventKind::CredentialVerified {
            credential, rehash, ..
        } => {
            let policy = &tenant.policy(*credential).lockout;
            let c = user.credential_mut(*credential);
            c.lockout = policy.on_success_keeping(&c.lockout);
            if let Some(h) = rehash {
                c.hash = h.clone();
            }
        }
        EventKind::CredentialLockReleased { credential, .. } => {
            let policy = &tenant.policy(*credential).lockout;
            let c = user.credential_mut(*credential);
            c.lockout = policy.on_release(&c.lockout);
        }
        EventKind::UserUnlocked {
            credentials,
            kept_failures,
            ..
        } => {
            for k in credentials {
                let policy = &tenant.policy(*k).lockout;
                let kept = kept_failures
                    .iter()
                    .filter(|f| f.credential == *k && f.address.is_none());
                user.credential_mut(*k).lockout = unlocked_keeping(policy, at, kept.map(|f| f.at));
            }
        }
        EventKind::MfaEnrolled { .. } => user.mfa = true,
        EventKind::MfaDisabled { force_change, .. } => {
            user.mfa = false;
            if *force_change {
                user.login.must_change = true;
            }
        }
        EventKind::UserSuspended { .. } => user.status = UserStatus::Suspended,
        EventKind::UserResumed { .. } => user.status = UserStatus::Active,
        _ => {}
    }
    Ok(())
}

/// The user an event concerns, if it concerns one that already exists.
pub fn user_of(kind: &EventKind) -> Option<&str> {
    match kind {
        EventKind::PasswordSet { login_id, .. }
        | EventKind::CredentialFailed { login_id, .. }
        | EventKind::CredentialVerified { login_id, .. }
        | EventKind::CredentialLockReleased { login_id, .. }
        | EventKind::UserUnlocked { login_id, .. }
        | EventKind::UserSuspended { login_id }
        | EventKind::UserResumed { login_id }
        | EventKind::MfaEnrolled { login_id, .. }
        | EventKind::MfaDisabled { login_id, .. }
        | EventKind::MailUndelivered { login_id, .. } => Some(login_id),
        _ => None,
    }
}

/// A user as created: both credentials empty until their `PasswordSet { Initial }` events.
pub fn new_user(kind: &EventKind, at: Millis) -> Option<User> {
    match kind {
        EventKind::UserCreated {
            login_id,
            contract_no,
            name,
            role,
            email,
        } => Some(User {
            login_id: login_id.clone(),
            contract_no: contract_no.clone(),
            name: name.clone(),
            role: *role,
            status: UserStatus::Active,
            email: email.clone(),
            mfa: false,
            created_at: at,
            login: Credential::new(String::new(), at),
            confirmation: Credential::new(String::new(), at),
        }),
        _ => None,
    }
}

/// A tenant as created.
pub fn new_tenant(kind: &EventKind, at: Millis) -> Option<Tenant> {
    match kind {
        EventKind::TenantCreated {
            contract_no,
            name,
            services,
            preset,
            login,
            confirmation,
        } => Some(Tenant {
            contract_no: contract_no.clone(),
            name: name.clone(),
            services: services.clone(),
            preset: *preset,
            login: login.clone(),
            confirmation: confirmation.clone(),
            created_at: at,
        }),
        _ => None,
    }
}

/// Applies a tenant policy change.
pub fn apply_to_tenant(tenant: &mut Tenant, kind: &EventKind) {
    if let EventKind::TenantPolicyChanged {
        credential, policy, ..
    } = kind
    {
        *tenant.policy_mut(*credential) = policy.clone();
    }
}

/// Applies an initialization-request event. A request is decided once, while recorded, and
/// executed once, after approval: any other step is refused (`RequestState`), so two decisions
/// racing each other leave one, whichever write lands second fails inside its transaction, and a
/// log that says otherwise does not fold (issue 12, low).
pub fn apply_to_request(
    req: &mut InitRequest,
    at: Millis,
    actor: Option<&str>,
    kind: &EventKind,
) -> Result<(), Error> {
    let from = match kind {
        EventKind::InitRequestApproved { .. } | EventKind::InitRequestRejected { .. } => {
            InitRequestState::Recorded
        }
        EventKind::InitRequestExecuted { .. } => InitRequestState::Approved,
        _ => return Ok(()),
    };
    if req.state != from {
        return Err(Error::RequestState(req.state.code()));
    }
    match kind {
        EventKind::InitRequestApproved { .. } => {
            req.state = InitRequestState::Approved;
            req.approved_by = actor.map(str::to_owned);
            req.decided_at = Some(at);
        }
        EventKind::InitRequestRejected { .. } => {
            req.state = InitRequestState::Rejected;
            req.approved_by = actor.map(str::to_owned);
            req.decided_at = Some(at);
        }
        EventKind::InitRequestExecuted { .. } => {
            req.state = InitRequestState::Executed;
            req.executed_at = Some(at);
        }
        _ => {}
    }
    Ok(())
}

/// The request an event concerns, if any.
pub fn request_of(kind: &EventKind) -> Option<&str> {
    match kind {
        EventKind::InitRequestApproved { request_no }
        | EventKind::InitRequestRejected { request_no, .. }
        | EventKind::InitRequestExecuted { request_no } => Some(request_no),
        _ => None,
    }
}

impl Directory {
    /// Applies one event of the log. Events that are not about the directory are ignored.
    pub fn apply(
        &mut self,
        at: Millis,
        actor: Option<&str>,
        kind: &EventKind,
    ) -> Result<(), Error> {
        if let Some(t) = new_tenant(kind, at) {
            self.tenants.insert(fold(&t.contract_no), t);
        } else if let EventKind::TenantPolicyChanged { contract_no, .. } = kind {
            let t = self
                .tenants
                .get_mut(&fold(contract_no))
                .ok_or_else(|| inconsistent(format!("no tenant {contract_no}")))?;
            apply_to_tenant(t, kind);
        } else if let Some(u) = new_user(kind, at) {
            self.users.insert(fold(&u.login_id), u);
        } else if let Some(id) = user_of(kind) {
            let u = self
                .users
                .get_mut(&fold(id))
                .ok_or_else(|| inconsistent(format!("no user {id}")))?;
            let t = self
                .tenants
                .get(&fold(&u.contract_no))
                .ok_or_else(|| inconsistent(format!("no tenant {}", u.contract_no)))?;
            apply_to_user(u, t, at, kind)?;
            if address_user_of(kind).is_some() {
                // Events about both (2FA on, an unlock) reach the addresses too.
                let t = t.clone();
                self.apply_to_addresses_of(id, &t, at, kind)?;
            }
        } else if let EventKind::InitRequestRecorded { request } = kind {
            self.init_requests
                .insert(fold(&request.request_no), request.clone());
        } else if let Some(no) = request_of(kind) {
            let r = self
                .init_requests
                .get_mut(&fold(no))
                .ok_or_else(|| inconsistent(format!("no request {no}")))?;
            apply_to_request(r, at, actor, kind)?;
        } else if let Some(id) = address_user_of(kind) {
            let u = self
                .users
                .get(&fold(id))
                .ok_or_else(|| inconsistent(format!("no user {id}")))?;
            let t = self
                .tenants
                .get(&fold(&u.contract_no))
                .ok_or_else(|| inconsistent(format!("no tenant {}", u.contract_no)))?
                .clone();
            self.apply_to_addresses_of(id, &t, at, kind)?;
        } else {
            match kind {
                EventKind::IpRulesSet {
                    contract_no,
                    service,
                    rules,
                } => {
                    self.ip_rules
                        .insert(rules_key(contract_no, *service), rules.clone());
                }
                EventKind::IpRestrictionsReleased {
                    contract_no, until, ..
                } => {
                    self.ip_releases.insert(fold(contract_no), *until);
                }
                EventKind::TrustedRootAdded {
                    sha256,
                    subject,
                    der,
                } => {
                    self.trusted_roots
                        .insert(sha256.clone(), (subject.clone(), der.clone()));
                }
                _ => {}
            }
        }
        Ok(())
    }

    fn apply_to_addresses_of(
        &mut self,
        login_id: &str,
        tenant: &Tenant,
        at: Millis,
        kind: &EventKind,
    ) -> Result<(), Error> {
        let key = fold(login_id);
        let list = self.addresses.entry(key.clone()).or_default();
        apply_to_addresses(list, tenant, at, kind)?;
        if list.is_empty() {
            self.addresses.remove(&key);
        }
        Ok(())
    }

    pub fn tenant(&self, contract_no: &str) -> Option<&Tenant> {
        self.tenants.get(&fold(contract_no))
    }

    pub fn user(&self, login_id: &str) -> Option<&User> {
        self.users.get(&fold(login_id))
    }

    /// Users of `contract_no`.
    pub fn users_of<'a>(&'a self, contract_no: &'a str) -> impl Iterator<Item = &'a User> + 'a {
        let key = fold(contract_no);
        self.users
            .values()
            .filter(move |u| fold(&u.contract_no) == key)
    }

    /// True when the tenant has masters or admins and every one of them is locked, suspended or
    /// deleted at `now` — the case for an initialization request (seed 004).
    pub fn all_managers_unavailable(&self, contract_no: &str, now: Millis) -> bool {
        let Some(t) = self.tenant(contract_no) else {
            return false;
        };
        super::init_request::needs_init_request(t, self.users_of(contract_no), now)
    }
}

/// Checks that a user's credential kinds are listed once each (bulk operations accept lists).
pub fn dedup_kinds(kinds: &[CredentialKind]) -> Vec<CredentialKind> {
    let mut out: Vec<CredentialKind> = kinds.to_vec();
    out.sort();
    out.dedup();
    out
}
