//! What the mails' links and codes lead to: the password reset (seed 000: the login ID and a
//! registered address; the link sets the new password), an added address's own password through
//! its setup link and an address change confirmed from the old address (seed 002), and the
//! sign-in code sent again (seeds 002/003).
//!
//! A link carries only its token. The token's SHA-256 finds the outbox row it was mailed in (the
//! user and the address); whether it is still good — unused, in time, tries left — the engine
//! decides against its argon2id hash, and using it ends it.

use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use kagiya_core::mail::MailKind;
use kagiya_core::secret::Secret;
use kagiya_core::Error;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::{count, lang, run, ApiError, Body, Source};
use crate::http::AppState;
use crate::sessions::Stage;
use crate::throttle::Kind;

/// Seed 000's request: 「ユーザID、登録されているメールアドレスを入力」.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ResetRequest {
    pub login_id: String,
    /// A registered address of the user (the mail goes there).
    pub address: String,
}

/// The same answer whatever the ID and address were.
#[derive(Serialize, ToSchema)]
pub struct Accepted {
    pub accepted: bool,
    pub message: String,
}

/// A link's token and the new password it sets.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct TokenPassword {
    pub token: String,
    pub password: String,
}

/// A link's token.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Token {
    pub token: String,
}

#[derive(Serialize, ToSchema)]
pub struct Done {
    pub done: bool,
}

/// Every reset request is answered after this many milliseconds, whatever it found (ours: long
/// enough to look like work; the work itself goes on apart from the answer).
pub const RESET_FLOOR_MS: u64 = 400;

/// Asks for a password reset link (seed 000). The answer is the same whether or not the ID and
/// address match, at the same time.
#[utoipa::path(post, path = "/v1/password-reset", request_body = ResetRequest, tag = "mail",
    responses(
        (status = 202, description = "Accepted: if the ID and address match, a mail is on its way", body = Accepted),
        (status = 429, description = "auth.throttled", body = super::auth::Problem),
        (status = 503, description = "mail.unavailable", body = super::auth::Problem),
    ))]
pub async fn request_reset(
    State(s): State<AppState>,
    Source(ip): Source,
    headers: HeaderMap,
    Body(req): Body<ResetRequest>,
) -> Response {
    let start = std::time::Instant::now();
    let l = lang(&headers);
    if let Err(wait) = s.throttle.attempt(Kind::SignIn, ip, &req.login_id) {
        return super::throttled(l, wait);
    }
    // Without mail nobody gets a link: said to everyone alike, before anything is looked up.
    if s.mailer.is_none() {
        return ApiError::new(Error::MailUnavailable, l).into_response();
    }
    // The work goes on by itself; the answer waits only for the floor, so its time cannot tell
    // whether the ID and address matched (a match writes, and may wait on the customer's lock).
    let work = s.clone();
    tokio::spawn(async move {
        let r = run(&work, move |e| {
            e.request_password_reset(&req.login_id, &req.address, Some(ip), Some(l))
        })
        .await;
        count(&work, "password_reset", &r);
        match r {
            Ok(asked) => tracing::info!(outcome = ?asked, "password reset asked"),
            Err(e) => tracing::error!(error = %e, "password reset request not recorded"),
        }
    });
    let floor = std::time::Duration::from_millis(RESET_FLOOR_MS);
    tokio::time::sleep(floor.saturating_sub(start.elapsed())).await;
    (
        StatusCode::ACCEPTED,
        Json(Accepted {
            accepted: true,
            message: l
                .pick(
                    "ユーザIDとメールアドレスが登録内容と一致した場合、そのメールアドレスにパスワード変更案内メールを送信しました。メールが届かない場合は、入力内容をご確認のうえ、改めてお手続きください。",
                    "If the login ID and address match what is registered, a mail with a reset link has been sent to that address. If none arrives, check what you entered and try again.",
                )
                .to_owned(),
        }),
    )
        .into_response()
}

/// The user and address a link was mailed to, by the SHA-256 of its token.
async fn link_owner(s: &AppState, kind: MailKind, token: &str) -> Result<(String, String), Error> {
    let digest = crate::mail::outbox::link_digest(&Secret::new(token.trim()));
    let client = s
        .pool
        .get()
        .await
        .map_err(|e| Error::DatabaseUnavailable(e.to_string()))?;
    let row = client
        .query_opt(
            "SELECT login_id, recipient FROM mail_outbox WHERE link_sha256 = $1 AND kind = $2",
            &[&digest, &kind.code()],
        )
        .await
        .map_err(|e| Error::Storage(crate::db::message(e)))?;
    row.map(|r| (r.get(0), r.get(1)))
        .ok_or(Error::OneTimeRefused)
}

/// Runs `f` with the link's user and address; an unknown token costs the argon2id time a known
/// one does.
async fn with_link<T: Send + 'static>(
    s: &AppState,
    kind: MailKind,
    token: String,
    f: impl FnOnce(&kagiya_engine::Engine, &str, &str, &Secret) -> Result<T, Error> + Send + 'static,
) -> Result<T, Error> {
    let owner = link_owner(s, kind, &token).await;
    run(s, move |e| {
        let token = Secret::new(token.trim());
        match owner {
            Ok((login_id, address)) => f(e, &login_id, &address, &token),
            Err(err) => {
                e.waste_time(&token);
                Err(err)
            }
        }
    })
    .await
}

