//! The customers' own masters and admins (seed 004 §2.2 利用者停止・解除, §2.3 パスワード変更): their
//! users with states, unlocking several at once with their own confirmation password and the
//! result table, and setting a user's passwords with "force change at next login" per password.
//! The engine's operations and authorization matrix are the branch's; a user of another company
//! is answered like an unknown ID.

use axum::extract::State;
use axum::http::HeaderMap;
use axum::response::{IntoResponse, Response};
use axum::Json;
use kagiya_core::secret::Secret;

use kagiya_engine::views::{CredentialView, UserView};
use kagiya_engine::{NewPassword, SetPasswords, UnlockRow};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::auth::Problem;
use super::{lang, run, ApiError, Body, Source};
use crate::http::AppState;

pub use crate::flows::MAX_UNLOCK;

/// One credential's state as the list shows it.
#[derive(Serialize, ToSchema)]
pub struct CredentialRow {
    /// The state in seed 004's words, in the client's language.
    pub label: String,
    pub locked: bool,
    pub failures: u32,
    pub locked_until: Option<i64>,
    pub must_change: bool,
    pub expired: bool,
}

/// One user in the list.
#[derive(Serialize, ToSchema)]
pub struct UserRow {
    pub login_id: String,
    pub name: String,
    /// 利用者区分 in the client's language.
    pub role: String,
    /// `master`, `admin` or `general`.
    pub role_code: String,
    /// `active`, `suspended` or `deleted`.
    pub status: String,
    /// サービス状態 in seed 004's words.
    pub service_state: String,
    pub login: CredentialRow,
    /// Only where the service has a confirmation password.
    pub confirmation: Option<CredentialRow>,
}

#[derive(Serialize, ToSchema)]
pub struct UserList {
    pub users: Vec<UserRow>,
}

fn credential_row(c: &CredentialView) -> CredentialRow {
    CredentialRow {
        label: c.label.clone(),
        locked: c.state.is_locked(),
        failures: c.failures,
        locked_until: c.locked_until,
        must_change: c.must_change,
        expired: c.expired,
    }
}

fn user_row(v: &UserView) -> UserRow {
    UserRow {
        login_id: v.login_id.clone(),
        name: v.name.clone(),
        role: v.role.clone(),
        role_code: v.role_code.code().to_owned(),
        status: v.status.code().to_owned(),
        service_state: v.service_state.clone(),
        login: credential_row(&v.login),
        confirmation: v.confirmation.as_ref().map(credential_row),
    }
}

/// The full session of a master or an admin (see `flows::manager_session`).
async fn manager_session(
    s: &AppState,
    headers: &HeaderMap,
    ip: std::net::IpAddr,
) -> Result<kagiya_core::directory::User, Response> {
    crate::flows::manager_session(s, super::bearer(headers), ip)
        .await
        .map(|(_, u, _)| u)
        .map_err(|r| super::refused(r, lang(headers)))
}

/// The company's users with their states.
#[utoipa::path(get, path = "/v1/admin/users", tag = "administration", security(("session" = [])),
    responses((status = 200, body = UserList), (status = 401, body = Problem),
              (status = 403, description = "Not a master or admin", body = Problem)))]
pub async fn users(State(s): State<AppState>, Source(ip): Source, headers: HeaderMap) -> Response {
    let l = lang(&headers);
    let u = match manager_session(&s, &headers, ip).await {
        Ok(u) => u,
        Err(r) => return r,
    };
    let contract = u.contract_no.clone();
    match run(&s, move |e| {
        e.user_views(Some(&contract), None, u32::MAX, l)
    })
    .await
    {
        Ok(views) => Json(UserList {
            users: views.iter().map(user_row).collect(),
        })
        .into_response(),
        Err(e) => ApiError::new(e, l).into_response(),
    }
}

/// An unlock of several users.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Unlock {
    /// The login IDs to release (at most 500).
    pub login_ids: Vec<String>,
    /// The acting user's own confirmation password (or login password where the service has
    /// none).
    pub confirmation: String,
}

/// One row of the result table (seed 004: 利用者停止・解除結果).
#[derive(Serialize, ToSchema)]
pub struct UnlockResult {
    pub login_id: String,
    pub name: String,
    pub role: String,
    /// サービス状態 before.
    pub before: String,
    /// `unlocked`, `not_locked`, `not_found` or `not_permitted`.
    pub outcome: String,
    /// The ※ note under the table.
    pub note: Option<String>,
}

#[derive(Serialize, ToSchema)]
pub struct UnlockResults {
    pub batch: String,
    pub rows: Vec<UnlockResult>,
}

