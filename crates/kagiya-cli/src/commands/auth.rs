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
            address,
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
            let v = match address {
                Some(a) => e.verify_with_address(login_id, a, channel, &pw, ip)?,
                None => e.verify_from(login_id, credential_kind(*credential), channel, &pw, ip)?,
            };
            // The one-time password itself goes to the user's address by mail, never here.
            let code_to = v.second_factor.as_ref().map(|s| s.address.clone());
            if j {
                let mut out =
                    serde_json::to_value(&v).map_err(|e| Error::Internal(e.to_string()))?;
                out["second_factor_to"] = serde_json::json!(code_to);
                json(&out);
            } else if let Some(to) = code_to {
                match lang {
                    kagiya_core::Lang::Ja => println!(
                        "パスワードを確認しました。ワンタイムパスワードを {to} に送ります。入力されるまでログインは完了しません。"
                    ),
                    kagiya_core::Lang::En => println!(
                        "Password verified. A one-time password goes to {to}; the sign-in completes only when it is entered."
                    ),
                }
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
