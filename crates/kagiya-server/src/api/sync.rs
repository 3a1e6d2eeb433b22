//! The sync API for branch PCs (issue 14, docs/sync.md): enrolment with a one-time code, then
//! pushes of signed ops and pulls of the branch's customers' chains. Every push and pull is
//! signed by the device key (`kagiya_sync::op::request_message`: method, path, time, body hash),
//! taken only within five minutes of the server's time and only from a device that is not
//! revoked. Answers are `{code, message}` in the client's language like the rest of the API.

use std::collections::BTreeMap;
use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use kagiya_core::{Lang, Millis, MINUTE};
use kagiya_engine::Clock;
use kagiya_sync::op::{
    request_message, verify_signature, DEVICE_HEADER, SIGNATURE_HEADER, TIME_HEADER,
};
use kagiya_sync::wire::{PullAnswer, PullRequest, PushAnswer, PushRequest};
use serde::Deserialize;
use serde_json::json;
use utoipa::ToSchema;

use super::{lang, plain, Body, Source};
use crate::devices::{self, EnrolRefused};
use crate::http::AppState;
use crate::store::sync::PushRefused;
use crate::throttle::Kind;

/// How far a device's clock may be from the server's (ours: a PC whose clock is off by more is
/// told so, rather than letting an old signed request be replayed for long).
pub const CLOCK_SKEW: Millis = 5 * MINUTE;

/// The most entries one pull returns (ours: about 2 MB of JSON; the branch pulls again while
/// `more` is true).
pub const PULL_LIMIT: i64 = 5_000;

/// The largest sync body (ours: 500 ops with password hashes and certificates stay well under).
pub const MAX_SYNC_BODY: usize = 8 * 1024 * 1024;

#[derive(Deserialize, ToSchema)]
pub struct EnrolRequest {
    /// The one-time code the server's operator issued (dashes and case do not matter).
    pub code: String,
    /// The device's ed25519 public key, base64.
    pub public_key: String,
    /// The signature of the code (upper case, without dashes) by that key, base64.
    pub signature: String,
}

#[utoipa::path(post, path = "/v1/sync/enroll", request_body = EnrolRequest, tag = "sync",
    responses(
        (status = 200, description = "The device is bound to its branch: {device_id, branch, customers}", body = Object),
        (status = 401, description = "sync.code_refused — wrong, used or expired: the same answer", body = super::auth::Problem),
        (status = 409, description = "sync.key_taken", body = super::auth::Problem),
        (status = 422, description = "sync.key_invalid", body = super::auth::Problem),
    ))]
pub async fn enroll(
    State(s): State<AppState>,
    Source(ip): Source,
    headers: HeaderMap,
    Body(req): Body<EnrolRequest>,
) -> Response {
    let l = lang(&headers);
    // Codes are guessed no faster than passwords.
    if let Err(wait) = s.throttle.attempt(Kind::SignIn, ip, "") {
        return super::throttled(l, wait);
    }
    let now = kagiya_engine::SystemClock.now();
    match devices::enroll(&s.pool, &req.code, &req.public_key, &req.signature, now).await {
        Ok(Ok(d)) => {
            tracing::info!(device = %d.device_id, branch = %d.branch, "device enrolled");
            Json(d).into_response()
        }
        Ok(Err(EnrolRefused::Code)) => plain(
            StatusCode::UNAUTHORIZED,
            "sync.code_refused",
            l,
            "登録コードが違うか、使用済みか、期限切れです。",
            "The enrolment code is wrong, used or expired.",
        ),
        Ok(Err(EnrolRefused::Key)) => plain(
            StatusCode::UNPROCESSABLE_ENTITY,
            "sync.key_invalid",
            l,
            "端末の鍵または署名が正しくありません。",
            "The device key or its signature is not valid.",
        ),
        Ok(Err(EnrolRefused::KeyTaken)) => plain(
            StatusCode::CONFLICT,
            "sync.key_taken",
            l,
            "この端末の鍵はすでに登録されています。",
            "This device key is enrolled already.",
        ),
        Err(e) => unavailable(l, &e),
    }
}

