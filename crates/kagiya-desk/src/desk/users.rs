//! The users table (one page at a time, so 100,000 users scroll smoothly), a user's detail, and
//! the actions on users: register, unlock one or many, set or issue passwords, suspend / resume.

use kagiya_core::directory::{Purpose, UserRole, UserStatus};
use kagiya_core::secret::Secret;
use kagiya_core::{Error, Millis};
use kagiya_store::directory;
use kagiya_store::events::{self, AuditQuery};
use kagiya_store::reports::{self, UserFilter, UserQuery, UserSort};
use serde::{Deserialize, Serialize};

use super::dashboard::PASSWORD_EXPIRY_DAYS;
use super::dates::DAY;
use crate::console::Console;
use crate::view::EventView;
use kagiya_engine::addresses::AddressView;
use kagiya_engine::views::{user_view, UserView};
use kagiya_engine::{Issued, NewPassword, NewUser, SetPasswords, UnlockRow};

/// Which users the table lists.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
#[serde(rename_all = "snake_case")]
pub enum UserListFilter {
    #[default]
    All,
    /// Either password locked, temporarily or for good.
    Locked,
    /// Either password past its expiry.
    Expired,
    /// Either password expiring within the dashboard's window (`Dashboard::password_expiry_days`).
    Expiring,
    /// Either password must be changed at the next login.
    MustChange,
    Suspended,
}

/// The table's order.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
#[serde(rename_all = "snake_case")]
pub enum UserListSort {
    #[default]
    LoginId,
    Name,
    Customer,
}

/// What the table asks for.
#[derive(Debug, Clone, Default, Deserialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
pub struct UserPageQuery {
    pub text: String,
    pub contract_no: Option<String>,
    pub filter: UserListFilter,
    pub sort: UserListSort,
    pub descending: bool,
    pub offset: u32,
    pub limit: u32,
}

/// One row of the table.
#[derive(Debug, Clone, Serialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
pub struct UserRow {
    pub login_id: String,
    pub name: String,
    pub contract_no: String,
    pub role: String,
    pub status: UserStatus,
    /// サービス状態 in seed 004's words.
    pub service_state: String,
    pub locked: bool,
    pub expired: bool,
    pub must_change: bool,
    pub email: Option<String>,
}

#[derive(Debug, Clone, Serialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
pub struct UserPageView {
    /// How many users match, over all pages (for a text search at most 10,000).
    pub total: u32,
    /// A text search has more matches than `total`: the table shows "10,000 or more".
    pub capped: bool,
    pub offset: u32,
    pub rows: Vec<UserRow>,
}

/// A user with everything the detail screen shows.
#[derive(Debug, Clone, Serialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
pub struct UserDetail {
    pub user: UserView,
    pub customer_name: String,
    pub addresses: Vec<AddressView>,
    /// The newest audit entries that mention the user.
    pub events: Vec<EventView>,
}

/// The registration form of one user.
#[derive(Debug, Clone, Deserialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
pub struct NewUserForm {
    pub contract_no: String,
    pub login_id: String,
    pub name: String,
    pub role: UserRole,
    pub email: Option<String>,
}

/// Setting another user's passwords. Generated ones are temporary and come back once.
#[derive(Debug, Deserialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
pub struct PasswordsForm {
    pub login: bool,
    pub confirmation: bool,
    /// Generate them (a temporary password slip); otherwise the given values are used.
    pub generate: bool,
    pub login_password: Option<Secret>,
    pub confirmation_password: Option<Secret>,
    /// ログイン時に強制変更する, for the login password (seed 004: one per password).
    pub force_login: bool,
    /// ログイン時に強制変更する, for the confirmation password.
    pub force_confirmation: bool,
    /// A supervisor's reason for a given password without the forced change (issue 12).
    #[serde(default)]
    pub permanent_reason: Option<String>,
}

