//! The customers' own pages: what their users and administrators see in a browser (seeds
//! 000–004). Server-rendered HTML that works without JavaScript (askama templates under
//! `templates/pages/`, escaped by the engine), in Japanese and English, on the same steps as the
//! JSON API (`flows`): the pages decide nothing the API does not.
//!
//! Built like a bank's site: every answer carries a strict Content-Security-Policy (scripts and
//! styles from this server only, no framing, forms only to this server), `Referrer-Policy:
//! no-referrer` (the mail links carry one-time tokens) and `Cache-Control: no-store`. The session
//! lives in a `__Host-` cookie (Secure, HttpOnly, SameSite=Strict) that is replaced at every step
//! of a sign-in; every form carries a CSRF token that must equal its own `__Host-` cookie, and a
//! request another site's page sent (Fetch Metadata, else `Origin`) is refused before it is read.

// A handler's early answer is an axum `Response`: returned once per request, its size does not
// matter.
#![allow(clippy::result_large_err)]

pub mod admin;
pub mod assets;
pub mod cookies;
pub mod form;
pub mod ip_rules;
pub mod links;
pub mod me;
pub mod passwords;
pub mod sign_in;

use std::net::IpAddr;

use askama::Template;
use axum::extract::{Request, State};
use axum::http::{header, HeaderMap, HeaderValue, Method, StatusCode};
use axum::middleware::{self, Next};
use axum::response::{Html, IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use axum::Router;
use kagiya_core::directory::{Tenant, User};
use kagiya_core::{Error, ErrorKind, Lang};

use crate::flows::Refusal;
use crate::http::AppState;
use crate::sessions::{Session, Stage};

pub use cookies::Cookies;
pub use form::Fields;

/// The policy every page is served under: nothing from elsewhere, no inline script or style, no
/// plugins, no framing, no `<base>`, and forms that post only to this server.
pub const CSP: &str = "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; \
                       connect-src 'self'; form-action 'self'; frame-ancestors 'none'; \
                       base-uri 'none'";

/// The pages' routes (merged into the server's router).
pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/", get(home))
        .route("/assets/site.css", get(assets::css))
        .route("/assets/site.js", get(assets::js))
        .route("/sign-in", get(sign_in::form).post(sign_in::submit))
        .route("/sign-in/member", get(sign_in::member_form))
        .route("/sign-in/code", get(sign_in::code_form).post(sign_in::code))
        .route("/sign-in/code/resend", post(sign_in::resend))
        .route("/sign-out", post(sign_in::sign_out))
        .route(
            "/password/change",
            get(passwords::change_form).post(passwords::change),
        )
        .route("/password/rules", post(passwords::rules))
        .route("/password-reset", get(links::reset_form).post(links::reset))
        .route("/address-setup", get(links::setup_form).post(links::setup))
        .route(
            "/address-change",
            get(links::change_form).post(links::change),
        )
        .route("/me", get(me::page))
        .route("/me/addresses", post(me::addresses))
        .route("/me/otp-address", get(me::otp_form).post(me::otp_register))
        .route("/me/otp-address/confirm", post(me::otp_confirm))
        .route("/me/mfa-off", post(me::mfa_off))
        .route("/admin/users", get(admin::users))
        .route("/admin/unlock", post(admin::unlock))
        .route(
            "/admin/users/{login_id}/passwords",
            get(admin::passwords_form).post(admin::passwords),
        )
        .route("/admin/ip-rules", get(ip_rules::page).post(ip_rules::save))
        // A bug that panics answers a page (with the headers below), not the API's JSON.
        .layer(tower_http::catch_panic::CatchPanicLayer::custom(panicked))
        .layer(middleware::from_fn(guard))
}

