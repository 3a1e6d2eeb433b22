//! `kagiya policy`: check a password against a preset (no database needed) or a customer's
//! policy, and show a preset.

use kagiya_core::password::{PolicyContext, Preset};
use kagiya_core::Error;

use crate::args::*;
use crate::context::{credential_kind, preset, Ctx};
use crate::exit;
use crate::output::json;

pub fn run(ctx: &Ctx, cmd: &PolicyCmd) -> Result<i32, Error> {
    let (j, lang) = (ctx.json, ctx.lang);
    match cmd {
        PolicyCmd::Check {
            preset: p,
            tenant,
            credential: c,
            login_id,
            email,
            mfa,
        } => {
            let pw = ctx.secret("password")?;
            let policy_ctx = PolicyContext {
                login_id,
                email: email.as_deref(),
                must_differ_from: None,
                mfa: *mfa,
                context: &[],
            };
            let rules = match (p, tenant) {
                (Some(p), _) => preset(p)?
                    .password()
                    .checklist(pw.expose(), &policy_ctx, lang),
                (None, Some(t)) => ctx.reader()?.tenant_policy_check(
                    t,
                    credential_kind(*c),
                    pw.expose(),
                    &policy_ctx,
                    lang,
                )?,
                _ => return Err(Error::InvalidValue("--preset or --tenant")),
            };
            let ok = rules.iter().all(|r| r.ok);
            if j {
                json(&serde_json::json!({ "ok": ok, "rules": rules }));
            } else {
                for r in &rules {
                    println!("{} {}  [{}]", if r.ok { "✓" } else { "✗" }, r.label, r.code);
                }
            }
            Ok(if ok { exit::OK } else { exit::INVALID })
        }
        PolicyCmd::Show { preset: p } => {
            let p: Preset = preset(p)?;
            json(&serde_json::json!({
                "preset": p.code(),
                "title": p.title(lang),
                "password": p.password(),
                "lockout": p.lockout(),
            }));
            Ok(exit::OK)
        }
    }
}
