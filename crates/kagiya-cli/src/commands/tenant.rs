//! `kagiya tenant`: register customers (tenants), list and show them, set a credential's policy.

use kagiya_core::directory::{CredentialPolicy, Service};
use kagiya_core::{Error, Lang, MINUTE};
use kagiya_engine::NewTenant;

use crate::args::*;
use crate::context::{credential_kind, preset, Ctx};
use crate::exit;
use crate::output::{done, json, table};

pub fn run(ctx: &Ctx, cmd: &TenantCmd) -> Result<i32, Error> {
    let (e, j, lang) = (ctx.branch()?, ctx.json, ctx.lang);
    match cmd {
        TenantCmd::Add {
            contract_no,
            name,
            preset: p,
            services,
        } => {
            let services = services
                .iter()
                .map(|s| Service::parse(s).ok_or(Error::InvalidValue("service")))
                .collect::<Result<Vec<_>, _>>()?;
            let form = NewTenant {
                contract_no: contract_no.clone(),
                name: name.clone(),
                services,
                preset: preset(p)?,
            };
            let who = ctx.actor()?;
            let conf = ctx.secret("your confirmation password")?;
            let t = e.create_tenant(&who, &conf, form)?;
            done(j, lang, serde_json::json!({ "contract_no": t.contract_no }));
        }
        TenantCmd::List => {
            let e = ctx.reader()?;
            let ts = e.tenant_views(lang)?;
            let now = e.now();
            if j {
                json(&ts);
            } else {
                let h = match lang {
                    Lang::Ja => [
                        "契約番号",
                        "お客様名",
                        "ポリシー",
                        "利用者数",
                        "初期化依頼が必要",
                    ],
                    Lang::En => [
                        "Contract",
                        "Customer",
                        "Policy",
                        "Users",
                        "Needs initialization",
                    ],
                };
                let rows: Vec<Vec<String>> = ts
                    .iter()
                    .map(|t| {
                        vec![
                            t.contract_no.clone(),
                            t.name.clone(),
                            t.preset_title.to_owned(),
                            t.users.to_string(),
                            match (t.needs_init_request, t.managers_back_at) {
                                (true, _) => lang.pick("はい", "yes").to_owned(),
                                // Seed 004's 一時利用停止 clears by itself: say when, in minutes.
                                (false, Some(at)) => {
                                    let minutes = ((at - now).max(0) + MINUTE - 1) / MINUTE;
                                    match lang {
                                        Lang::Ja => format!("いいえ（{minutes}分後に自動解除）"),
                                        Lang::En => format!("no (released in {minutes} min)"),
                                    }
                                }
                                (false, None) => String::new(),
                            },
                        ]
                    })
                    .collect();
                table(&h, &rows);
            }
        }
        TenantCmd::Show { contract_no } => {
            let e = ctx.reader()?;
            let t = e
                .tenant_views(lang)?
                .into_iter()
                .find(|t| t.contract_no.eq_ignore_ascii_case(contract_no.trim()))
                .ok_or(Error::UnknownTenant)?;
            json(&t);
        }
        TenantCmd::SetPolicy {
            contract_no,
            credential,
            preset: p,
            file,
        } => {
            let policy: CredentialPolicy = match (p, file) {
                (Some(p), None) => CredentialPolicy::from_preset(preset(p)?),
                (None, Some(f)) => {
                    let text = crate::context::read_text(f, crate::context::limits::SMALL)?;
                    serde_json::from_str(&text).map_err(|_| Error::InvalidValue("policy file"))?
                }
                _ => return Err(Error::InvalidValue("--preset or --file")),
            };
            let who = ctx.actor()?;
            let conf = ctx.secret("your confirmation password")?;
            e.set_tenant_policy(
                &who,
                &conf,
                contract_no,
                credential_kind(*credential),
                policy,
            )?;
            done(j, lang, serde_json::json!({ "contract_no": contract_no }));
        }
    }
    Ok(exit::OK)
}
