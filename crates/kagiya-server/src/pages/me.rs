//! The user's own page (お客様情報): who they are, their passwords' expiry, 多要素認証 on or off
//! (seed 002: 「利用する」/「利用しない」), the one-time-password address asked for at the first
//! sign-in (seed 003), and their addresses — up to 10 (seed 002) — each with 電子署名 and
//! 受信メールの暗号化 and the certificate's status (seed 001: 「デジタルIDステータス」が
//! 「アップロードされました」). Every change is confirmed with the user's own password (the
//! confirmation password where the service has one).

use askama::Template;
use axum::extract::{Request, State};
use axum::http::{HeaderMap, StatusCode, Uri};
use axum::response::Response;
use kagiya_core::directory::{CertStatus, CredentialKind, Purpose, Tenant, User};
use kagiya_core::secret::Secret;
use kagiya_core::Lang;
use kagiya_engine::addresses::{AddressPassword, AddressView};
use kagiya_engine::ActorRef;

use super::{refusal_message, refusal_status, Chrome, Ctx, Problems};
use crate::api::Source;
use crate::flows::{self, run, Refusal};
use crate::http::AppState;
use crate::sessions::Stage;

/// The most addresses a login ID may have (seed 002: 「1ログインIDにつき10個まで」; the engine
/// refuses the eleventh).
pub const MAX_ADDRESSES: usize = 10;

/// One address as the page shows it.
pub struct AddressRow {
    pub index: usize,
    pub address: String,
    pub purposes: String,
    pub sign: bool,
    pub encrypt: bool,
    /// 「デジタルIDステータス」.
    pub status: String,
    pub certificate: Option<String>,
    pub pending_change: Option<String>,
    pub own_password: Option<String>,
}

/// One password's facts.
pub struct PasswordRow {
    pub name: &'static str,
    pub expires: String,
    pub state: String,
}

#[derive(Template)]
#[template(path = "pages/me.html")]
struct MePage {
    c: Chrome,
    p: Problems,
    notice: Option<String>,
    login_id: String,
    name: String,
    role: String,
    company: String,
    passwords: Vec<PasswordRow>,
    mfa: bool,
    /// Seed 003: Biz Mail requires it (no 「利用しない」).
    mfa_required: bool,
    addresses: Vec<AddressRow>,
    room: bool,
    /// The label of the password that confirms changes.
    confirm_label: &'static str,
    /// Seed 001's registration address, when the server receives certificates by mail.
    registration: Option<String>,
    /// The add / change / delete form had the problem: open, with what was typed.
    manage_open: bool,
    new_address: String,
    target: String,
}

fn purpose_label(l: Lang, p: Purpose) -> &'static str {
    match p {
        Purpose::Notifications => l.pick("通知", "notices"),
        Purpose::Otp => l.pick("ワンタイムパスワード", "one-time passwords"),
        Purpose::Reset => l.pick("パスワード再設定", "password reset"),
        Purpose::Forwarding => l.pick("転送先", "forwarding"),
    }
}

/// 「デジタルIDステータス」 of an address (seed 001 names 「アップロードされました」; the others
/// are ours, from the certificate's dates).
fn cert_status(l: Lang, s: CertStatus) -> String {
    match (s, l) {
        (CertStatus::None, _) => l.pick("未登録", "none").into(),
        (CertStatus::Registered, _) => l.pick("アップロードされました", "Uploaded").into(),
        (CertStatus::Expiring { days_left }, Lang::Ja) => {
            format!("アップロードされました（有効期限まで残り{days_left}日）")
        }
        (CertStatus::Expiring { days_left }, Lang::En) => {
            format!("Uploaded (expires in {days_left} days)")
        }
        (CertStatus::Expired, _) => l
            .pick(
                "有効期限切れ（新しい証明書を送ってください）",
                "Expired (send a new certificate)",
            )
            .into(),
    }
}