/// Passwords to hand over on a printed slip in a sealed envelope: shown once, never stored in
/// clear. Its `Debug` leaves the passwords out (a slip that reaches a log or a panic message
/// carries no password).
#[derive(Clone, Serialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
pub struct IssuedSlip {
    pub contract_no: String,
    pub customer_name: String,
    pub login_id: String,
    pub name: String,
    pub login_password: Option<String>,
    pub confirmation_password: Option<String>,
    pub must_change: bool,
    pub issued_at: Millis,
    pub issued_by: String,
    /// The initialization request this slip belongs to, if any.
    pub request_no: Option<String>,
}

impl std::fmt::Debug for IssuedSlip {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let hidden = |p: &Option<String>| p.as_ref().map(|_| "[hidden]");
        f.debug_struct("IssuedSlip")
            .field("contract_no", &self.contract_no)
            .field("login_id", &self.login_id)
            .field("login_password", &hidden(&self.login_password))
            .field(
                "confirmation_password",
                &hidden(&self.confirmation_password),
            )
            .field("must_change", &self.must_change)
            .field("issued_at", &self.issued_at)
            .field("issued_by", &self.issued_by)
            .field("request_no", &self.request_no)
            .finish_non_exhaustive()
    }
}

#[cfg(test)]
mod slip_tests {
    use super::IssuedSlip;

    /// Issue 12 (low): slips with a redacting `Debug`.
    #[test]
    fn a_slips_debug_never_shows_its_passwords() {
        let slip = IssuedSlip {
            contract_no: "C-1".into(),
            customer_name: "テスト".into(),
            login_id: "hanako".into(),
            name: "花子".into(),
            login_password: Some("Tmp-Secret-1234".into()),
            confirmation_password: Some("Tmp-Secret-5678".into()),
            must_change: true,
            issued_at: 1,
            issued_by: "sv001".into(),
            request_no: None,
        };
        let shown = format!("{slip:?}");
        assert!(!shown.contains("Tmp-Secret"), "{shown}");
        assert!(
            shown.contains("hanako") && shown.contains("[hidden]"),
            "{shown}"
        );
    }
}

#[derive(Debug, Clone, Serialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
pub struct UnlockResult {
    pub batch: String,
    pub rows: Vec<UnlockRow>,
}

fn filter_of(f: UserListFilter, now: Millis) -> UserFilter {
    match f {
        UserListFilter::All => UserFilter::All,
        UserListFilter::Locked => UserFilter::Locked,
        UserListFilter::Expired => UserFilter::Expired,
        UserListFilter::Expiring => UserFilter::ExpiringBy(now + PASSWORD_EXPIRY_DAYS * DAY),
        UserListFilter::MustChange => UserFilter::MustChange,
        UserListFilter::Suspended => UserFilter::Suspended,
    }
}

fn sort_of(s: UserListSort) -> UserSort {
    match s {
        UserListSort::LoginId => UserSort::LoginId,
        UserListSort::Name => UserSort::Name,
        UserListSort::Customer => UserSort::Customer,
    }
}

fn row(v: UserView) -> UserRow {
    let creds: Vec<_> = std::iter::once(&v.login)
        .chain(v.confirmation.as_ref())
        .collect();
    UserRow {
        locked: creds.iter().any(|c| c.state.is_locked()),
        expired: creds.iter().any(|c| c.expired),
        must_change: creds.iter().any(|c| c.must_change),
        login_id: v.login_id,
        name: v.name,
        contract_no: v.contract_no,
        role: v.role,
        status: v.status,
        service_state: v.service_state,
        email: v.email,
    }
}

