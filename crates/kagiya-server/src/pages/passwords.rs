//! The user's own password change: seed 004 §2.4 パスワード強制変更 (the passwords an
//! administrator set, shown alone, each changed from the one the administrator communicated),
//! §2.5 パスワード期限切れ (the expired ones, with 変更要否 for the others), and a change by
//! choice from the user's page. Each new password is typed twice and its rules are shown — and
//! ticked as it is typed, by asking the server (`/password/rules`), which decides.

use askama::Template;
use axum::extract::{Request, State};
use axum::http::{HeaderMap, StatusCode, Uri};
use axum::response::{IntoResponse, Json, Response};
use kagiya_core::directory::{CredentialKind, Tenant, User};
use kagiya_core::mail::MailKind;
use kagiya_core::password::RuleStatus;
use kagiya_core::secret::Secret;
use kagiya_core::{Error, Lang};
use kagiya_engine::ChangeOwn;

use super::{refusal_message, refusal_status, Chrome, Ctx, Problems};
use crate::api::Source;
use crate::flows::{self, run, Refusal};
use crate::http::AppState;
use crate::sessions::Stage;

/// Why the page is shown.
#[derive(Clone, Copy, PartialEq, Eq)]
pub enum Why {
    /// §2.4: an administrator set the password.
    Forced,
    /// §2.5: it has expired.
    Expired,
    /// The user chose to.
    Choice,
}

/// One password on the page.
pub struct Part {
    /// `login` or `confirmation` (the fields' prefix).
    pub key: &'static str,
    /// 「ログインパスワード」 / 「確認用パスワード」.
    pub name: &'static str,
    /// It must change (no 変更要否 choice).
    pub owed: bool,
    /// The choice made (変更する) when it is not owed.
    pub chosen: bool,
    /// The rules, as a list to tick.
    pub rules: Vec<RuleStatus>,
    /// The rules were checked against what was typed (✓/✗ shown without JavaScript).
    pub checked: bool,
}

#[derive(Template)]
#[template(path = "pages/change.html")]
struct ChangePage {
    c: Chrome,
    p: Problems,
    why: Why,
    login_id: String,
    parts: Vec<Part>,
}

impl ChangePage {
    fn forced(&self) -> bool {
        self.why == Why::Forced
    }
}

/// The fields' prefix of a password.
pub fn kind_key(k: CredentialKind) -> &'static str {
    match k {
        CredentialKind::Login => "login",
        CredentialKind::Confirmation => "confirmation",
    }
}

/// The name of a password in seed 004's words.
pub fn kind_name(l: Lang, k: CredentialKind) -> &'static str {
    match k {
        CredentialKind::Login => l.pick("ログインパスワード", "login password"),
        CredentialKind::Confirmation => l.pick("確認用パスワード", "confirmation password"),
    }
}

/// The page for `u`: the owed passwords, and why.
async fn page(
    s: &AppState,
    c: &Ctx,
    u: &User,
    t: &Tenant,
    chosen: &[CredentialKind],
    typed: &[(CredentialKind, String)],
) -> ChangePage {
    let now = s.engine.now();
    let owed = flows::must_change(u, t, now);
    let why = if owed.iter().any(|k| u.credential(*k).must_change) {
        Why::Forced
    } else if owed.is_empty() {
        Why::Choice
    } else {
        Why::Expired
    };
    let title = match why {
        Why::Forced => c.l.pick("パスワード強制変更", "Forced password change"),
        Why::Expired => c.l.pick("パスワード期限切れ", "Password expired"),
        Why::Choice => c.l.pick("パスワード変更", "Change password"),
    };
    let mut parts = Vec::new();
    // §2.4: 「変更対象のパスワードが表示されます」 — only the forced ones.
    for k in t
        .credentials()
        .iter()
        .copied()
        .filter(|k| why != Why::Forced || owed.contains(k))
    {
        let typed = typed
            .iter()
            .find(|(kind, _)| *kind == k)
            .map(|(_, pw)| pw.clone())
            .filter(|pw| !pw.is_empty());
        let checked = typed.is_some();
        let rules = checklist(s, &u.login_id, k, typed.unwrap_or_default(), None, c.l).await;
        parts.push(Part {
            checked,
            key: kind_key(k),
            name: kind_name(c.l, k),
            owed: owed.contains(&k),
            chosen: chosen.contains(&k),
            rules,
        });
    }
    ChangePage {
        c: c.chrome(title, Some((u, t))),
        p: Problems::default(),
        why,
        login_id: u.login_id.clone(),
        parts,
    }
}