fn unavailable(l: Lang, e: &str) -> Response {
    tracing::error!(error = %e, "sync request failed");
    plain(
        StatusCode::SERVICE_UNAVAILABLE,
        "db.unavailable",
        l,
        "データベースに接続できません。しばらくしてからもう一度お試しください。",
        "The database is not reachable. Try again shortly.",
    )
}

/// The device a signed request comes from, with its branch; or the answer refusing it.
async fn device(
    s: &AppState,
    headers: &HeaderMap,
    path: &str,
    body: &[u8],
) -> Result<(String, String), Response> {
    let l = lang(headers);
    let refused = || {
        plain(
            StatusCode::UNAUTHORIZED,
            "sync.device_refused",
            l,
            "この端末は同期できません（未登録、登録の取り消し、または署名の誤り）。",
            "This device may not sync (not enrolled, revoked, or a wrong signature).",
        )
    };
    let header = |name: &str| headers.get(name).and_then(|v| v.to_str().ok());
    let (Some(id), Some(time), Some(sig)) = (
        header(DEVICE_HEADER),
        header(TIME_HEADER).and_then(|t| t.parse::<Millis>().ok()),
        header(SIGNATURE_HEADER),
    ) else {
        return Err(refused());
    };
    let now = kagiya_engine::SystemClock.now();
    if now.abs_diff(time) > CLOCK_SKEW.unsigned_abs() {
        return Err(plain(
            StatusCode::UNAUTHORIZED,
            "sync.clock_skew",
            l,
            "端末の時計がサーバと5分以上ずれています。時計を合わせてください。",
            "The device's clock is more than five minutes off the server's. Set the clock.",
        ));
    }
    if id.len() > 64 {
        return Err(refused());
    }
    let (public, branch) = match devices::active(&s.pool, id).await {
        Ok(Some(d)) => d,
        Ok(None) => return Err(refused()),
        Err(e) => return Err(unavailable(l, &e)),
    };
    if !verify_signature(&public, &request_message("POST", path, time, body), sig) {
        return Err(refused());
    }
    Ok((id.to_owned(), branch))
}

fn body_of<T: serde::de::DeserializeOwned>(body: &[u8], l: Lang) -> Result<T, Response> {
    serde_json::from_slice(body).map_err(|_| {
        plain(
            StatusCode::UNPROCESSABLE_ENTITY,
            "input.invalid_fields",
            l,
            "本文の項目が足りないか、形式が違います。",
            "The body lacks a field or a field has the wrong form.",
        )
    })
}

/// The push body as documented (the ops are the branch's signed ops, `kagiya_sync::Op`).
#[derive(ToSchema)]
#[allow(dead_code)]
pub struct PushDoc {
    /// In device order, gap-free, at most 500.
    #[schema(value_type = Vec<Object>)]
    ops: Vec<serde_json::Value>,
    /// The branch's audit head: `{seq, hash}`.
    #[schema(value_type = Option<Object>)]
    anchor: Option<serde_json::Value>,
}

/// The push answer as documented.
#[derive(ToSchema)]
#[allow(dead_code)]
pub struct PushAnswerDoc {
    /// One per op, in order: `applied`, `superseded`, `rejected` or `quarantined`, with the
    /// reason and the chain sequence it was recorded at.
    #[schema(value_type = Vec<Object>)]
    outcomes: Vec<serde_json::Value>,
}

#[utoipa::path(post, path = "/v1/sync/push", request_body = PushDoc, tag = "sync",
    security(("device" = [])),
    responses(
        (status = 200, body = PushAnswerDoc),
        (status = 401, description = "sync.device_refused or sync.clock_skew", body = super::auth::Problem),
        (status = 409, description = "sync.gap — send again from `expected`", body = super::auth::Problem),
        (status = 422, description = "sync.op_forged or a malformed batch", body = super::auth::Problem),
    ))]