/// The page of a request whose handler panicked (a bug): logged; both languages, since the
/// request's own is gone with it.
fn panicked(_: Box<dyn std::any::Any + Send + 'static>) -> Response {
    tracing::error!("a page's handler panicked");
    message_page(
        Lang::Ja,
        StatusCode::INTERNAL_SERVER_ERROR,
        "エラー / Error",
        "内部エラーが発生しました。時間をおいてもう一度お試しください。/ An internal error occurred. Please try again later.",
    )
}

/// How long a page may take: a second less than the server's own limit
/// ([`crate::http::REQUEST_TIMEOUT`]), so that a slow page is still answered with a page in the
/// user's language and with the headers below, not the bare 408 of the outer layer.
const PAGE_TIMEOUT: std::time::Duration =
    crate::http::REQUEST_TIMEOUT.saturating_sub(std::time::Duration::from_secs(1));
const _: () = assert!(PAGE_TIMEOUT.as_millis() < crate::http::REQUEST_TIMEOUT.as_millis());

/// Security headers on every page, and the cross-site check before any state-changing request
/// is read: a `POST` that Fetch Metadata says came from another site (or, from a browser that
/// sends none, whose `Origin` is not this host) is refused with 403.
async fn guard(req: Request, next: Next) -> Response {
    let l = lang_of(req.headers(), req.uri().query());
    if req.method() != Method::GET && req.method() != Method::HEAD && cross_site(req.headers()) {
        let mut res = message_page(
            l,
            StatusCode::FORBIDDEN,
            l.pick("送信できません", "Cannot be sent"),
            l.pick(
                "このフォームは別のサイトから送信されたため、受け付けませんでした。",
                "This form was sent from another site, so it was not accepted.",
            ),
        );
        secure(res.headers_mut());
        return res;
    }
    let mut res = match tokio::time::timeout(PAGE_TIMEOUT, next.run(req)).await {
        Ok(res) => res,
        Err(_) => {
            tracing::warn!("a page took longer than {PAGE_TIMEOUT:?} and was cut off");
            message_page(
                l,
                StatusCode::SERVICE_UNAVAILABLE,
                l.pick("時間がかかりすぎました", "This took too long"),
                l.pick(
                    "処理に時間がかかりすぎたため、中断しました。変更が保存されたかどうかは、画面を開き直してお確かめください。",
                    "This took too long and was stopped. Open the page again to see whether the change was saved.",
                ),
            )
        }
    };
    secure(res.headers_mut());
    res
}

/// Whether a request was sent by another site's page.
fn cross_site(h: &HeaderMap) -> bool {
    if let Some(site) = h.get("sec-fetch-site").and_then(|v| v.to_str().ok()) {
        return !matches!(site, "same-origin" | "none");
    }
    match (
        h.get(header::ORIGIN).and_then(|v| v.to_str().ok()),
        h.get(header::HOST).and_then(|v| v.to_str().ok()),
    ) {
        // `Origin: null` (a sandboxed frame, a redirect chain) is never this site.
        (Some(origin), Some(host)) => origin
            .split_once("://")
            .is_none_or(|(_, authority)| !authority.eq_ignore_ascii_case(host)),
        (Some(_), None) => true,
        (None, _) => false,
    }
}

fn secure(h: &mut HeaderMap) {
    let set = |h: &mut HeaderMap, name: &'static str, value: &'static str| {
        h.insert(name, HeaderValue::from_static(value));
    };
    set(h, "content-security-policy", CSP);
    set(h, "referrer-policy", "no-referrer");
    set(h, "x-content-type-options", "nosniff");
    set(h, "x-frame-options", "DENY");
    set(h, "cross-origin-opener-policy", "same-origin");
    set(
        h,
        "permissions-policy",
        "camera=(), microphone=(), geolocation=()",
    );
    // Ignored by browsers over plain HTTP; behind TLS it keeps them there.
    set(
        h,
        "strict-transport-security",
        "max-age=63072000; includeSubDomains",
    );
    if !h.contains_key(header::CACHE_CONTROL) {
        set(h, "cache-control", "no-store");
    }
    h.append(
        header::VARY,
        HeaderValue::from_static("Cookie, Accept-Language"),
    );
}

