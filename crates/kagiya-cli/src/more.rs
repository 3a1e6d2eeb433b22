//! The address, certificate and IP-rule subcommands.

use kagiya_console::Engine;
use kagiya_core::directory::{Purpose, Service};
use kagiya_core::iprules::{IpAction, RuleSet};
use kagiya_core::{Error, Lang};

use crate::args::*;
use crate::exit;
use crate::input::Stdin;
use crate::output::{json, lang_of, table};
use crate::run::{actor, done};

fn service(s: &str) -> Result<Service, Error> {
    Service::parse(s).ok_or(Error::InvalidValue("service"))
}

fn read(path: &std::path::Path) -> Result<Vec<u8>, Error> {
    std::fs::read(path).map_err(|e| Error::File(e.to_string()))
}

pub fn address(
    e: &mut Engine,
    cli: &Cli,
    cmd: &AddressCmd,
    stdin: &mut Stdin,
) -> Result<(), Error> {
    let (j, lang) = (cli.json, lang_of(cli));
    if let AddressCmd::List { login_id } = cmd {
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
        return Ok(());
    }
    let who = actor(cli)?;
    let conf = stdin.secret("your confirmation password")?;
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
    Ok(())
}

pub fn cert(e: &mut Engine, cli: &Cli, cmd: &CertCmd, stdin: &mut Stdin) -> Result<(), Error> {
    let (j, lang) = (cli.json, lang_of(cli));
    let report = match cmd {
        CertCmd::Check { file, address } => e.certificate_report(address, &read(file)?)?,
        CertCmd::Import {
            login_id,
            address,
            file,
        } => {
            let bytes = read(file)?;
            let who = actor(cli)?;
            let conf = stdin.secret("your confirmation password")?;
            e.import_certificate(&who, &conf, login_id, address, &bytes)?
        }
        CertCmd::SetExpiringDays { days } => {
            let who = actor(cli)?;
            let conf = stdin.secret("your confirmation password")?;
            e.set_expiring_days(&who, &conf, *days)?;
            done(j, lang, serde_json::json!({ "days": days }));
            return Ok(());
        }
        CertCmd::AddRoot { file } => {
            let bytes = read(file)?;
            let who = actor(cli)?;
            let conf = stdin.secret("your confirmation password")?;
            let info = e.add_trusted_root(&who, &conf, &bytes)?;
            if j {
                json(&info);
            } else {
                done(false, lang, serde_json::Value::Null);
            }
            return Ok(());
        }
    };
    if j {
        json(&report);
    } else {
        println!(
            "{}: {}",
            lang.pick("証明書", "Certificate"),
            report.certificate.subject
        );
        println!(
            "  {}: {}",
            lang.pick("メールアドレス", "Addresses"),
            report.certificate.emails.join(", ")
        );
        println!("  {}: {:?}", lang.pick("形式", "Format"), report.format);
        println!(
            "  {}: {}",
            lang.pick("証明書チェーン", "Chain"),
            report.chain.message(lang)
        );
        for f in &report.findings {
            println!(
                "  {} {} [{}]",
                if f.severity == kagiya_core::certs::Severity::Error {
                    "✗"
                } else {
                    "!"
                },
                f.message,
                f.code
            );
        }
    }
    Ok(())
}

pub fn ip(e: &mut Engine, cli: &Cli, cmd: &IpCmd, stdin: &mut Stdin) -> Result<i32, Error> {
    let (j, lang) = (cli.json, lang_of(cli));
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
                let text =
                    String::from_utf8(read(f)?).map_err(|_| Error::File("not UTF-8".into()))?;
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
            let who = actor(cli)?;
            let conf = stdin.secret("your confirmation password")?;
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
            let set = kagiya_store::directory::ip_rules(e.store().conn(), tenant, service(s)?)?;
            json(&set);
        }
        IpCmd::Check {
            ip,
            tenant,
            service: s,
        } => {
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
            let who = actor(cli)?;
            let conf = stdin.secret("your confirmation password")?;
            let until = e.release_ip_restrictions(&who, &conf, tenant, *minutes, reason)?;
            done(j, lang, serde_json::json!({ "until": until }));
        }
        IpCmd::Countries { file } => {
            let text =
                String::from_utf8(read(file)?).map_err(|_| Error::File("not UTF-8".into()))?;
            let who = actor(cli)?;
            let conf = stdin.secret("your confirmation password")?;
            let n = e.import_countries(&who, &conf, &text)?;
            done(j, lang, serde_json::json!({ "ranges": n }));
        }
    }
    Ok(exit::OK)
}
