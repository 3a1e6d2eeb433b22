//! `kagiya operator`: supervisors register, list, disable, enable and re-role branch staff and
//! reset their passwords; an operator changes their own; the branch's password expiry.

use kagiya_core::operator::Role;
use kagiya_core::Error;
use kagiya_engine::{FirstSupervisor, NewOperator};

use crate::args::*;
use crate::context::Ctx;
use crate::exit;
use crate::output::done;

pub fn run(ctx: &Ctx, cmd: &OperatorCmd) -> Result<i32, Error> {
    let (e, j, lang) = (ctx.branch()?, ctx.json, ctx.lang);
    match cmd {
        OperatorCmd::Add { id, name, role } => {
            let who = ctx.actor()?;
            let conf = ctx.secret("your confirmation password")?;
            let login = ctx.secret("login password")?;
            let confirmation = ctx.secret("confirmation password")?;
            let role = match role {
                RoleArg::Operator => Role::Operator,
                RoleArg::Supervisor => Role::Supervisor,
            };
            e.create_operator(
                &who,
                &conf,
                NewOperator {
                    operator_id: id.clone(),
                    name: name.clone(),
                    role,
                    login,
                    confirmation,
                },
            )?;
            done(j, lang, serde_json::json!({ "operator_id": id }));
        }
        OperatorCmd::List => {
            let e = ctx.reader()?;
            let now = e.now();
            let rows: Vec<serde_json::Value> = e
                .operators()?
                .into_iter()
                .map(|o| {
                    let locked_until = o.locked_until(now);
                    serde_json::json!({
                        "operator_id": o.operator_id,
                        "name": o.name,
                        "role": o.role.code(),
                        "disabled": o.disabled,
                        "must_change": o.must_change,
                        "password_set_at": o.password_set_at,
                        "locked_until": locked_until,
                        "last_sign_in_at": o.last_sign_in_at,
                    })
                })
                .collect();
            if j {
                crate::output::json(&rows);
            } else {
                for r in &rows {
                    println!(
                        "{}\t{}\t{}\t{}{}",
                        r["operator_id"].as_str().unwrap_or(""),
                        r["name"].as_str().unwrap_or(""),
                        r["role"].as_str().unwrap_or(""),
                        if r["disabled"] == true {
                            "disabled"
                        } else {
                            "enabled"
                        },
                        if r["locked_until"].is_null() {
                            ""
                        } else {
                            "\tlocked"
                        },
                    );
                }
            }
        }
        OperatorCmd::Disable { id } | OperatorCmd::Enable { id } => {
            let who = ctx.actor()?;
            let conf = ctx.secret("your confirmation password")?;
            let disabled = matches!(cmd, OperatorCmd::Disable { .. });
            e.set_operator_disabled(&who, &conf, id, disabled)?;
            done(
                j,
                lang,
                serde_json::json!({ "operator_id": id, "disabled": disabled }),
            );
        }
        OperatorCmd::Role { id, role } => {
            let who = ctx.actor()?;
            let conf = ctx.secret("your confirmation password")?;
            let role = match role {
                RoleArg::Operator => Role::Operator,
                RoleArg::Supervisor => Role::Supervisor,
            };
            e.set_operator_role(&who, &conf, id, role)?;
            done(
                j,
                lang,
                serde_json::json!({ "operator_id": id, "role": role.code() }),
            );
        }
        OperatorCmd::ResetPasswords { id } => {
            let who = ctx.actor()?;
            let conf = ctx.secret("your confirmation password")?;
            let issued = e.reset_operator_passwords(&who, &conf, id)?;
            if j {
                crate::output::json(&serde_json::json!({
                    "operator_id": issued.operator_id,
                    "login_password": issued.login.expose(),
                    "confirmation_password": issued.confirmation.expose(),
                    "must_change": true,
                }));
            } else {
                println!(
                    "{}\t{}\t{}",
                    issued.operator_id,
                    issued.login.expose(),
                    issued.confirmation.expose()
                );
            }
        }
        OperatorCmd::Passwd => {
            let Some(id) = ctx.operator_id() else {
                return Err(Error::NotSignedIn);
            };
            let current = ctx.secret("your current login password")?;
            let new_login = ctx.secret("your new login password")?;
            let new_conf = ctx.secret_or_empty("your new confirmation password")?;
            e.change_own_operator_passwords(id, &current, &new_login, new_conf.as_ref())?;
            done(j, lang, serde_json::json!({ "operator_id": id }));
        }
        OperatorCmd::Expiry { days } => {
            let who = ctx.actor()?;
            let conf = ctx.secret("your confirmation password")?;
            e.set_operator_expiry_days(&who, &conf, *days)?;
            done(j, lang, serde_json::json!({ "operator_expiry_days": days }));
        }
    }
    Ok(exit::OK)
}

/// `kagiya init`: the branch's first supervisor on an empty database (login password, then
/// confirmation password on standard input).
pub fn init(ctx: &Ctx, operator_id: &str, name: &str) -> Result<i32, Error> {
    let login = ctx.secret("login password")?;
    let confirmation = ctx.secret("confirmation password")?;
    ctx.branch()?
        .create_first_supervisor(&FirstSupervisor::new(
            operator_id,
            name,
            login.expose(),
            confirmation.expose(),
        ))?;
    done(
        ctx.json,
        ctx.lang,
        serde_json::json!({ "operator_id": operator_id.trim() }),
    );
    Ok(exit::OK)
}
