//! The pages' style sheet and their one small script, compiled into the binary (no file to go
//! missing, and the CSP allows nothing but this server). The script only helps: the password
//! rules ticked as they are typed (asked of the server, which decides), the select-all of the
//! unlock list and a focus on the first error; every page works without it.

use axum::http::header;
use axum::response::{IntoResponse, Response};

const CSS: &str = include_str!("../../assets/site.css");
const JS: &str = include_str!("../../assets/site.js");

fn asset(kind: &'static str, body: &'static str) -> Response {
    (
        [
            (header::CONTENT_TYPE, kind),
            (header::CACHE_CONTROL, "public, max-age=3600"),
        ],
        body,
    )
        .into_response()
}

pub async fn css() -> Response {
    asset("text/css; charset=utf-8", CSS)
}

pub async fn js() -> Response {
    asset("text/javascript; charset=utf-8", JS)
}
