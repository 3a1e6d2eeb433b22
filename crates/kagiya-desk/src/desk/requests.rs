//! The initialization request (seed 004's paper form) at the counter: intake, a second
//! supervisor's approval on the same PC (they confirm with their own ID and confirmation password
//! while the recorder stays signed in), execution, and the slips — all offline.

use kagiya_core::directory::{CredentialKind, InitRequest, UserStatus};
use kagiya_core::secret::Secret;
use kagiya_core::{Error, Lang};
use kagiya_store::directory;
use serde::Serialize;

use super::users::IssuedSlip;
use crate::console::Console;
use kagiya_engine::views::user_view;
use kagiya_engine::{ActorRef, InitRequestForm};

/// A request as listed: the request itself, its customer's name and its state in words.
#[derive(Debug, Clone, Serialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
pub struct InitRequestView {
    #[serde(flatten)]
    pub request: InitRequest,
    pub customer_name: String,
    pub state_label: String,
}

/// What executing the request would do to one user, for the intake form.
#[derive(Debug, Clone, Serialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
pub struct ProposedAction {
    pub login_id: String,
    pub name: String,
    pub role: String,
    /// サービス状態 now, in seed 004's words.
    pub service_state: String,
    /// In order: unlock (when locked), resume (when suspended), new temporary passwords.
    pub actions: Vec<String>,
}

fn state_label(state: &str, lang: Lang) -> String {
    match state {
        "recorded" => lang.pick("承認待ち", "Waiting for approval"),
        "approved" => lang.pick("承認済み（未実行）", "Approved, not yet executed"),
        "rejected" => lang.pick("却下", "Rejected"),
        _ => lang.pick("実行済み", "Executed"),
    }
    .to_owned()
}

impl Console {
    fn request_view(&self, r: InitRequest) -> Result<InitRequestView, Error> {
        let customer_name = directory::tenant(&self.branch.store().conn(), &r.contract_no)?
            .map(|t| t.name)
            .unwrap_or_default();
        Ok(InitRequestView {
            state_label: state_label(r.state.code(), self.lang()),
            request: r,
            customer_name,
        })
    }

    /// Every request, newest first.
    pub fn init_requests(&mut self) -> Result<Vec<InitRequestView>, Error> {
        self.active_operator()?;
        let mut list = directory::init_requests(&self.branch.store().conn())?;
        list.sort_by_key(|r| std::cmp::Reverse(r.recorded_at));
        list.into_iter().map(|r| self.request_view(r)).collect()
    }

    /// What a request for `contract_no` listing `targets` (none: every master and admin) would
    /// do; refused, as recording would be, while some master or admin can still act.
    pub fn init_request_preview(
        &mut self,
        contract_no: &str,
        targets: &[String],
    ) -> Result<Vec<ProposedAction>, Error> {
        self.active_operator()?;
        let (tenant, users) = self.engine().init_request_targets(contract_no, targets)?;
        let (now, lang) = (self.engine().now(), self.lang());
        Ok(users
            .iter()
            .map(|u| {
                let view = user_view(u, &tenant, now, lang);
                let mut actions = Vec::new();
                if u.is_locked(&tenant, now) {
                    actions.push(lang.pick("ロック解除", "Unlock").to_owned());
                }
                if u.status == UserStatus::Suspended {
                    actions.push(lang.pick("利用再開", "Resume").to_owned());
                }
                actions.push(
                    if tenant.uses(CredentialKind::Confirmation) {
                        lang.pick(
                            "ログインパスワードと確認用パスワードの仮パスワードを発行（ログイン時に強制変更）",
                            "New temporary login and confirmation passwords (changed at the next login)",
                        )
                    } else {
                        lang.pick(
                            "ログインパスワードの仮パスワードを発行（ログイン時に強制変更）",
                            "A new temporary login password (changed at the next login)",
                        )
                    }
                    .to_owned(),
                );
                ProposedAction {
                    login_id: view.login_id,
                    name: view.name,
                    role: view.role,
                    service_state: view.service_state,
                    actions,
                }
            })
            .collect())
    }

    /// Records the paper form (refused while some master or admin can still act).
    pub fn record_init_request(
        &mut self,
        form: InitRequestForm,
        confirmation: &Secret,
    ) -> Result<InitRequestView, Error> {
        let who = self.acting_operator()?;
        let r = self
            .engine()
            .record_init_request(&who, confirmation, form)?;
        self.request_view(r)
    }

    /// A second supervisor approves or rejects at this PC with their own ID and confirmation
    /// password; the signed-in operator's session stays as it is.
    pub fn decide_init_request(
        &mut self,
        request_no: &str,
        supervisor_id: &str,
        supervisor_confirmation: &Secret,
        reject_reason: Option<String>,
    ) -> Result<InitRequestView, Error> {
        self.active_operator()?;
        let who = ActorRef::Operator(supervisor_id.trim().to_owned());
        let r = self.engine().decide_init_request(
            &who,
            supervisor_confirmation,
            request_no,
            reject_reason,
        )?;
        self.request_view(r)
    }

    /// Executes an approved request; the temporary passwords come back once, one slip per user.
    pub fn execute_init_request(
        &mut self,
        request_no: &str,
        confirmation: &Secret,
    ) -> Result<Vec<IssuedSlip>, Error> {
        let who = self.acting_operator()?;
        let issued = self
            .engine()
            .execute_init_request(&who, confirmation, request_no)?;
        issued
            .into_iter()
            .map(|i| self.slip(i, Some(request_no.trim().to_owned())))
            .collect()
    }
}
