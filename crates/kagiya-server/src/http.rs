//! The HTTP side: the router, its shared state and the layers every request passes — a request
//! id (kept from a proxy or made here, echoed back), a body limit, a time limit, one access-log
//! line and the metrics; errors are `{code, message}` in the client's language. Besides the API
//! (`api`, under `/v1`): `/healthz` (the process answers), `/readyz` (the database answers and
//! its schema is the one this program runs on), `/metrics`, `/openapi.json`.

use std::sync::Arc;
use std::time::{Duration, Instant};

use axum::extract::{DefaultBodyLimit, MatchedPath, Request, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use deadpool_postgres::Pool;
use serde_json::json;
use tower_http::request_id::{
    MakeRequestUuid, PropagateRequestIdLayer, RequestId, SetRequestIdLayer,
};
use tower_http::timeout::TimeoutLayer;

use kagiya_core::password::HashParams;
use kagiya_engine::Engine;
use tokio::sync::Semaphore;

use crate::api;
use crate::config::{Config, SessionConfig};
use crate::metrics::Metrics;
use crate::store::PgPort;
use crate::throttle::Throttle;

/// The largest request body the JSON routes to come will read (ours: a sign-in or an unlock of
/// many users is a few KB; 64 KiB leaves room and keeps a hostile body from costing memory).
pub const MAX_BODY_BYTES: usize = 64 * 1024;

/// The longest a request may take (ours: several argon2id checks and a write, with room).
pub const REQUEST_TIMEOUT: Duration = Duration::from_secs(10);

/// What every handler shares.
#[derive(Clone)]
pub struct AppState {
    pub pool: Arc<Pool>,
    pub metrics: Arc<Metrics>,
    /// The engine over PostgreSQL (`store::PgPort`), run on blocking threads.
    pub engine: Arc<Engine>,
    /// The same port, for what is not the engine's: the sync ingest.
    pub port: Arc<PgPort>,
    /// Engine calls running at once (`config.workers`).
    pub work: Arc<Semaphore>,
    pub throttle: Arc<Throttle>,
    pub trusted_proxies: Arc<Vec<ipnet::IpNet>>,
    pub metrics_allow: Arc<Vec<ipnet::IpNet>>,
    pub session: SessionConfig,
    /// The mail delivery (`[mail]`): none when the server has no mail configured.
    pub mailer: Option<Arc<crate::mail::worker::Mailer>>,
    /// Seed 001's registration address (`[mail.registration]`), shown on the user's page.
    pub registration_address: Option<String>,
}

impl AppState {
    /// The state of a server over `pool` with `config`, its engine driven through `rt`.
    pub fn new(
        pool: Pool,
        config: &Config,
        rt: tokio::runtime::Handle,
    ) -> Result<AppState, String> {
        let (mailer, queue) = match &config.mail {
            Some(m) => {
                let (mailer, queue) = crate::mail::worker::Mailer::from_config(m)?;
                (Some(Arc::new(mailer)), queue)
            }
            None => (None, Default::default()),
        };
        let port = Arc::new(PgPort::new(pool.clone(), rt).with_mail(queue));
        let engine = Engine::new(port.clone(), "server", HashParams::default())
            .map_err(|e| e.to_string())?;
        let workers = match config.workers {
            // Twice the cores: while one check waits on its database round trips, another hashes
            // (measured with the sign-in benchmark on 2 cores: 73 % of the raw argon2 rate at one
            // per core, 83 % at two).
            0 => 2 * std::thread::available_parallelism().map_or(1, |n| n.get()),
            n => n,
        };
        Ok(AppState {
            pool: Arc::new(pool),
            metrics: Arc::new(Metrics::new()),
            engine: Arc::new(engine),
            port,
            work: Arc::new(Semaphore::new(workers)),
            throttle: Arc::new(Throttle::new(&config.throttle)),
            trusted_proxies: Arc::new(config.trusted_proxies.clone()),
            metrics_allow: Arc::new(config.metrics_allow.clone()),
            session: config.session.clone(),
            mailer,
            registration_address: config
                .mail
                .as_ref()
                .and_then(|m| m.registration.as_ref())
                .map(|r| r.address.clone()),
        })
    }
}

/// Every route of the server, with its layers.
pub fn router(state: AppState) -> Router {
    Router::new()
        .route("/healthz", get(healthz))
        .route("/readyz", get(readyz))
        .route("/metrics", get(metrics))
        .route("/openapi.json", get(openapi))
        .route("/v1/sign-in", post(api::auth::sign_in))
        .route("/v1/sign-in/code", post(api::auth::code))
        .route("/v1/sign-in/code/resend", post(api::mail::resend_code))
        .route("/v1/password-reset", post(api::mail::request_reset))
        .route(
            "/v1/password-reset/complete",
            post(api::mail::complete_reset),
        )
        .route(
            "/v1/address-setup/complete",
            post(api::mail::complete_address_setup),
        )
        .route(
            "/v1/address-change/confirm",
            post(api::mail::confirm_address_change),
        )
        .route("/v1/me", get(api::auth::me))
        .route("/v1/me/passwords", post(api::auth::change_passwords))
        .route("/v1/me/confirm", post(api::auth::confirm))
        .route("/v1/me/otp-address", post(api::mail::register_otp_address))
        .route(
            "/v1/me/otp-address/confirm",
            post(api::mail::confirm_otp_address),
        )
        .route("/v1/sign-out", post(api::auth::sign_out))
        .route("/v1/api/authenticate", post(api::auth::api_authenticate))
        .route("/v1/admin/users", get(api::admin::users))
        .route("/v1/admin/unlock", post(api::admin::unlock))
        .route("/v1/admin/passwords", post(api::admin::set_passwords))
        .route("/v1/sync/enroll", post(api::sync::enroll))
        .route(
            "/v1/sync/push",
            post(api::sync::push).layer(DefaultBodyLimit::max(api::sync::MAX_SYNC_BODY)),
        )
        .route(
            "/v1/sync/pull",
            post(api::sync::pull).layer(DefaultBodyLimit::max(api::sync::MAX_SYNC_BODY)),
        )
        .merge(crate::pages::routes())
        .fallback(not_found)
        .layer(middleware::from_fn_with_state(state.clone(), observe))
        .layer(DefaultBodyLimit::max(MAX_BODY_BYTES))
        .layer(TimeoutLayer::with_status_code(
            StatusCode::REQUEST_TIMEOUT,
            REQUEST_TIMEOUT,
        ))
        // A bug that panics answers 500 `{code, message}` and is logged; the process goes on.
        .layer(tower_http::catch_panic::CatchPanicLayer::custom(panicked))
        // Outermost: the id exists before anything else sees the request, and goes back out.
        .layer(PropagateRequestIdLayer::x_request_id())
        .layer(SetRequestIdLayer::x_request_id(MakeRequestUuid))
        // Before all: a proxy's id is kept only when it is a plausible one.
        .layer(middleware::from_fn(plausible_request_id))
        .with_state(state)
}

/// The answer to a request whose handler panicked (a bug): logged, and `{code, message}` in both
/// languages, since the request's own language is gone with it.
fn panicked(_: Box<dyn std::any::Any + Send + 'static>) -> Response {
    tracing::error!("a request's handler panicked");
    (
        StatusCode::INTERNAL_SERVER_ERROR,
        Json(json!({
            "code": "internal",
            "message": "内部エラーが発生しました。/ An internal error occurred.",
        })),
    )
        .into_response()
}

/// The longest request id kept from a client or proxy (ours: a UUID is 36 characters; room for
/// the usual formats, and no room for a log line's worth of someone's text).
pub const MAX_REQUEST_ID: usize = 64;

/// Drops an incoming `X-Request-Id` that is too long or holds anything but letters, digits and
/// `-_.:`, so that a fresh one is made: the id goes into every log line and back out.
async fn plausible_request_id(mut req: Request, next: Next) -> Response {
    let ok = req
        .headers()
        .get("x-request-id")
        .and_then(|v| v.to_str().ok())
        .map(|v| {
            !v.is_empty()
                && v.len() <= MAX_REQUEST_ID
                && v.chars()
                    .all(|c| c.is_ascii_alphanumeric() || "-_.:".contains(c))
        });
    if ok == Some(false) {
        req.headers_mut().remove("x-request-id");
    }
    next.run(req).await
}

/// Counts and times each request, and writes one access-log line (never a body, a query string
/// or a header value other than the request id).
async fn observe(State(s): State<AppState>, req: Request, next: Next) -> Response {
    let start = Instant::now();
    let route = req
        .extensions()
        .get::<MatchedPath>()
        .map(|p| p.as_str().to_owned())
        .unwrap_or_else(|| "unmatched".into());
    let id = req
        .extensions()
        .get::<RequestId>()
        .and_then(|r| r.header_value().to_str().ok())
        .unwrap_or("")
        .to_owned();
    let method = req.method().clone();
    let res = next.run(req).await;
    let status = res.status().as_u16();
    let secs = start.elapsed().as_secs_f64();
    s.metrics
        .requests
        .with_label_values(&[&route, &status.to_string()])
        .inc();
    s.metrics.latency.with_label_values(&[&route]).observe(secs);
    tracing::info!(request_id = %id, %method, route = %route, status, ms = secs * 1000.0, "request");
    res
}

/// `{code, message}` in the language the client asks for (Japanese or English).
fn error(status: StatusCode, code: &str, accept: &[&str]) -> (StatusCode, Json<serde_json::Value>) {
    let ja = accept.iter().any(|l| l.trim_start().starts_with("ja"));
    let message = match (code, ja) {
        ("http.not_found", true) => "指定されたページはありません。",
        ("http.not_found", false) => "There is no such page.",
        (_, true) => "要求を処理できませんでした。",
        (_, false) => "The request could not be handled.",
    };
    (status, Json(json!({ "code": code, "message": message })))
}

fn languages(headers: &HeaderMap) -> Vec<&str> {
    headers
        .get(axum::http::header::ACCEPT_LANGUAGE)
        .and_then(|v: &HeaderValue| v.to_str().ok())
        .map(|v| v.split(',').collect())
        .unwrap_or_default()
}

async fn not_found(headers: HeaderMap) -> Response {
    error(
        StatusCode::NOT_FOUND,
        "http.not_found",
        &languages(&headers),
    )
    .into_response()
}

async fn healthz() -> Response {
    Json(json!({ "status": "ok" })).into_response()
}

async fn readyz(State(s): State<AppState>) -> Response {
    let not_ready = |reason: String| {
        (
            StatusCode::SERVICE_UNAVAILABLE,
            Json(json!({ "status": "not_ready", "reason": reason })),
        )
            .into_response()
    };
    match crate::migrate::current(&s.pool).await {
        Ok(v) if v == crate::migrate::latest() => {
            Json(json!({ "status": "ready", "schema": v })).into_response()
        }
        Ok(v) => not_ready(format!(
            "schema version {v}, this program needs {}",
            crate::migrate::latest()
        )),
        Err(_) => not_ready("the database does not answer".into()),
    }
}

async fn openapi() -> Response {
    (
        [(axum::http::header::CONTENT_TYPE, "application/json")],
        crate::openapi::json(),
    )
        .into_response()
}

/// The counters, for the addresses in `metrics_allow` only (they show sign-in and lock rates: of
/// use to an attacker timing a campaign). Anyone else is told there is no such page.
async fn metrics(
    State(s): State<AppState>,
    api::Source(ip): api::Source,
    headers: HeaderMap,
) -> Response {
    if !s.metrics_allow.iter().any(|n| n.contains(&ip)) {
        return not_found(headers).await;
    }
    let st = s.pool.status();
    s.metrics.pool_size.set(st.size as i64);
    s.metrics.pool_available.set(st.available as i64);
    (
        [(
            axum::http::header::CONTENT_TYPE,
            "text/plain; version=0.0.4; charset=utf-8",
        )],
        s.metrics.render(),
    )
        .into_response()
}