fn address_row(l: Lang, i: usize, a: &AddressView) -> AddressRow {
    AddressRow {
        index: i,
        address: a.address.clone(),
        purposes: a
            .purposes
            .iter()
            .map(|p| purpose_label(l, *p))
            .collect::<Vec<_>>()
            .join(l.pick("・", ", ")),
        sign: a.sign,
        encrypt: a.encrypt,
        status: cert_status(l, a.certificate),
        certificate: a
            .certificate_subject
            .as_ref()
            .map(|s| match a.certificate_not_after {
                Some(at) => format!(
                    "{s}（{}{}）",
                    l.pick("有効期限 ", "valid until "),
                    kagiya_mail::when(at, l)
                ),
                None => s.clone(),
            }),
        pending_change: a.pending_change.clone(),
        own_password: match a.password {
            AddressPassword::None => None,
            AddressPassword::Set => Some(l.pick("設定済み", "set").into()),
            AddressPassword::AwaitingSetup { .. } => Some(
                l.pick(
                    "設定待ち（パスワード設定依頼メールを送信しました）",
                    "waiting (the setup mail has been sent)",
                )
                .into(),
            ),
            AddressPassword::Locked { .. } => Some(l.pick("利用停止", "locked").into()),
        },
    }
}

/// The password that confirms a user's own changes.
pub fn confirm_label(l: Lang, t: &Tenant) -> &'static str {
    if t.uses(CredentialKind::Confirmation) {
        l.pick("確認用パスワード", "Confirmation password")
    } else {
        l.pick("パスワード", "Password")
    }
}

/// What the add / change / delete form held when it is shown again.
#[derive(Default)]
struct Manage {
    open: bool,
    new_address: String,
    target: String,
}

async fn me_page(
    s: &AppState,
    c: &Ctx,
    u: &User,
    t: &Tenant,
    p: Problems,
    notice: Option<String>,
    manage: Manage,
) -> Result<MePage, Response> {
    let (id, l) = (u.login_id.clone(), c.l);
    let (view, addresses) = run(s, move |e| {
        Ok((e.user_view(&id, l)?, e.address_views(&id)?))
    })
    .await
    .map_err(|e| super::problem_page(c, Refusal::Engine(e)))?;
    let expires = |at: Option<kagiya_core::Millis>| {
        at.map(|at| kagiya_mail::when(at, l))
            .unwrap_or_else(|| l.pick("なし", "none").into())
    };
    let mut passwords = vec![PasswordRow {
        name: super::passwords::kind_name(l, CredentialKind::Login),
        expires: expires(view.login.expires_at),
        state: view.login.label.clone(),
    }];
    if let Some(cv) = &view.confirmation {
        passwords.push(PasswordRow {
            name: super::passwords::kind_name(l, CredentialKind::Confirmation),
            expires: expires(cv.expires_at),
            state: cv.label.clone(),
        });
    }
    Ok(MePage {
        c: c.chrome(l.pick("お客様情報", "My account"), Some((u, t))),
        p,
        notice,
        login_id: u.login_id.clone(),
        name: u.name.clone(),
        role: view.role.clone(),
        company: t.name.clone(),
        passwords,
        mfa: u.mfa,
        mfa_required: !flows::mfa_optional(t),
        room: addresses.len() < MAX_ADDRESSES,
        addresses: addresses
            .iter()
            .enumerate()
            .map(|(i, a)| address_row(l, i, a))
            .collect(),
        confirm_label: confirm_label(l, t),
        registration: s.registration_address.clone(),
        manage_open: manage.open,
        new_address: manage.new_address,
        target: manage.target,
    })
}

/// A page of `me_page`, or the answer that replaces it.
fn me_html(c: &Ctx, status: StatusCode, page: Result<MePage, Response>) -> Response {
    match page {
        Ok(page) => c.html(status, page.render()),
        Err(r) => r,
    }
}

