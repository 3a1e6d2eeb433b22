//! The branch's customers (tenants) and their users, each with a login and a confirmation
//! password (seed 004), the derived lock state of each credential, who may do what, and the fold
//! that rebuilds all of it from the event log.

pub mod addresses;
pub mod authz;
pub mod credential;
pub mod fold;
pub mod ids;
pub mod init_request;
pub mod one_time;
pub mod services;
pub mod tenant;
pub mod user;

pub use addresses::{Address, CertStatus, Purpose, StoredCert};
pub use authz::{authorize, Action, Actor};
pub use credential::{Credential, CredentialKind, CredentialState};
pub use fold::Directory;
pub use ids::{ContractNo, LoginId};
pub use init_request::{
    managers_outlook, needs_init_request, InitRequest, InitRequestState, ManagersOutlook,
};
pub use one_time::{OneTime, OneTimePurpose};
pub use services::{Channel, Service};
pub use tenant::{CredentialPolicy, Tenant};
pub use user::{User, UserRole, UserStatus};

/// Fixtures shared by the directory's unit tests.
#[cfg(test)]
pub(crate) mod test_support {
    use super::{Credential, User, UserRole, UserStatus};

    /// An active user of `contract_no` with placeholder hashes.
    pub fn user(login_id: &str, contract_no: &str, role: UserRole) -> User {
        User {
            login_id: login_id.into(),
            contract_no: contract_no.into(),
            name: login_id.into(),
            role,
            status: UserStatus::Active,
            email: None,
            mfa: false,
            created_at: 0,
            login: Credential::new("h".into(), 0),
            confirmation: Credential::new("h".into(), 0),
        }
    }
}
