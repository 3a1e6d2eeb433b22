//! The pages the mails lead to, and the reset request (seed 000): 「ユーザID、登録されている
//! メールアドレスを入力」, answered alike whether or not they match; the link's page sets the new
//! password (「新しいパスワードを保存」) and never signs in by itself. Seed 002's address setup
//! (the added address's own password) and the change confirmed from the old address.
//!
//! Opening a link (GET) uses nothing: mail scanners fetch links. The token goes back in the
//! form's POST and dies there, and no page sends a Referer (`Referrer-Policy: no-referrer`).

use askama::Template;
use axum::extract::{Request, State};
use axum::http::{HeaderMap, StatusCode, Uri};
use axum::response::Response;
use kagiya_core::directory::CredentialKind;
use kagiya_core::mail::MailKind;
use kagiya_core::password::RuleStatus;
use kagiya_core::secret::Secret;
use kagiya_core::Error;

use super::{refusal_message, refusal_status, Chrome, Ctx, Fields, Problems};
use crate::api::Source;
use crate::flows::{self, Refusal};
use crate::http::AppState;

/// The `token` of a link's query.
fn token_of(uri: &Uri) -> Option<String> {
    uri.query().and_then(|q| {
        form_urlencoded::parse(q.as_bytes())
            .find(|(k, _)| k == "token")
            .map(|(_, v)| v.into_owned())
            .filter(|t| !t.is_empty() && t.len() <= 128)
    })
}

#[derive(Template)]
#[template(path = "pages/reset_request.html")]
struct RequestPage {
    c: Chrome,
    p: Problems,
    login_id: String,
    address: String,
}

#[derive(Template)]
#[template(path = "pages/new_password.html")]
struct NewPasswordPage {
    c: Chrome,
    p: Problems,
    /// The form's action.
    action: &'static str,
    /// `reset` or `setup` (the rules endpoint's `link`).
    link: &'static str,
    token: String,
    login_id: String,
    rules: Vec<RuleStatus>,
    intro: &'static str,
    button: &'static str,
    note: Option<&'static str>,
}

/// The form of a link whose secret still waits for `owner` (login ID, address).
async fn new_password_page(
    s: &AppState,
    c: &Ctx,
    kind: MailKind,
    token: String,
    owner: (String, String),
    p: Problems,
) -> NewPasswordPage {
    let (login_id, address) = owner;
    // A setup link sets the address's own password: its rules are checked against that address.
    let own = (kind == MailKind::AddressSetup).then_some(address);
    let rules =
        super::passwords::checklist(s, &login_id, CredentialKind::Login, String::new(), own, c.l)
            .await;
    let l = c.l;
    let (title, action, link) = match kind {
        MailKind::AddressSetup => (
            l.pick("パスワード設定", "Set your password"),
            "/address-setup",
            "setup",
        ),
        _ => (
            l.pick("パスワード変更(リセット)", "Password reset"),
            "/password-reset",
            "reset",
        ),
    };
    let mut chrome = c.chrome(title, None);
    // The switch keeps the form (a refused save is shown at the form's bare path).
    let query = form_urlencoded::Serializer::new(String::new())
        .append_pair("token", &token)
        .append_pair("lang", l.pick("en", "ja"))
        .finish();
    chrome.switch_href = format!("{action}?{query}");
    let setup = kind == MailKind::AddressSetup;
    NewPasswordPage {
        c: chrome,
        p,
        action,
        link,
        token,
        login_id,
        rules,
        intro: if setup {
            l.pick(
                "このメールアドレスでログインするときのパスワードを設定してください。",
                "Set the password you will sign in with at this e-mail address.",
            )
        } else {
            l.pick(
                "新しいパスワードを入力してください。",
                "Enter your new password.",
            )
        },
        button: if setup {
            l.pick("パスワードを設定", "Set password")
        } else {
            l.pick("新しいパスワードを保存", "Save new password")
        },
        note: (!setup).then(|| {
            l.pick(
                "※この操作で以前のパスワードはリセットされて無効となります。",
                "Your previous password stops working when you save.",
            )
        }),
    }
}

