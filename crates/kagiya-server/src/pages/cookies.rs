//! The pages' cookies, all `__Host-` (Secure, no Domain, Path=/: no other host or path can set
//! or read them): the session token (HttpOnly, SameSite=Strict, ended with the browser), the
//! CSRF token the forms repeat (HttpOnly, SameSite=Strict) and the chosen language (Lax, a year).
//! Parsed and written with the `cookie` crate.

use axum::http::{header, HeaderMap, HeaderValue};
use axum::response::Response;
use base64::Engine as _;
use cookie::{Cookie, SameSite};
use kagiya_core::Lang;

pub const SESSION: &str = "__Host-kagiya-session";
pub const CSRF: &str = "__Host-kagiya-csrf";
pub const LANG: &str = "__Host-kagiya-lang";

/// The cookies a request carries (the first of each name).
#[derive(Default)]
pub struct Cookies(Vec<(String, String)>);

impl Cookies {
    pub fn from(h: &HeaderMap) -> Cookies {
        let mut out = Vec::new();
        for v in h.get_all(header::COOKIE) {
            let Ok(v) = v.to_str() else { continue };
            for c in Cookie::split_parse(v).flatten() {
                out.push((c.name().to_owned(), c.value().to_owned()));
            }
        }
        Cookies(out)
    }

    pub fn get(&self, name: &str) -> Option<&str> {
        self.0
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_str())
    }
}

/// 32 bytes from the OS CSPRNG, URL-safe base64 (a CSRF token).
pub fn new_token() -> String {
    let mut raw = [0u8; 32];
    kagiya_core::random::fill(&mut raw);
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(raw)
}

/// Whether a token is one this server could have made (43 URL-safe characters).
pub fn plausible_token(t: &str) -> bool {
    t.len() == 43
        && t.bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
}

fn base(name: &'static str, value: String) -> cookie::CookieBuilder<'static> {
    Cookie::build((name, value))
        .path("/")
        .secure(true)
        .http_only(true)
        .same_site(SameSite::Strict)
}

/// The session cookie for `token`.
pub fn session_cookie(token: &str) -> Cookie<'static> {
    base(SESSION, token.to_owned()).build()
}

/// The CSRF cookie for `token`.
pub fn csrf_cookie(token: &str) -> Cookie<'static> {
    base(CSRF, token.to_owned()).build()
}

/// The language cookie (Lax: a link from a mail keeps the language).
pub fn lang_cookie(l: Lang) -> Cookie<'static> {
    base(LANG, l.pick("ja", "en").to_owned())
        .same_site(SameSite::Lax)
        .max_age(cookie::time::Duration::days(365))
        .build()
}

/// A cookie that removes `name`.
pub fn clear(name: &'static str) -> Cookie<'static> {
    base(name, String::new())
        .max_age(cookie::time::Duration::ZERO)
        .build()
}

/// Adds `Set-Cookie` for `c` to `res`.
pub fn set(res: &mut Response, c: Cookie<'static>) {
    if let Ok(v) = HeaderValue::from_str(&c.to_string()) {
        res.headers_mut().append(header::SET_COOKIE, v);
    }
}

/// A session begins or grows: its new token, and a new CSRF token with it (nothing a page
/// held before the sign-in step is good after it).
pub fn renew(res: &mut Response, session_token: &str) {
    set(res, session_cookie(session_token));
    set(res, csrf_cookie(&new_token()));
}
