//! A submitted form (`application/x-www-form-urlencoded`), read as name–value pairs so that a
//! field may repeat (the users ticked in a list). Anything else, or a body over the limit, is
//! refused before a handler sees it.

use axum::body::Bytes;
use axum::extract::{FromRequest, Request};
use axum::http::{header, StatusCode};
use axum::response::Response;

/// The fields of a form.
pub struct Fields(Vec<(String, String)>);

impl Fields {
    /// The first value of `name`.
    pub fn get(&self, name: &str) -> Option<&str> {
        self.0
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_str())
    }

    /// The first value of `name`, or empty.
    pub fn text(&self, name: &str) -> String {
        self.get(name).unwrap_or("").to_owned()
    }

    /// Every value of `name`, in order.
    pub fn all(&self, name: &str) -> Vec<String> {
        self.0
            .iter()
            .filter(|(n, _)| n == name)
            .map(|(_, v)| v.clone())
            .collect()
    }

    /// Whether a checkbox `name` was ticked.
    pub fn ticked(&self, name: &str) -> bool {
        self.get(name).is_some()
    }

    /// The form of `req` (see the `FromRequest` below).
    pub async fn read(req: Request) -> Result<Fields, Response> {
        <Fields as FromRequest<()>>::from_request(req, &()).await
    }

    pub fn parse(body: &[u8]) -> Fields {
        Fields(
            form_urlencoded::parse(body)
                .map(|(k, v)| (k.into_owned(), v.into_owned()))
                .collect(),
        )
    }
}

impl<S: Send + Sync> FromRequest<S> for Fields {
    type Rejection = Response;

    async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
        let l = super::lang_of(req.headers(), req.uri().query());
        let form = req
            .headers()
            .get(header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .is_some_and(|v| v.starts_with("application/x-www-form-urlencoded"));
        let refuse = |status| {
            super::message_page(
                l,
                status,
                l.pick("送信できません", "Cannot be sent"),
                l.pick(
                    "送信された内容を読み取れませんでした。画面を開き直してください。",
                    "What was sent could not be read. Please open the page again.",
                ),
            )
        };
        if !form {
            return Err(refuse(StatusCode::UNSUPPORTED_MEDIA_TYPE));
        }
        let body = Bytes::from_request(req, state)
            .await
            .map_err(|_| refuse(StatusCode::PAYLOAD_TOO_LARGE))?;
        Ok(Fields::parse(&body))
    }
}
