//! The services a tenant uses and the channels an authentication arrives on, and seed 000's
//! table of what a lock caused by wrong passwords takes away.

use serde::{Deserialize, Serialize};

use crate::Lang;

/// A service a tenant can use (also the unit that IP access rules apply to).
#[cfg_attr(feature = "specta", derive(specta::Type))]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Service {
    /// The customers' administration pages (InterFAX: アカウント管理Web).
    AdminConsole,
    /// The users' web pages.
    UserWeb,
    /// Web services (SOAP/REST).
    Api,
    /// Sending by mail with the password in the body, list sending, forwarding of received faxes.
    MailSubmission,
}

impl Service {
    pub const ALL: [Service; 4] = [
        Service::AdminConsole,
        Service::UserWeb,
        Service::Api,
        Service::MailSubmission,
    ];

    pub fn code(self) -> &'static str {
        match self {
            Service::AdminConsole => "admin_console",
            Service::UserWeb => "user_web",
            Service::Api => "api",
            Service::MailSubmission => "mail_submission",
        }
    }

    pub fn parse(s: &str) -> Option<Service> {
        Service::ALL.into_iter().find(|x| x.code() == s.trim())
    }

    pub fn label(self, lang: Lang) -> &'static str {
        match self {
            Service::AdminConsole => lang.pick("管理画面", "Admin console"),
            Service::UserWeb => lang.pick("利用者Web", "User web"),
            Service::Api => lang.pick("Webサービス（API）", "Web service (API)"),
            Service::MailSubmission => lang.pick("メール送信", "Mail submission"),
        }
    }
}

/// Where an authentication attempt came from.
#[cfg_attr(feature = "specta", derive(specta::Type))]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Channel {
    Web,
    Api,
    Mail,
}

impl Channel {
    pub fn parse(s: &str) -> Option<Channel> {
        match s.trim() {
            "web" => Some(Channel::Web),
            "api" => Some(Channel::Api),
            "mail" => Some(Channel::Mail),
            _ => None,
        }
    }

    pub fn code(self) -> &'static str {
        match self {
            Channel::Web => "web",
            Channel::Api => "api",
            Channel::Mail => "mail",
        }
    }
}

/// How a locked account affects one kind of use (seed 000: 誤ったパスワード操作により影響するサービス).
#[cfg_attr(feature = "specta", derive(specta::Type))]
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct AffectedService {
    /// The row of seed 000's table, (1) to (5).
    pub row: u8,
    /// The kind of use, in the UI language.
    pub usage: String,
    pub service: Service,
    /// The administration web: sign-in refused.
    pub admin_web: String,
    /// Sending.
    pub sending: String,
    /// Receiving.
    pub receiving: String,
}

/// Seed 000's table: while an account is locked by wrong passwords, what each kind of use loses.
/// Only rows for services the tenant uses are returned.
pub fn affected_services(uses: &[Service], lang: Lang) -> Vec<AffectedService> {
    let s = |ja: &str, en: &str| lang.pick(ja, en).to_owned();
    let no_login = || s("ログイン不可", "Sign-in refused");
    let rows = [
        (
            1,
            Service::AdminConsole,
            s(
                "アカウント管理Webへのログイン",
                "Signing in to the account web",
            ),
            no_login(),
            s("利用できない場合があります", "May be unavailable"),
            s("利用できない場合があります", "May be unavailable"),
        ),
        (
            2,
            Service::MailSubmission,
            s(
                "メール本文にパスワードを記載した送信",
                "Sending with the password in the mail body",
            ),
            no_login(),
            s("利用できません", "Unavailable"),
            s("利用できます", "Available"),
        ),
        (
            3,
            Service::MailSubmission,
            s("リスト機能を利用した同報送信", "List (broadcast) sending"),
            no_login(),
            s(
                "利用できません（エラーコード 6002）",
                "Unavailable (error 6002)",
            ),
            s("—", "—"),
        ),
        (
            4,
            Service::MailSubmission,
            s(
                "受信FAXのバックアップ転送・配信",
                "Backup forwarding and delivery of received faxes",
            ),
            no_login(),
            s("—", "—"),
            s(
                "利用できません（転送・配信は行われません）",
                "Unavailable (nothing is forwarded or delivered)",
            ),
        ),
        (
            5,
            Service::Api,
            s(
                "Webサービス（SOAP/REST）による送受信",
                "Sending and receiving through the web service (SOAP/REST)",
            ),
            no_login(),
            s("利用できません", "Unavailable"),
            s("利用できません", "Unavailable"),
        ),
    ];
    rows.into_iter()
        .filter(|r| r.1 == Service::AdminConsole || uses.contains(&r.1))
        .map(
            |(row, service, usage, admin_web, sending, receiving)| AffectedService {
                row,
                usage,
                service,
                admin_web,
                sending,
                receiving,
            },
        )
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_table_follows_the_services_in_use() {
        let all = affected_services(&Service::ALL, Lang::Ja);
        assert_eq!(
            all.iter().map(|r| r.row).collect::<Vec<_>>(),
            [1, 2, 3, 4, 5]
        );
        assert!(all.iter().all(|r| r.admin_web == "ログイン不可"));
        assert!(all[2].sending.contains("6002"));
        let web_only = affected_services(&[Service::UserWeb], Lang::En);
        assert_eq!(web_only.len(), 1);
        assert_eq!(web_only[0].admin_web, "Sign-in refused");
    }
}
