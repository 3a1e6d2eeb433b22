//! The wording of every mail, in Japanese and English: one table, so that a mail's subject, its
//! text part and its HTML part always say the same thing. The names are the seeds' own
//! (パスワード変更案内メール, ワンタイムパスワード通知, パスワード設定依頼メール, メールアドレス変更
//! 依頼受付, ログイン通知メール); where the seeds give no text (most bodies), the text is ours and
//! says only what the mail is for, what to do, and what to do when it was not you.

use kagiya_core::mail::MailKind;
use kagiya_core::{Lang, Millis};

/// What a mail is about: the facts its wording is filled with.
#[derive(Debug, Clone, Default)]
pub struct Facts<'a> {
    /// The service's name as the sender signs (from the configuration, e.g. 「鍵屋」).
    pub service: &'a str,
    pub login_id: &'a str,
    /// The user's name, when known.
    pub name: Option<&'a str>,
    /// The address the mail goes to.
    pub address: &'a str,
    /// A code to type (sign-in, enrolment).
    pub code: Option<&'a str>,
    /// A one-time link (reset, setup, change).
    pub link: Option<&'a str>,
    /// When the code or link stops working.
    pub expires_at: Option<Millis>,
    /// When it happened (the sign-in, the lock, the request).
    pub at: Millis,
    /// The new address of a change.
    pub new_address: Option<&'a str>,
    /// Where a sign-in came from (an IP address), when known.
    pub source: Option<&'a str>,
    /// The reasons of a refused registration, as codes (`cert.expired`, …).
    pub reasons: Vec<&'a str>,
    /// Whom to ask (the contact line at the end), from the configuration.
    pub contact: Option<&'a str>,
}

/// A link with the words shown for it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Link {
    pub url: String,
    pub label: String,
}

/// A mail's words, before the text and HTML parts are made of them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Letter {
    pub lang: Lang,
    pub subject: String,
    pub greeting: String,
    pub paragraphs: Vec<String>,
    /// A code shown large in the HTML part and on a line of its own in the text part.
    pub code: Option<String>,
    pub link: Option<Link>,
    /// Small print: what to do when it was not you, and that this address sends only.
    pub notes: Vec<String>,
    pub signature: String,
}

/// Japan time: the branches and their customers read times in JST (no summer time).
const JST: time::UtcOffset = time::macros::offset!(+9);

/// `at` as a date and time in Japan time (「2026年11月30日 16:42」 / "30 Nov 2026 16:42 JST").
pub fn when(at: Millis, lang: Lang) -> String {
    let Ok(t) = time::OffsetDateTime::from_unix_timestamp_nanos(at as i128 * 1_000_000) else {
        return at.to_string();
    };
    let t = t.to_offset(JST);
    match lang {
        Lang::Ja => format!(
            "{}年{}月{}日 {:02}:{:02}",
            t.year(),
            u8::from(t.month()),
            t.day(),
            t.hour(),
            t.minute()
        ),
        Lang::En => {
            let month = [
                "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
            ][usize::from(u8::from(t.month())) - 1];
            format!(
                "{} {month} {} {:02}:{:02} JST",
                t.day(),
                t.year(),
                t.hour(),
                t.minute()
            )
        }
    }
}

