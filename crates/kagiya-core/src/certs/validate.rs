//! Whether a certificate fits an address, explained rule by rule, and its chain to the trusted
//! roots. An untrusted chain is a warning (the customer's own CA is common), never a crash.

use serde::Serialize;
use x509_parser::prelude::*;

use super::inspect::CertInfo;
use crate::{Lang, Millis};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Severity {
    /// The certificate cannot be used for the address.
    Error,
    /// Usable, but someone should look.
    Warning,
}

/// One finding, with a stable code.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Finding {
    pub code: &'static str,
    pub severity: Severity,
    pub message: String,
}

const DAY: Millis = 24 * 60 * 60 * 1000;

fn finding(code: &'static str, severity: Severity, lang: Lang, ja: String, en: String) -> Finding {
    Finding {
        code,
        severity,
        message: if lang == Lang::Ja { ja } else { en },
    }
}

/// What the file proves about the key, as findings (seed 001 registers from a signed mail): a
/// signature that does not verify with the certificate, or a mail from another sender, is an
/// error; a signature whose content is not in the file is a warning (nothing proven).
pub fn possession_findings(
    p: &super::proof::Possession,
    address: &str,
    lang: Lang,
) -> Vec<Finding> {
    use super::proof::Possession;
    match p {
        Possession::NotSigned => Vec::new(),
        Possession::Unchecked => vec![finding(
            "cert.signature_unchecked",
            Severity::Warning,
            lang,
            "署名の対象（メール本文）がファイルにないため、署名を確認できません。鍵の所持を確かめるには、署名付きメールそのもの（.eml）をお預かりください。".into(),
            "The signed content is not in the file, so the signature cannot be checked. To prove the key, bring the signed mail itself (.eml).".into(),
        )],
        Possession::Broken => vec![finding(
            "cert.signature_invalid",
            Severity::Error,
            lang,
            "署名がこの証明書で検証できません（内容が改変されたか、別の鍵で署名されています）".into(),
            "The signature does not verify with this certificate (the content was changed, or another key signed it)".into(),
        )],
        Possession::Proven { from: Some(from) } if !from.eq_ignore_ascii_case(address.trim()) => {
            vec![finding(
                "cert.sender_mismatch",
                Severity::Error,
                lang,
                format!("署名付きメールの差出人（{from}）が {address} ではありません"),
                format!("The signed mail's sender ({from}) is not {address}"),
            )]
        }
        Possession::Proven { .. } => Vec::new(),
    }
}

/// Checks `cert` for `address` at `now`; `expiring_days` makes a near end a warning.
pub fn check_for_address(
    cert: &CertInfo,
    address: &str,
    now: Millis,
    expiring_days: u32,
    lang: Lang,
) -> Vec<Finding> {
    use Severity::*;
    let mut out = Vec::new();
    if !cert
        .emails
        .iter()
        .any(|e| e.eq_ignore_ascii_case(address.trim()))
    {
        out.push(finding(
            "cert.address_mismatch",
            Error,
            lang,
            format!(
                "証明書に {address} が含まれていません（記載: {}）",
                cert.emails.join(", ")
            ),
            format!(
                "the certificate does not name {address} (it names: {})",
                cert.emails.join(", ")
            ),
        ));
    }
    if now < cert.not_before {
        out.push(finding(
            "cert.not_yet_valid",
            Error,
            lang,
            "有効期間がまだ始まっていません".into(),
            "it is not valid yet".into(),
        ));
    } else if now >= cert.not_after {
        out.push(finding(
            "cert.expired",
            Error,
            lang,
            "有効期限が切れています".into(),
            "it has expired".into(),
        ));
    } else if cert.not_after - now <= expiring_days as Millis * DAY {
        let days = (cert.not_after - now) / DAY;
        out.push(finding(
            "cert.expiring",
            Warning,
            lang,
            format!("有効期限まであと{days}日です"),
            format!("it expires in {days} days"),
        ));
    }
    if cert.extended_key_usage == Some(false) {
        out.push(finding(
            "cert.no_email_protection",
            Error,
            lang,
            "拡張キー使用法に電子メールの保護（emailProtection）がありません".into(),
            "its extended key usage does not include e-mail protection".into(),
        ));
    }
    if let Some(ku) = cert.key_usage {
        if !ku.digital_signature && !ku.non_repudiation {
            out.push(finding(
                "cert.no_signing",
                Warning,
                lang,
                "キー使用法に署名がありません（署名の検証には使えません）".into(),
                "its key usage does not allow signing".into(),
            ));
        }
        if !ku.key_encipherment && !ku.key_agreement {
            out.push(finding(
                "cert.no_encryption",
                Warning,
                lang,
                "キー使用法に鍵の暗号化がありません（暗号化には使えません）".into(),
                "its key usage does not allow encryption".into(),
            ));
        }
    }
    let weak = match cert.key_algorithm.as_str() {
        "RSA" => cert.key_bits < 2048,
        "EC" => cert.key_bits < 256,
        _ => false,
    };
    if weak {
        out.push(finding(
            "cert.weak_key",
            Error,
            lang,
            format!(
                "鍵が短すぎます（{} {}ビット）",
                cert.key_algorithm, cert.key_bits
            ),
            format!(
                "the key is too short ({} {} bits)",
                cert.key_algorithm, cert.key_bits
            ),
        ));
    }
    if cert.is_ca {
        out.push(finding(
            "cert.is_ca",
            Error,
            lang,
            "認証局の証明書です（利用者の証明書ではありません）".into(),
            "it is a CA certificate, not a user's".into(),
        ));
    }
    out
}