/// Sets a new login password through the reset link (seed 000: 「以前のパスワードは無効となります」).
/// Every session of the user ends; they sign in with the new password.
#[utoipa::path(post, path = "/v1/password-reset/complete", request_body = TokenPassword, tag = "mail",
    responses(
        (status = 200, body = Done),
        (status = 401, description = "auth.one_time_refused — the link is wrong, used or expired", body = super::auth::Problem),
        (status = 422, description = "The new password breaks the policy; the link still works", body = super::auth::Problem),
        (status = 423, description = "auth.reset_unavailable — the account is locked", body = super::auth::Problem),
    ))]
pub async fn complete_reset(
    State(s): State<AppState>,
    Source(ip): Source,
    headers: HeaderMap,
    Body(req): Body<TokenPassword>,
) -> Response {
    let l = lang(&headers);
    if let Err(wait) = s.throttle.attempt_source(Kind::SignIn, ip) {
        return super::throttled(l, wait);
    }
    let password = Secret::new(req.password);
    let r = with_link(
        &s,
        MailKind::PasswordReset,
        req.token,
        move |e, login_id, address, token| {
            e.reset_password(login_id, address, token, &password)
                .map(|()| login_id.to_owned())
        },
    )
    .await;
    count(&s, "password_reset_complete", &r);
    match r {
        Ok(login_id) => {
            if let Err(e) = crate::sessions::revoke_all(&s.pool, &login_id, s.engine.now()).await {
                return ApiError::new(e, l).into_response();
            }
            Json(Done { done: true }).into_response()
        }
        Err(e) => ApiError::new(e, l).into_response(),
    }
}

/// Sets an added address's own password through its setup link (seed 002: 「メール本文に記載の
/// URLから、新しくパスワードを設定してください」).
#[utoipa::path(post, path = "/v1/address-setup/complete", request_body = TokenPassword, tag = "mail",
    responses(
        (status = 200, body = Done),
        (status = 401, description = "auth.one_time_refused", body = super::auth::Problem),
        (status = 422, description = "The password breaks the policy; the link still works", body = super::auth::Problem),
    ))]
pub async fn complete_address_setup(
    State(s): State<AppState>,
    Source(ip): Source,
    headers: HeaderMap,
    Body(req): Body<TokenPassword>,
) -> Response {
    let l = lang(&headers);
    if let Err(wait) = s.throttle.attempt_source(Kind::SignIn, ip) {
        return super::throttled(l, wait);
    }
    let password = Secret::new(req.password);
    let r = with_link(
        &s,
        MailKind::AddressSetup,
        req.token,
        move |e, login_id, address, token| {
            e.set_address_password(login_id, address, token, &password)
        },
    )
    .await;
    count(&s, "address_setup", &r);
    match r {
        Ok(()) => Json(Done { done: true }).into_response(),
        Err(e) => ApiError::new(e, l).into_response(),
    }
}

/// Confirms an address change through the link mailed to the old address (seed 002: 「変更前の
/// メールアドレスに、「メールアドレス変更依頼受付」が届くため、本文記載のURLから手続きを行って下さい」).
#[utoipa::path(post, path = "/v1/address-change/confirm", request_body = Token, tag = "mail",
    responses(
        (status = 200, body = Done),
        (status = 401, description = "auth.one_time_refused", body = super::auth::Problem),
    ))]
pub async fn confirm_address_change(
    State(s): State<AppState>,
    Source(ip): Source,
    headers: HeaderMap,
    Body(req): Body<Token>,
) -> Response {
    let l = lang(&headers);
    if let Err(wait) = s.throttle.attempt_source(Kind::SignIn, ip) {
        return super::throttled(l, wait);
    }
    let r = with_link(
        &s,
        MailKind::AddressChange,
        req.token,
        |e, login_id, address, token| e.confirm_address_change_by_link(login_id, address, token),
    )
    .await;
    count(&s, "address_change", &r);
    match r {
        Ok(()) => Json(Done { done: true }).into_response(),
        Err(e) => ApiError::new(e, l).into_response(),
    }
}

/// Sends the sign-in code again: a new code to the same address; the tries already spent stay
/// spent.
#[utoipa::path(post, path = "/v1/sign-in/code/resend", tag = "sign-in", security(("session" = [])),
    responses(
        (status = 202, body = Done),
        (status = 401, description = "auth.one_time_refused — no code is waiting: sign in again", body = super::auth::Problem),
        (status = 429, description = "auth.throttled", body = super::auth::Problem),
    ))]
