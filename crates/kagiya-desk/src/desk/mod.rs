//! The branch administrator's screens as use cases: each checks that an operator is signed in
//! with an active (not locked) session, then asks the engine as that operator — with the
//! operator's own confirmation password wherever the engine asks for one. What comes back is
//! plain, already in the UI language and never holds a hash; issued passwords come back once.

mod audit;
mod certificates;
mod customers;
mod dashboard;
pub(crate) mod dates;
mod requests;
mod staff;
mod sync;
mod users;

pub use audit::{AuditExport, AuditFilter, AuditPage, AuditVerification};
pub use certificates::{CertificateReportView, CertificateRow, FindingView};
pub use customers::{
    Choices, CustomerDetail, CustomerForm, CustomerRow, IpCheckView, IpRulesForm, IpRulesView,
    PolicyView, PresetChoice, RoleChoice, ServiceChoice,
};
pub use dashboard::{Dashboard, DayCount, LockCountsView, NamedCustomer};
pub use requests::{InitRequestView, ProposedAction};
pub use staff::{OperatorSlip, OperatorView, StaffView};
pub use sync::{ReviewRow, SyncView};
pub use users::{
    IssuedSlip, NewUserForm, PasswordsForm, UnlockResult, UserDetail, UserListFilter, UserListSort,
    UserPageQuery, UserPageView, UserRow,
};

use kagiya_core::Error;

use crate::console::Console;
use kagiya_engine::ActorRef;

impl Console {
    /// The signed-in operator as the engine's actor; refused while signed out or locked.
    pub(crate) fn acting_operator(&mut self) -> Result<ActorRef, Error> {
        let op = self.active_operator()?;
        Ok(ActorRef::Operator(op.operator_id))
    }
}
