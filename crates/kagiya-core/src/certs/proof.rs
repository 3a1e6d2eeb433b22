//! Proof that whoever brought a certificate holds its private key. Seed 001 registers a
//! customer's certificate from a mail the customer signed; a certificate file alone (PEM, DER, a
//! .p7b bundle) could be anybody's. So a signed mail, or a signed message with its content
//! (.p7m), is checked: its CMS signature must verify with the very certificate being registered
//! (not merely with some certificate it carries), and the mail's From: must be the address.
//!
//! The signature check is OpenSSL's `CMS_verify` restricted to that one certificate
//! (`NOINTERN`) and without its chain (`NO_SIGNER_CERT_VERIFY`: the chain is judged by
//! `validate::chain_status` against the branch's own trusted roots).

use cms::content_info::ContentInfo;
use cms::signed_data::SignedData;
use der::Decode;
use openssl::cms::{CMSOptions, CmsContentInfo};
use openssl::stack::Stack;
use openssl::x509::X509;

/// What a file proves about the key of the certificate being registered.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Possession {
    /// Certificates only (PEM, DER, a bundle): nothing is signed, nothing proven.
    NotSigned,
    /// A signature whose content is not in the file (a detached .p7s saved on its own): it
    /// cannot be checked; the whole mail would prove possession.
    Unchecked,
    /// Signed with the certificate's key. `from` is the mail's sender address, when the file is
    /// a mail.
    Proven { from: Option<String> },
    /// A signature that does not verify with the certificate: the content was changed, or it
    /// was signed with another key.
    Broken,
}

impl Possession {
    /// Proven by a mail from `address` (seed 001's registration by signed mail).
    pub fn proves(&self, address: &str) -> bool {
        matches!(self, Possession::Proven { from: Some(from) } if from.eq_ignore_ascii_case(address.trim()))
    }
}

const ID_SIGNED_DATA: &str = "1.2.840.113549.1.7.2";

/// What `bytes` (as decoded by `decode::certificates`) proves about `leaf`'s key.
pub fn possession(bytes: &[u8], leaf: &[u8]) -> Possession {
    let Ok(cert) = X509::from_der(leaf) else {
        return Possession::Broken;
    };
    let trimmed = super::decode::trim_ascii_start(bytes);
    if super::decode::looks_like_mail(trimmed) {
        return mail(trimmed, cert);
    }
    let der = if trimmed.first() == Some(&0x30) {
        trimmed.to_vec()
    } else if let Some(der) = pem_cms(trimmed) {
        der
    } else if let Some(raw) = super::decode::base64_text(trimmed) {
        raw
    } else {
        return Possession::NotSigned;
    };
    match signed(&der) {
        Signed::No => Possession::NotSigned,
        Signed::Detached => Possession::Unchecked,
        Signed::WithContent => verified(&der, None, cert, None),
    }
}

enum Signed {
    /// Not a SignedData, or one without signers (a certificate bundle).
    No,
    /// Signers, but the content is not inside.
    Detached,
    WithContent,
}

fn signed(der: &[u8]) -> Signed {
    let Ok(ci) = ContentInfo::from_der(der) else {
        return Signed::No;
    };
    if ci.content_type.to_string() != ID_SIGNED_DATA {
        return Signed::No;
    }
    let Ok(sd) = ci.content.decode_as::<SignedData>() else {
        return Signed::No;
    };
    if sd.signer_infos.0.is_empty() {
        Signed::No
    } else if sd.encap_content_info.econtent.is_none() {
        Signed::Detached
    } else {
        Signed::WithContent
    }
}

/// The DER of a PEM `PKCS7` / `CMS` block.
fn pem_cms(text: &[u8]) -> Option<Vec<u8>> {
    x509_parser::pem::Pem::iter_from_buffer(text)
        .filter_map(Result::ok)
        .find(|p| p.label == "PKCS7" || p.label == "CMS")
        .map(|p| p.contents)
}

/// Checks `der`'s signature with `cert` alone; `content` is the detached content, if any.
fn verified(der: &[u8], content: Option<&[u8]>, cert: X509, from: Option<String>) -> Possession {
    let check = || -> Result<(), openssl::error::ErrorStack> {
        let mut cms = CmsContentInfo::from_der(der)?;
        let mut certs = Stack::new()?;
        certs.push(cert)?;
        cms.verify(
            Some(&certs),
            None,
            content,
            None,
            CMSOptions::NOINTERN | CMSOptions::NO_SIGNER_CERT_VERIFY | CMSOptions::BINARY,
        )
    };
    match check() {
        Ok(()) => Possession::Proven { from },
        Err(_) => Possession::Broken,
    }
}

