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
    /// (`subject` names the issuer not found), `too_long`, or — `subject` naming the issuer —
    /// `issuer_not_ca`, `issuer_cannot_sign`, `path_too_long`, `issuer_not_valid`.
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
                "issuer_not_ca" => format!("発行者がCA証明書ではありません（{subject}）"),
                "issuer_cannot_sign" => {
                    format!("発行者の鍵用途に証明書の署名（keyCertSign）がありません（{subject}）")
                }
                "path_too_long" => format!("発行者のパス長制約を超えています（{subject}）"),
                "issuer_not_valid" => format!("発行者の証明書が有効期間外です（{subject}）"),
                _ => "証明書を読み取れませんでした".to_owned(),
            },
            (ChainStatus::Untrusted { reason, subject }, Lang::En) => match *reason {
                "self_signed" => format!("self-signed, not a trusted root ({subject})"),
                "issuer_unknown" => format!("issuer not among the trusted roots ({subject})"),
                "too_long" => "the chain is too long".to_owned(),
                "issuer_not_ca" => format!("the issuer is not a CA certificate ({subject})"),
                "issuer_cannot_sign" => {
                    format!("the issuer's key usage lacks certificate signing ({subject})")
                }
                "path_too_long" => {
                    format!("beyond the issuer's path length constraint ({subject})")
                }
                "issuer_not_valid" => {
                    format!("the issuer's certificate is outside its validity ({subject})")
                }
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
pub fn chain_status(
    leaf: &[u8],
    intermediates: &[Vec<u8>],
    roots: &[Vec<u8>],
    now: Millis,
) -> ChainStatus {
    let Some(mut current) = parse(leaf) else {
        return ChainStatus::Untrusted {
            reason: "unreadable",
            subject: String::new(),
        };
    };
    let roots: Vec<X509Certificate<'_>> = roots.iter().filter_map(|r| parse(r)).collect();
    let mids: Vec<X509Certificate<'_>> = intermediates.iter().filter_map(|r| parse(r)).collect();
    // CA certificates below the issuer being checked (for its path length constraint).
    let mut cas_below: u32 = 0;
    for _ in 0..8 {
        let issued_by = |c: &X509Certificate<'_>| {
            c.subject() == current.issuer()
                && current.verify_signature(Some(c.public_key())).is_ok()
        };
        if let Some(root) = roots.iter().find(|r| issued_by(r)) {
            if let Some(refusal) = may_issue(root, cas_below, now) {
                return refusal;
            }
            return ChainStatus::Trusted {
                root: root.subject().to_string(),
            };
        }
        let next = mids
            .iter()
            .find(|m| m.subject() != current.subject() && issued_by(m));
        match next {
            Some(m) => {
                if let Some(refusal) = may_issue(m, cas_below, now) {
                    return refusal;
                }
                current = m.clone();
                cas_below += 1;
            }
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

/// Why `issuer` may not have issued the certificate below it (RFC 5280 §4.2.1.9, §4.2.1.3,
/// §6.1.3): it must be a CA (basicConstraints cA), may sign certificates (keyUsage keyCertSign
/// when keyUsage is present), allow `cas_below` CA certificates under it (pathLenConstraint) and
/// be valid at `now`. `None` when it may.
fn may_issue(issuer: &X509Certificate<'_>, cas_below: u32, now: Millis) -> Option<ChainStatus> {
    let refuse = |reason: &'static str| {
        Some(ChainStatus::Untrusted {
            reason,
            subject: issuer.subject().to_string(),
        })
    };
    let constraints = issuer.basic_constraints().ok().flatten().map(|b| b.value);
    let Some(bc) = constraints.filter(|b| b.ca) else {
        return refuse("issuer_not_ca");
    };
    if let Ok(Some(ku)) = issuer.key_usage() {
        if !ku.value.key_cert_sign() {
            return refuse("issuer_cannot_sign");
        }
    }
    if bc.path_len_constraint.is_some_and(|n| cas_below > n) {
        return refuse("path_too_long");
    }
    let secs = now.div_euclid(1000);
    let v = issuer.validity();
    if secs < v.not_before.timestamp() || secs > v.not_after.timestamp() {
        return refuse("issuer_not_valid");
    }
    None
}

#[cfg(test)]
mod chain_tests {
    use super::*;
    use openssl::asn1::Asn1Time;
    use openssl::bn::BigNum;
    use openssl::hash::MessageDigest;
    use openssl::pkey::{PKey, Private};
    use openssl::rsa::Rsa;
    use openssl::x509::extension::{BasicConstraints, KeyUsage};
    use openssl::x509::{X509Name, X509};

    const NOW: Millis = 1_800_000_000_000;
    const DAY_SECS: i64 = 86_400;

    struct Made {
        der: Vec<u8>,
        cert: X509,
        key: PKey<Private>,
    }

    /// How a test certificate is made.
    struct Spec<'a> {
        cn: &'a str,
        ca: Option<Option<u32>>,
        cert_sign: bool,
        /// Validity in days around NOW.
        from_days: i64,
        to_days: i64,
        issuer: Option<&'a Made>,
    }

    fn spec(cn: &str) -> Spec<'_> {
        Spec {
            cn,
            ca: Some(None),
            cert_sign: true,
            from_days: -10,
            to_days: 3650,
            issuer: None,
        }
    }

    fn make(s: Spec<'_>) -> Made {
        let key = PKey::from_rsa(Rsa::generate(2048).unwrap()).unwrap();
        let mut name = X509Name::builder().unwrap();
        name.append_entry_by_text("CN", s.cn).unwrap();
        let name = name.build();
        let mut b = X509::builder().unwrap();
        b.set_version(2).unwrap();
        b.set_serial_number(
            &BigNum::from_u32(rand_serial())
                .unwrap()
                .to_asn1_integer()
                .unwrap(),
        )
        .unwrap();
        b.set_subject_name(&name).unwrap();
        b.set_issuer_name(s.issuer.map_or(&name, |i| i.cert.subject_name()))
            .unwrap();
        b.set_pubkey(&key).unwrap();
        let at = |days: i64| Asn1Time::from_unix(NOW / 1000 + days * DAY_SECS).unwrap();
        b.set_not_before(&at(s.from_days)).unwrap();
        b.set_not_after(&at(s.to_days)).unwrap();
        match s.ca {
            Some(pathlen) => {
                let mut bc = BasicConstraints::new();
                bc.critical().ca();
                if let Some(n) = pathlen {
                    bc.pathlen(n);
                }
                b.append_extension(bc.build().unwrap()).unwrap();
                let mut ku = KeyUsage::new();
                ku.critical().crl_sign();
                if s.cert_sign {
                    ku.key_cert_sign();
                }
                b.append_extension(ku.build().unwrap()).unwrap();
            }
            None => {
                b.append_extension(BasicConstraints::new().build().unwrap())
                    .unwrap();
            }
        }
        let signer = s.issuer.map_or(&key, |i| &i.key);
        b.sign(signer, MessageDigest::sha256()).unwrap();
        let cert = b.build();
        Made {
            der: cert.to_der().unwrap(),
            cert,
            key,
        }
    }

    fn rand_serial() -> u32 {
        crate::random::below(u32::MAX)
    }

    fn reason(s: ChainStatus) -> &'static str {
        match s {
            ChainStatus::Trusted { .. } => "trusted",
            ChainStatus::Untrusted { reason, .. } => reason,
        }
    }

    /// Every issuer on the way must be a CA allowed to sign certificates, within its path length
    /// constraint and its validity (RFC 5280 §6.1.3 / §6.1.4); a signature alone is not enough.
    #[test]
    fn every_issuer_must_be_a_ca_that_may_sign_within_its_path_length_and_validity() {
        let root = make(Spec {
            ca: Some(Some(1)),
            ..spec("Root")
        });
        let mid = make(Spec {
            issuer: Some(&root),
            ca: Some(Some(0)),
            ..spec("Mid")
        });
        let leaf = make(Spec {
            issuer: Some(&mid),
            ca: None,
            ..spec("Leaf")
        });
        let check = |leaf: &Made, mids: &[&Made], roots: &[&Made]| {
            let mids: Vec<Vec<u8>> = mids.iter().map(|m| m.der.clone()).collect();
            let roots: Vec<Vec<u8>> = roots.iter().map(|m| m.der.clone()).collect();
            reason(chain_status(&leaf.der, &mids, &roots, NOW))
        };
        assert_eq!(check(&leaf, &[&mid], &[&root]), "trusted");
        // An end-entity certificate used as an issuer.
        let not_ca = make(Spec {
            issuer: Some(&root),
            ca: None,
            ..spec("NotCa")
        });
        let under_not_ca = make(Spec {
            issuer: Some(&not_ca),
            ca: None,
            ..spec("Leaf2")
        });
        assert_eq!(check(&under_not_ca, &[&not_ca], &[&root]), "issuer_not_ca");
        // A CA whose key usage does not include keyCertSign.
        let no_sign = make(Spec {
            issuer: Some(&root),
            cert_sign: false,
            ..spec("NoSign")
        });
        let under_no_sign = make(Spec {
            issuer: Some(&no_sign),
            ca: None,
            ..spec("Leaf3")
        });
        assert_eq!(
            check(&under_no_sign, &[&no_sign], &[&root]),
            "issuer_cannot_sign"
        );
        // Mid allows no CA below it (pathlen 0): a CA under Mid cannot issue.
        let sub = make(Spec {
            issuer: Some(&mid),
            ..spec("Sub")
        });
        let under_sub = make(Spec {
            issuer: Some(&sub),
            ca: None,
            ..spec("Leaf4")
        });
        assert_eq!(check(&under_sub, &[&sub, &mid], &[&root]), "path_too_long");
        // An intermediate that has expired.
        let old = make(Spec {
            issuer: Some(&root),
            from_days: -400,
            to_days: -1,
            ..spec("Old")
        });
        let under_old = make(Spec {
            issuer: Some(&old),
            ca: None,
            ..spec("Leaf5")
        });
        assert_eq!(check(&under_old, &[&old], &[&root]), "issuer_not_valid");
        // A root that is not yet valid.
        let future = make(Spec {
            from_days: 5,
            ..spec("Future")
        });
        let under_future = make(Spec {
            issuer: Some(&future),
            ca: None,
            ..spec("Leaf6")
        });
        assert_eq!(check(&under_future, &[], &[&future]), "issuer_not_valid");
        // Every reason has words in both languages.
        for r in [
            "issuer_not_ca",
            "issuer_cannot_sign",
            "path_too_long",
            "issuer_not_valid",
        ] {
            let s = ChainStatus::Untrusted {
                reason: r,
                subject: "CN=X".into(),
            };
            assert!(
                !s.message(Lang::Ja).is_ascii() && s.message(Lang::En).is_ascii(),
                "{r}"
            );
            assert_ne!(
                s.message(Lang::En),
                "the certificate could not be read",
                "{r}"
            );
        }
    }
}
