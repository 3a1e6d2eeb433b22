//! The versioned JSON API (`/v1/…`): the customers' users sign in, answer their one-time code,
//! change the passwords they must change, confirm transactions and sign out; the API channel of
//! seed 000 checks a password per request; the customers' masters and admins manage their users
//! (seed 004 §2.2/§2.3). Every decision is the engine's; this layer reads the request, picks the
//! source address, throttles, runs the engine on a blocking thread and writes `{code, message}`
//! in the client's language.

// A handler's early answer is an axum `Response` (as axum's own extractors reject): returned once
// per request, its size does not matter.
#![allow(clippy::result_large_err)]

pub mod admin;
pub mod auth;
pub mod mail;
pub mod sync;

use std::net::{IpAddr, SocketAddr};

use axum::extract::rejection::JsonRejection;
use axum::extract::{ConnectInfo, FromRequest, FromRequestParts, Request};
use axum::http::request::Parts;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use kagiya_core::directory::{Tenant, User};
use kagiya_core::{Error, ErrorKind, Lang};
use serde_json::json;

use crate::flows::Refusal;
use crate::http::AppState;
use crate::sessions::{Session, Stage};

/// The client's language: Japanese when `Accept-Language` puts it first among ja/en, else English.
pub fn lang(headers: &HeaderMap) -> Lang {
    accepted(headers).unwrap_or(Lang::En)
}

/// The first of Japanese and English in `Accept-Language`, if it names either.
pub fn accepted(headers: &HeaderMap) -> Option<Lang> {
    let accept = headers
        .get(axum::http::header::ACCEPT_LANGUAGE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    accept.split(',').find_map(|part| {
        let tag = part
            .split(';')
            .next()
            .unwrap_or("")
            .trim()
            .to_ascii_lowercase();
        if tag.starts_with("ja") {
            Some(Lang::Ja)
        } else if tag.starts_with("en") {
            Some(Lang::En)
        } else {
            None
        }
    })
}

/// An error as the API answers it: the engine's stable code and its message in the client's
/// language, with the HTTP status its kind calls for. Internal details are logged, not sent.
pub struct ApiError {
    pub error: Error,
    pub lang: Lang,
    /// Seconds to wait (a throttled attempt).
    pub retry_after: Option<u64>,
}

impl ApiError {
    pub fn new(error: Error, lang: Lang) -> ApiError {
        ApiError {
            error,
            lang,
            retry_after: None,
        }
    }
}

/// The status each kind of error gets.
pub fn status(kind: ErrorKind) -> StatusCode {
    match kind {
        ErrorKind::WrongPassword => StatusCode::UNAUTHORIZED,
        ErrorKind::Locked => StatusCode::LOCKED,
        ErrorKind::NotPermitted => StatusCode::FORBIDDEN,
        ErrorKind::NotFound => StatusCode::NOT_FOUND,
        ErrorKind::Invalid => StatusCode::UNPROCESSABLE_ENTITY,
        ErrorKind::Conflict => StatusCode::CONFLICT,
        ErrorKind::Unavailable => StatusCode::SERVICE_UNAVAILABLE,
        ErrorKind::AuditBroken | ErrorKind::Internal => StatusCode::INTERNAL_SERVER_ERROR,
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let kind = self.error.kind();
        if matches!(
            kind,
            ErrorKind::Internal | ErrorKind::AuditBroken | ErrorKind::Unavailable
        ) {
            tracing::error!(code = self.error.code(), error = %self.error, "request failed");
        }
        let body = Json(json!({
            "code": self.error.code(),
            "message": self.error.message(self.lang),
        }));
        let mut res = (status(kind), body).into_response();
        if let Some(secs) = self.retry_after {
            if let Ok(v) = secs.to_string().parse() {
                res.headers_mut().insert(axum::http::header::RETRY_AFTER, v);
            }
        }
        res
    }
}

/// `{code, message}` for answers that are not the engine's (throttling, a body that could not
/// be read, no session).
pub fn plain(status: StatusCode, code: &str, lang: Lang, ja: &str, en: &str) -> Response {
    (
        status,
        Json(json!({ "code": code, "message": lang.pick(ja, en) })),
    )
        .into_response()
}

/// A JSON body whose rejection (malformed, wrong type, too large, not JSON) is answered as
/// `{code, message}` like every other error, never as axum's plain text.
pub struct Body<T>(pub T);

impl<S, T> FromRequest<S> for Body<T>
where
    T: serde::de::DeserializeOwned,
    S: Send + Sync,
{
    type Rejection = Response;

    async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
        let l = lang(req.headers());
        match Json::<T>::from_request(req, state).await {
            Ok(Json(v)) => Ok(Body(v)),
            Err(e) => Err(body_rejection(&e, l)),
        }
    }
}