impl Console {
    /// One page of the users table.
    pub fn user_page(&mut self, q: &UserPageQuery) -> Result<UserPageView, Error> {
        self.active_operator()?;
        let now = self.engine().now();
        let query = UserQuery {
            text: q.text.chars().take(128).collect(),
            contract_no: q.contract_no.clone().filter(|c| !c.trim().is_empty()),
            filter: filter_of(q.filter, now),
            sort: sort_of(q.sort),
            descending: q.descending,
            offset: q.offset,
            limit: q.limit.clamp(1, 500),
        };
        let lang = self.lang();
        let guard = self.branch.store().conn();
        let conn = &*guard;
        let page = reports::user_page(conn, &query, now)?;
        let mut tenants: Vec<kagiya_core::directory::Tenant> = Vec::new();
        let mut rows = Vec::with_capacity(page.users.len());
        for u in &page.users {
            if !tenants.iter().any(|t| t.contract_no == u.contract_no) {
                tenants.push(directory::tenant(conn, &u.contract_no)?.ok_or(Error::UnknownTenant)?);
            }
            let t = tenants.iter().find(|t| t.contract_no == u.contract_no);
            if let Some(t) = t {
                rows.push(row(user_view(u, t, now, lang)));
            }
        }
        Ok(UserPageView {
            total: u32::try_from(page.total).unwrap_or(u32::MAX),
            capped: page.capped,
            offset: q.offset,
            rows,
        })
    }

    /// A user's detail: credentials, affected services, addresses and recent audit entries.
    pub fn user_detail(&mut self, login_id: &str) -> Result<UserDetail, Error> {
        self.active_operator()?;
        let user = self.engine().user_view(login_id, self.lang())?;
        let addresses = self.engine().address_views(&user.login_id)?;
        let guard = self.branch.store().conn();
        let conn = &*guard;
        let customer_name = directory::tenant(conn, &user.contract_no)?
            .map(|t| t.name)
            .unwrap_or_default();
        let q = AuditQuery {
            text: format!("\"{}\"", user.login_id),
            limit: 20,
            ..AuditQuery::default()
        };
        let lang = self.lang();
        let events = events::search(conn, &q)?
            .iter()
            .map(|e| EventView::new(e, lang))
            .collect();
        Ok(UserDetail {
            addresses,
            user,
            customer_name,
            events,
        })
    }

    /// Registers a user; the temporary passwords come back once for the slip.
    pub fn create_user(
        &mut self,
        form: &NewUserForm,
        confirmation: &Secret,
    ) -> Result<IssuedSlip, Error> {
        let who = self.acting_operator()?;
        let issued = self.engine().create_user(
            &who,
            confirmation,
            NewUser {
                contract_no: form.contract_no.clone(),
                login_id: form.login_id.clone(),
                name: form.name.clone(),
                role: form.role,
                email: form.email.clone().filter(|e| !e.trim().is_empty()),
            },
        )?;
        self.slip(issued, None)
    }

    /// Unlocks the listed users (seed 004's bulk unlock) and returns its result table.
    pub fn unlock_users(
        &mut self,
        login_ids: &[String],
        confirmation: &Secret,
    ) -> Result<UnlockResult, Error> {
        let who = self.acting_operator()?;
        let (batch, rows) = self
            .engine()
            .unlock(&who, confirmation, login_ids, self.lang())?;
        Ok(UnlockResult { batch, rows })
    }

    /// Seed 004's 「ご自身を除くすべてのユーザ」 for the bulk unlock: the customer's users that are
    /// locked now and that the signed-in operator may unlock.
    pub fn unlock_candidates(&mut self, contract_no: &str) -> Result<Vec<String>, Error> {
        let who = self.acting_operator()?;
        self.engine().unlock_candidates(&who, contract_no)
    }

    /// Sets or issues another user's passwords.
    pub fn set_user_passwords(
        &mut self,
        login_id: &str,
        form: PasswordsForm,
        confirmation: &Secret,
    ) -> Result<IssuedSlip, Error> {
        let who = self.acting_operator()?;
        let pick = |wanted: bool, given: Option<Secret>| -> Result<Option<NewPassword>, Error> {
            match (wanted, form.generate, given) {
                (false, _, _) => Ok(None),
                (true, true, _) => Ok(Some(NewPassword::Generate)),
                (true, false, Some(p)) if !p.expose().is_empty() => Ok(Some(NewPassword::Given(p))),
                (true, false, _) => Err(Error::InvalidValue("password")),
            }
        };
        let req = SetPasswords {
            login: pick(form.login, form.login_password)?,
            confirmation: pick(form.confirmation, form.confirmation_password)?,
            force_login_change: form.force_login || form.generate,
            force_confirmation_change: form.force_confirmation || form.generate,
            permanent_reason: form.permanent_reason,
        };
        let issued = self
            .engine()
            .set_passwords(&who, confirmation, login_id, req)?;
        self.slip(issued, None)
    }

