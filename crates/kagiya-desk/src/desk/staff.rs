//! Branch staff (issue 12): supervisors see every operator with role, state and lock, disable or
//! enable them, change their roles and reset their passwords (shown once); every operator changes
//! their own passwords; supervisors set when operators' login passwords expire.

use kagiya_core::operator::Role;
use kagiya_core::secret::Secret;
use kagiya_core::{Error, Millis};
use kagiya_engine::OPERATOR_EXPIRY_SETTING;
use serde::Serialize;

use crate::console::Console;

/// An operator as the supervisors' list shows them.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
pub struct OperatorView {
    pub operator_id: String,
    pub name: String,
    pub role: Role,
    pub disabled: bool,
    /// Locked by wrong passwords until then.
    pub locked_until: Option<Millis>,
    /// A supervisor's reset: the login password is changed at the next sign-in.
    pub must_change: bool,
    pub password_set_at: Millis,
    pub last_sign_in_at: Option<Millis>,
    /// The signed-in operator (no actions on oneself here).
    pub me: bool,
}

/// The branch staff and the branch's expiry of their login passwords.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
pub struct StaffView {
    pub operators: Vec<OperatorView>,
    /// Days after which login passwords expire; 0 for never.
    pub expiry_days: u32,
}

/// Temporary passwords of a reset, shown once.
#[derive(Debug, Clone, Serialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
pub struct OperatorSlip {
    pub operator_id: String,
    pub login_password: String,
    pub confirmation_password: String,
}

impl Console {
    /// The branch staff (supervisors only).
    pub fn staff(&mut self) -> Result<StaffView, Error> {
        let me = self.active_operator()?;
        if me.role != Role::Supervisor {
            return Err(Error::NotPermitted(
                kagiya_core::directory::authz::Denial::SupervisorOnly,
            ));
        }
        let now = self.engine().now();
        let operators = self
            .engine()
            .operators()?
            .into_iter()
            .map(|o| OperatorView {
                me: o.operator_id.eq_ignore_ascii_case(&me.operator_id),
                locked_until: o.locked_until(now),
                operator_id: o.operator_id,
                name: o.name,
                role: o.role,
                disabled: o.disabled,
                must_change: o.must_change,
                password_set_at: o.password_set_at,
                last_sign_in_at: o.last_sign_in_at,
            })
            .collect();
        let expiry_days = self
            .engine()
            .read(|r| r.setting(OPERATOR_EXPIRY_SETTING))?
            .and_then(|v| v.parse().ok())
            .unwrap_or(0);
        Ok(StaffView {
            operators,
            expiry_days,
        })
    }

    pub fn set_operator_disabled(
        &mut self,
        operator_id: &str,
        disabled: bool,
        confirmation: &Secret,
    ) -> Result<StaffView, Error> {
        let who = self.acting_operator()?;
        self.engine()
            .set_operator_disabled(&who, confirmation, operator_id, disabled)?;
        self.staff()
    }

    pub fn set_operator_role(
        &mut self,
        operator_id: &str,
        role: Role,
        confirmation: &Secret,
    ) -> Result<StaffView, Error> {
        let who = self.acting_operator()?;
        self.engine()
            .set_operator_role(&who, confirmation, operator_id, role)?;
        self.staff()
    }

    pub fn reset_operator_passwords(
        &mut self,
        operator_id: &str,
        confirmation: &Secret,
    ) -> Result<OperatorSlip, Error> {
        let who = self.acting_operator()?;
        let p = self
            .engine()
            .reset_operator_passwords(&who, confirmation, operator_id)?;
        Ok(OperatorSlip {
            operator_id: p.operator_id,
            login_password: p.login.expose().to_owned(),
            confirmation_password: p.confirmation.expose().to_owned(),
        })
    }

    pub fn set_operator_expiry_days(
        &mut self,
        days: u32,
        confirmation: &Secret,
    ) -> Result<StaffView, Error> {
        let who = self.acting_operator()?;
        self.engine()
            .set_operator_expiry_days(&who, confirmation, days)?;
        self.staff()
    }

    /// The signed-in operator changes their own passwords with the current login password.
    pub fn change_own_operator_passwords(
        &mut self,
        current_login: &Secret,
        new_login: &Secret,
        new_confirmation: Option<&Secret>,
    ) -> Result<(), Error> {
        let me = self.active_operator()?;
        self.engine().change_own_operator_passwords(
            &me.operator_id,
            current_login,
            new_login,
            new_confirmation,
        )
    }
}
