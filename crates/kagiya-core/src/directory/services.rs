//! The services a tenant uses and the channels an authentication arrives on, and seed 000's
//! table of what a lock caused by wrong passwords takes away.

use serde::{Deserialize, Serialize};

use crate::password::Preset;
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
    /// The database port (seed 003: データベース（MySQL:3306）), denied at home and abroad unless
    /// a rule allows an address.
    Database,
}

impl Service {
    pub const ALL: [Service; 5] = [
        Service::AdminConsole,
        Service::UserWeb,
        Service::Api,
        Service::MailSubmission,
        Service::Database,
    ];

    pub fn code(self) -> &'static str {
        match self {
            Service::AdminConsole => "admin_console",
            Service::UserWeb => "user_web",
            Service::Api => "api",
            Service::MailSubmission => "mail_submission",
            Service::Database => "database",
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
            Service::Database => lang.pick("データベース（MySQL:3306）", "Database (MySQL:3306)"),
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

    /// The service an attempt on this channel uses: the web is the admin console for masters
    /// and admins of a customer that has one, the users' web otherwise.
    pub fn service(self, role: super::UserRole, uses: &[Service]) -> Service {
        match self {
            Channel::Api => Service::Api,
            Channel::Mail => Service::MailSubmission,
            Channel::Web if role.is_manager() && uses.contains(&Service::AdminConsole) => {
                Service::AdminConsole
            }
            Channel::Web => Service::UserWeb,
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
    /// The seed's qualifier of the row (「パスワード認証ご利用の場合」 …), when it has one.
    pub note: Option<String>,
    pub service: Service,
    /// The administration web: sign-in refused.
    pub admin_web: String,
    /// Sending.
    pub sending: String,
    /// Receiving.
    pub receiving: String,
}

/// Seed 000's table: while an InterFAX account is locked by wrong passwords, what each kind of use
/// loses, in the seed's words and with its qualifiers. The table is InterFAX's own: other presets
/// get none. Only rows for services the tenant uses are returned (row (1), the account web, always).
pub fn affected_services(preset: Preset, uses: &[Service], lang: Lang) -> Vec<AffectedService> {
    if preset != Preset::Interfax {
        return Vec::new();
    }
    let s = |ja: &str, en: &str| lang.pick(ja, en).to_owned();
    let no_login = || s("ログイン不可", "Sign-in refused");
    let unavailable = || s("利用できません", "Unavailable");
    let rows = [
        (
            1,
            Service::AdminConsole,
            s(
                "アカウント管理Webへのログイン時",
                "Signing in to the account management web",
            ),
            Some(s(
                "次の(2)、(3)、(4)、(5)のInterFAXサービスご利用の場合は該当欄を参照ください。",
                "If you use (2), (3), (4) or (5) below, see that row.",
            )),
            s("利用できない場合があります", "May be unavailable"),
            s("利用できない場合があります", "May be unavailable"),
        ),
        (
            2,
            Service::MailSubmission,
            s(
                "送信サービス利用の際、メール本文にパスワードを記載して送信時",
                "Sending with the password written in the mail body",
            ),
            Some(s(
                "パスワード認証ご利用の場合",
                "When password authentication is used",
            )),
            unavailable(),
            s(
                "利用できます（受信サービスもご利用の場合）",
                "Available (when the receiving service is used too)",
            ),
        ),
        (
            3,
            Service::MailSubmission,
            s(
                "送信サービスのリスト機能を利用した送信時（同報送信）",
                "Sending with the sending service's lists (broadcast)",
            ),
            Some(s(
                "パスワード認証を利用しない場合も含む",
                "Including when password authentication is not used",
            )),
            s(
                "利用できません（エラーコード：6002）",
                "Unavailable (error code 6002)",
            ),
            s("—", "—"),
        ),
        (
            4,
            Service::MailSubmission,
            s(
                "受信サービスの受信FAXバックアップ転送、および受信FAX配信機能",
                "The receiving service's backup forwarding and delivery of received faxes",
            ),
            Some(s(
                "送信サービスもご利用の場合",
                "When the sending service is used too",
            )),
            unavailable(),
            s(
                "受信FAXの転送、配信はおこなわれません／受信は利用できます",
                "Received faxes are not forwarded or delivered / receiving is available",
            ),
        ),
        (
            5,
            Service::Api,
            s(
                "Webサービス（SOAP/REST）を利用したFAXの送信・受信",
                "Sending and receiving faxes through the web service (SOAP/REST)",
            ),
            None,
            unavailable(),
            unavailable(),
        ),
    ];
    rows.into_iter()
        .filter(|r| r.1 == Service::AdminConsole || uses.contains(&r.1))
        .map(
            |(row, service, usage, note, sending, receiving)| AffectedService {
                row,
                usage,
                note,
                service,
                admin_web: no_login(),
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
        let all = affected_services(Preset::Interfax, &Service::ALL, Lang::Ja);
        assert_eq!(
            all.iter().map(|r| r.row).collect::<Vec<_>>(),
            [1, 2, 3, 4, 5]
        );
        assert!(all.iter().all(|r| r.admin_web == "ログイン不可"));
        assert!(all[2].sending.contains("6002"));
        let web_only = affected_services(Preset::Interfax, &[Service::UserWeb], Lang::En);
        assert_eq!(web_only.len(), 1);
        assert_eq!(web_only[0].admin_web, "Sign-in refused");
    }

    /// Seed 000's table 「誤ったパスワード操作により影響するサービス」 is InterFAX's: the other
    /// presets' services are not InterFAX's send and receive services.
    #[test]
    fn only_interfax_customers_get_the_table() {
        for preset in Preset::ALL {
            let rows = affected_services(preset, &Service::ALL, Lang::Ja);
            assert_eq!(rows.is_empty(), preset != Preset::Interfax, "{preset:?}");
        }
    }

    /// The seed's qualifiers and its row (4): 「(4) 受信サービスの受信FAXバックアップ転送、および
    /// 受信FAX配信機能 * 送信サービスもご利用の場合 ログイン不可 利用できません ・受信FAXの転送、
    /// 配信はおこなわれません 利用できます」.
    #[test]
    fn the_rows_keep_the_seeds_qualifiers_and_row_four_reads_as_the_seed() {
        let rows = affected_services(Preset::Interfax, &Service::ALL, Lang::Ja);
        let note = |n: usize| rows[n].note.clone().unwrap_or_default();
        assert!(note(0).contains("(2)、(3)、(4)、(5)"));
        assert_eq!(note(1), "パスワード認証ご利用の場合");
        assert_eq!(note(2), "パスワード認証を利用しない場合も含む");
        assert_eq!(note(3), "送信サービスもご利用の場合");
        assert_eq!(rows[4].note, None);
        let four = &rows[3];
        assert_eq!(four.sending, "利用できません");
        assert!(four
            .receiving
            .contains("受信FAXの転送、配信はおこなわれません"));
        assert!(four.receiving.contains("利用できます"));
        assert_eq!(
            rows[1].receiving,
            "利用できます（受信サービスもご利用の場合）"
        );
        assert_eq!(
            (rows[4].sending.as_str(), rows[4].receiving.as_str()),
            ("利用できません", "利用できません")
        );
    }
}
