//! The end user's side: sign-in (login ID + password; the Web member's login ID + address +
//! password), the one-time code, the passwords that must change (seed 004 §2.4 forced, §2.5
//! expired), the confirmation password before a transaction, sign-out, and the API channel of
//! seed 000 (a password with every request).
//!
//! No answer tells an ID apart: an unknown ID, a wrong password, a suspended user, a refused
//! address and a locked account with a wrong password all get `auth.invalid_credentials` at the
//! cost of one argon2id check (the engine wastes the time where it has no hash). "Locked" is said
//! only to whoever gave the right password.

use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use kagiya_core::directory::{Channel, CredentialKind};
use kagiya_core::secret::Secret;
use kagiya_core::Lang;
use kagiya_engine::ChangeOwn;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::{
    bearer, count, lang, must_change, otp_address_required, refused, run, session, ApiError, Body,
    Source,
};
use crate::flows::{self, Refusal};
use crate::http::AppState;
use crate::sessions::{self, Stage};
use crate::throttle::Kind;

/// A sign-in.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SignIn {
    /// ログインID.
    pub login_id: String,
    /// The login password (for a Web member's added address, that address's password).
    pub password: String,
    /// The Web member site's メールアドレス (seed 002); other services leave it out.
    #[serde(default)]
    pub address: Option<String>,
}

/// A session and what it still needs.
#[derive(Serialize, ToSchema)]
pub struct SignedIn {
    /// The session token: send it as `Authorization: Bearer <token>`. Shown once.
    pub token: String,
    pub stage: Stage,
    /// The passwords to change before anything else (`login`, `confirmation`).
    pub must_change: Vec<String>,
    /// Seed 003: the one-time-password address must be registered (`/v1/me/otp-address`).
    pub otp_address_required: bool,
    /// When the session ends at the latest (milliseconds since the epoch).
    pub expires_at: i64,
}

/// The one-time code of a sign-in with 2FA.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Code {
    pub code: String,
}

/// One password change: the current password and the new one.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PasswordPair {
    pub current: String,
    pub new: String,
}

/// The user's change of their own passwords (seed 004 §2.4/§2.5 screens).
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ChangePasswords {
    #[serde(default)]
    pub login: Option<PasswordPair>,
    #[serde(default)]
    pub confirmation: Option<PasswordPair>,
}

/// The confirmation password given before a transaction.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Confirm {
    pub confirmation: String,
}

#[derive(Serialize, ToSchema)]
pub struct Confirmed {
    pub confirmed: bool,
}

/// The signed-in user.
#[derive(Serialize, ToSchema)]
pub struct Me {
    pub login_id: String,
    pub name: String,
    pub contract_no: String,
    /// `master`, `admin` or `general`.
    pub role: String,
    pub stage: Stage,
    pub must_change: Vec<String>,
    /// Seed 003: the one-time-password address must be registered (`/v1/me/otp-address`).
    pub otp_address_required: bool,
    pub expires_at: i64,
}

/// A request of the API channel.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ApiCredentials {
    pub login_id: String,
    pub password: String,
}

#[derive(Serialize, ToSchema)]
pub struct Authenticated {
    pub login_id: String,
    pub authenticated: bool,
    /// The password must be changed (on the web) soon: it is temporary or has expired.
    pub must_change: bool,
}

/// The `{code, message}` of every error.
#[derive(Serialize, ToSchema)]
pub struct Problem {
    pub code: String,
    pub message: String,
}

fn kinds(list: &[CredentialKind]) -> Vec<String> {
    list.iter().map(|k| k.code().to_owned()).collect()
}

/// Signs in with the login password.
#[utoipa::path(post, path = "/v1/sign-in", request_body = SignIn, tag = "sign-in",
    responses(
        (status = 200, description = "Signed in, or the next step owed", body = SignedIn),
        (status = 401, description = "auth.invalid_credentials — the same for every wrong attempt", body = Problem),
        (status = 423, description = "auth.credential_locked — only after the right password", body = Problem),
        (status = 429, description = "auth.throttled", body = Problem),
        (status = 503, description = "The code of the second factor cannot be sent", body = Problem),
    ))]
pub async fn sign_in(
    State(s): State<AppState>,
    Source(ip): Source,
    headers: HeaderMap,
    Body(req): Body<SignIn>,
) -> Response {
    let password = Secret::new(req.password);
    let r = flows::sign_in(&s, ip, req.login_id, password, req.address).await;
    signed_in(r, lang(&headers))
}

/// A new session as the API answers it.
pub(super) fn signed_in(r: Result<flows::Started, Refusal>, l: Lang) -> Response {
    match r {
        Ok(st) => Json(SignedIn {
            token: st.token,
            stage: st.stage,
            must_change: kinds(&st.owed),
            otp_address_required: st.otp_address_required,
            expires_at: st.expires_at,
        })
        .into_response(),
        Err(r) => refused(r, l),
    }
}

/// Answers the one-time code of a sign-in with 2FA.
#[utoipa::path(post, path = "/v1/sign-in/code", request_body = Code, tag = "sign-in",
    security(("session" = [])),
    responses(
        (status = 200, description = "Signed in: a new session", body = SignedIn),
        (status = 401, description = "auth.one_time_refused or no session", body = Problem),
        (status = 403, description = "Not at this step", body = Problem),
        (status = 429, description = "auth.throttled", body = Problem),
    ))]
pub async fn code(
    State(s): State<AppState>,
    Source(ip): Source,
    headers: HeaderMap,
    Body(req): Body<Code>,
) -> Response {
    let r = flows::code(&s, ip, bearer(&headers), Secret::new(req.code)).await;
    signed_in(r, lang(&headers))
}

