//! The customers' masters and admins (seed 004): 利用者停止・解除一覧 — the users with their
//! states, several ticked and released at once with the acting user's own 確認用パスワード, and
//! the 利用者停止・解除結果 table (§2.2); 他ユーザのパスワード変更 — per password 変更する/変更しない
//! and 「ログイン時に強制変更する」, a 内容確認 step, then 実行 with the acting user's own password
//! (§2.3). The steps are the API's (`flows::unlock`, `flows::set_user_passwords`); the engine's
//! authorization decides who may touch whom, as at the branch.

use askama::Template;
use axum::extract::{Path, Request, State};
use axum::http::{HeaderMap, StatusCode, Uri};
use axum::response::Response;
use kagiya_core::directory::authz::{authorize, Action, Actor};
use kagiya_core::directory::{CredentialKind, Tenant, User};
use kagiya_core::secret::Secret;
use kagiya_core::{Error, Lang};
use kagiya_engine::views::UserView;
use kagiya_engine::{NewPassword, SetPasswords, UnlockOutcome, UnlockRow};

use super::{field_of, refusal_message, refusal_status, Chrome, Ctx, Fields, Problems};
use crate::api::Source;
use crate::flows::{self, run, Refusal};
use crate::http::AppState;

/// One user in the list.
pub struct Row {
    pub login_id: String,
    pub name: String,
    pub role: String,
    pub service_state: String,
    pub login: String,
    pub confirmation: Option<String>,
    pub locked: bool,
    pub me: bool,
    /// The acting user may set this user's passwords (§2.3).
    pub manageable: bool,
}

fn row(v: &UserView, me: &str, manageable: bool) -> Row {
    Row {
        login_id: v.login_id.clone(),
        name: v.name.clone(),
        role: v.role.clone(),
        service_state: v.service_state.clone(),
        login: v.login.label.clone(),
        confirmation: v.confirmation.as_ref().map(|c| c.label.clone()),
        locked: v.login.state.is_locked()
            || v.confirmation.as_ref().is_some_and(|c| c.state.is_locked()),
        me: v.login_id == me,
        manageable,
    }
}

#[derive(Template)]
#[template(path = "pages/users.html")]
struct UsersPage {
    c: Chrome,
    p: Problems,
    rows: Vec<Row>,
    ticked: Vec<String>,
    has_confirmation: bool,
    confirm_label: &'static str,
}

impl UsersPage {
    fn is_ticked(&self, id: &str) -> bool {
        self.ticked.iter().any(|t| t == id)
    }
}

/// Whether `acting` may set `target`'s passwords (the engine's authorization: never one's own,
/// an admin never a master's).
fn may_manage(acting: &User, target: &User) -> Result<(), Error> {
    let actor = Actor::User {
        login_id: &acting.login_id,
        contract_no: &acting.contract_no,
        role: acting.role,
    };
    authorize(actor, Action::ManageUser { target })
}

async fn users_page(
    s: &AppState,
    c: &Ctx,
    u: &User,
    t: &Tenant,
    p: Problems,
    ticked: Vec<String>,
) -> Result<UsersPage, Response> {
    let (contract, l, acting, tenant) = (u.contract_no.clone(), c.l, u.clone(), t.clone());
    // One read of the company's users: their rows, and whether the acting user may set their
    // passwords (「変更」).
    let rows = run(s, move |e| {
        let users = e.read(|r| r.users_of(&contract))?;
        let now = e.now();
        Ok(users
            .iter()
            .map(|x| {
                let v = kagiya_engine::views::user_view(x, &tenant, now, l);
                row(&v, &acting.login_id, may_manage(&acting, x).is_ok())
            })
            .collect::<Vec<Row>>())
    })
    .await
    .map_err(|e| super::problem_page(c, Refusal::Engine(e)))?;
    Ok(UsersPage {
        c: c.chrome(
            l.pick("利用者停止・解除一覧", "Users and unlocking"),
            Some((u, t)),
        ),
        p,
        rows,
        ticked,
        has_confirmation: t.uses(CredentialKind::Confirmation),
        confirm_label: super::me::confirm_label(l, t),
    })
}

/// `GET /admin/users`.
pub async fn users(
    State(s): State<AppState>,
    Source(ip): Source,
    headers: HeaderMap,
    uri: Uri,
) -> Response {
    let c = Ctx::new(&headers, &uri);
    let (u, t) = match super::manager(&s, &c, ip).await {
        Ok(x) => x,
        Err(r) => return r,
    };
    match users_page(&s, &c, &u, &t, Problems::default(), Vec::new()).await {
        Ok(page) => c.html(StatusCode::OK, page.render()),
        Err(r) => r,
    }
}

/// One row of 利用者停止・解除結果.
pub struct ResultRow {
    pub login_id: String,
    pub name: String,
    pub role: String,
    pub before: String,
    pub released: bool,
    pub note: Option<String>,
}