pub async fn push(State(s): State<AppState>, headers: HeaderMap, body: Bytes) -> Response {
    let l = lang(&headers);
    let (device_id, _) = match device(&s, &headers, "/v1/sync/push", &body).await {
        Ok(d) => d,
        Err(r) => return r,
    };
    let req: PushRequest = match body_of(&body, l) {
        Ok(r) => r,
        Err(r) => return r,
    };
    let port = Arc::clone(&s.port);
    let now = kagiya_engine::SystemClock.now();
    let permit = match s.work.clone().acquire_owned().await {
        Ok(p) => p,
        Err(_) => return unavailable(l, "the work queue is closed"),
    };
    let id = device_id.clone();
    let done = tokio::task::spawn_blocking(move || {
        let _permit = permit;
        port.ingest(&id, &req.ops, req.anchor.as_ref(), now)
    })
    .await;
    match done {
        Ok(Ok(Ok(outcomes))) => {
            tracing::info!(device = %device_id, ops = outcomes.len(), "ops ingested");
            Json(PushAnswer { outcomes }).into_response()
        }
        Ok(Ok(Err(refused))) => push_refused(l, refused),
        Ok(Err(e)) => super::ApiError::new(e, l).into_response(),
        Err(e) => unavailable(l, &e.to_string()),
    }
}

fn push_refused(l: Lang, r: PushRefused) -> Response {
    let (status, code, ja, en) = match &r {
        PushRefused::Device => (
            StatusCode::UNAUTHORIZED,
            "sync.device_refused",
            "この端末は同期できません（登録の取り消し）。",
            "This device may not sync (revoked).",
        ),
        PushRefused::Gap { .. } => (
            StatusCode::CONFLICT,
            "sync.gap",
            "操作の順番が抜けています。指定の番号から送り直してください。",
            "Ops are missing: send again from the sequence given.",
        ),
        PushRefused::Forged { .. } => (
            StatusCode::UNPROCESSABLE_ENTITY,
            "sync.op_forged",
            "端末の署名と一致しない操作が含まれています。",
            "An op does not match what the device signed.",
        ),
        PushRefused::Batch => (
            StatusCode::UNPROCESSABLE_ENTITY,
            "sync.batch",
            "一度に送れる操作は1～500件です。",
            "A push carries 1 to 500 ops.",
        ),
    };
    let detail = serde_json::to_value(&r).unwrap_or_default();
    let mut body = json!({ "code": code, "message": l.pick(ja, en) });
    if let (Some(b), Some(d)) = (body.as_object_mut(), detail.as_object()) {
        for (k, v) in d {
            if k != "code" {
                b.insert(k.clone(), v.clone());
            }
        }
    }
    (status, Json(body)).into_response()
}

/// The pull body as documented.
#[derive(ToSchema)]
#[allow(dead_code)]
pub struct PullDoc {
    /// Per customer (folded contract number), the last sequence the branch has.
    #[schema(value_type = Option<Object>)]
    cursor: Option<BTreeMap<String, i64>>,
    /// At most this many entries (1 to 5,000; 5,000 when absent).
    limit: Option<i64>,
}

/// The pull answer as documented.
#[derive(ToSchema)]
#[allow(dead_code)]
pub struct PullAnswerDoc {
    /// Chain entries exactly as stored: customer, seq, at, actor, kind, body, prev_hash, hash.
    #[schema(value_type = Vec<Object>)]
    entries: Vec<serde_json::Value>,
    /// More entries are waiting: pull again from the new cursor.
    more: bool,
}

#[utoipa::path(post, path = "/v1/sync/pull", request_body = PullDoc, tag = "sync",
    security(("device" = [])),
    responses(
        (status = 200, body = PullAnswerDoc),
        (status = 401, description = "sync.device_refused or sync.clock_skew", body = super::auth::Problem),
    ))]
pub async fn pull(State(s): State<AppState>, headers: HeaderMap, body: Bytes) -> Response {
    let l = lang(&headers);
    let (device_id, branch) = match device(&s, &headers, "/v1/sync/pull", &body).await {
        Ok(d) => d,
        Err(r) => return r,
    };
    let req: PullRequest = match body_of(&body, l) {
        Ok(r) => r,
        Err(r) => return r,
    };
    let limit = req.limit.unwrap_or(PULL_LIMIT).clamp(1, PULL_LIMIT);
    match devices::pull(&s.pool, &device_id, &branch, &req.cursor, limit).await {
        Ok((entries, more)) => Json(PullAnswer { entries, more }).into_response(),
        Err(e) => unavailable(l, &e),
    }
}
