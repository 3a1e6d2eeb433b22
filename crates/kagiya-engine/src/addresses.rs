//! E-mail addresses (seed 002): add (the new address is sent a password-setting request), request
//! a change (confirmed through the old address), confirm it, delete (the deleted address gets a
//! notice), and the per-address signing / encryption flags (seed 001). The mails are queued in
//! the outbox with the event.

use kagiya_core::directory::addresses::{
    check_add, check_delete, check_flags, dup_key, parse_address,
};
use kagiya_core::directory::{
    authorize, Action, Address, CertStatus, CredentialKind, CredentialState, OneTimePurpose,
    Purpose, User,
};
use kagiya_core::event::EventKind;
use kagiya_core::lockout::LockoutPolicy;
use kagiya_core::secret::Secret;
use kagiya_core::{Error, Millis};
use serde::Serialize;

use crate::acting::Acting;
use crate::port::Change;
use crate::{ActorRef, Engine};

/// Days before its end from which a certificate counts as expiring (setting `cert_expiring_days`).
pub const DEFAULT_EXPIRING_DAYS: u32 = 30;
/// The setting that holds that window.
pub const EXPIRING_DAYS_SETTING: &str = "cert_expiring_days";

/// An address as listed.
#[cfg_attr(feature = "specta", derive(specta::Type))]
#[derive(Debug, Clone, Serialize)]
pub struct AddressView {
    pub address: String,
    pub purposes: Vec<Purpose>,
    pub verified: bool,
    pub sign: bool,
    pub encrypt: bool,
    pub certificate: CertStatus,
    pub certificate_subject: Option<String>,
    pub certificate_not_after: Option<Millis>,
    pub replaced_certificates: usize,
    pub pending_change: Option<String>,
    /// Seed 002: the address's own password (an added site user's), if it has one.
    pub password: AddressPassword,
}

/// Where an added address stands with its own password (seed 002).
#[cfg_attr(feature = "specta", derive(specta::Type))]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(tag = "state", rename_all = "snake_case")]
pub enum AddressPassword {
    /// No password of its own (the contact address, or a customer outside the Web member site).
    None,
    /// The setup link was sent and has not been used yet; it is valid until `until`.
    AwaitingSetup {
        until: Millis,
    },
    Set,
    /// Locked by wrong passwords for this address; `until` is `None` when only an unlock ends it.
    Locked {
        until: Option<Millis>,
    },
}

impl Engine {
    /// The days of the "expiring" window.
    pub fn expiring_days(&self) -> u32 {
        self.read(|r| r.setting(EXPIRING_DAYS_SETTING))
            .ok()
            .flatten()
            .and_then(|v| v.parse().ok())
            .filter(|d| (1..=365).contains(d))
            .unwrap_or(DEFAULT_EXPIRING_DAYS)
    }

    /// A supervisor sets the "expiring" window of certificates (1–365 days).
    pub fn set_expiring_days(
        &self,
        who: &ActorRef,
        confirmation: &Secret,
        days: u32,
    ) -> Result<(), Error> {
        if !(1..=365).contains(&days) {
            return Err(Error::InvalidValue("days"));
        }
        let acting = self.confirm(who, confirmation, "set_expiring_days")?;
        authorize(acting.actor(), Action::ChangeTenantPolicy)?;
        let actor = acting.audit_name();
        let ev = EventKind::SettingChanged {
            key: EXPIRING_DAYS_SETTING.into(),
            value: days.to_string(),
        };
        self.commit(
            self.now(),
            vec![
                Change::Setting {
                    key: EXPIRING_DAYS_SETTING.into(),
                    value: days.to_string(),
                },
                Change::event(Some(&actor), ev),
            ],
        )
    }

    /// Confirms the actor and checks that they may manage `login_id`'s addresses: the user
    /// themself, or whoever may manage that user.
    pub(crate) fn confirm_for_addresses(
        &self,
        who: &ActorRef,
        confirmation: &Secret,
        login_id: &str,
        action: &str,
    ) -> Result<(Acting, User, Vec<Address>), Error> {
        let user = self.user(login_id)?;
        let acting = self.confirm(who, confirmation, action)?;
        let own = matches!(&acting, Acting::User { login_id, .. } if login_id.eq_ignore_ascii_case(&user.login_id));
        if !own {
            authorize(acting.actor(), Action::ManageUser { target: &user })?;
        }
        let list = self.read(|r| r.addresses(&user.login_id))?;
        Ok((acting, user, list))
    }

    pub fn add_address(
        &self,
        who: &ActorRef,
        confirmation: &Secret,
        login_id: &str,
        address: &str,
        purposes: &[Purpose],
    ) -> Result<(), Error> {
        let address = parse_address(address)?;
        let (acting, user, list) =
            self.confirm_for_addresses(who, confirmation, login_id, "add_address")?;
        check_add(&list, &address)?;
        let mut purposes = purposes.to_vec();
        purposes.sort();
        purposes.dedup();
        let ev = EventKind::AddressAdded {
            login_id: user.login_id,
            address,
            purposes,
        };
        self.record_all(Some(&acting.audit_name()), self.now(), vec![ev])
    }

