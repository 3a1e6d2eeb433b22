//! The HTTP side: the router and its shared state. For now the health endpoints a load balancer
//! and an orchestrator ask: `/healthz` (the process answers) and `/readyz` (the database answers
//! and its schema is the one this program runs on).

use std::sync::Arc;

use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Json, Router};
use deadpool_postgres::Pool;
use serde_json::json;

/// What every handler shares.
#[derive(Clone)]
pub struct AppState {
    pub pool: Arc<Pool>,
}

/// Every route of the server.
pub fn router(state: AppState) -> Router {
    Router::new()
        .route("/healthz", get(healthz))
        .route("/readyz", get(readyz))
        .with_state(state)
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
