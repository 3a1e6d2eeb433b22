//! `kagiya operator`: a supervisor registers further branch staff.

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