/// The page of a link that cannot be used (used, expired, replaced, or never one): nothing of
/// its user is shown (seed 000: the URL 「一定時間経過後に無効となります」; start again).
fn dead_link(c: &Ctx, r: Refusal) -> Response {
    super::problem_page(c, r)
}

/// The page a link of `kind` opens: its form when the link is still good.
async fn link_page(
    s: &AppState,
    c: &Ctx,
    ip: std::net::IpAddr,
    kind: MailKind,
    token: String,
) -> Response {
    match flows::live_link(s, ip, kind, token.clone()).await {
        Ok(owner) => {
            let page = new_password_page(s, c, kind, token, owner, Problems::default()).await;
            c.html(StatusCode::OK, page.render())
        }
        Err(r) => dead_link(c, r),
    }
}

/// `GET /password-reset`: the request form, or with `?token=` the new password's form.
pub async fn reset_form(
    State(s): State<AppState>,
    Source(ip): Source,
    headers: HeaderMap,
    uri: Uri,
) -> Response {
    let c = Ctx::new(&headers, &uri);
    if let Some(token) = token_of(&uri) {
        return link_page(&s, &c, ip, MailKind::PasswordReset, token).await;
    }
    let page = RequestPage {
        c: c.chrome(c.l.pick("パスワード変更(リセット)", "Password reset"), None),
        p: Problems::default(),
        login_id: String::new(),
        address: String::new(),
    };
    c.html(StatusCode::OK, page.render())
}

/// The new password of a link's form, typed twice.
fn new_password(c: &Ctx, f: &Fields) -> Result<Secret, Problems> {
    let (new, again) = (f.text("password"), f.text("password2"));
    let mut p = Problems::default();
    if new.is_empty() {
        p.add(
            "password",
            c.l.pick(
                "新しいパスワードを入力してください。",
                "Enter the new password.",
            ),
        );
    } else if new != again {
        p.add("password2", Error::PasswordRepeatMismatch.message(c.l));
    }
    if p.is_empty() {
        Ok(Secret::new(new))
    } else {
        Err(p)
    }
}

/// `POST /password-reset`: a request (login ID and address) or, with `token`, the new password.
pub async fn reset(State(s): State<AppState>, Source(ip): Source, req: Request) -> Response {
    let (c, f) = match Ctx::form(req).await {
        Ok(x) => x,
        Err(r) => return r,
    };
    if let Some(token) = f.get("token").map(str::to_owned) {
        return link_password(&s, &c, &f, MailKind::PasswordReset, token, ip).await;
    }
    let start = std::time::Instant::now();
    let login_id = f.text("login_id").trim().to_owned();
    let address = f.text("address").trim().to_owned();
    let mut p = Problems::default();
    if login_id.is_empty() {
        p.add(
            "login_id",
            c.l.pick("ユーザIDを入力してください。", "Enter your login ID."),
        );
    }
    if address.is_empty() {
        p.add(
            "address",
            c.l.pick(
                "登録されているメールアドレスを入力してください。",
                "Enter your registered e-mail address.",
            ),
        );
    }
    let mut status = StatusCode::UNPROCESSABLE_ENTITY;
    if p.is_empty() {
        match flows::request_reset(&s, ip, login_id.clone(), address.clone(), c.l) {
            Ok(()) => {
                let floor = std::time::Duration::from_millis(flows::RESET_FLOOR_MS);
                tokio::time::sleep(floor.saturating_sub(start.elapsed())).await;
                return c.message(
                    StatusCode::OK,
                    c.l.pick("パスワード変更(リセット)", "Password reset"),
                    crate::api::mail::reset_asked(c.l),
                );
            }
            Err(r) => {
                status = refusal_status(&r);
                p.add("", refusal_message(c.l, &r));
            }
        }
    }
    let page = RequestPage {
        c: c.chrome(c.l.pick("パスワード変更(リセット)", "Password reset"), None),
        p,
        login_id,
        address,
    };
    c.html(status, page.render())
}