/// The page's language: `?lang=` (the switch), else the language cookie, else the browser's
/// first of Japanese and English, else Japanese (the branch's customers are in Japan).
pub fn lang_of(h: &HeaderMap, query: Option<&str>) -> Lang {
    let asked = query.and_then(|q| {
        form_urlencoded::parse(q.as_bytes())
            .find(|(k, _)| k == "lang")
            .map(|(_, v)| v.into_owned())
    });
    let chosen = asked.or_else(|| Cookies::from(h).get(cookies::LANG).map(str::to_owned));
    match chosen.as_deref() {
        Some("ja") => return Lang::Ja,
        Some("en") => return Lang::En,
        _ => {}
    }
    crate::api::accepted(h).unwrap_or(Lang::Ja)
}

/// What every page's frame shows: the language, the CSRF token for its forms, who is signed in
/// and which menu entries they have, and the links that switch the language.
pub struct Chrome {
    pub l: Lang,
    pub csrf: String,
    /// The signed-in user's name and login ID.
    pub user: Option<(String, String)>,
    pub manager: bool,
    /// A Biz Mail customer's master or admin (the IP access restriction, seed 003).
    pub ip_rules: bool,
    /// This page in the other language.
    pub switch_href: String,
    /// The heading of the page (also the title).
    pub title: String,
}

impl Chrome {
    fn other(&self) -> &'static str {
        self.l.pick("English", "日本語")
    }
    fn other_code(&self) -> &'static str {
        self.l.pick("en", "ja")
    }
    pub fn code(&self) -> &'static str {
        self.l.pick("ja", "en")
    }
}

/// A request's context for the page it gets: language, cookies and the path it asked for.
pub struct Ctx {
    pub l: Lang,
    pub cookies: Cookies,
    /// A new CSRF cookie to set (the browser had none).
    new_csrf: Option<String>,
    csrf: String,
    path: String,
    query: Option<String>,
    /// `?lang=` was given: remember it.
    remember_lang: bool,
}

impl Ctx {
    pub fn new(h: &HeaderMap, uri: &axum::http::Uri) -> Ctx {
        let cookies = Cookies::from(h);
        let (csrf, new_csrf) = match cookies.get(cookies::CSRF) {
            Some(v) if cookies::plausible_token(v) => (v.to_owned(), None),
            _ => {
                let t = cookies::new_token();
                (t.clone(), Some(t))
            }
        };
        let query = uri.query().map(str::to_owned);
        Ctx {
            l: lang_of(h, query.as_deref()),
            remember_lang: query
                .as_deref()
                .is_some_and(|q| form_urlencoded::parse(q.as_bytes()).any(|(k, _)| k == "lang")),
            cookies,
            new_csrf,
            csrf,
            path: uri.path().to_owned(),
            query,
        }
    }

    /// A submitted form with its request's context, when it carries this browser's CSRF token;
    /// else the answer (nothing was done).
    pub async fn form(req: Request) -> Result<(Ctx, Fields), Response> {
        let c = Ctx::new(req.headers(), req.uri());
        let f = Fields::read(req).await?;
        if !c.csrf_ok(&f) {
            return Err(c.csrf_refused());
        }
        Ok((c, f))
    }

    /// The session cookie's token.
    pub fn token(&self) -> Option<&str> {
        self.cookies.get(cookies::SESSION)
    }