#[derive(Template)]
#[template(path = "pages/unlocked.html")]
struct UnlockedPage {
    c: Chrome,
    rows: Vec<ResultRow>,
    released: usize,
}

fn result_row(r: UnlockRow) -> ResultRow {
    ResultRow {
        released: r.outcome == UnlockOutcome::Unlocked,
        login_id: r.login_id,
        name: r.name,
        role: r.role,
        before: r.before,
        note: r.note,
    }
}

/// `POST /admin/unlock`: the ticked users, 変更後サービス状態 「利用可能」, the acting user's own
/// confirmation password.
pub async fn unlock(State(s): State<AppState>, Source(ip): Source, req: Request) -> Response {
    let (c, f) = match Ctx::form(req).await {
        Ok(x) => x,
        Err(r) => return r,
    };
    let (u, t) = match super::manager(&s, &c, ip).await {
        Ok(x) => x,
        Err(r) => return r,
    };
    let ids = f.all("login_id");
    let mut p = Problems::default();
    if ids.is_empty() {
        p.add(
            "",
            c.l.pick(
                "利用停止状態を解除したいユーザを選択してください。",
                "Tick the users to release.",
            ),
        );
    }
    if f.text("confirmation").is_empty() {
        p.add(
            "confirmation",
            c.l.pick(
                "操作を行われているご自身の確認用パスワードを入力してください。",
                "Enter your own confirmation password.",
            ),
        );
    }
    let mut status = StatusCode::UNPROCESSABLE_ENTITY;
    if p.is_empty() {
        let own = Secret::new(f.text("confirmation"));
        match flows::unlock(&s, ip, c.token(), ids.clone(), own, c.l).await {
            Ok((_, rows)) => {
                let rows: Vec<ResultRow> = rows.into_iter().map(result_row).collect();
                let page = UnlockedPage {
                    c: c.chrome(
                        c.l.pick("利用者停止・解除結果", "Unlock results"),
                        Some((&u, &t)),
                    ),
                    released: rows.iter().filter(|r| r.released).count(),
                    rows,
                };
                return c.html(StatusCode::OK, page.render());
            }
            Err(r @ (Refusal::NoSession | Refusal::WrongStep(_))) => {
                return super::session_refused(&c, r)
            }
            Err(r) => {
                status = refusal_status(&r);
                p.add(field_of(&r, "confirmation"), refusal_message(c.l, &r));
            }
        }
    }
    match users_page(&s, &c, &u, &t, p, ids).await {
        Ok(page) => c.html(status, page.render()),
        Err(r) => r,
    }
}

/// One password of the §2.3 form.
pub struct Choice {
    pub key: &'static str,
    pub name: &'static str,
    pub change: bool,
    pub force: bool,
    /// The new password (carried from the form to the 内容確認 step; never shown).
    pub value: String,
}

#[derive(Template)]
#[template(path = "pages/user_passwords.html")]
struct PasswordsPage {
    c: Chrome,
    p: Problems,
    /// `input`, `confirm` (内容確認) or `done` (利用者登録結果).
    step: &'static str,
    target_id: String,
    target_name: String,
    choices: Vec<Choice>,
    confirm_label: &'static str,
}

fn choices(t: &Tenant, l: Lang, f: Option<&Fields>) -> Vec<Choice> {
    t.credentials()
        .iter()
        .map(|k| {
            let key = super::passwords::kind_key(*k);
            Choice {
                key,
                name: super::passwords::kind_name(l, *k),
                change: f.is_some_and(|f| f.get(&format!("{key}_change")) == Some("yes")),
                // 「ログイン時に強制変更する」 starts ticked: a password an administrator chose is
                // meant to be replaced by the user's own (§2.4).
                force: f.is_none_or(|f| f.ticked(&format!("{key}_force"))),
                value: f.map(|f| f.text(&format!("{key}_new"))).unwrap_or_default(),
            }
        })
        .collect()
}

/// The target user of a §2.3 page, when the acting user may set their passwords: a user of
/// another company is answered like an unknown one; oneself (「ご自身のユーザを選択されても、
/// パスワードの変更はできません」) and, for an admin, a master are refused before any password
/// is typed.
async fn target(s: &AppState, u: &User, id: String) -> Result<User, Refusal> {
    let acting = u.clone();
    run(s, move |e| {
        let (target, _) = e.user_and_tenant(&id)?;
        if target.contract_no != acting.contract_no {
            return Err(Error::UnknownUser);
        }
        may_manage(&acting, &target)?;
        Ok(target)
    })
    .await
    .map_err(Refusal::from)
}