pub async fn resend_code(
    State(s): State<AppState>,
    Source(ip): Source,
    headers: HeaderMap,
) -> Response {
    let l = lang(&headers);
    let (_, u) = match super::auth::session_attempt(
        &s,
        &headers,
        ip,
        &[Stage::Code],
        "sign_in_code_resend",
        Kind::SignIn,
    )
    .await
    {
        Ok(x) => x,
        Err(r) => return r,
    };
    let login_id = u.login_id.clone();
    let r = run(&s, move |e| e.resend_sign_in_code(&login_id, Some(l))).await;
    count(&s, "sign_in_code_resend", &r);
    match r {
        Ok(()) => (StatusCode::ACCEPTED, Json(Done { done: true })).into_response(),
        Err(e) => ApiError::new(e, l).into_response(),
    }
}

/// The address for one-time passwords, confirmed with the user's own password (the confirmation
/// password where the service has one, the login password again where it has only that).
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct OtpAddress {
    pub address: String,
    pub password: String,
}

/// The code mailed to that address.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct OtpAddressCode {
    pub address: String,
    pub code: String,
}

/// Registers the user's one-time-password address (seed 003: 「初回ログイン時に、多要素認証用
/// (ワンタイムパスワード)メールアドレスの登録が求められます」; seed 002: 多要素認証を「利用する」): the
/// address is added if it is not one of the user's yet, and a code is mailed to it; 2FA is on
/// only once that code comes back (`/v1/me/otp-address/confirm`).
#[utoipa::path(post, path = "/v1/me/otp-address", request_body = OtpAddress, tag = "session",
    security(("session" = [])),
    responses(
        (status = 202, description = "A code is on its way to the address", body = Done),
        (status = 401, description = "auth.confirmation_failed", body = super::auth::Problem),
        (status = 409, description = "mfa.refused — 2FA is on already", body = super::auth::Problem),
        (status = 422, description = "email.refused — the address cannot be used", body = super::auth::Problem),
        (status = 423, description = "The password is locked", body = super::auth::Problem),
        (status = 503, description = "mail.unavailable", body = super::auth::Problem),
    ))]
pub async fn register_otp_address(
    State(s): State<AppState>,
    Source(ip): Source,
    headers: HeaderMap,
    Body(req): Body<OtpAddress>,
) -> Response {
    let l = lang(&headers);
    let (_, u) = match super::auth::session_attempt(
        &s,
        &headers,
        ip,
        &[Stage::Change, Stage::Full],
        "otp_address",
        Kind::Account,
    )
    .await
    {
        Ok(x) => x,
        Err(r) => return r,
    };
    let login_id = u.login_id.clone();
    let r = run(&s, move |e| {
        use kagiya_core::directory::Purpose;
        let me = kagiya_engine::ActorRef::User(login_id.clone());
        let password = Secret::new(req.password);
        let known = e
            .read(|r| r.addresses(&login_id))?
            .iter()
            .any(|a| a.address.eq_ignore_ascii_case(req.address.trim()));
        if !known {
            e.add_address(&me, &password, &login_id, &req.address, &[Purpose::Otp])?;
        }
        e.start_mfa_enrollment(&me, &password, &login_id, req.address.trim())
            .map(|_| ())
    })
    .await;
    count(&s, "otp_address", &r);
    match r {
        Ok(()) => (StatusCode::ACCEPTED, Json(Done { done: true })).into_response(),
        Err(e) => ApiError::new(e, l).into_response(),
    }
}

/// Answers the code mailed to the new one-time-password address: 2FA is on from now, every
/// session of the user ends, and a new one is returned.
#[utoipa::path(post, path = "/v1/me/otp-address/confirm", request_body = OtpAddressCode, tag = "session",
    security(("session" = [])),
    responses(
        (status = 200, description = "2FA is on; a new session", body = super::auth::SignedIn),
        (status = 401, description = "auth.one_time_refused", body = super::auth::Problem),
    ))]
pub async fn confirm_otp_address(
    State(s): State<AppState>,
    Source(ip): Source,
    headers: HeaderMap,
    Body(req): Body<OtpAddressCode>,
) -> Response {
    let l = lang(&headers);
    let (sess, u) = match super::auth::session_attempt(
        &s,
        &headers,
        ip,
        &[Stage::Change, Stage::Full],
        "otp_address_confirm",
        Kind::Account,
    )
    .await
    {
        Ok(x) => x,
        Err(r) => return r,
    };
    let login_id = u.login_id.clone();
    let r = run(&s, move |e| {
        e.confirm_mfa_enrollment(&login_id, &req.address, &Secret::new(req.code))?;
        e.user_and_tenant(&login_id)
    })
    .await;
    count(&s, "otp_address_confirm", &r);
    let (u, t) = match r {
        Ok(x) => x,
        Err(e) => return ApiError::new(e, l).into_response(),
    };
    let now = s.engine.now();
    if let Err(e) = crate::sessions::revoke_all(&s.pool, &u.login_id, now).await {
        return ApiError::new(e, l).into_response();
    }
    let owed = super::must_change(&u, &t, now);
    let stage = if owed.is_empty() {
        Stage::Full
    } else {
        Stage::Change
    };
    super::auth::new_session(&s, &u, &t, stage, owed, sess.created_ms, l).await
}