/// Sets the password a link of `kind` is for; on success the next page, else the form again
/// with the problem (the link stays usable when only the password was refused).
async fn link_password(
    s: &AppState,
    c: &Ctx,
    f: &Fields,
    kind: MailKind,
    token: String,
    ip: std::net::IpAddr,
) -> Response {
    let (p, status) = match new_password(c, f) {
        Err(p) => (p, StatusCode::UNPROCESSABLE_ENTITY),
        Ok(pw) => {
            let r = match kind {
                MailKind::AddressSetup => {
                    flows::complete_address_setup(s, ip, token.clone(), pw).await
                }
                _ => flows::complete_reset(s, ip, token.clone(), pw).await,
            };
            match r {
                Ok(()) => {
                    return match kind {
                        MailKind::AddressSetup => c.message(
                            StatusCode::OK,
                            c.l.pick("パスワード設定", "Set your password"),
                            c.l.pick(
                                "パスワードを設定しました。ログインID、メールアドレス、パスワードでログインしてください。",
                                "Your password is set. Sign in with your login ID, this e-mail address and the password.",
                            ),
                        ),
                        _ => c.redirect("/sign-in?changed=1"),
                    };
                }
                Err(r) => {
                    let mut p = Problems::default();
                    let at = match &r {
                        Refusal::Engine(Error::PasswordPolicy(_)) => "password",
                        _ => "",
                    };
                    p.add(at, refusal_message(c.l, &r));
                    (p, refusal_status(&r))
                }
            }
        }
    };
    // The form again while the link still waits (only the password was refused); else the link
    // is spent.
    match flows::pending_link(s, kind, &token).await {
        Some(owner) => {
            let page = new_password_page(s, c, kind, token, owner, p).await;
            c.html(status, page.render())
        }
        None => dead_link(c, Refusal::Engine(Error::OneTimeRefused)),
    }
}

/// `GET /address-setup?token=`: seed 002 「メール本文に記載のURLから、新しくパスワードを設定」.
pub async fn setup_form(
    State(s): State<AppState>,
    Source(ip): Source,
    headers: HeaderMap,
    uri: Uri,
) -> Response {
    let c = Ctx::new(&headers, &uri);
    let Some(token) = token_of(&uri) else {
        return dead_link(&c, Refusal::Engine(Error::OneTimeRefused));
    };
    link_page(&s, &c, ip, MailKind::AddressSetup, token).await
}

/// `POST /address-setup`.
pub async fn setup(State(s): State<AppState>, Source(ip): Source, req: Request) -> Response {
    let (c, f) = match Ctx::form(req).await {
        Ok(x) => x,
        Err(r) => return r,
    };
    let token = f.text("token");
    link_password(&s, &c, &f, MailKind::AddressSetup, token, ip).await
}

#[derive(Template)]
#[template(path = "pages/address_change.html")]
struct ChangeConfirmPage {
    c: Chrome,
    token: String,
}

/// `GET /address-change?token=`: the button that confirms (seed 002: 「変更前のメールアドレスに、
/// 「メールアドレス変更依頼受付」が届くため、本文記載のURLから手続きを行って下さい」).
pub async fn change_form(
    State(s): State<AppState>,
    Source(ip): Source,
    headers: HeaderMap,
    uri: Uri,
) -> Response {
    let c = Ctx::new(&headers, &uri);
    let Some(token) = token_of(&uri) else {
        return dead_link(&c, Refusal::Engine(Error::OneTimeRefused));
    };
    if let Err(r) = flows::live_link(&s, ip, MailKind::AddressChange, token.clone()).await {
        return dead_link(&c, r);
    }
    let page = ChangeConfirmPage {
        c: c.chrome(
            c.l.pick("メールアドレス変更の確認", "Confirm the address change"),
            None,
        ),
        token,
    };
    c.html(StatusCode::OK, page.render())
}

/// `POST /address-change`.
pub async fn change(State(s): State<AppState>, Source(ip): Source, req: Request) -> Response {
    let (c, f) = match Ctx::form(req).await {
        Ok(x) => x,
        Err(r) => return r,
    };
    match flows::confirm_address_change(&s, ip, f.text("token")).await {
        Ok(()) => c.message(
            StatusCode::OK,
            c.l.pick("メールアドレス変更の確認", "Confirm the address change"),
            c.l.pick(
                "メールアドレスを変更しました。新しいメールアドレスに通知が届くようになります。",
                "The e-mail address has been changed. Mails now go to the new address.",
            ),
        ),
        Err(r) => super::problem_page(&c, r),
    }
}