/// The signed-in user and what they must do.
#[utoipa::path(get, path = "/v1/me", tag = "session", security(("session" = [])),
    responses((status = 200, body = Me), (status = 401, body = Problem)))]
pub async fn me(State(s): State<AppState>, Source(ip): Source, headers: HeaderMap) -> Response {
    // Not at the code step: a password alone shows nothing of the user.
    let stages = [Stage::Change, Stage::Full];
    let (sess, u, t) = match session(&s, &headers, Some(ip), &stages).await {
        Ok(x) => x,
        Err(r) => return r,
    };
    Json(Me {
        login_id: u.login_id.clone(),
        name: u.name.clone(),
        contract_no: u.contract_no.clone(),
        role: u.role.code().to_owned(),
        stage: sess.stage,
        must_change: kinds(&must_change(&u, &t, s.engine.now())),
        otp_address_required: otp_address_required(&u, &t),
        expires_at: sess.expires_ms,
    })
    .into_response()
}

/// Changes the user's own passwords with the current ones (seed 004 §2.4 forced, §2.5 expired).
/// Every session of the user ends; a new one is returned.
#[utoipa::path(post, path = "/v1/me/passwords", request_body = ChangePasswords, tag = "session",
    security(("session" = [])),
    responses(
        (status = 200, description = "Changed; a new session", body = SignedIn),
        (status = 401, description = "A current password is wrong", body = Problem),
        (status = 422, description = "A new password breaks the policy", body = Problem),
        (status = 423, description = "The password is locked", body = Problem),
    ))]
pub async fn change_passwords(
    State(s): State<AppState>,
    Source(ip): Source,
    headers: HeaderMap,
    Body(req): Body<ChangePasswords>,
) -> Response {
    let pair = |p: Option<PasswordPair>| p.map(|p| (Secret::new(p.current), Secret::new(p.new)));
    let change = ChangeOwn {
        login: pair(req.login),
        confirmation: pair(req.confirmation),
    };
    let r = flows::change_passwords(&s, ip, bearer(&headers), change).await;
    signed_in(r, lang(&headers))
}

/// Checks the confirmation password before a transaction (seed 004: 確認用パスワード).
#[utoipa::path(post, path = "/v1/me/confirm", request_body = Confirm, tag = "session",
    security(("session" = [])),
    responses(
        (status = 200, body = Confirmed),
        (status = 401, description = "auth.confirmation_failed", body = Problem),
        (status = 423, description = "The confirmation password is locked", body = Problem),
    ))]
pub async fn confirm(
    State(s): State<AppState>,
    Source(ip): Source,
    headers: HeaderMap,
    Body(req): Body<Confirm>,
) -> Response {
    let l = lang(&headers);
    let r = async {
        let token = bearer(&headers);
        let (_, u) = flows::session_attempt(&s, token, ip, &[Stage::Full], Kind::Account).await?;
        let who = kagiya_engine::ActorRef::User(u.login_id.clone());
        run(&s, move |e| {
            e.confirm(&who, &Secret::new(req.confirmation), "transaction")
                .map(|_| ())
        })
        .await
        .map_err(Refusal::from)
    }
    .await;
    count(&s, "confirm", &r);
    match r {
        Ok(()) => Json(Confirmed { confirmed: true }).into_response(),
        Err(r) => refused(r, l),
    }
}

/// Ends the session.
#[utoipa::path(post, path = "/v1/sign-out", tag = "session", security(("session" = [])),
    responses((status = 204, description = "Signed out"), (status = 401, body = Problem)))]
pub async fn sign_out(State(s): State<AppState>, headers: HeaderMap) -> Response {
    let l = lang(&headers);
    let stages = [Stage::Code, Stage::Change, Stage::Full];
    let (sess, _, _) = match session(&s, &headers, None, &stages).await {
        Ok(x) => x,
        Err(r) => return r,
    };
    match sessions::revoke(&s.pool, &sess.token_hash, s.engine.now()).await {
        Ok(()) => StatusCode::NO_CONTENT.into_response(),
        Err(e) => ApiError::new(e, l).into_response(),
    }
}

/// The API channel (seed 000: Webサービス(SOAP/REST)): the password with every request. Wrong
/// passwords count towards the same lock as the web's, and while it lasts every request is
/// refused (「全てのリクエストで認証エラーとなります」).
#[utoipa::path(post, path = "/v1/api/authenticate", request_body = ApiCredentials, tag = "api",
    responses(
        (status = 200, body = Authenticated),
        (status = 401, description = "auth.invalid_credentials", body = Problem),
        (status = 423, description = "auth.credential_locked — only after the right password", body = Problem),
        (status = 429, description = "auth.throttled", body = Problem),
    ))]
pub async fn api_authenticate(
    State(s): State<AppState>,
    Source(ip): Source,
    headers: HeaderMap,
    Body(req): Body<ApiCredentials>,
) -> Response {
    let begun = std::time::Instant::now();
    let r = async {
        flows::throttle(&s, Kind::Api, ip, &req.login_id)?;
        run(&s, move |e| {
            e.verify_from(
                &req.login_id,
                CredentialKind::Login,
                Channel::Api,
                &Secret::new(req.password),
                Some(ip),
            )
        })
        .await
        .map_err(Refusal::from)
    }
    .await;
    count(&s, "api", &r);
    match flows::pad(begun, r).await {
        Ok(v) => Json(Authenticated {
            login_id: v.login_id,
            authenticated: true,
            must_change: v.must_change || v.expired,
        })
        .into_response(),
        Err(r) => refused(r, lang(&headers)),
    }
}
