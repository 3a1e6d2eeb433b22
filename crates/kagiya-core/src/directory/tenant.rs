//! A customer company (tenant): contract number, name, the services it uses, and the password and
//! lockout policy for each of its users' two credentials.

use serde::{Deserialize, Serialize};

use super::credential::CredentialKind;
use super::services::Service;
use crate::lockout::LockoutPolicy;
use crate::password::{PasswordPolicy, Preset};
use crate::Millis;

/// The rules for one credential.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CredentialPolicy {
    pub password: PasswordPolicy,
    pub lockout: LockoutPolicy,
}

impl CredentialPolicy {
    pub fn from_preset(p: Preset) -> CredentialPolicy {
        CredentialPolicy {
            password: p.password(),
            lockout: p.lockout(),
        }
    }

    /// Checks both halves; the error names the bad field.
    pub fn validate(&self) -> Result<(), &'static str> {
        self.password.validate()?;
        self.lockout.validate()
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Tenant {
    pub contract_no: String,
    pub name: String,
    pub services: Vec<Service>,
    /// The preset the policies started from (they may since have been adjusted).
    pub preset: Preset,
    pub login: CredentialPolicy,
    pub confirmation: CredentialPolicy,
    pub created_at: Millis,
}

impl Tenant {
    pub fn policy(&self, kind: CredentialKind) -> &CredentialPolicy {
        match kind {
            CredentialKind::Login => &self.login,
            CredentialKind::Confirmation => &self.confirmation,
        }
    }

    /// The passwords this customer's users have (the preset's service decides).
    pub fn credentials(&self) -> &'static [CredentialKind] {
        self.preset.credentials()
    }

    /// Whether this customer's users have a `kind` password.
    pub fn uses(&self, kind: CredentialKind) -> bool {
        self.credentials().contains(&kind)
    }

    /// The password a user confirms an operation with: the confirmation password where the
    /// service has one, the login password again where it has only that.
    pub fn confirming_credential(&self) -> CredentialKind {
        if self.uses(CredentialKind::Confirmation) {
            CredentialKind::Confirmation
        } else {
            CredentialKind::Login
        }
    }

    pub fn policy_mut(&mut self, kind: CredentialKind) -> &mut CredentialPolicy {
        match kind {
            CredentialKind::Login => &mut self.login,
            CredentialKind::Confirmation => &mut self.confirmation,
        }
    }
}
