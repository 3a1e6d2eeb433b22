//! `kagiya auth verify`: the central server's authentication path on this branch's data (the
//! lockout applied and every outcome recorded).

use kagiya_core::directory::Channel;
use kagiya_core::Error;

use crate::args::*;
use crate::context::{credential_kind, Ctx};
use crate::exit;
use crate::output::json;

pub fn run(ctx: &Ctx, cmd: &AuthCmd) -> Result<i32, Error> {
    let (e, j, lang) = (ctx.branch()?, ctx.json, ctx.lang);
    match cmd {
        AuthCmd::Verify {
            login_id,
            credential,
            channel,
            ip,
        } => {
            let ip = ip
                .as_deref()
                .map(|s| {
                    s.parse::<std::net::IpAddr>()
                        .map_err(|_| Error::InvalidValue("ip"))
                })
                .transpose()?;
            let pw = ctx.secret("password")?;
            let channel = match channel {
                ChannelArg::Web => Channel::Web,
                ChannelArg::Api => Channel::Api,
                ChannelArg::Mail => Channel::Mail,
            };
            let v = e.verify_from(login_id, credential_kind(*credential), channel, &pw, ip)?;
            if j {
                json(&v);
            } else if v.expired {
                println!(
                    "{}",
                    lang.pick(
                        "認証しました。パスワードの有効期限が切れています。",
                        "Verified. The password has expired."
                    )
                );
            } else if v.must_change {
                println!(
                    "{}",
                    lang.pick(
                        "認証しました。パスワードの変更が必要です。",
                        "Verified. The password must be changed."
                    )
                );
            } else {
                println!("{}", lang.pick("認証しました。", "Verified."));
            }
        }
    }
    Ok(exit::OK)
}
