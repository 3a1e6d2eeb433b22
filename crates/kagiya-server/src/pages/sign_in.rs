//! Sign-in (login ID and password; seed 002's Web member site: login ID, address and password),
//! the one-time password of a sign-in with 2FA and its resend (seeds 002/003), and sign-out.
//! Every step that grows a session replaces its cookie (and the CSRF token): a token a page held
//! before is worth nothing after.

use askama::Template;
use axum::extract::{Request, State};
use axum::http::{HeaderMap, StatusCode, Uri};
use axum::response::Response;
use kagiya_core::secret::Secret;
use kagiya_core::Lang;

use super::{
    cookies, page_of, problem_page, refusal_message, refusal_status, Chrome, Ctx, Problems,
};
use crate::api::Source;
use crate::flows::{self, Refusal, Started};
use crate::http::AppState;
use crate::sessions::{self, Stage};

#[derive(Template)]
#[template(path = "pages/sign_in.html")]
struct SignInPage {
    c: Chrome,
    p: Problems,
    member: bool,
    login_id: String,
    address: String,
    notice: Option<&'static str>,
}

fn notice(l: Lang, uri: &Uri) -> Option<&'static str> {
    let q = uri.query().unwrap_or("");
    let has = |k: &str| form_urlencoded::parse(q.as_bytes()).any(|(n, _)| n == k);
    if has("ended") {
        Some(l.pick(
            "ログインの有効期限が切れたか、ログアウトしました。もう一度ログインしてください。",
            "Your sign-in has ended. Please sign in again.",
        ))
    } else if has("signed_out") {
        Some(l.pick("ログアウトしました。", "You have signed out."))
    } else if has("changed") {
        Some(l.pick(
            "パスワードを変更しました。新しいパスワードでログインしてください。",
            "Your password has been changed. Please sign in with the new one.",
        ))
    } else {
        None
    }
}

fn sign_in_page(c: &Ctx, status: StatusCode, page: SignInPage) -> Response {
    c.html(status, page.render())
}

fn blank(c: &Ctx, uri: &Uri, member: bool) -> SignInPage {
    SignInPage {
        c: c.chrome(c.l.pick("ログイン", "Sign in"), None),
        p: Problems::default(),
        member,
        login_id: String::new(),
        address: String::new(),
        notice: notice(c.l, uri),
    }
}

/// `GET /sign-in`.
pub async fn form(headers: HeaderMap, uri: Uri) -> Response {
    let c = Ctx::new(&headers, &uri);
    sign_in_page(&c, StatusCode::OK, blank(&c, &uri, false))
}

/// `GET /sign-in/member`: seed 002 「ログインID、メールアドレス、パスワードの3種類入力」.
pub async fn member_form(headers: HeaderMap, uri: Uri) -> Response {
    let c = Ctx::new(&headers, &uri);
    sign_in_page(&c, StatusCode::OK, blank(&c, &uri, true))
}

/// Where a new session goes next, with its cookie (and a new CSRF token) set; the session the
/// browser held before, if any, ends.
/// A complete session goes to `full_to` (the Biz Mail user without a one-time-password address
/// to its registration first, seed 003).
pub async fn enter(s: &AppState, c: &Ctx, st: Started, full_to: &str) -> Response {
    if let Some(old) = c.token() {
        let old = sessions::token_hash(old);
        let _ = sessions::revoke(&s.pool, &old, s.engine.now()).await;
    }
    let to = match st.stage {
        Stage::Full if st.otp_address_required => "/me/otp-address",
        Stage::Full => full_to,
        other => page_of(other),
    };
    let mut res = c.redirect(to);
    cookies::renew(&mut res, &st.token);
    res
}

