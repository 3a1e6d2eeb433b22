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
use kagiya_core::secret::Secret;
use kagiya_core::Lang;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::{bearer, lang, refused, Body, Source};
use crate::flows::{self, Refusal};
use crate::http::AppState;

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
    if let Err(r) = flows::request_reset(&s, ip, req.login_id, req.address, l) {
        return refused(r, l);
    }
    let floor = std::time::Duration::from_millis(flows::RESET_FLOOR_MS);
    tokio::time::sleep(floor.saturating_sub(start.elapsed())).await;
    (
        StatusCode::ACCEPTED,
        Json(Accepted {
            accepted: true,
            message: reset_asked(l).to_owned(),
        }),
    )
        .into_response()
}

/// The one answer to every reset request.
pub fn reset_asked(l: Lang) -> &'static str {
    l.pick(
        "ユーザIDとメールアドレスが登録内容と一致した場合、そのメールアドレスにパスワード変更案内メールを送信しました。メールが届かない場合は、入力内容をご確認のうえ、改めてお手続きください。",
        "If the login ID and address match what is registered, a mail with a reset link has been sent to that address. If none arrives, check what you entered and try again.",
    )
}

/// Answers a step that leaves nothing but "done".
fn done(r: Result<(), Refusal>, l: Lang, status: StatusCode) -> Response {
    match r {
        Ok(()) => (status, Json(Done { done: true })).into_response(),
        Err(r) => refused(r, l),
    }
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
    let r = flows::complete_reset(&s, ip, req.token, Secret::new(req.password)).await;
    done(r, lang(&headers), StatusCode::OK)
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
    let r = flows::complete_address_setup(&s, ip, req.token, Secret::new(req.password)).await;
    done(r, lang(&headers), StatusCode::OK)
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
    let r = flows::confirm_address_change(&s, ip, req.token).await;
    done(r, lang(&headers), StatusCode::OK)
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
    let r = flows::resend_code(&s, ip, bearer(&headers), l).await;
    done(r, l, StatusCode::ACCEPTED)
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
    let token = bearer(&headers);
    let password = Secret::new(req.password);
    let r = flows::register_otp_address(&s, ip, token, req.address, password).await;
    done(r, lang(&headers), StatusCode::ACCEPTED)
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
    let token = bearer(&headers);
    let r = flows::confirm_otp_address(&s, ip, token, req.address, Secret::new(req.code)).await;
    super::auth::signed_in(r, lang(&headers))
}
