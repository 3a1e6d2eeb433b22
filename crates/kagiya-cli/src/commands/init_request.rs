//! `kagiya init-request`: the paper initialization request of seed 004 — record it, a second
//! supervisor approves or rejects it, execute it (the slips' passwords are printed once), list.

use kagiya_core::Error;
use kagiya_engine::InitRequestForm;

use crate::args::*;
use crate::context::Ctx;
use crate::exit;
use crate::output::{done, json, print_issued, table};

pub fn run(ctx: &Ctx, cmd: &InitRequestCmd) -> Result<i32, Error> {
    let (e, j, lang) = (ctx.branch()?, ctx.json, ctx.lang);
    match cmd {
        InitRequestCmd::Record {
            request_no,
            tenant,
            date,
            requester,
            checks,
            targets,
        } => {
            let who = ctx.actor()?;
            let conf = ctx.secret("your confirmation password")?;
            let r = e.record_init_request(
                &who,
                &conf,
                InitRequestForm {
                    request_no: request_no.clone(),
                    contract_no: tenant.clone(),
                    received_on: date.clone(),
                    requester: requester.clone(),
                    identity_checks: checks.clone(),
                    targets: targets.clone(),
                },
            )?;
            if j {
                json(&r)
            } else {
                done(false, lang, serde_json::Value::Null)
            }
        }
        InitRequestCmd::Approve { request_no } | InitRequestCmd::Reject { request_no, .. } => {
            let reject = match cmd {
                InitRequestCmd::Reject { reason, .. } => Some(reason.clone()),
                _ => None,
            };
            let who = ctx.actor()?;
            let conf = ctx.secret("your confirmation password")?;
            let r = e.decide_init_request(&who, &conf, request_no, reject)?;
            if j {
                json(&r)
            } else {
                done(false, lang, serde_json::Value::Null)
            }
        }
        InitRequestCmd::Execute { request_no } => {
            let who = ctx.actor()?;
            let conf = ctx.secret("your confirmation password")?;
            let issued = e.execute_init_request(&who, &conf, request_no)?;
            print_issued(&issued, j, lang);
        }
        InitRequestCmd::List => {
            let e = ctx.reader()?;
            let list = e.read(|r| r.init_requests())?;
            if j {
                json(&list);
            } else {
                let rows: Vec<Vec<String>> = list
                    .iter()
                    .map(|r| {
                        vec![
                            r.request_no.clone(),
                            r.contract_no.clone(),
                            r.received_on.clone(),
                            r.state.code().to_owned(),
                            r.targets.join(" "),
                        ]
                    })
                    .collect();
                table(
                    &[
                        "request_no",
                        "contract_no",
                        "received_on",
                        "state",
                        "targets",
                    ],
                    &rows,
                );
            }
        }
    }
    Ok(exit::OK)
}