/// `POST /sign-in`.
pub async fn submit(State(s): State<AppState>, Source(ip): Source, req: Request) -> Response {
    let uri = req.uri().clone();
    let (c, f) = match Ctx::form(req).await {
        Ok(x) => x,
        Err(r) => return r,
    };
    let member = f.ticked("member");
    let login_id = f.text("login_id").trim().to_owned();
    let address = f.text("address").trim().to_owned();
    let mut p = Problems::default();
    if login_id.is_empty() {
        p.add(
            "login_id",
            c.l.pick("ログインIDを入力してください。", "Enter your login ID."),
        );
    }
    if member && address.is_empty() {
        p.add(
            "address",
            c.l.pick(
                "メールアドレスを入力してください。",
                "Enter your e-mail address.",
            ),
        );
    }
    if f.text("password").is_empty() {
        p.add(
            "password",
            c.l.pick("パスワードを入力してください。", "Enter your password."),
        );
    }
    let mut status = StatusCode::UNPROCESSABLE_ENTITY;
    if p.is_empty() {
        let password = Secret::new(f.text("password"));
        let address = member.then(|| address.clone());
        match flows::sign_in(&s, ip, login_id.clone(), password, address).await {
            Ok(st) => return enter(&s, &c, st, "/me").await,
            Err(r) => {
                status = refusal_status(&r);
                p.add("", refusal_message(c.l, &r));
            }
        }
    }
    let mut page = blank(&c, &uri, member);
    page.p = p;
    page.login_id = login_id;
    page.address = address;
    page.notice = None;
    sign_in_page(&c, status, page)
}

#[derive(Template)]
#[template(path = "pages/code.html")]
struct CodePage {
    c: Chrome,
    p: Problems,
    login_id: String,
    resent: bool,
}

/// `GET /sign-in/code`: 「ワンタイムパスワード認証」.
pub async fn code_form(
    State(s): State<AppState>,
    Source(ip): Source,
    headers: HeaderMap,
    uri: Uri,
) -> Response {
    let c = Ctx::new(&headers, &uri);
    let (_, u, _) = match super::signed_in(&s, &c, ip, &[Stage::Code]).await {
        Ok(x) => x,
        Err(r) => return r,
    };
    let resent = uri.query().is_some_and(|q| q.contains("resent=1"));
    let page = CodePage {
        c: c.chrome(
            c.l.pick("ワンタイムパスワード認証", "One-time password"),
            None,
        ),
        p: Problems::default(),
        login_id: u.login_id,
        resent,
    };
    c.html(StatusCode::OK, page.render())
}

/// `POST /sign-in/code`.
pub async fn code(State(s): State<AppState>, Source(ip): Source, req: Request) -> Response {
    let (c, f) = match Ctx::form(req).await {
        Ok(x) => x,
        Err(r) => return r,
    };
    // Full-width digits and spaces are the engine's to read (`normalise_code`).
    let code = f.text("code");
    let r = if code.is_empty() {
        Err(Refusal::Engine(kagiya_core::Error::OneTimeRefused))
    } else {
        flows::code(&s, ip, c.token(), Secret::new(code)).await
    };
    match r {
        Ok(st) => enter(&s, &c, st, "/me").await,
        Err(r @ (Refusal::NoSession | Refusal::WrongStep(_))) => super::session_refused(&c, r),
        Err(r) => {
            let mut p = Problems::default();
            p.add("code", refusal_message(c.l, &r));
            let page = CodePage {
                c: c.chrome(
                    c.l.pick("ワンタイムパスワード認証", "One-time password"),
                    None,
                ),
                p,
                login_id: f.text("username"),
                resent: false,
            };
            c.html(refusal_status(&r), page.render())
        }
    }
}

/// `POST /sign-in/code/resend`.
pub async fn resend(State(s): State<AppState>, Source(ip): Source, req: Request) -> Response {
    let (c, _) = match Ctx::form(req).await {
        Ok(x) => x,
        Err(r) => return r,
    };
    match flows::resend_code(&s, ip, c.token(), c.l).await {
        Ok(()) => c.redirect("/sign-in/code?resent=1"),
        Err(r @ (Refusal::NoSession | Refusal::WrongStep(_))) => super::session_refused(&c, r),
        Err(r) => problem_page(&c, r),
    }
}

/// `POST /sign-out`: the session ends here and in the browser.
pub async fn sign_out(State(s): State<AppState>, req: Request) -> Response {
    let (c, _) = match Ctx::form(req).await {
        Ok(x) => x,
        Err(r) => return r,
    };
    let all = [Stage::Code, Stage::Change, Stage::Full];
    if let Ok((sess, _, _)) = flows::session(&s, c.token(), None, &all).await {
        if let Err(e) = sessions::revoke(&s.pool, &sess.token_hash, s.engine.now()).await {
            return problem_page(&c, Refusal::Engine(e));
        }
    }
    let mut res = c.redirect("/sign-in?signed_out=1");
    cookies::set(&mut res, cookies::clear(cookies::SESSION));
    res
}
