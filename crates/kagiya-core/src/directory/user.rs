//! A customer's user: login ID, name, role (seed 004: マスターユーザ / 管理者ユーザ / 一般ユーザ),
//! status, contact address and the two credentials.

use serde::{Deserialize, Serialize};

use super::credential::{Credential, CredentialKind, CredentialState};
use super::tenant::Tenant;
use crate::{Lang, Millis};

#[cfg_attr(feature = "specta", derive(specta::Type))]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum UserRole {
    Master,
    Admin,
    General,
}

impl UserRole {
    pub fn code(self) -> &'static str {
        match self {
            UserRole::Master => "master",
            UserRole::Admin => "admin",
            UserRole::General => "general",
        }
    }

    pub fn parse(s: &str) -> Option<UserRole> {
        match s.trim() {
            "master" => Some(UserRole::Master),
            "admin" => Some(UserRole::Admin),
            "general" => Some(UserRole::General),
            _ => None,
        }
    }

    pub fn label(self, lang: Lang) -> &'static str {
        match self {
            UserRole::Master => lang.pick("マスターユーザ", "master user"),
            UserRole::Admin => lang.pick("管理者ユーザ", "admin user"),
            UserRole::General => lang.pick("一般ユーザ", "general user"),
        }
    }

    /// Masters and admins manage the other users of their company.
    pub fn is_manager(self) -> bool {
        matches!(self, UserRole::Master | UserRole::Admin)
    }
}

#[cfg_attr(feature = "specta", derive(specta::Type))]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum UserStatus {
    Active,
    /// Suspended by an administrator (サービス状態: 停止); no channel accepts it.
    Suspended,
    Deleted,
}

impl UserStatus {
    pub fn code(self) -> &'static str {
        match self {
            UserStatus::Active => "active",
            UserStatus::Suspended => "suspended",
            UserStatus::Deleted => "deleted",
        }
    }

    pub fn parse(s: &str) -> Option<UserStatus> {
        match s {
            "active" => Some(UserStatus::Active),
            "suspended" => Some(UserStatus::Suspended),
            "deleted" => Some(UserStatus::Deleted),
            _ => None,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct User {
    pub login_id: String,
    pub contract_no: String,
    pub name: String,
    pub role: UserRole,
    pub status: UserStatus,
    pub email: Option<String>,
    /// Whether the user signs in with a second factor (relaxes MFA-conditional minimums).
    pub mfa: bool,
    pub created_at: Millis,
    pub login: Credential,
    pub confirmation: Credential,
}

impl User {
    pub fn credential(&self, kind: CredentialKind) -> &Credential {
        match kind {
            CredentialKind::Login => &self.login,
            CredentialKind::Confirmation => &self.confirmation,
        }
    }

    pub fn credential_mut(&mut self, kind: CredentialKind) -> &mut Credential {
        match kind {
            CredentialKind::Login => &mut self.login,
            CredentialKind::Confirmation => &mut self.confirmation,
        }
    }

    /// The state of one credential at `now` under the tenant's policy.
    pub fn credential_state(
        &self,
        tenant: &Tenant,
        kind: CredentialKind,
        now: Millis,
    ) -> CredentialState {
        let p = tenant.policy(kind);
        self.credential(kind)
            .state(&p.lockout, p.password.warn_days, now)
    }

    /// Locked on any of its passwords at `now`.
    pub fn is_locked(&self, tenant: &Tenant, now: Millis) -> bool {
        tenant
            .credentials()
            .iter()
            .any(|k| self.credential_state(tenant, *k, now).is_locked())
    }

    /// Out of action until someone acts (seed 004's 利用停止, 「自動的に解除されることはありません」):
    /// suspended, deleted, or stopped for good on either credential.
    pub fn is_stopped_for_good(&self, tenant: &Tenant, now: Millis) -> bool {
        self.status != UserStatus::Active
            || tenant.credentials().iter().any(|k| {
                matches!(
                    self.credential_state(tenant, *k, now),
                    CredentialState::Stopped { .. }
                )
            })
    }

    /// When a user who is only temporarily stopped (一時利用停止, 「一定時間が経過すると自動的に
    /// 解除されます」) can act again: the later end of its credentials' temporary stops. `None` when
    /// the user is not locked, or is stopped for good.
    pub fn back_at(&self, tenant: &Tenant, now: Millis) -> Option<Millis> {
        if self.is_stopped_for_good(tenant, now) {
            return None;
        }
        tenant
            .credentials()
            .iter()
            .filter_map(|k| match self.credential_state(tenant, *k, now) {
                CredentialState::TemporarilyStopped { until } => Some(until),
                _ => None,
            })
            .max()
    }
}
