//! `kagiya user`: register users (one, or many from CSV), list and show them, unlock (the result
//! table of seed 004), suspend and resume, set or change passwords.

use kagiya_core::directory::UserRole;
use kagiya_core::Error;
use kagiya_engine::{ChangeOwn, NewPassword, NewUser, SetPasswords};

use crate::args::*;
use crate::context::Ctx;
use crate::exit;
use crate::input::targets;
use crate::output::{done, json, print_issued, print_unlock, print_users};

pub fn run(ctx: &Ctx, cmd: &UserCmd) -> Result<i32, Error> {
    let (e, j, lang) = (ctx.branch()?, ctx.json, ctx.lang);
    match cmd {
        UserCmd::Add {
            tenant,
            login_id,
            name,
            role,
            email,
        } => {
            let who = ctx.actor()?;
            let conf = ctx.secret("your confirmation password")?;
            let role = match role {
                UserRoleArg::Master => UserRole::Master,
                UserRoleArg::Admin => UserRole::Admin,
                UserRoleArg::General => UserRole::General,
            };
            let issued = e.create_user(
                &who,
                &conf,
                NewUser {
                    contract_no: tenant.clone(),
                    login_id: login_id.clone(),
                    name: name.clone(),
                    role,
                    email: email.clone(),
                },
            )?;
            print_issued(&[issued], j, lang);
        }
        UserCmd::Import { csv } => {
            let forms = read_users_csv(csv)?;
            let who = ctx.actor()?;
            let conf = ctx.secret("your confirmation password")?;
            let issued = e.create_users(&who, &conf, forms)?;
            print_issued(&issued, j, lang);
        }
        UserCmd::List {
            tenant,
            search,
            limit,
        } => {
            let e = ctx.reader()?;
            let users = e.user_views(tenant.as_deref(), search.as_deref(), *limit, lang)?;
            print_users(&users, j, lang);
        }
        UserCmd::Show { login_id } => {
            let e = ctx.reader()?;
            let u = e.user_view(login_id, lang)?;
            if j {
                json(&u);
            } else {
                print_users(std::slice::from_ref(&u), false, lang);
                for c in std::iter::once(&u.login).chain(u.confirmation.as_ref()) {
                    println!(
                        "  {}: {} ({} {})",
                        c.kind.label(lang),
                        c.label,
                        lang.pick("失敗回数", "failures"),
                        c.failures
                    );
                }
                for s in &u.affected_services {
                    println!(
                        "  ({}) {} — {} / {} / {}",
                        s.row, s.usage, s.admin_web, s.sending, s.receiving
                    );
                    if let Some(note) = &s.note {
                        println!("      * {note}");
                    }
                }
            }
        }
        UserCmd::Unlock(t) => {
            let ids = targets(&t.login_ids, t.csv.as_deref())?;
            let who = ctx.actor()?;
            let conf = ctx.secret("your confirmation password")?;
            let (batch, rows) = e.unlock(&who, &conf, &ids, lang)?;
            print_unlock(&batch, &rows, j, lang);
        }
        UserCmd::MfaOff { login_id } => {
            let who = ctx.actor()?;
            let conf = ctx.secret("your confirmation password")?;
            let force_change = e.disable_mfa(&who, &conf, login_id)?;
            if j {
                json(&serde_json::json!({ "login_id": login_id, "force_change": force_change }));
            } else if force_change {
                println!(
                    "{}",
                    lang.pick(
                        "多要素認証を「利用しない」にしました。ログインパスワードは次回ログイン時に変更が必要です。",
                        "Two-factor authentication is off. The login password must be changed at the next login."
                    )
                );
            } else {
                println!(
                    "{}",
                    lang.pick(
                        "多要素認証を「利用しない」にしました。",
                        "Two-factor authentication is off."
                    )
                );
            }
        }
        UserCmd::Suspend(t) | UserCmd::Resume(t) => {
            let suspend = matches!(cmd, UserCmd::Suspend(_));
            let ids = targets(&t.login_ids, t.csv.as_deref())?;
            let who = ctx.actor()?;
            let conf = ctx.secret("your confirmation password")?;
            let changed = e.set_suspended(&who, &conf, &ids, suspend)?;
            done(j, lang, serde_json::json!({ "changed": changed }));
        }
        UserCmd::SetPassword {
            login_id,
            login,
            confirmation,
            no_force_change,
            reason,
        } => {
            let who = ctx.actor()?;
            let conf = ctx.secret("your confirmation password")?;
            let pick = |a: &Option<PasswordArg>, what| -> Result<Option<NewPassword>, Error> {
                Ok(match a {
                    None => None,
                    Some(PasswordArg::Generate) => Some(NewPassword::Generate),
                    Some(PasswordArg::Stdin) => Some(NewPassword::Given(ctx.secret(what)?)),
                })
            };
            let login = pick(login, "new login password")?;
            let confirmation = pick(confirmation, "new confirmation password")?;
            let issued = e.set_passwords(
                &who,
                &conf,
                login_id,
                SetPasswords {
                    login,
                    confirmation,
                    force_login_change: !no_force_change,
                    force_confirmation_change: !no_force_change,
                    permanent_reason: reason.clone(),
                },
            )?;
            print_issued(&[issued], j, lang);
        }
        UserCmd::ChangePassword {
            login_id,
            login,
            confirmation,
        } => {
            let mut req = ChangeOwn::default();
            if *login {
                req.login = Some((
                    ctx.secret("current login password")?,
                    ctx.secret("new login password")?,
                ));
            }
            if *confirmation {
                req.confirmation = Some((
                    ctx.secret("current confirmation password")?,
                    ctx.secret("new confirmation password")?,
                ));
            }
            e.change_own_passwords(login_id, req)?;
            done(j, lang, serde_json::json!({ "login_id": login_id }));
        }
    }
    Ok(exit::OK)
}

/// Users to register from CSV: contract_no, login_id, name, role, email (optional). An `mfa`
/// column saying yes is refused: 2FA is turned on by the user once a code reaches their address.
fn read_users_csv(path: &std::path::Path) -> Result<Vec<NewUser>, Error> {
    #[derive(serde::Deserialize)]
    struct Row {
        contract_no: String,
        login_id: String,
        name: String,
        role: String,
        #[serde(default)]
        email: Option<String>,
        #[serde(default)]
        mfa: Option<String>,
    }
    let bytes = crate::context::read_file(path, crate::context::limits::TABLE)?;
    let mut r = csv::Reader::from_reader(bytes.as_slice());
    let mut out = Vec::new();
    for row in r.deserialize::<Row>() {
        let row = row.map_err(|e| Error::File(e.to_string()))?;
        out.push(NewUser {
            contract_no: row.contract_no,
            login_id: row.login_id,
            name: row.name,
            role: UserRole::parse(&row.role).ok_or(Error::InvalidValue("role"))?,
            email: row.email.filter(|e| !e.trim().is_empty()),
        });
        if matches!(
            row.mfa.as_deref().map(str::trim),
            Some("1" | "true" | "yes")
        ) {
            return Err(Error::MfaRule("not_at_registration"));
        }
    }
    if out.is_empty() {
        return Err(Error::InvalidValue("csv: no users"));
    }
    Ok(out)
}
