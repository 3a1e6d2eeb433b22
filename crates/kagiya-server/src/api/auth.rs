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

use super::{count, lang, must_change, otp_address_required, run, session, ApiError, Body, Source};
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

/// No failure answer leaves earlier than this many milliseconds after the request began (ours:
/// a known user's refusal reads and writes a few more rows than an unknown ID's — measured here
/// 53 ms against 68 ms idle, 53 against 103 with eleven tests at once on two cores — and a patient
/// stranger could tell them apart; a fixed floor well above both makes every wrong attempt take
/// the same time under any load the floor covers. A person who mistypes waits a quarter second;
/// a guesser's connection is slowed the same. Successes are not delayed).
pub const FAILURE_FLOOR_MS: u64 = 250;

/// Holds a failure answer until the floor, so that every wrong attempt takes the same time
/// whatever path it took.
async fn pad(start: std::time::Instant, res: Response) -> Response {
    if res.status() == StatusCode::UNAUTHORIZED {
        let floor = std::time::Duration::from_millis(FAILURE_FLOOR_MS);
        tokio::time::sleep(floor.saturating_sub(start.elapsed())).await;
    }
    res
}

/// Takes an attempt from the throttles, or answers that there were too many.
fn throttle(
    s: &AppState,
    operation: &str,
    kind: Kind,
    ip: std::net::IpAddr,
    id: &str,
    l: Lang,
) -> Result<(), Response> {
    s.throttle.attempt(kind, ip, id).map_err(|wait| {
        s.metrics
            .outcomes
            .with_label_values(&[operation, "auth.throttled"])
            .inc();
        super::throttled(l, wait)
    })
}

/// The session of a request that checks a secret of its signed-in user (a code, a confirmation,
/// a current password): live, at one of `stages`, within the user's allowance for `kind`.
pub(super) async fn session_attempt(
    s: &AppState,
    headers: &HeaderMap,
    ip: std::net::IpAddr,
    stages: &[Stage],
    operation: &str,
    kind: Kind,
) -> Result<(sessions::Session, kagiya_core::directory::User), Response> {
    let (sess, u, _) = session(s, headers, Some(ip), stages).await?;
    throttle(s, operation, kind, ip, &u.login_id, lang(headers))?;
    Ok((sess, u))
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
    let start = std::time::Instant::now();
    let res = sign_in_unpadded(&s, ip, &headers, req).await;
    pad(start, res).await
}

async fn sign_in_unpadded(
    s: &AppState,
    ip: std::net::IpAddr,
    headers: &HeaderMap,
    req: SignIn,
) -> Response {
    let s = s.clone();
    let l = lang(headers);
    // The session counts from before the password was checked: a password set anew meanwhile
    // (an administrator's reset racing this sign-in) ends it.
    let started = s.engine.now();
    if let Err(r) = throttle(&s, "sign_in", Kind::SignIn, ip, &req.login_id, l) {
        return r;
    }
    let r = run(&s, move |e| {
        let password = Secret::new(req.password);
        let v = match req.address.as_deref() {
            Some(a) => e.verify_with_address(&req.login_id, a, Channel::Web, &password, Some(ip)),
            None => e.verify_from(
                &req.login_id,
                CredentialKind::Login,
                Channel::Web,
                &password,
                Some(ip),
            ),
        }?;
        // The code's mail is queued with the sign-in (the worker sends it); a server without
        // mail refuses with `mail.unavailable` rather than ask for a code nobody sends.
        let (u, t) = e.user_and_tenant(&v.login_id)?;
        Ok((v, u, t))
    })
    .await;
    count(&s, "sign_in", &r);
    let (v, u, t) = match r {
        Ok(x) => x,
        Err(e) => return ApiError::new(e, l).into_response(),
    };
    let now = s.engine.now();
    let owed = must_change(&u, &t, now);
    let stage = if v.second_factor.is_some() {
        Stage::Code
    } else if owed.is_empty() {
        Stage::Full
    } else {
        Stage::Change
    };
    new_session(&s, &u, &t, stage, owed, started, l).await
}

