//! `kagiya ip`: a customer's IP access rules per service (seed 003), checking an address, a
//! supervisor's forced release, the country table.

use kagiya_core::iprules::{IpAction, RuleSet};
use kagiya_core::Error;

use crate::args::*;
use crate::context::{limits, read_text, service, Ctx};
use crate::exit;
use crate::output::{done, json};

pub fn run(ctx: &Ctx, cmd: &IpCmd) -> Result<i32, Error> {
    let e = ctx.branch()?;
    let (j, lang) = (ctx.json, ctx.lang);
    match cmd {
        IpCmd::Set {
            tenant,
            service: s,
            rules,
            file,
            default_action,
            countries,
        } => {
            let mut lines: Vec<String> = rules.clone();
            if let Some(f) = file {
                let text = read_text(f, limits::TABLE)?;
                lines.extend(
                    text.lines()
                        .map(str::trim)
                        .filter(|l| !l.is_empty() && !l.starts_with('#'))
                        .map(str::to_owned),
                );
            }
            let set = RuleSet {
                rules: lines
                    .iter()
                    .map(|l| RuleSet::parse_rule(l))
                    .collect::<Result<_, _>>()?,
                default: match default_action {
                    ActionArg::Allow => IpAction::Allow,
                    ActionArg::Deny => IpAction::Deny,
                },
                allowed_countries: (!countries.is_empty()).then(|| {
                    countries
                        .iter()
                        .map(|c| c.trim().to_ascii_uppercase())
                        .collect()
                }),
            };
            let who = ctx.actor()?;
            let conf = ctx.secret("your confirmation password")?;
            let warnings = e.set_ip_rules(&who, &conf, tenant, service(s)?, set)?;
            if j {
                json(&serde_json::json!({ "warnings": warnings }));
            } else {
                for w in &warnings {
                    println!("! {}", w.message(lang));
                }
                done(false, lang, serde_json::Value::Null);
            }
        }
        IpCmd::Show { tenant, service: s } => {
            let e = ctx.reader()?;
            let service = service(s)?;
            let set = e.read(|r| r.ip_rules(tenant, service))?;
            json(&set);
        }
        IpCmd::Check {
            ip,
            tenant,
            service: s,
        } => {
            let e = ctx.reader()?;
            let addr: std::net::IpAddr = ip.parse().map_err(|_| Error::InvalidValue("ip"))?;
            let d = e.check_ip(tenant, service(s)?, addr)?;
            if j {
                json(&d);
            } else {
                println!("{:?} ({:?})", d.action, d.by);
            }
            // Scripts can branch on the decision: 0 allow, 5 deny.
            return Ok(if d.action == IpAction::Allow {
                exit::OK
            } else {
                exit::NOT_PERMITTED
            });
        }
        IpCmd::Release {
            tenant,
            minutes,
            reason,
        } => {
            let who = ctx.actor()?;
            let conf = ctx.secret("your confirmation password")?;
            let until = e.release_ip_restrictions(&who, &conf, tenant, *minutes, reason)?;
            done(j, lang, serde_json::json!({ "until": until }));
        }
        IpCmd::Countries { files } => {
            let mut text = String::new();
            for file in files {
                let part = read_text(file, limits::TABLE)?;
                text.push_str(&part);
                if !text.ends_with('\n') {
                    text.push('\n');
                }
            }
            let who = ctx.actor()?;
            let conf = ctx.secret("your confirmation password")?;
            let n = e.import_countries(&who, &conf, &text)?;
            done(j, lang, serde_json::json!({ "ranges": n }));
        }
    }
    Ok(exit::OK)
}