/// Whether the certificate leads to a trusted root.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "status", rename_all = "snake_case")]
pub enum ChainStatus {
    Trusted {
        root: String,
    },
    /// `reason`: `unreadable`, `self_signed` (`subject` is not a trusted root), `issuer_unknown`
    /// (`subject` names the issuer not found) or `too_long`.
    Untrusted {
        reason: &'static str,
        subject: String,
    },
}

impl ChainStatus {
    /// In words, in `lang`.
    pub fn message(&self, lang: Lang) -> String {
        match (self, lang) {
            (ChainStatus::Trusted { root }, Lang::Ja) => {
                format!("信頼済みのルート証明書 {root} まで確認できました")
            }
            (ChainStatus::Trusted { root }, Lang::En) => {
                format!("leads to the trusted root {root}")
            }
            (ChainStatus::Untrusted { reason, subject }, Lang::Ja) => match *reason {
                "self_signed" => {
                    format!("自己署名の証明書で、信頼済みのルートではありません（{subject}）")
                }
                "issuer_unknown" => format!("発行者が信頼済みのルートにありません（{subject}）"),
                "too_long" => "証明書チェーンが長すぎます".to_owned(),
                _ => "証明書を読み取れませんでした".to_owned(),
            },
            (ChainStatus::Untrusted { reason, subject }, Lang::En) => match *reason {
                "self_signed" => format!("self-signed, not a trusted root ({subject})"),
                "issuer_unknown" => format!("issuer not among the trusted roots ({subject})"),
                "too_long" => "the chain is too long".to_owned(),
                _ => "the certificate could not be read".to_owned(),
            },
        }
    }
}

fn parse(d: &[u8]) -> Option<X509Certificate<'_>> {
    X509Certificate::from_der(d).ok().map(|(_, c)| c)
}

/// Follows issuers from `leaf` through `intermediates` to one of `roots` (DER each), checking
/// each signature.
pub fn chain_status(leaf: &[u8], intermediates: &[Vec<u8>], roots: &[Vec<u8>]) -> ChainStatus {
    let Some(mut current) = parse(leaf) else {
        return ChainStatus::Untrusted {
            reason: "unreadable",
            subject: String::new(),
        };
    };
    let roots: Vec<X509Certificate<'_>> = roots.iter().filter_map(|r| parse(r)).collect();
    let mids: Vec<X509Certificate<'_>> = intermediates.iter().filter_map(|r| parse(r)).collect();
    for _ in 0..8 {
        if let Some(root) = roots.iter().find(|r| {
            r.subject() == current.issuer()
                && current.verify_signature(Some(r.public_key())).is_ok()
        }) {
            return ChainStatus::Trusted {
                root: root.subject().to_string(),
            };
        }
        let next = mids.iter().find(|m| {
            m.subject() == current.issuer()
                && m.subject() != current.subject()
                && current.verify_signature(Some(m.public_key())).is_ok()
        });
        match next {
            Some(m) => current = m.clone(),
            None => {
                return if current.subject() == current.issuer() {
                    ChainStatus::Untrusted {
                        reason: "self_signed",
                        subject: current.subject().to_string(),
                    }
                } else {
                    ChainStatus::Untrusted {
                        reason: "issuer_unknown",
                        subject: current.issuer().to_string(),
                    }
                }
            }
        }
    }
    ChainStatus::Untrusted {
        reason: "too_long",
        subject: String::new(),
    }
}