fn result_row(r: UnlockRow) -> UnlockResult {
    let outcome = serde_json::to_value(r.outcome)
        .ok()
        .and_then(|v| v.as_str().map(str::to_owned))
        .unwrap_or_default();
    UnlockResult {
        login_id: r.login_id,
        name: r.name,
        role: r.role,
        before: r.before,
        outcome,
        note: r.note,
    }
}

/// Releases the listed users, confirmed by the acting user's own confirmation password.
#[utoipa::path(post, path = "/v1/admin/unlock", request_body = Unlock, tag = "administration",
    security(("session" = [])),
    responses(
        (status = 200, description = "The result table", body = UnlockResults),
        (status = 401, description = "auth.confirmation_failed", body = Problem),
        (status = 403, body = Problem),
        (status = 422, body = Problem),
    ))]
pub async fn unlock(
    State(s): State<AppState>,
    Source(ip): Source,
    headers: HeaderMap,
    Body(req): Body<Unlock>,
) -> Response {
    let l = lang(&headers);
    let token = super::bearer(&headers);
    let confirmation = Secret::new(req.confirmation);
    match crate::flows::unlock(&s, ip, token, req.login_ids, confirmation, l).await {
        Ok((batch, rows)) => Json(UnlockResults {
            batch,
            rows: rows.into_iter().map(result_row).collect(),
        })
        .into_response(),
        Err(r) => super::refused(r, l),
    }
}

/// One password to set: given, or generated when `password` is left out.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewPasswordRequest {
    #[serde(default)]
    pub password: Option<String>,
    /// ログイン時に強制変更する.
    #[serde(default = "yes")]
    pub force_change: bool,
}

fn yes() -> bool {
    true
}

/// Setting another user's passwords (seed 004 §2.3).
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SetUserPasswords {
    pub login_id: String,
    /// The acting user's own confirmation password.
    pub confirmation: String,
    #[serde(default)]
    pub login_password: Option<NewPasswordRequest>,
    #[serde(default)]
    pub confirmation_password: Option<NewPasswordRequest>,
}

/// What was set. Generated passwords are shown here once; given ones are never echoed.
#[derive(Serialize, ToSchema)]
pub struct PasswordsSet {
    pub login_id: String,
    pub name: String,
    pub generated_login_password: Option<String>,
    pub generated_confirmation_password: Option<String>,
    pub issued_at: i64,
}

/// Sets a user's passwords, each with its own "force change at next login".
#[utoipa::path(post, path = "/v1/admin/passwords", request_body = SetUserPasswords,
    tag = "administration", security(("session" = [])),
    responses(
        (status = 200, body = PasswordsSet),
        (status = 401, description = "auth.confirmation_failed", body = Problem),
        (status = 403, body = Problem),
        (status = 404, description = "No such user in the company", body = Problem),
        (status = 422, description = "A password breaks the policy", body = Problem),
    ))]
pub async fn set_passwords(
    State(s): State<AppState>,
    Source(ip): Source,
    headers: HeaderMap,
    Body(req): Body<SetUserPasswords>,
) -> Response {
    let l = lang(&headers);
    let generated =
        |p: &Option<NewPasswordRequest>| p.as_ref().is_some_and(|p| p.password.is_none());
    let (gen_login, gen_confirm) = (
        generated(&req.login_password),
        generated(&req.confirmation_password),
    );
    let new = |p: &Option<NewPasswordRequest>| {
        p.as_ref().map(|p| match &p.password {
            Some(pw) => NewPassword::Given(Secret::new(pw.clone())),
            None => NewPassword::Generate,
        })
    };
    let set = SetPasswords {
        login: new(&req.login_password),
        confirmation: new(&req.confirmation_password),
        force_login_change: req.login_password.as_ref().is_none_or(|p| p.force_change),
        force_confirmation_change: req
            .confirmation_password
            .as_ref()
            .is_none_or(|p| p.force_change),
        permanent_reason: None,
    };
    let (token, own) = (super::bearer(&headers), Secret::new(req.confirmation));
    match crate::flows::set_user_passwords(&s, ip, token, req.login_id, own, set).await {
        Ok(issued) => Json(PasswordsSet {
            login_id: issued.login_id,
            name: issued.name,
            generated_login_password: issued
                .login
                .filter(|_| gen_login)
                .map(|p| p.expose().to_owned()),
            generated_confirmation_password: issued
                .confirmation
                .filter(|_| gen_confirm)
                .map(|p| p.expose().to_owned()),
            issued_at: issued.issued_at,
        })
        .into_response(),
        Err(r) => super::refused(r, l),
    }
}