fn notice_of(l: Lang, uri: &Uri) -> Option<String> {
    let q = uri.query().unwrap_or("");
    let done = form_urlencoded::parse(q.as_bytes())
        .find(|(k, _)| k == "done")
        .map(|(_, v)| v.into_owned());
    let text = match done.as_deref() {
        Some("saved") => l.pick("保存しました。", "Saved."),
        Some("added") => l.pick(
            "メールアドレスを追加しました。追加したメールアドレス宛に案内メールが届きます。",
            "The address has been added. A mail with the next step goes to it.",
        ),
        Some("change_asked") => l.pick(
            "変更前のメールアドレスに「メールアドレス変更依頼受付」が届くため、本文記載のURLから手続きを行って下さい。",
            "A mail has gone to the current address: open its link to confirm the change.",
        ),
        Some("deleted") => l.pick(
            "メールアドレスを削除しました。削除したメールアドレス宛に通知が届きます。",
            "The address has been deleted. A notice goes to it.",
        ),
        Some("mfa_on") => l.pick(
            "多要素認証を「利用する」に変更しました。次回からログイン時にワンタイムパスワードを入力します。",
            "Two-step sign-in is on. From the next sign-in you will enter a one-time password.",
        ),
        Some("mfa_off") => l.pick("多要素認証を「利用しない」に変更しました。", "Two-step sign-in is off."),
        _ if q.contains("changed=1") => l.pick(
            "ご自身のパスワードが変更されました。パスワードの有効期限を確認してください。",
            "Your password has been changed. Check its expiry date below.",
        ),
        _ => return None,
    };
    Some(text.into())
}

/// `GET /me`.
pub async fn page(
    State(s): State<AppState>,
    Source(ip): Source,
    headers: HeaderMap,
    uri: Uri,
) -> Response {
    let c = Ctx::new(&headers, &uri);
    let (_, u, t) = match super::signed_in_full(&s, &c, ip).await {
        Ok(x) => x,
        Err(r) => return r,
    };
    let notice = notice_of(c.l, &uri);
    let page = me_page(
        &s,
        &c,
        &u,
        &t,
        Problems::default(),
        notice,
        Manage::default(),
    )
    .await;
    me_html(&c, StatusCode::OK, page)
}