    /// The frame of a page titled `title`, for `user` of `tenant` when signed in.
    pub fn chrome(&self, title: &str, who: Option<(&User, &Tenant)>) -> Chrome {
        let other = self.l.pick("en", "ja");
        let mut q: Vec<(String, String)> = self
            .query
            .as_deref()
            .map(|q| {
                form_urlencoded::parse(q.as_bytes())
                    .filter(|(k, _)| k != "lang")
                    .map(|(k, v)| (k.into_owned(), v.into_owned()))
                    .collect()
            })
            .unwrap_or_default();
        q.push(("lang".into(), other.into()));
        let query = form_urlencoded::Serializer::new(String::new())
            .extend_pairs(q)
            .finish();
        Chrome {
            l: self.l,
            csrf: self.csrf.clone(),
            user: who.map(|(u, _)| (u.name.clone(), u.login_id.clone())),
            manager: who.is_some_and(|(u, _)| u.role.is_manager()),
            ip_rules: who.is_some_and(|(u, t)| ip_rules::offered(u, t)),
            switch_href: format!("{}?{query}", self.path),
            title: title.to_owned(),
        }
    }

    /// A page's HTML with the cookies this request owes (a first CSRF token, a chosen language).
    pub fn html(&self, status: StatusCode, body: Result<String, askama::Error>) -> Response {
        let mut res = match body {
            Ok(html) => (status, Html(html)).into_response(),
            Err(e) => {
                tracing::error!(error = %e, "page template failed");
                return message_page(
                    self.l,
                    StatusCode::INTERNAL_SERVER_ERROR,
                    self.l.pick("エラー", "Error"),
                    self.l.pick(
                        "ページを表示できませんでした。時間をおいてもう一度お試しください。",
                        "The page could not be shown. Please try again later.",
                    ),
                );
            }
        };
        self.owed_cookies(&mut res);
        res
    }

    fn owed_cookies(&self, res: &mut Response) {
        if let Some(t) = &self.new_csrf {
            cookies::set(res, cookies::csrf_cookie(t));
        }
        if self.remember_lang {
            cookies::set(res, cookies::lang_cookie(self.l));
        }
    }

    /// A redirect (303: the browser follows with GET) with the cookies this request owes.
    pub fn redirect(&self, to: &str) -> Response {
        let mut res = Redirect::to(to).into_response();
        self.owed_cookies(&mut res);
        res
    }

    /// Whether `fields` carry this browser's CSRF token (compared in constant time).
    pub fn csrf_ok(&self, fields: &Fields) -> bool {
        self.new_csrf.is_none()
            && fields.get("csrf").is_some_and(|f| {
                f.len() == self.csrf.len()
                    && openssl::memcmp::eq(f.as_bytes(), self.csrf.as_bytes())
            })
    }

    /// A page with a heading and one message, in this request's frame (its language switch
    /// keeps the page), with the cookies it owes.
    pub fn message(&self, status: StatusCode, title: &str, text: &str) -> Response {
        let page = MessagePage {
            c: self.chrome(title, None),
            text,
        };
        self.html(status, page.render())
    }

    /// The answer to a form without a valid CSRF token: nothing was done.
    pub fn csrf_refused(&self) -> Response {
        self.message(
            StatusCode::FORBIDDEN,
            self.l.pick("送信できません", "Cannot be sent"),
            self.l.pick(
                "画面の有効期限が切れたか、Cookie が無効です。もう一度画面を開いてから送信してください。",
                "The page has expired or cookies are off. Open the page again and send it once more.",
            ),
        )
    }
}

/// The page a session at `stage` belongs on.
pub fn page_of(stage: Stage) -> &'static str {
    match stage {
        Stage::Code => "/sign-in/code",
        Stage::Change => "/password/change",
        Stage::Full => "/me",
    }
}

/// What a page does with a refused session: back to sign-in, on to the step owed, or an
/// explanation.
pub fn session_refused(c: &Ctx, r: Refusal) -> Response {
    match r {
        Refusal::NoSession => {
            let mut res = c.redirect("/sign-in?ended=1");
            if c.token().is_some() {
                cookies::set(&mut res, cookies::clear(cookies::SESSION));
            }
            res
        }
        Refusal::WrongStep(stage) => c.redirect(page_of(stage)),
        other => problem_page(c, other),
    }
}