/// The sender address of a mail (its first `From:`), trimmed; `None` when `raw` is no mail or
/// names no sender.
pub fn mail_from(raw: &[u8]) -> Option<String> {
    let msg = mail_parser::MessageParser::default().parse(raw)?;
    msg.from()
        .and_then(|a| a.first())
        .and_then(|a| a.address())
        .map(|a| a.trim().to_owned())
        .filter(|a| !a.is_empty())
}

/// When the first signer of a signed mail says it signed (its CMS `signingTime`, a signed
/// attribute, so covered by the signature), in milliseconds; `None` when the mail has no such
/// signature. Lets a registration refuse an old signed mail sent again by someone else.
pub fn signing_time(raw: &[u8]) -> Option<crate::Millis> {
    use cms::cert::x509::time::Time;
    use mail_parser::MimeHeaders as _;
    const SIGNING_TIME: &str = "1.2.840.113549.1.9.5";
    let msg = mail_parser::MessageParser::default().parse(raw)?;
    let der = msg.parts.iter().find_map(|part| {
        let ct = part.content_type()?;
        let sub = ct.subtype().unwrap_or_default().to_ascii_lowercase();
        (ct.ctype().eq_ignore_ascii_case("application")
            && matches!(
                sub.as_str(),
                "pkcs7-signature" | "x-pkcs7-signature" | "pkcs7-mime" | "x-pkcs7-mime"
            ))
        .then(|| part.contents().to_vec())
    })?;
    let ci = ContentInfo::from_der(&der).ok()?;
    if ci.content_type.to_string() != ID_SIGNED_DATA {
        return None;
    }
    let sd = ci.content.decode_as::<SignedData>().ok()?;
    let signer = sd.signer_infos.0.iter().next()?;
    let attr = signer
        .signed_attrs
        .as_ref()?
        .iter()
        .find(|a| a.oid.to_string() == SIGNING_TIME)?;
    // A CHOICE (UTCTime or GeneralizedTime): decoded from the value's own encoding.
    let value = der::Encode::to_der(attr.values.iter().next()?).ok()?;
    let time = Time::from_der(&value).ok()?;
    i64::try_from(time.to_unix_duration().as_millis()).ok()
}

/// A signed mail: `multipart/signed` (the first part signed by the `pkcs7-signature` part) or an
/// opaque `application/pkcs7-mime` signed message.
fn mail(raw: &[u8], cert: X509) -> Possession {
    use mail_parser::MimeHeaders as _;
    let Some(msg) = mail_parser::MessageParser::default().parse(raw) else {
        return Possession::Broken;
    };
    let from = msg
        .from()
        .and_then(|a| a.first())
        .and_then(|a| a.address())
        .map(|a| a.trim().to_owned());
    for (i, part) in msg.parts.iter().enumerate() {
        let Some(ct) = part.content_type() else {
            continue;
        };
        let sub = ct.subtype().unwrap_or_default().to_ascii_lowercase();
        if !ct.ctype().eq_ignore_ascii_case("application") {
            continue;
        }
        match sub.as_str() {
            "pkcs7-signature" | "x-pkcs7-signature" => {
                // The signed entity is the part before the signature: its headers and body,
                // exactly as sent (CRLF line ends, without the CRLF before the boundary).
                let Some(entity) = i.checked_sub(1).and_then(|j| msg.parts.get(j)) else {
                    return Possession::Broken;
                };
                let bytes = raw
                    .get(entity.offset_header as usize..entity.offset_end as usize)
                    .unwrap_or_default();
                let content = crlf(bytes);
                // Parsers differ on whether the part ends before or after its last line break.
                let trimmed = content.strip_suffix(b"\r\n").unwrap_or(&content);
                for candidate in [trimmed, &content[..]] {
                    let got =
                        verified(part.contents(), Some(candidate), cert.clone(), from.clone());
                    if got != Possession::Broken {
                        return got;
                    }
                }
                return Possession::Broken;
            }
            "pkcs7-mime" | "x-pkcs7-mime" => {
                if let Signed::WithContent = signed(part.contents()) {
                    return verified(part.contents(), None, cert, from);
                }
            }
            _ => {}
        }
    }
    Possession::NotSigned
}

/// Line ends as S/MIME signs them: every LF preceded by CR.
fn crlf(b: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(b.len() + b.len() / 32);
    let mut prev = 0u8;
    for &c in b {
        if c == b'\n' && prev != b'\r' {
            out.push(b'\r');
        }
        out.push(c);
        prev = c;
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn line_ends_become_crlf_once() {
        assert_eq!(crlf(b"a\nb\r\nc\n"), b"a\r\nb\r\nc\r\n");
    }

    #[test]
    fn junk_proves_nothing_and_never_panics() {
        assert_eq!(possession(b"", b"not a cert"), Possession::Broken);
        assert_eq!(possession(b"hello", &[]), Possession::Broken);
    }
}
