//! The OpenAPI document, generated from the handlers' annotations and the bodies' own types, so
//! that it cannot drift from the code; served at `/openapi.json` and checked by schemathesis.

use utoipa::openapi::security::{Http, HttpAuthScheme, SecurityScheme};
use utoipa::{Modify, OpenApi};

use crate::api::{admin, auth};

#[derive(OpenApi)]
#[openapi(
    info(
        title = "Kagiya central server",
        description = "Sign-in, sessions, password changes and the customers' administration. \
                       Errors are `{code, message}` in the language of Accept-Language (ja or en).",
    ),
    paths(
        auth::sign_in, auth::code, auth::me, auth::change_passwords, auth::confirm,
        auth::sign_out, auth::api_authenticate,
        admin::users, admin::unlock, admin::set_passwords,
    ),
    modifiers(&Session),
)]
pub struct ApiDoc;

/// The bearer session token as a security scheme.
struct Session;

impl Modify for Session {
    fn modify(&self, doc: &mut utoipa::openapi::OpenApi) {
        let components = doc.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "session",
            SecurityScheme::Http(Http::new(HttpAuthScheme::Bearer)),
        );
    }
}

/// The document as JSON text.
pub fn json() -> String {
    ApiDoc::openapi()
        .to_pretty_json()
        .unwrap_or_else(|_| "{}".into())
}
