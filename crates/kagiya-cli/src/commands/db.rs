//! `kagiya db`: the full check, an encrypted backup, a supervisor's restore.

use kagiya_core::Error;

use crate::args::*;
use crate::context::Ctx;
use crate::exit;
use crate::output::{done, json};

pub fn run(ctx: &Ctx, cmd: &DbCmd) -> Result<i32, Error> {
    let (e, j, lang) = (ctx.branch()?, ctx.json, ctx.lang);
    match cmd {
        DbCmd::Check { checkpoint } => return super::audit::check(ctx, checkpoint),
        DbCmd::Checkpoint { out, text } => {
            let e = ctx.reader()?;
            let c = e.checkpoint()?;
            let body = if *text {
                c.printable()
            } else {
                serde_json::to_string_pretty(&c).map_err(|e| Error::Internal(e.to_string()))?
            };
            match out {
                Some(path) => {
                    std::fs::write(path, body).map_err(|e| Error::File(e.to_string()))?;
                    done(j, lang, serde_json::json!({ "seq": c.seq, "hash": c.hash }));
                }
                None => println!("{body}"),
            }
        }
        DbCmd::Backup { file } => {
            let e = ctx.reader()?;
            let s = e.backup(file)?;
            if j {
                json(&s)
            } else {
                done(false, lang, serde_json::Value::Null)
            }
        }
        DbCmd::Restore {
            file,
            second_supervisor,
        } => {
            let who = ctx.actor()?;
            let conf = ctx.secret("your confirmation password")?;
            let second = match second_supervisor {
                Some(id) => Some((
                    kagiya_engine::ActorRef::Operator(id.clone()),
                    ctx.secret("the second supervisor's confirmation password")?,
                )),
                None => None,
            };
            let s = e.restore(&who, &conf, file, second.as_ref().map(|(w, c)| (w, c)))?;
            if j {
                json(&s)
            } else {
                done(false, lang, serde_json::Value::Null)
            }
        }
    }
    Ok(exit::OK)
}