/// `POST /me/addresses`: save the flags (`action=save`), add, ask to change or delete an
/// address, each confirmed with the user's own password.
pub async fn addresses(State(s): State<AppState>, Source(ip): Source, req: Request) -> Response {
    let (c, f) = match Ctx::form(req).await {
        Ok(x) => x,
        Err(r) => return r,
    };
    let (_, u, t) = match super::signed_in_full(&s, &c, ip).await {
        Ok(x) => x,
        Err(r) => return r,
    };
    let action = f.text("action");
    // The flags form (`save`) or the add / change / delete form: each has its own password.
    let manage = action != "save";
    let r = flows::counted(&s, "own_addresses", async {
        flows::throttle(&s, crate::throttle::Kind::Account, ip, &u.login_id)?;
        let id = u.login_id.clone();
        let password = Secret::new(f.text("password"));
        let action = action.clone();
        let listed: Vec<String> = f.all("address");
        let target = f.text("target");
        let new_address = f.text("new_address");
        let purposes: Vec<Purpose> = f
            .all("purpose")
            .iter()
            .filter_map(|p| Purpose::parse(p))
            .collect();
        let flags: Vec<(String, bool, bool)> = listed
            .iter()
            .enumerate()
            .map(|(i, a)| {
                (
                    a.clone(),
                    f.ticked(&format!("sign_{i}")),
                    f.ticked(&format!("encrypt_{i}")),
                )
            })
            .collect();
        run(&s, move |e| {
            let me = ActorRef::User(id.clone());
            match action.as_str() {
                "add" => {
                    let purposes = if purposes.is_empty() {
                        vec![Purpose::Notifications]
                    } else {
                        purposes
                    };
                    e.add_address(&me, &password, &id, &new_address, &purposes)?;
                    Ok("added")
                }
                "change" => {
                    e.request_address_change(&me, &password, &id, &target, &new_address)?;
                    Ok("change_asked")
                }
                "delete" => {
                    e.delete_address(&me, &password, &id, &target)?;
                    Ok("deleted")
                }
                _ => {
                    let current = e.address_views(&id)?;
                    // Only what changed is written, each confirmed by the same password.
                    let mut changed: Vec<&(String, bool, bool)> = flags
                        .iter()
                        .filter(|(a, sign, enc)| {
                            current.iter().any(|v| {
                                v.address.eq_ignore_ascii_case(a)
                                    && (v.sign != *sign || v.encrypt != *enc)
                            })
                        })
                        .collect();
                    if changed.is_empty() {
                        // Nothing to write; the password is still checked (and counted).
                        e.confirm(&me, &password, "set_address_flags").map(|_| ())?;
                    }
                    for (a, sign, enc) in changed.drain(..) {
                        e.set_address_flags(&me, &password, &id, a, *sign, *enc)?;
                    }
                    Ok("saved")
                }
            }
        })
        .await
        .map_err(Refusal::from)
    })
    .await;
    match r {
        Ok(done) => c.redirect(&format!("/me?done={done}")),
        Err(r @ (Refusal::NoSession | Refusal::WrongStep(_))) => super::session_refused(&c, r),
        Err(r) => {
            let mut p = Problems::default();
            let at = match (&r, manage) {
                (Refusal::Engine(e), true) if e.kind() == kagiya_core::ErrorKind::Invalid => {
                    "new_address"
                }
                (_, true) => super::field_of(&r, "address_password"),
                (_, false) => super::field_of(&r, "password"),
            };
            p.add(at, refusal_message(c.l, &r));
            let held = Manage {
                open: manage,
                new_address: f.text("new_address"),
                target: f.text("target"),
            };
            let page = me_page(&s, &c, &u, &t, p, None, held).await;
            me_html(&c, refusal_status(&r), page)
        }
    }
}

#[derive(Template)]
#[template(path = "pages/otp.html")]
struct OtpPage {
    c: Chrome,
    p: Problems,
    /// Seed 003's first sign-in (rather than a choice from the user's page).
    first: bool,
    /// The code has been sent to `address`; the code's form is shown.
    sent: bool,
    address: String,
    login_id: String,
    confirm_label: &'static str,
}

fn otp_page(c: &Ctx, u: &User, t: &Tenant, p: Problems, sent: bool, address: String) -> OtpPage {
    OtpPage {
        c: c.chrome(
            c.l.pick(
                "多要素認証用メールアドレスの登録",
                "One-time password address",
            ),
            Some((u, t)),
        ),
        p,
        first: flows::otp_address_required(u, t),
        sent,
        address,
        login_id: u.login_id.clone(),
        confirm_label: confirm_label(c.l, t),
    }
}

/// `GET /me/otp-address`: seed 003 「初回ログイン時に、多要素認証用(ワンタイムパスワード)メール
/// アドレスの登録が求められます」, and seed 002's 多要素認証を「利用する」.
pub async fn otp_form(
    State(s): State<AppState>,
    Source(ip): Source,
    headers: HeaderMap,
    uri: Uri,
) -> Response {
    let c = Ctx::new(&headers, &uri);
    let (_, u, t) = match super::signed_in(&s, &c, ip, &[Stage::Full]).await {
        Ok(x) => x,
        Err(r) => return r,
    };
    let page = otp_page(&c, &u, &t, Problems::default(), false, String::new());
    c.html(StatusCode::OK, page.render())
}