/// The reason of a refused registration in words (`Finding` codes of the certificate check and
/// the registration's own).
fn reason(code: &str, lang: Lang) -> String {
    let (ja, en) = match code {
        "cert.possession_not_proven" => (
            "メールの電子署名が証明書の鍵によるものと確認できないか、差出人(From)が証明書のメールアドレスと一致しません",
            "the mail's signature was not made with the certificate's key, or the sender (From) is not the certificate's address",
        ),
        "cert.untrusted_chain" => (
            "証明書の発行元が当行の信頼する認証局ではありません",
            "the certificate was not issued by a certification authority the bank trusts",
        ),
        "cert.expired" => ("証明書の有効期限が切れています", "the certificate has expired"),
        "cert.revoked" => ("証明書が失効しています", "the certificate has been revoked"),
        "cert.older_than_registered" => (
            "登録済みの証明書より古い証明書です",
            "the certificate is older than the one already registered",
        ),
        "cert.stale_signature" => (
            "電子署名の日時が古いか、記録されていません（新しく署名したメールをお送りください）",
            "the signature's time is too old or missing (send a newly signed mail)",
        ),
        "cert.not_yet_valid" => ("証明書の有効期間がまだ始まっていません", "the certificate is not valid yet"),
        "cert.address_mismatch" => (
            "証明書にこのメールアドレスが記載されていません",
            "the certificate does not name this address",
        ),
        "cert.unreadable" => (
            "署名付きメールから証明書を読み取れませんでした（暗号化せずに、電子署名だけを付けて送信してください）",
            "no certificate could be read from the mail (send it signed, not encrypted)",
        ),
        _ => (
            "証明書がメールアドレスの証明書として使えません",
            "the certificate cannot be used for this address",
        ),
    };
    match lang {
        Lang::Ja => format!("{ja}（{code}）"),
        Lang::En => format!("{en} ({code})"),
    }
}