/// The signed-in user of a page at one of `stages`, or the answer that takes them elsewhere.
pub async fn signed_in(
    s: &AppState,
    c: &Ctx,
    ip: IpAddr,
    stages: &[Stage],
) -> Result<(Session, User, Tenant), Response> {
    crate::flows::session(s, c.token(), Some(ip), stages)
        .await
        .map_err(|r| session_refused(c, r))
}

/// The signed-in user of a complete session — sent first to register the one-time-password
/// address where the service asks for it at the first sign-in (seed 003), since no other page
/// may be used before.
pub async fn signed_in_full(
    s: &AppState,
    c: &Ctx,
    ip: IpAddr,
) -> Result<(Session, User, Tenant), Response> {
    let (sess, u, t) = signed_in(s, c, ip, &[Stage::Full]).await?;
    if crate::flows::otp_address_required(&u, &t) {
        return Err(c.redirect("/me/otp-address"));
    }
    Ok((sess, u, t))
}

/// The signed-in master or admin of the management pages.
pub async fn manager(s: &AppState, c: &Ctx, ip: IpAddr) -> Result<(User, Tenant), Response> {
    let (_, u, t) = signed_in_full(s, c, ip).await?;
    if !u.role.is_manager() {
        let denied = kagiya_core::directory::authz::Denial::RoleTooLow;
        return Err(problem_page(
            c,
            Refusal::Engine(Error::NotPermitted(denied)),
        ));
    }
    Ok((u, t))
}

/// The field a refusal belongs to: `secret` when the password or code given there was wrong,
/// else the form's summary.
pub fn field_of(r: &Refusal, secret: &'static str) -> &'static str {
    match r {
        Refusal::Engine(e) if e.kind() == ErrorKind::WrongPassword => secret,
        _ => "",
    }
}

/// The message of a refusal in the page's language.
pub fn refusal_message(l: Lang, r: &Refusal) -> String {
    match r {
        Refusal::Engine(e) => message_of(l, e),
        Refusal::Throttled(_) => l
            .pick(
                "試行が多すぎます。しばらくしてからもう一度お試しください。",
                "Too many attempts. Please wait a moment and try again.",
            )
            .into(),
        Refusal::NoSession => l
            .pick(
                "ログインしていないか、ログインの有効期限が切れました。もう一度ログインしてください。",
                "You are not signed in, or your sign-in has ended. Please sign in again.",
            )
            .into(),
        Refusal::AddressRefused => l
            .pick(
                "この接続元からはご利用になれません（お客さまのIPアドレス制限）。",
                "This service cannot be used from this address (your company's IP access rules).",
            )
            .into(),
        Refusal::WrongStep(_) => l
            .pick(
                "先にワンタイムパスワードの入力、またはパスワードの変更を済ませてください。",
                "First enter the one-time password or change your password, as asked.",
            )
            .into(),
    }
}

/// An engine error's message; internal details are logged, never shown.
fn message_of(l: Lang, e: &Error) -> String {
    if matches!(
        e.kind(),
        ErrorKind::Internal | ErrorKind::AuditBroken | ErrorKind::Unavailable
    ) {
        tracing::error!(code = e.code(), error = %e, "page request failed");
    }
    e.message(l)
}

/// The HTTP status a refusal's page is served with.
pub fn refusal_status(r: &Refusal) -> StatusCode {
    match r {
        Refusal::Engine(e) => crate::api::status(e.kind()),
        Refusal::Throttled(_) => StatusCode::TOO_MANY_REQUESTS,
        Refusal::NoSession => StatusCode::UNAUTHORIZED,
        Refusal::AddressRefused | Refusal::WrongStep(_) => StatusCode::FORBIDDEN,
    }
}

/// A page that only explains a refusal.
pub fn problem_page(c: &Ctx, r: Refusal) -> Response {
    c.message(
        refusal_status(&r),
        c.l.pick("ご利用になれません", "Not available"),
        &refusal_message(c.l, &r),
    )
}

#[derive(Template)]
#[template(path = "pages/message.html")]
struct MessagePage<'a> {
    c: Chrome,
    text: &'a str,
}