/// The user of a change page: a session at the change step, or a complete one (which registers
/// the one-time-password address first where the service asks for it, seed 003).
async fn changer(s: &AppState, c: &Ctx, ip: std::net::IpAddr) -> Result<(User, Tenant), Response> {
    let (sess, u, t) = super::signed_in(s, c, ip, &[Stage::Change, Stage::Full]).await?;
    if sess.stage == Stage::Full && flows::otp_address_required(&u, &t) {
        return Err(c.redirect("/me/otp-address"));
    }
    Ok((u, t))
}

/// `GET /password/change`.
pub async fn change_form(
    State(s): State<AppState>,
    Source(ip): Source,
    headers: HeaderMap,
    uri: Uri,
) -> Response {
    let c = Ctx::new(&headers, &uri);
    let (u, t) = match changer(&s, &c, ip).await {
        Ok(x) => x,
        Err(r) => return r,
    };
    let p = page(&s, &c, &u, &t, &[], &[]).await;
    c.html(StatusCode::OK, p.render())
}

/// `POST /password/change`.
pub async fn change(State(s): State<AppState>, Source(ip): Source, req: Request) -> Response {
    let (c, f) = match Ctx::form(req).await {
        Ok(x) => x,
        Err(r) => return r,
    };
    let (u, t) = match changer(&s, &c, ip).await {
        Ok(x) => x,
        Err(r) => return r,
    };
    let owed = flows::must_change(&u, &t, s.engine.now());
    let mut p = Problems::default();
    let mut change = ChangeOwn {
        login: None,
        confirmation: None,
    };
    let mut chosen = Vec::new();
    let mut typed = Vec::new();
    for k in t.credentials().iter().copied() {
        let key = kind_key(k);
        let wanted = owed.contains(&k) || f.get(&format!("{key}_change")) == Some("yes");
        if !wanted {
            continue;
        }
        chosen.push(k);
        let (current, new, again) = (
            f.text(&format!("{key}_current")),
            f.text(&format!("{key}_new")),
            f.text(&format!("{key}_new2")),
        );
        let name = kind_name(c.l, k);
        typed.push((k, new.clone()));
        if current.is_empty() {
            p.add(
                field(key, "current"),
                match c.l {
                    Lang::Ja => format!("現在の{name}を入力してください。"),
                    Lang::En => format!("Enter your current {name}."),
                },
            );
        }
        if new.is_empty() {
            p.add(
                field(key, "new"),
                match c.l {
                    Lang::Ja => format!("新しい{name}を入力してください。"),
                    Lang::En => format!("Enter the new {name}."),
                },
            );
        } else if new != again {
            p.add(
                field(key, "new2"),
                Error::PasswordRepeatMismatch.message(c.l),
            );
        }
        let pair = Some((Secret::new(current), Secret::new(new)));
        match k {
            CredentialKind::Login => change.login = pair,
            CredentialKind::Confirmation => change.confirmation = pair,
        }
    }
    if chosen.is_empty() {
        p.add(
            "",
            c.l.pick(
                "変更するパスワードを選んでください。",
                "Choose a password to change.",
            ),
        );
    }
    let mut status = StatusCode::UNPROCESSABLE_ENTITY;
    if p.is_empty() {
        match flows::change_passwords(&s, ip, c.token(), change).await {
            Ok(st) => return super::sign_in::enter(&s, &c, st, "/me?changed=1").await,
            Err(r @ (Refusal::NoSession | Refusal::WrongStep(_))) => {
                return super::session_refused(&c, r)
            }
            Err(r) => {
                status = refusal_status(&r);
                // One password changed: the problem is that one's; with both, the summary says
                // which rule or password was wrong.
                match (&r, chosen.as_slice()) {
                    (Refusal::Engine(Error::PasswordPolicy(codes)), [k]) => {
                        let pw = typed.iter().find(|(x, _)| x == k).map(|(_, pw)| pw.clone());
                        let text = broken(&s, &u, &t, *k, pw.unwrap_or_default(), codes, c.l).await;
                        p.add(field(kind_key(*k), "new"), text);
                    }
                    (_, [k]) => {
                        let at = super::field_of(&r, field(kind_key(*k), "current"));
                        p.add(at, refusal_message(c.l, &r));
                    }
                    _ => p.add("", refusal_message(c.l, &r)),
                }
            }
        }
    }
    let mut page = page(&s, &c, &u, &t, &chosen, &typed).await;
    page.p = p;
    c.html(status, page.render())
}

