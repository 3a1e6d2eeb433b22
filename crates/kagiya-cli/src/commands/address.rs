//! `kagiya address`: a user's e-mail addresses (seed 002) with their purposes and the signing
//! and encryption flags (seed 001).

use kagiya_core::directory::Purpose;
use kagiya_core::{Error, Lang};

use crate::args::*;
use crate::context::Ctx;
use crate::exit;
use crate::output::{done, json, table};

pub fn run(ctx: &Ctx, cmd: &AddressCmd) -> Result<i32, Error> {
    let e = ctx.branch()?;
    let (j, lang) = (ctx.json, ctx.lang);
    if let AddressCmd::List { login_id } = cmd {
        let e = ctx.reader()?;
        let list = e.address_views(login_id)?;
        if j {
            json(&list);
        } else {
            let rows: Vec<Vec<String>> = list
                .iter()
                .map(|a| {
                    vec![
                        a.address.clone(),
                        serde_json::to_value(a.certificate)
                            .ok()
                            .and_then(|v| v["status"].as_str().map(str::to_owned))
                            .unwrap_or_default(),
                        if a.sign { "✓" } else { "" }.into(),
                        if a.encrypt { "✓" } else { "" }.into(),
                        a.pending_change.clone().unwrap_or_default(),
                    ]
                })
                .collect();
            let h = match lang {
                Lang::Ja => [
                    "メールアドレス",
                    "証明書",
                    "電子署名",
                    "暗号化",
                    "変更依頼中",
                ],
                Lang::En => [
                    "Address",
                    "Certificate",
                    "Sign",
                    "Encrypt",
                    "Change pending",
                ],
            };
            table(&h, &rows);
        }
        return Ok(exit::OK);
    }
    let who = ctx.actor()?;
    let conf = ctx.secret("your confirmation password")?;
    match cmd {
        AddressCmd::Add {
            login_id,
            address,
            purposes,
        } => {
            let purposes = purposes
                .iter()
                .map(|p| Purpose::parse(p).ok_or(Error::InvalidValue("purpose")))
                .collect::<Result<Vec<_>, _>>()?;
            e.add_address(&who, &conf, login_id, address, &purposes)?;
        }
        AddressCmd::Delete { login_id, address } => {
            e.delete_address(&who, &conf, login_id, address)?
        }
        AddressCmd::RequestChange {
            login_id,
            address,
            new_address,
        } => e.request_address_change(&who, &conf, login_id, address, new_address)?,
        AddressCmd::ConfirmChange { login_id, address } => {
            e.confirm_address_change(&who, &conf, login_id, address)?
        }
        AddressCmd::Flags {
            login_id,
            address,
            sign,
            encrypt,
        } => e.set_address_flags(
            &who,
            &conf,
            login_id,
            address,
            *sign == OnOff::On,
            *encrypt == OnOff::On,
        )?,
        AddressCmd::List { .. } => unreachable!("handled above"),
    }
    done(j, lang, serde_json::json!({ "ok": true }));
    Ok(exit::OK)
}