/// `POST /me/otp-address`: the address and the user's password; a code goes to the address.
pub async fn otp_register(State(s): State<AppState>, Source(ip): Source, req: Request) -> Response {
    let (c, f) = match Ctx::form(req).await {
        Ok(x) => x,
        Err(r) => return r,
    };
    let (_, u, t) = match super::signed_in(&s, &c, ip, &[Stage::Full]).await {
        Ok(x) => x,
        Err(r) => return r,
    };
    let address = f.text("address").trim().to_owned();
    let mut p = Problems::default();
    if address.is_empty() {
        p.add(
            "address",
            c.l.pick(
                "メールアドレスを入力してください。",
                "Enter an e-mail address.",
            ),
        );
    }
    let mut status = StatusCode::UNPROCESSABLE_ENTITY;
    if p.is_empty() {
        let password = Secret::new(f.text("password"));
        match flows::register_otp_address(&s, ip, c.token(), address.clone(), password).await {
            Ok(()) => {
                let page = otp_page(&c, &u, &t, Problems::default(), true, address);
                return c.html(StatusCode::OK, page.render());
            }
            Err(r @ (Refusal::NoSession | Refusal::WrongStep(_))) => {
                return super::session_refused(&c, r)
            }
            Err(r) => {
                status = refusal_status(&r);
                let at = match &r {
                    Refusal::Engine(e) if e.kind() == kagiya_core::ErrorKind::Invalid => "address",
                    _ => super::field_of(&r, "password"),
                };
                p.add(at, refusal_message(c.l, &r));
            }
        }
    }
    let page = otp_page(&c, &u, &t, p, false, address);
    c.html(status, page.render())
}

/// `POST /me/otp-address/confirm`: the code from the mail; 2FA is on, and the session renewed.
pub async fn otp_confirm(State(s): State<AppState>, Source(ip): Source, req: Request) -> Response {
    let (c, f) = match Ctx::form(req).await {
        Ok(x) => x,
        Err(r) => return r,
    };
    let address = f.text("address");
    let code = f.text("code");
    match flows::confirm_otp_address(&s, ip, c.token(), address.clone(), Secret::new(code)).await {
        Ok(st) => super::sign_in::enter(&s, &c, st, "/me?done=mfa_on").await,
        Err(r @ (Refusal::NoSession | Refusal::WrongStep(_))) => super::session_refused(&c, r),
        Err(r) => {
            let (_, u, t) = match super::signed_in(&s, &c, ip, &[Stage::Full]).await {
                Ok(x) => x,
                Err(res) => return res,
            };
            let mut p = Problems::default();
            p.add("code", refusal_message(c.l, &r));
            let page = otp_page(&c, &u, &t, p, true, address);
            c.html(refusal_status(&r), page.render())
        }
    }
}

/// `POST /me/mfa-off`: 多要素認証を「利用しない」 (not for Biz Mail, where it is required).
pub async fn mfa_off(State(s): State<AppState>, Source(ip): Source, req: Request) -> Response {
    let (c, f) = match Ctx::form(req).await {
        Ok(x) => x,
        Err(r) => return r,
    };
    let (_, u, t) = match super::signed_in_full(&s, &c, ip).await {
        Ok(x) => x,
        Err(r) => return r,
    };
    let r = flows::counted(&s, "mfa_off", async {
        if !flows::mfa_optional(&t) {
            return Err(Refusal::Engine(kagiya_core::Error::MfaRule(
                "required_by_service",
            )));
        }
        flows::throttle(&s, crate::throttle::Kind::Account, ip, &u.login_id)?;
        let id = u.login_id.clone();
        let password = Secret::new(f.text("password"));
        run(&s, move |e| {
            e.disable_mfa(&ActorRef::User(id.clone()), &password, &id)
                .map(|_| ())
        })
        .await
        .map_err(Refusal::from)
    })
    .await;
    match r {
        Ok(()) => c.redirect("/me?done=mfa_off"),
        Err(r) => {
            let mut p = Problems::default();
            p.add("mfa_password", refusal_message(c.l, &r));
            let page = me_page(&s, &c, &u, &t, p, None, Manage::default()).await;
            me_html(&c, refusal_status(&r), page)
        }
    }
}