/// `GET /admin/users/{login_id}/passwords`.
pub async fn passwords_form(
    State(s): State<AppState>,
    Source(ip): Source,
    Path(id): Path<String>,
    headers: HeaderMap,
    uri: Uri,
) -> Response {
    let c = Ctx::new(&headers, &uri);
    let (u, t) = match super::manager(&s, &c, ip).await {
        Ok(x) => x,
        Err(r) => return r,
    };
    let target = match target(&s, &u, id).await {
        Ok(x) => x,
        Err(r) => return super::problem_page(&c, r),
    };
    let page = PasswordsPage {
        c: c.chrome(
            c.l.pick(
                "他ユーザのパスワード変更",
                "Change another user's passwords",
            ),
            Some((&u, &t)),
        ),
        p: Problems::default(),
        step: "input",
        target_id: target.login_id,
        target_name: target.name,
        choices: choices(&t, c.l, None),
        confirm_label: super::me::confirm_label(c.l, &t),
    };
    c.html(StatusCode::OK, page.render())
}

/// The passwords the form asks to set.
fn to_set(list: &[Choice]) -> SetPasswords {
    let pick = |key: &str| {
        list.iter()
            .find(|ch| ch.key == key && ch.change)
            .map(|ch| (NewPassword::Given(Secret::new(ch.value.clone())), ch.force))
    };
    let (login, confirmation) = (pick("login"), pick("confirmation"));
    SetPasswords {
        force_login_change: login.as_ref().is_none_or(|x| x.1),
        force_confirmation_change: confirmation.as_ref().is_none_or(|x| x.1),
        login: login.map(|x| x.0),
        confirmation: confirmation.map(|x| x.0),
        permanent_reason: None,
    }
}

/// `POST /admin/users/{login_id}/passwords`: `step=confirm` shows 内容確認; `step=execute`
/// sets the passwords with the acting user's own password.
pub async fn passwords(
    State(s): State<AppState>,
    Source(ip): Source,
    Path(id): Path<String>,
    req: Request,
) -> Response {
    let (c, f) = match Ctx::form(req).await {
        Ok(x) => x,
        Err(r) => return r,
    };
    let (u, t) = match super::manager(&s, &c, ip).await {
        Ok(x) => x,
        Err(r) => return r,
    };
    let target = match target(&s, &u, id).await {
        Ok(x) => x,
        Err(r) => return super::problem_page(&c, r),
    };
    let list = choices(&t, c.l, Some(&f));
    let changed: Vec<&Choice> = list.iter().filter(|ch| ch.change).collect();
    let mut p = Problems::default();
    if changed.is_empty() {
        p.add(
            "",
            c.l.pick(
                "変更するパスワードを選んでください。",
                "Choose a password to change.",
            ),
        );
    }
    let new_field = |key: &str| super::passwords::field(key, "new");
    for ch in &changed {
        if ch.value.is_empty() {
            let text = match c.l {
                Lang::Ja => format!("新しい{}を入力してください。", ch.name),
                Lang::En => format!("Enter the new {}.", ch.name),
            };
            p.add(new_field(ch.key), text);
        } else if f.get("step") == Some("confirm")
            && f.text(&format!("{}_new2", ch.key)) != ch.value
        {
            let again = super::passwords::field(ch.key, "new2");
            p.add(again, Error::PasswordRepeatMismatch.message(c.l));
        }
    }
    let (mut step, mut status) = ("input", StatusCode::UNPROCESSABLE_ENTITY);
    if p.is_empty() {
        if f.get("step") == Some("execute") {
            let own = Secret::new(f.text("confirmation"));
            let target_id = target.login_id.clone();
            match flows::set_user_passwords(&s, ip, c.token(), target_id, own, to_set(&list)).await
            {
                Ok(_) => (step, status) = ("done", StatusCode::OK),
                Err(r @ (Refusal::NoSession | Refusal::WrongStep(_))) => {
                    return super::session_refused(&c, r)
                }
                Err(r) => {
                    status = refusal_status(&r);
                    step = "confirm";
                    let mut at = field_of(&r, "confirmation");
                    if let Refusal::Engine(Error::PasswordPolicy(_)) = &r {
                        // Back to the input step, at the password it is about when only one
                        // changed.
                        step = "input";
                        at = match changed.as_slice() {
                            [one] => new_field(one.key),
                            _ => "",
                        };
                    }
                    p.add(at, refusal_message(c.l, &r));
                }
            }
        } else {
            (step, status) = ("confirm", StatusCode::OK);
        }
    }
    let title = match step {
        "done" => c.l.pick("利用者登録結果", "Passwords changed"),
        "confirm" => c.l.pick("内容確認", "Check and confirm"),
        _ => c.l.pick(
            "他ユーザのパスワード変更",
            "Change another user's passwords",
        ),
    };
    let mut choices = list;
    if step == "done" {
        for ch in &mut choices {
            ch.value.clear();
        }
    }
    let page = PasswordsPage {
        c: c.chrome(title, Some((&u, &t))),
        p,
        step,
        target_id: target.login_id,
        target_name: target.name,
        choices,
        confirm_label: super::me::confirm_label(c.l, &t),
    };
    c.html(status, page.render())
}