/// The words of `kind` with `f`, in `lang`.
pub fn letter(kind: MailKind, lang: Lang, f: &Facts<'_>) -> Letter {
    let ja = lang == Lang::Ja;
    let t = |j: &str, e: &str| if ja { j.to_owned() } else { e.to_owned() };
    let service = f.service;
    let who = match (f.name, ja) {
        (Some(n), true) => format!("{n} 様（ログインID: {}）", f.login_id),
        (None, true) => format!("ログインID {} のお客様", f.login_id),
        (Some(n), false) => format!("Dear {n} (login ID {}),", f.login_id),
        (None, false) => format!("Dear customer (login ID {}),", f.login_id),
    };
    let until = f.expires_at.map(|e| when(e, lang));
    let at = when(f.at, lang);
    let mut code = None;
    let mut link = None;
    let (subject, paragraphs) = match kind {
        MailKind::SignInCode => {
            code = f.code.map(str::to_owned);
            (
                t("ワンタイムパスワード通知", "Your one-time password"),
                vec![
                    t(
                        "ログインのためのワンタイムパスワードをお送りします。「ワンタイムパスワード認証」画面に入力し、「送信」ボタンを押してください。",
                        "Here is the one-time password for your sign-in. Enter it on the one-time password screen and press Send.",
                    ),
                    match (&until, ja) {
                        (Some(u), true) => format!("有効期限: {u}（1回限り有効です）"),
                        (Some(u), false) => format!("Valid until {u}, once."),
                        (None, _) => String::new(),
                    },
                ],
            )
        }
        MailKind::EnrollmentCode => {
            code = f.code.map(str::to_owned);
            (
                t(
                    "多要素認証用メールアドレスの確認",
                    "Confirm the address for one-time passwords",
                ),
                vec![
                    t(
                        "このメールアドレスを多要素認証用（ワンタイムパスワード）メールアドレスとして登録するための確認コードです。登録画面に入力してください。入力が終わるまで多要素認証は有効になりません。",
                        "This code confirms this address as the one that receives your one-time passwords. Enter it on the registration screen; two-factor sign-in is on only after that.",
                    ),
                    match (&until, ja) {
                        (Some(u), true) => format!("有効期限: {u}"),
                        (Some(u), false) => format!("Valid until {u}."),
                        (None, _) => String::new(),
                    },
                ],
            )
        }
        MailKind::PasswordReset => {
            link = f.link.map(|u| Link {
                url: u.to_owned(),
                label: t("パスワードを再設定する", "Set a new password"),
            });
            (
                t("パスワード変更案内メール", "Resetting your password"),
                vec![
                    t(
                        "パスワードの変更(リセット)のお申し込みを受け付けました。下記のURLにアクセスしていただきますと、パスワード変更画面が開きますので、新しいパスワードを入力してください。",
                        "We received a request to reset your password. Open the link below to reach the password page, and enter your new password there.",
                    ),
                    match (&until, ja) {
                        (Some(u), true) => format!("このURLはセキュリティの関係からワンタイム(1回限り)で、{u} を過ぎると無効となります。パスワードの変更(リセット)をおこないますと、以前のパスワードは無効となります。"),
                        (Some(u), false) => format!("For your security the link works once and stops working at {u}. Once you set a new password, the old one no longer works."),
                        (None, _) => String::new(),
                    },
                ],
            )
        }
        MailKind::ResetWhileLocked => (
            t(
                "パスワードのリセットをご利用いただけません",
                "Your password cannot be reset right now",
            ),
            vec![
                t(
                    "パスワードの変更(リセット)のお申し込みを受け付けましたが、アカウントが利用停止中のため、この状態ではパスワードのリセット機能は利用できません。",
                    "We received a request to reset your password, but the account is locked, and password reset is not available while it is.",
                ),
                t(
                    "一時利用停止は時間が経つと自動的に解除されます。解除後に改めてお手続きください。利用停止の場合は、管理者またはお取引店にご連絡ください。",
                    "A temporary lock ends by itself after a while; please try again then. If the account is locked for good, contact your administrator or your branch.",
                ),
            ],
        ),
        MailKind::AddressSetup => {
            link = f.link.map(|u| Link {
                url: u.to_owned(),
                label: t("パスワードを設定する", "Set your password"),
            });
            (
                t("パスワード設定依頼メール", "Please set your password"),
                vec![
                    match ja {
                        true => format!("{service} のご利用者として、このメールアドレス（{}）が追加されました。メール本文に記載のURLから、新しくパスワードを設定してください。", f.address),
                        false => format!("This address ({}) was added as a user of {service}. Please set your new password through the link below.", f.address),
                    },
                    match (&until, ja) {
                        (Some(u), true) => format!("URLの有効期限: {u}（1回限り有効です）"),
                        (Some(u), false) => format!("The link works once, until {u}."),
                        (None, _) => String::new(),
                    },
                ],
            )
        }
        MailKind::AddressChange => {
            link = f.link.map(|u| Link {
                url: u.to_owned(),
                label: t("メールアドレスの変更を確定する", "Confirm the change"),
            });
            let to = f.new_address.unwrap_or("");
            (
                t("メールアドレス変更依頼受付", "Request to change your address"),
                vec![
                    match ja {
                        true => format!("メールアドレスを {} から {to} へ変更するご依頼を受け付けました。本文記載のURLから手続きを行ってください。URLにアクセスするまで変更は行われません。", f.address),
                        false => format!("We received a request to change your address from {} to {to}. Open the link below to complete it; nothing changes until you do.", f.address),
                    },
                    match (&until, ja) {
                        (Some(u), true) => format!("URLの有効期限: {u}（1回限り有効です）"),
                        (Some(u), false) => format!("The link works once, until {u}."),
                        (None, _) => String::new(),
                    },
                ],
            )
        }
        MailKind::AddressDeleted => (
            t("メールアドレス削除のお知らせ", "Your address was removed"),
            vec![match ja {
                true => format!("{service} のご登録から、このメールアドレス（{}）が {at} に削除されました。以後、このアドレスにはお知らせが届きません。", f.address),
                false => format!("This address ({}) was removed from {service} at {at}. It will no longer receive our mail.", f.address),
            }],
        ),
        MailKind::SignInNotice => (
            t("ログイン通知メール", "New sign-in to your account"),
            vec![match (ja, f.source) {
                (true, Some(ip)) => format!("{at} に、お客様のログインIDでログインがありました（接続元: {ip}）。"),
                (true, None) => format!("{at} に、お客様のログインIDでログインがありました。"),
                (false, Some(ip)) => format!("Your login ID was used to sign in at {at} (from {ip})."),
                (false, None) => format!("Your login ID was used to sign in at {at}."),
            }, t(
                "不正アクセス防止の観点からお送りしています。この通知はお客様ご自身のメールアドレス宛にのみ送信されます。",
                "We send this to help prevent unauthorised access. It goes only to your own addresses.",
            )],
        ),
        MailKind::LockNotice => (
            t("アカウント利用停止のお知らせ", "Your account has been locked"),
            vec![match ja {
                true => format!("{at} に、誤ったパスワードが続けて入力されたため、アカウントが利用停止となりました。利用停止中はログインおよびパスワードのリセットはできません。"),
                false => format!("At {at} your account was locked after repeated wrong passwords. While it is locked, neither sign-in nor password reset is possible."),
            }, t(
                "一時利用停止は時間が経つと自動的に解除されます。利用停止は自動的に解除されることはありませんので、管理者またはお取引店に解除をご依頼ください。",
                "A temporary lock ends by itself after a while. A permanent lock never ends by itself: ask your administrator or your branch to unlock it.",
            )],
        ),
        MailKind::CertificateRegistered => (
            t("証明書登録のお知らせ", "Your certificate was registered"),
            vec![
                match ja {
                    true => format!("このメールアドレス（{}）の電子証明書(デジタルID)がアップロードされました。「電子署名」および「受信メールの暗号化」がオンの状態となりました。", f.address),
                    false => format!("The certificate (digital ID) of this address ({}) was uploaded. Signing and encryption of the mail you receive are now on.", f.address),
                },
                t(
                    "以後このアドレスへのメールは、お客様の証明書で暗号化してお送りします。証明書を更新された場合は、新しい証明書で署名したメールを改めてお送りください。",
                    "From now on, mail to this address is encrypted to your certificate. When you renew it, send a mail signed with the new one again.",
                ),
            ],
        ),
        MailKind::CertificateRefused => {
            let mut p = vec![match ja {
                true => format!("このメールアドレス（{}）から届いた電子署名付きメールの証明書を登録できませんでした。", f.address),
                false => format!("The certificate of the signed mail from this address ({}) could not be registered.", f.address),
            }];
            p.extend(f.reasons.iter().map(|r| format!("・{}", reason(r, lang))));
            p.push(t(
                "証明書をインストールしたメールクライアントから、暗号化せずに電子署名だけを付けたメールを改めてお送りください。",
                "Please send the mail again from the mail program where the certificate is installed, signed and not encrypted.",
            ));
            (t("証明書を登録できませんでした", "Your certificate was not registered"), p)
        }
    };
    let paragraphs = paragraphs.into_iter().filter(|p| !p.is_empty()).collect();
    let mut notes = Vec::new();
    notes.push(match (kind, ja) {
        (MailKind::SignInNotice | MailKind::LockNotice | MailKind::AddressDeleted, true) => {
            "お心当たりのない場合は、お手数ですがお問い合わせ窓口までご連絡ください。".to_owned()
        }
        (MailKind::SignInNotice | MailKind::LockNotice | MailKind::AddressDeleted, false) => {
            "If this was not you, please contact us.".to_owned()
        }
        (_, true) => "このメールにお心当たりのない場合は、URLやコードを使わずにこのメールを破棄してください。".to_owned(),
        (_, false) => "If you did not ask for this, do not use the link or code; simply delete this mail.".to_owned(),
    });
    if let Some(c) = f.contact {
        notes.push(match ja {
            true => format!("お問い合わせ: {c}"),
            false => format!("Contact: {c}"),
        });
    }
    notes.push(t(
        "このメールは送信専用のアドレスからお送りしています。ご返信いただいてもお答えできません。",
        "This mail was sent from an address that does not receive replies.",
    ));
    Letter {
        lang,
        subject: format!("【{service}】{}", subject),
        greeting: who,
        paragraphs,
        code,
        link,
        notes,
        signature: service.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn facts() -> Facts<'static> {
        Facts {
            service: "鍵屋",
            login_id: "taro01",
            name: Some("山田 太郎"),
            address: "taro@example.co.jp",
            code: Some("123456"),
            link: Some("https://kagiya.example/l/abc"),
            expires_at: Some(1_764_489_600_000),
            at: 1_764_489_000_000,
            ..Facts::default()
        }
    }

    #[test]
    fn times_are_japan_time() {
        // 2025-11-30 08:00 UTC is 17:00 in Tokyo.
        assert_eq!(when(1_764_489_600_000, Lang::Ja), "2025年11月30日 17:00");
        assert_eq!(when(1_764_489_600_000, Lang::En), "30 Nov 2025 17:00 JST");
    }

    #[test]
    fn every_mail_has_words_in_both_languages() {
        for kind in MailKind::ALL {
            for lang in [Lang::Ja, Lang::En] {
                let l = letter(kind, lang, &facts());
                assert!(l.subject.starts_with("【鍵屋】"), "{kind:?}");
                assert!(!l.paragraphs.is_empty(), "{kind:?}");
                assert_eq!(
                    l.code.is_some(),
                    kind.secret().is_some() && !kind.secret().unwrap().is_link(),
                    "{kind:?}"
                );
                assert_eq!(
                    l.link.is_some(),
                    kind.secret().is_some_and(|p| p.is_link()),
                    "{kind:?}"
                );
            }
        }
    }

    #[test]
    fn the_seeds_names_are_the_subjects() {
        let f = facts();
        // Seed 000: 「パスワード変更案内メール(件名:InterFAXパスワード)」 — the mail's name.
        assert!(letter(MailKind::PasswordReset, Lang::Ja, &f)
            .subject
            .ends_with("パスワード変更案内メール"));
        // Seed 002: 「ワンタイムパスワード通知」メール, 「パスワード設定依頼メール」,
        // 「メールアドレス変更依頼受付」, 「ログイン通知メール」.
        assert!(letter(MailKind::SignInCode, Lang::Ja, &f)
            .subject
            .ends_with("ワンタイムパスワード通知"));
        assert!(letter(MailKind::AddressSetup, Lang::Ja, &f)
            .subject
            .ends_with("パスワード設定依頼メール"));
        assert!(letter(MailKind::AddressChange, Lang::Ja, &f)
            .subject
            .ends_with("メールアドレス変更依頼受付"));
        assert!(letter(MailKind::SignInNotice, Lang::Ja, &f)
            .subject
            .ends_with("ログイン通知メール"));
        // Seed 000: 「この状態ではパスワードのリセット機能は利用できません」.
        let locked = letter(MailKind::ResetWhileLocked, Lang::Ja, &f);
        assert!(
            locked.paragraphs[0].contains("この状態ではパスワードのリセット機能は利用できません")
        );
        // Seed 002: 「通知メールは、お客様ご自身のメールアドレス宛にのみ送信されます」.
        let notice = letter(MailKind::SignInNotice, Lang::Ja, &f);
        assert!(notice
            .paragraphs
            .iter()
            .any(|p| p.contains("お客様ご自身のメールアドレス宛にのみ送信されます")));
        // Seed 001: 「デジタルIDステータス」が「アップロードされました」.
        let reg = letter(MailKind::CertificateRegistered, Lang::Ja, &f);
        assert!(reg.paragraphs[0].contains("アップロードされました"));
    }

    #[test]
    fn a_refusal_says_why() {
        let mut f = facts();
        f.reasons = vec!["cert.untrusted_chain", "cert.expired"];
        let l = letter(MailKind::CertificateRefused, Lang::En, &f);
        assert!(
            l.paragraphs
                .iter()
                .any(|p| p.contains("trusts (cert.untrusted_chain)")),
            "{l:?}"
        );
        let l = letter(MailKind::CertificateRefused, Lang::Ja, &f);
        assert!(
            l.paragraphs
                .iter()
                .any(|p| p.contains("有効期限が切れています（cert.expired）")),
            "{l:?}"
        );
    }
}
