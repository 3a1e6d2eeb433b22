//! `kagiya outbox list`: the mails the events owe, waiting to be sent.

use kagiya_core::Error;

use crate::args::*;
use crate::context::Ctx;
use crate::exit;
use crate::output::{json, table};

pub fn run(ctx: &Ctx, cmd: &OutboxCmd) -> Result<i32, Error> {
    let (e, j) = (ctx.reader()?, ctx.json);
    match cmd {
        OutboxCmd::List => {
            let rows = e.pending_mail()?;
            if j {
                json(&rows);
            } else {
                let out: Vec<Vec<String>> = rows
                    .iter()
                    .map(|r| {
                        vec![
                            r.id.to_string(),
                            r.kind.clone(),
                            r.recipient.clone(),
                            r.login_id.clone(),
                        ]
                    })
                    .collect();
                table(&["id", "kind", "recipient", "login_id"], &out);
            }
        }
    }
    Ok(exit::OK)
}
