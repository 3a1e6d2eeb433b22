//! `kagiya cert`: explain a certificate file for an address, register one, the expiry-warning
//! window, trusted roots.

use kagiya_core::Error;

use crate::args::*;
use crate::context::{limits, read_file, Ctx};
use crate::exit;
use crate::output::{done, json};

pub fn run(ctx: &Ctx, cmd: &CertCmd) -> Result<i32, Error> {
    let e = ctx.branch()?;
    let (j, lang) = (ctx.json, ctx.lang);
    let report = match cmd {
        CertCmd::Check { file, address } => {
            let e = ctx.reader()?;
            e.certificate_report(address, &read_file(file, limits::CERTIFICATE)?, lang)?
        }
        CertCmd::Import {
            login_id,
            address,
            file,
        } => {
            let bytes = read_file(file, limits::CERTIFICATE)?;
            let who = ctx.actor()?;
            let conf = ctx.secret("your confirmation password")?;
            e.import_certificate(&who, &conf, login_id, address, &bytes, lang)?
        }
        CertCmd::SetExpiringDays { days } => {
            let who = ctx.actor()?;
            let conf = ctx.secret("your confirmation password")?;
            e.set_expiring_days(&who, &conf, *days)?;
            done(j, lang, serde_json::json!({ "days": days }));
            return Ok(exit::OK);
        }
        CertCmd::AddRoot { file } => {
            let bytes = read_file(file, limits::CERTIFICATE)?;
            let who = ctx.actor()?;
            let conf = ctx.secret("your confirmation password")?;
            let info = e.add_trusted_root(&who, &conf, &bytes)?;
            if j {
                json(&info);
            } else {
                done(false, lang, serde_json::Value::Null);
            }
            return Ok(exit::OK);
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
    Ok(exit::OK)
}