/// The checklist of `password` as `login_id`'s new `kind` password.
pub async fn checklist(
    s: &AppState,
    login_id: &str,
    kind: CredentialKind,
    password: String,
    address: Option<String>,
    l: Lang,
) -> Vec<RuleStatus> {
    let id = login_id.to_owned();
    run(s, move |e| {
        e.own_policy_check(&id, kind, &password, address.as_deref(), l)
    })
    .await
    .unwrap_or_default()
}

/// The message for a refused new password: the rules it breaks, in words (those the checklist
/// knows, and the ones that need the stored passwords — not the current one, not a recent one).
pub async fn broken(
    s: &AppState,
    u: &User,
    t: &Tenant,
    kind: CredentialKind,
    password: String,
    codes: &[&'static str],
    l: Lang,
) -> String {
    let list = checklist(s, &u.login_id, kind, password, None, l).await;
    let policy = &t.policy(kind).password;
    let words: Vec<String> = codes
        .iter()
        .map(
            |code| match (list.iter().find(|r| r.code == *code), *code) {
                (Some(r), _) => r.label.clone(),
                // Seed 004: the login and confirmation passwords must differ.
                (None, "password.differs_from_login") => match kind {
                    CredentialKind::Login => l.pick(
                        "確認用パスワードと異なる",
                        "Differs from the confirmation password",
                    ),
                    CredentialKind::Confirmation => l.pick(
                        "ログインパスワードと異なる",
                        "Differs from the login password",
                    ),
                }
                .to_owned(),
                (None, "password.not_current" | "password.not_initial" | "password.not_recent") => {
                    kagiya_core::password::reuse::reuse_label(code, policy, l)
                }
                (None, other) => other.to_owned(),
            },
        )
        .collect();
    let name = kind_name(l, kind);
    match l {
        Lang::Ja => format!(
            "新しい{name}が次の条件を満たしていません：{}",
            words.join("、")
        ),
        Lang::En => format!("The new {name} breaks these rules: {}", words.join("; ")),
    }
}

/// The id of a field (`login_new`, …).
pub fn field(key: &str, what: &str) -> &'static str {
    match (key, what) {
        ("login", "current") => "login_current",
        ("login", "new") => "login_new",
        ("login", "new2") => "login_new2",
        ("confirmation", "current") => "confirmation_current",
        ("confirmation", "new") => "confirmation_new",
        ("confirmation", "new2") => "confirmation_new2",
        _ => "",
    }
}

/// The longest password the rules endpoint reads (every policy's maximum is at most 256).
const MAX_CHECKED: usize = 256;

/// `POST /password/rules`: the checklist of a new password as it is typed — for the signed-in
/// user, or for the user a reset or setup link (`token`, `link`) was mailed to. Nothing is stored,
/// used or counted; the rules that need the stored passwords are checked at the save.
pub async fn rules(State(s): State<AppState>, Source(ip): Source, req: Request) -> Response {
    let (c, f) = match Ctx::form(req).await {
        Ok(x) => x,
        Err(r) => return r,
    };
    let kind = match f.get("kind") {
        Some("confirmation") => CredentialKind::Confirmation,
        _ => CredentialKind::Login,
    };
    // A link's page: the user the link waits for (and, for a setup link, its address, whose
    // own password it is); else the signed-in user.
    let who = match (f.get("token"), f.get("link")) {
        (Some(token), Some(link)) => {
            let (mail, own) = match link {
                "setup" => (MailKind::AddressSetup, true),
                _ => (MailKind::PasswordReset, false),
            };
            flows::pending_link(&s, mail, token)
                .await
                .map(|(id, address)| (id, own.then_some(address)))
        }
        _ => flows::session(&s, c.token(), Some(ip), &[Stage::Change, Stage::Full])
            .await
            .ok()
            .map(|(_, u, _)| (u.login_id, None)),
    };
    let Some((login_id, address)) = who else {
        return StatusCode::UNAUTHORIZED.into_response();
    };
    let password: String = f.text("password").chars().take(MAX_CHECKED).collect();
    let l = c.l;
    let checked = run(&s, move |e| {
        e.own_policy_check(&login_id, kind, &password, address.as_deref(), l)
    });
    match checked.await {
        Ok(list) => Json(list).into_response(),
        Err(_) => StatusCode::UNAUTHORIZED.into_response(),
    }
}