fn body_rejection(e: &JsonRejection, l: Lang) -> Response {
    let status = e.status();
    match e {
        JsonRejection::MissingJsonContentType(_) => plain(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "input.not_json",
            l,
            "本文は JSON（Content-Type: application/json）で送ってください。",
            "Send the body as JSON (Content-Type: application/json).",
        ),
        _ if status == StatusCode::PAYLOAD_TOO_LARGE => plain(
            status,
            "input.too_large",
            l,
            "本文が大きすぎます。",
            "The body is too large.",
        ),
        JsonRejection::JsonDataError(_) => plain(
            StatusCode::UNPROCESSABLE_ENTITY,
            "input.invalid_fields",
            l,
            "本文の項目が足りないか、形式が違います。",
            "The body lacks a field or a field has the wrong form.",
        ),
        _ => plain(
            StatusCode::BAD_REQUEST,
            "input.malformed",
            l,
            "本文を JSON として読めません。",
            "The body is not readable JSON.",
        ),
    }
}

/// Where a request comes from (see `source`), as an extractor.
pub struct Source(pub IpAddr);

impl FromRequestParts<AppState> for Source {
    type Rejection = Response;

    async fn from_request_parts(parts: &mut Parts, s: &AppState) -> Result<Self, Self::Rejection> {
        // The binary serves with `tls::Peer` (plain or TLS); a router served on a bare TcpListener
        // with `SocketAddr` (the tests) works the same.
        let peer = parts
            .extensions
            .get::<ConnectInfo<crate::tls::Peer>>()
            .map(|c| c.0 .0.ip())
            .or_else(|| {
                parts
                    .extensions
                    .get::<ConnectInfo<SocketAddr>>()
                    .map(|c| c.0.ip())
            })
            .unwrap_or(IpAddr::from([127, 0, 0, 1]));
        crate::source::client_address(peer, &parts.headers, &s.trusted_proxies)
            .map(Source)
            .ok_or_else(|| {
                plain(
                    StatusCode::BAD_REQUEST,
                    "input.forwarded_for",
                    lang(&parts.headers),
                    "プロキシから届いた送信元アドレスを読めません。",
                    "The source address forwarded by the proxy cannot be read.",
                )
            })
    }
}

pub use crate::flows::{count, must_change, otp_address_required, run};

/// The token of `Authorization: Bearer …`, if the request carries one.
pub fn bearer(headers: &HeaderMap) -> Option<&str> {
    headers
        .get(axum::http::header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
}

/// A refused step as the API answers it.
pub fn refused(r: Refusal, l: Lang) -> Response {
    match r {
        Refusal::Engine(e) => ApiError::new(e, l).into_response(),
        Refusal::Throttled(wait) => throttled(l, wait),
        Refusal::NoSession => plain(
            StatusCode::UNAUTHORIZED,
            "auth.no_session",
            l,
            "ログインしていないか、ログインの有効期限が切れました。もう一度ログインしてください。",
            "You are not signed in, or your sign-in has ended. Please sign in again.",
        ),
        Refusal::AddressRefused => plain(
            StatusCode::FORBIDDEN,
            "auth.address_refused",
            l,
            "この接続元からはご利用になれません（お客さまのIPアドレス制限）。",
            "This service cannot be used from this address (your company's IP access rules).",
        ),
        Refusal::WrongStep(_) => plain(
            StatusCode::FORBIDDEN,
            "auth.step_required",
            l,
            "先にワンタイムパスワードの入力、またはパスワードの変更を済ませてください。",
            "First enter the one-time password or change your password, as asked.",
        ),
    }
}

/// The session a request carries (`Authorization: Bearer …`) with its user, when it is live and
/// at one of `stages` (see `flows::session`).
pub async fn session(
    s: &AppState,
    headers: &HeaderMap,
    ip: Option<IpAddr>,
    stages: &[Stage],
) -> Result<(Session, User, Tenant), Response> {
    crate::flows::session(s, bearer(headers), ip, stages)
        .await
        .map_err(|r| refused(r, lang(headers)))
}

/// A throttled attempt: nothing was checked or counted.
pub fn throttled(l: Lang, wait: std::time::Duration) -> Response {
    let mut res = plain(
        StatusCode::TOO_MANY_REQUESTS,
        "auth.throttled",
        l,
        "試行が多すぎます。しばらくしてからもう一度お試しください。",
        "Too many attempts. Please wait a moment and try again.",
    );
    let secs = wait.as_secs().max(1).to_string();
    if let Ok(v) = secs.parse() {
        res.headers_mut().insert(axum::http::header::RETRY_AFTER, v);
    }
    res
}
