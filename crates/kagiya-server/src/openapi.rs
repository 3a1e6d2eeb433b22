//! The OpenAPI document, generated from the handlers' annotations and the bodies' own types, so
//! that it cannot drift from the code; served at `/openapi.json` and checked by schemathesis.

use utoipa::openapi::security::{Http, HttpAuthScheme, SecurityScheme};
use utoipa::{Modify, OpenApi};

use crate::api::{admin, auth, mail, sync};

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
        sync::enroll, sync::push, sync::pull,
        mail::request_reset, mail::complete_reset, mail::complete_address_setup,
        mail::confirm_address_change, mail::resend_code, mail::register_otp_address,
        mail::confirm_otp_address,
    ),
    modifiers(&Session, &CommonErrors),
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
        // A branch device signs each sync request with its ed25519 key (docs/api.md).
        components.add_security_scheme(
            "device",
            SecurityScheme::ApiKey(utoipa::openapi::security::ApiKey::Header(
                utoipa::openapi::security::ApiKeyValue::new("kagiya-signature"),
            )),
        );
    }
}

/// The answers every route can give besides its own: an unreadable forwarded address (400), a
/// body that cannot be read (400, 413, 415, 422) where there is a body, no session (401) and the
/// wrong step or a refused source (403) where a session is needed — all `{code, message}`. Added here once rather than on each handler, so no route can
/// forget one.
struct CommonErrors;

impl Modify for CommonErrors {
    fn modify(&self, doc: &mut utoipa::openapi::OpenApi) {
        use utoipa::openapi::{ContentBuilder, Ref, ResponseBuilder};
        let problem = |what: &str| {
            ResponseBuilder::new()
                .description(what)
                .content(
                    "application/json",
                    ContentBuilder::new()
                        .schema(Some(Ref::from_schema_name("Problem")))
                        .build(),
                )
                .build()
        };
        for item in doc.paths.paths.values_mut() {
            for op in [&mut item.get, &mut item.post].into_iter().flatten() {
                let mut add = |status: &str, what: &str| {
                    op.responses
                        .responses
                        .entry(status.to_owned())
                        .or_insert_with(|| problem(what).into());
                };
                // Every route reads the source address (a trusted proxy's header may be unreadable).
                add(
                    "400",
                    "input.malformed — the body is not readable JSON; input.forwarded_for — the \
                     proxy's X-Forwarded-For cannot be read",
                );
                if op.request_body.is_some() {
                    add("413", "input.too_large — the body is over 64 KiB");
                    add("415", "input.not_json — the body is not sent as JSON");
                    add(
                        "422",
                        "input.invalid_fields — a field is missing or has the wrong form",
                    );
                }
                if op.security.as_ref().is_some_and(|s| !s.is_empty()) {
                    add(
                        "401",
                        "auth.no_session — not signed in, or the session ended",
                    );
                    add(
                        "403",
                        "auth.step_required — the session is at another step; \
                         auth.address_refused — the customer's IP rules refuse this source",
                    );
                }
            }
        }
    }
}

/// The document as JSON text.
pub fn json() -> String {
    ApiDoc::openapi()
        .to_pretty_json()
        .unwrap_or_else(|_| "{}".into())
}