/// A new session of `u` counted from `since` (see `sessions::still_valid`).
pub(super) async fn new_session(
    s: &AppState,
    u: &kagiya_core::directory::User,
    t: &kagiya_core::directory::Tenant,
    stage: Stage,
    owed: Vec<CredentialKind>,
    since: kagiya_core::Millis,
    l: Lang,
) -> Response {
    match sessions::create(&s.pool, u, stage, since, &s.session).await {
        Ok((token, expires_at)) => Json(SignedIn {
            token,
            stage,
            must_change: kinds(&owed),
            otp_address_required: otp_address_required(u, t),
            expires_at,
        })
        .into_response(),
        Err(e) => ApiError::new(e, l).into_response(),
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
    let l = lang(&headers);
    let (sess, u) = match session_attempt(
        &s,
        &headers,
        ip,
        &[Stage::Code],
        "sign_in_code",
        Kind::SignIn,
    )
    .await
    {
        Ok(x) => x,
        Err(r) => return r,
    };
    let login_id = u.login_id.clone();
    let started = s.engine.now();
    let r = run(&s, move |e| {
        e.verify_code(&login_id, &Secret::new(req.code), Channel::Web, Some(ip))?;
        e.user_and_tenant(&login_id)
    })
    .await;
    count(&s, "sign_in_code", &r);
    let (u, t) = match r {
        Ok(x) => x,
        Err(e) => return ApiError::new(e, l).into_response(),
    };
    // The session's rights grow: a new token (the one that waited for the code ends).
    if let Err(e) = sessions::revoke(&s.pool, &sess.token_hash, s.engine.now()).await {
        return ApiError::new(e, l).into_response();
    }
    let owed = must_change(&u, &t, s.engine.now());
    let stage = if owed.is_empty() {
        Stage::Full
    } else {
        Stage::Change
    };
    new_session(&s, &u, &t, stage, owed, started, l).await
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
    let l = lang(&headers);
    let stages = [Stage::Change, Stage::Full];
    let (_, u) =
        match session_attempt(&s, &headers, ip, &stages, "change_passwords", Kind::Account).await {
            Ok(x) => x,
            Err(r) => return r,
        };
    let login_id = u.login_id.clone();
    let pair = |p: Option<PasswordPair>| p.map(|p| (Secret::new(p.current), Secret::new(p.new)));
    let change = ChangeOwn {
        login: pair(req.login),
        confirmation: pair(req.confirmation),
    };
    let r = run(&s, move |e| {
        e.change_own_passwords(&login_id, change)?;
        e.user_and_tenant(&login_id)
    })
    .await;
    count(&s, "change_passwords", &r);
    let (u, t) = match r {
        Ok(x) => x,
        Err(e) => return ApiError::new(e, l).into_response(),
    };
    let now = s.engine.now();
    if let Err(e) = sessions::revoke_all(&s.pool, &u.login_id, now).await {
        return ApiError::new(e, l).into_response();
    }
    let owed = must_change(&u, &t, now);
    let stage = if owed.is_empty() {
        Stage::Full
    } else {
        Stage::Change
    };
    // Counted from the newest password as read back after the change (the user's own).
    let since = t
        .credentials()
        .iter()
        .map(|k| u.credential(*k).set_at)
        .max()
        .unwrap_or(now);
    new_session(&s, &u, &t, stage, owed, since, l).await
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
    let (_, u) =
        match session_attempt(&s, &headers, ip, &[Stage::Full], "confirm", Kind::Account).await {
            Ok(x) => x,
            Err(r) => return r,
        };
    let who = kagiya_engine::ActorRef::User(u.login_id.clone());
    let r = run(&s, move |e| {
        e.confirm(&who, &Secret::new(req.confirmation), "transaction")
            .map(|_| ())
    })
    .await;
    count(&s, "confirm", &r);
    match r {
        Ok(()) => Json(Confirmed { confirmed: true }).into_response(),
        Err(e) => ApiError::new(e, l).into_response(),
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
    let start = std::time::Instant::now();
    let l = lang(&headers);
    if let Err(r) = throttle(&s, "api", Kind::Api, ip, &req.login_id, l) {
        return r;
    }
    let r = run(&s, move |e| {
        e.verify_from(
            &req.login_id,
            CredentialKind::Login,
            Channel::Api,
            &Secret::new(req.password),
            Some(ip),
        )
    })
    .await;
    count(&s, "api", &r);
    let res = match r {
        Ok(v) => Json(Authenticated {
            login_id: v.login_id,
            authenticated: true,
            must_change: v.must_change || v.expired,
        })
        .into_response(),
        Err(e) => ApiError::new(e, l).into_response(),
    };
    pad(start, res).await
}