/// A page with a heading and one message, for answers given before a request's context exists
/// (a cross-site form, an unreadable body, a panic).
pub fn message_page(l: Lang, status: StatusCode, title: &str, text: &str) -> Response {
    let c = Chrome {
        l,
        csrf: String::new(),
        user: None,
        manager: false,
        ip_rules: false,
        switch_href: "/sign-in".into(),
        title: title.to_owned(),
    };
    match (MessagePage { c, text }).render() {
        Ok(html) => (status, Html(html)).into_response(),
        Err(_) => (status, text.to_owned()).into_response(),
    }
}

/// One problem shown on a form: the field it belongs to (its error text is tied to it with
/// `aria-describedby`) and the message; the summary at the top lists every one.
#[derive(Clone)]
pub struct Problem {
    pub field: &'static str,
    pub message: String,
}

/// The problems of a form, in the order of its fields.
#[derive(Default, Clone)]
pub struct Problems(pub Vec<Problem>);

impl Problems {
    pub fn add(&mut self, field: &'static str, message: impl Into<String>) {
        self.0.push(Problem {
            field,
            message: message.into(),
        });
    }
    /// The message for `field`, if it has one.
    pub fn of(&self, field: &str) -> Option<&str> {
        self.0
            .iter()
            .find(|p| p.field == field)
            .map(|p| p.message.as_str())
    }
    pub fn has(&self, field: &str) -> bool {
        self.of(field).is_some()
    }
    /// The attributes that tie `field`'s input to its error text (nothing when it has none).
    pub fn attrs(&self, field: &str) -> String {
        if self.has(field) {
            format!(" aria-invalid=\"true\" aria-describedby=\"{field}-error\"")
        } else {
            String::new()
        }
    }
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
    pub fn list(&self) -> &[Problem] {
        &self.0
    }
}

/// `/`: the signed-in user's page, or the sign-in.
async fn home(State(s): State<AppState>, source: crate::api::Source, req: Request) -> Response {
    let c = Ctx::new(req.headers(), req.uri());
    match crate::flows::session(&s, c.token(), Some(source.0), &[Stage::Full]).await {
        Ok(_) => c.redirect("/me"),
        Err(Refusal::WrongStep(stage)) => c.redirect(page_of(stage)),
        Err(_) => c.redirect("/sign-in"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::body::Body;
    use std::time::Duration;
    use tower::ServiceExt;

    /// A page slower than its limit is answered with a page in the user's language and the
    /// security headers, not the outer layer's bare 408.
    #[tokio::test(start_paused = true)]
    async fn a_slow_page_is_answered_with_a_page_and_its_headers() {
        let app: Router = Router::new()
            .route(
                "/slow",
                get(|| async {
                    tokio::time::sleep(Duration::from_secs(60)).await;
                    "late"
                }),
            )
            .layer(middleware::from_fn(guard));
        let req = axum::http::Request::builder()
            .uri("/slow")
            .header("accept-language", "en")
            .body(Body::empty())
            .expect("request");
        let res = app.oneshot(req).await.expect("answer");
        assert_eq!(res.status(), StatusCode::SERVICE_UNAVAILABLE);
        assert_eq!(res.headers()["content-security-policy"], CSP);
        assert_eq!(res.headers()["cache-control"], "no-store");
        let body = axum::body::to_bytes(res.into_body(), 1 << 20)
            .await
            .expect("body");
        let text = String::from_utf8_lossy(&body);
        assert!(text.contains("This took too long"), "{text}");
        assert!(!text.contains("late"));
    }
}