    pub fn request_address_change(
        &self,
        who: &ActorRef,
        confirmation: &Secret,
        login_id: &str,
        address: &str,
        new_address: &str,
    ) -> Result<(), Error> {
        let new_address = parse_address(new_address)?;
        let (acting, user, list) =
            self.confirm_for_addresses(who, confirmation, login_id, "request_address_change")?;
        let current = find(&list, address)?;
        if current.pending_change.is_some() {
            return Err(Error::AddressRule("pending_change"));
        }
        if list
            .iter()
            .any(|a| dup_key(&a.address) == dup_key(&new_address))
        {
            return Err(Error::AlreadyExists("email"));
        }
        let ev = EventKind::AddressChangeRequested {
            login_id: user.login_id,
            address: current.address.clone(),
            new_address,
        };
        self.record_all(Some(&acting.audit_name()), self.now(), vec![ev])
    }

    /// Confirms a requested change (done through the link mailed to the old address; the branch
    /// may confirm it on the customer's written request).
    pub fn confirm_address_change(
        &self,
        who: &ActorRef,
        confirmation: &Secret,
        login_id: &str,
        address: &str,
    ) -> Result<(), Error> {
        let (acting, user, list) =
            self.confirm_for_addresses(who, confirmation, login_id, "confirm_address_change")?;
        let current = find(&list, address)?;
        let pending = current
            .pending_change
            .clone()
            .ok_or(Error::AddressRule("no_pending_change"))?;
        let ev = EventKind::AddressChangeConfirmed {
            login_id: user.login_id,
            address: current.address.clone(),
            new_address: pending.new_address,
        };
        self.record_all(Some(&acting.audit_name()), self.now(), vec![ev])
    }

    pub fn delete_address(
        &self,
        who: &ActorRef,
        confirmation: &Secret,
        login_id: &str,
        address: &str,
    ) -> Result<(), Error> {
        let (acting, user, list) =
            self.confirm_for_addresses(who, confirmation, login_id, "delete_address")?;
        check_delete(&user, &list, address)?;
        let current = find(&list, address)?;
        let ev = EventKind::AddressDeleted {
            login_id: user.login_id.clone(),
            address: current.address.clone(),
        };
        self.record_all(Some(&acting.audit_name()), self.now(), vec![ev])
    }

    pub fn set_address_flags(
        &self,
        who: &ActorRef,
        confirmation: &Secret,
        login_id: &str,
        address: &str,
        sign: bool,
        encrypt: bool,
    ) -> Result<(), Error> {
        let (acting, user, list) =
            self.confirm_for_addresses(who, confirmation, login_id, "set_address_flags")?;
        let current = find(&list, address)?;
        check_flags(current, encrypt, self.now())?;
        let ev = EventKind::AddressFlagsSet {
            login_id: user.login_id,
            address: current.address.clone(),
            sign,
            encrypt,
        };
        self.record_all(Some(&acting.audit_name()), self.now(), vec![ev])
    }

    pub fn address_views(&self, login_id: &str) -> Result<Vec<AddressView>, Error> {
        let (list, tenant) = self.read(|r| {
            let list = r.addresses(login_id)?;
            let tenant = match r.user(login_id)? {
                Some(u) => r.tenant(&u.contract_no)?,
                None => None,
            };
            Ok((list, tenant))
        })?;
        let tenant = tenant.ok_or(Error::UnknownUser)?;
        let lockout = tenant.policy(CredentialKind::Login).lockout;
        let (now, days) = (self.now(), self.expiring_days());
        Ok(list
            .iter()
            .map(|a| AddressView {
                address: a.address.clone(),
                purposes: a.purposes.clone(),
                verified: a.verified,
                sign: a.sign,
                encrypt: a.encrypt,
                certificate: a.cert_status(now, days),
                certificate_subject: a.certificate.as_ref().map(|c| c.subject.clone()),
                certificate_not_after: a.certificate.as_ref().map(|c| c.not_after),
                replaced_certificates: a.history.len(),
                pending_change: a.pending_change.as_ref().map(|p| p.new_address.clone()),
                password: address_password(a, &lockout, now),
            })
            .collect())
    }
}

pub(crate) fn find<'a>(list: &'a [Address], address: &str) -> Result<&'a Address, Error> {
    kagiya_core::directory::addresses::find(list, address).ok_or(Error::AddressRule("unknown"))
}

/// The state of an address's own password at `now`.
fn address_password(a: &Address, lockout: &LockoutPolicy, now: Millis) -> AddressPassword {
    match &a.credential {
        Some(c) => match c.state(lockout, 0, now) {
            CredentialState::TemporarilyStopped { until } => {
                AddressPassword::Locked { until: Some(until) }
            }
            CredentialState::Stopped { .. } => AddressPassword::Locked { until: None },
            _ => AddressPassword::Set,
        },
        None => match a.pending(OneTimePurpose::AddressSetup, now) {
            Some(o) => AddressPassword::AwaitingSetup {
                until: o.expires_at,
            },
            None => AddressPassword::None,
        },
    }
}
