//! `kagiya db`: the full check, an encrypted backup, a supervisor's restore.

use kagiya_core::Error;

use crate::args::*;
use crate::context::Ctx;
use crate::exit;
use crate::output::{done, json};

pub fn run(ctx: &Ctx, cmd: &DbCmd) -> Result<i32, Error> {
    let (e, j, lang) = (ctx.branch()?, ctx.json, ctx.lang);
    match cmd {
        DbCmd::Check => return super::audit::check(ctx),
        DbCmd::Backup { file } => {
            let e = ctx.reader()?;
            let s = e.backup(file)?;
            if j {
                json(&s)
            } else {
                done(false, lang, serde_json::Value::Null)
            }
        }
        DbCmd::Restore { file } => {
            let who = ctx.actor()?;
            let conf = ctx.secret("your confirmation password")?;
            let s = e.restore(&who, &conf, file)?;
            if j {
                json(&s)
            } else {
                done(false, lang, serde_json::Value::Null)
            }
        }
    }
    Ok(exit::OK)
}