    /// Adds an e-mail address to a user's address book (seed 002: at most 10) for the purposes
    /// given (`notifications`, `otp`, `reset`, `forwarding`); returns the addresses.
    pub fn add_address(
        &mut self,
        login_id: &str,
        address: &str,
        purposes: &[Purpose],
        confirmation: &Secret,
    ) -> Result<Vec<AddressView>, Error> {
        let who = self.acting_operator()?;
        self.engine()
            .add_address(&who, confirmation, login_id, address, purposes)?;
        self.engine().address_views(login_id)
    }

    /// Turns signing and encryption for one of a user's addresses on or off (encryption needs a
    /// valid certificate); returns the user's addresses.
    pub fn set_address_flags(
        &mut self,
        login_id: &str,
        address: &str,
        sign: bool,
        encrypt: bool,
        confirmation: &Secret,
    ) -> Result<Vec<AddressView>, Error> {
        let who = self.acting_operator()?;
        self.engine()
            .set_address_flags(&who, confirmation, login_id, address, sign, encrypt)?;
        self.engine().address_views(login_id)
    }

    /// Deletes one of a user's addresses (never the last one for resets, or for one-time
    /// passwords when the user has them); returns the user's addresses.
    pub fn delete_address(
        &mut self,
        login_id: &str,
        address: &str,
        confirmation: &Secret,
    ) -> Result<Vec<AddressView>, Error> {
        let who = self.acting_operator()?;
        self.engine()
            .delete_address(&who, confirmation, login_id, address)?;
        self.engine().address_views(login_id)
    }

    /// Turns a user's 2FA off (「利用しない」) at the customer's request — the mailbox of the
    /// one-time passwords is lost, say. Returns whether the login password must now be changed
    /// at the next login (the preset allowed it shorter only with 2FA).
    pub fn disable_user_mfa(
        &mut self,
        login_id: &str,
        confirmation: &Secret,
    ) -> Result<bool, Error> {
        let who = self.acting_operator()?;
        self.engine().disable_mfa(&who, confirmation, login_id)
    }

    /// Suspends or resumes the listed users (all or none).
    pub fn set_users_suspended(
        &mut self,
        login_ids: &[String],
        suspend: bool,
        confirmation: &Secret,
    ) -> Result<Vec<String>, Error> {
        let who = self.acting_operator()?;
        self.engine()
            .set_suspended(&who, confirmation, login_ids, suspend)
    }

    /// The slip of `issued`, with the customer and the issuing operator.
    pub(crate) fn slip(
        &self,
        issued: Issued,
        request_no: Option<String>,
    ) -> Result<IssuedSlip, Error> {
        let guard = self.branch.store().conn();
        let conn = &*guard;
        let u = directory::user(conn, &issued.login_id)?.ok_or(Error::UnknownUser)?;
        let t = directory::tenant(conn, &u.contract_no)?.ok_or(Error::UnknownTenant)?;
        Ok(IssuedSlip {
            contract_no: t.contract_no,
            customer_name: t.name,
            login_id: issued.login_id,
            name: issued.name,
            login_password: issued.login.as_ref().map(|s| s.expose().to_owned()),
            confirmation_password: issued.confirmation.as_ref().map(|s| s.expose().to_owned()),
            must_change: issued.must_change,
            issued_at: issued.issued_at,
            issued_by: self.session_operator_name().unwrap_or_default(),
            request_no,
        })
    }
}
