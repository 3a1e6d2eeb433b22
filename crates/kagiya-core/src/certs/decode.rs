//! From bytes to DER certificates. Every input is untrusted (fuzzed in fuzz/): anything that is
//! not one of the accepted forms is an error that names the problem, never a panic.

use cms::content_info::ContentInfo;
use cms::signed_data::{CertificateSet, SignedData};
use der::{Decode, Encode};
use serde::{Deserialize, Serialize};

use crate::Error;

/// The form the certificates came in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Format {
    Pem,
    Der,
    /// A PKCS#7 / CMS bundle (.p7b, .p7c) or a signed message (.p7s, .p7m).
    Pkcs7,
    /// A whole signed e-mail (.eml), as seed 001's customers send to register.
    Email,
}

/// What was found in a file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Decoded {
    pub format: Format,
    /// DER certificates in file order.
    pub certificates: Vec<Vec<u8>>,
}

/// The largest file accepted (certificates and signed mails are small; this bounds the work).
pub const MAX_INPUT: usize = 4 * 1024 * 1024;

/// OIDs of CMS content types.
const ID_SIGNED_DATA: &str = "1.2.840.113549.1.7.2";
const ID_ENVELOPED_DATA: &str = "1.2.840.113549.1.7.3";

fn bad(why: &'static str) -> Error {
    Error::CertificateUnreadable(why)
}

/// Reads every certificate in `bytes`.
pub fn certificates(bytes: &[u8]) -> Result<Decoded, Error> {
    if bytes.len() > MAX_INPUT {
        return Err(bad("too_large"));
    }
    let trimmed = trim_ascii_start(bytes);
    if trimmed.is_empty() {
        return Err(bad("empty"));
    }
    let decoded = if trimmed.starts_with(b"-----BEGIN") {
        Decoded {
            format: Format::Pem,
            certificates: from_pem(trimmed)?,
        }
    } else if looks_like_mail(trimmed) {
        Decoded {
            format: Format::Email,
            certificates: from_mail(trimmed)?,
        }
    } else if trimmed[0] == 0x30 {
        from_der(trimmed)?
    } else if let Some(raw) = base64_text(trimmed) {
        // A .p7s / .p7b saved as bare base64 text.
        from_der(&raw)?
    } else {
        return Err(bad("unknown_format"));
    };
    if decoded.certificates.is_empty() {
        return Err(bad("no_certificate"));
    }
    Ok(decoded)
}

pub(crate) fn trim_ascii_start(b: &[u8]) -> &[u8] {
    let start = b
        .iter()
        .position(|c| !c.is_ascii_whitespace())
        .unwrap_or(b.len());
    &b[start..]
}

fn is_certificate(der: &[u8]) -> bool {
    matches!(x509_parser::parse_x509_certificate(der), Ok((rest, _)) if rest.is_empty())
}

fn from_der(der: &[u8]) -> Result<Decoded, Error> {
    if is_certificate(der) {
        return Ok(Decoded {
            format: Format::Der,
            certificates: vec![der.to_vec()],
        });
    }
    Ok(Decoded {
        format: Format::Pkcs7,
        certificates: from_cms(der)?,
    })
}

fn from_pem(text: &[u8]) -> Result<Vec<Vec<u8>>, Error> {
    let mut out = Vec::new();
    for pem in x509_parser::pem::Pem::iter_from_buffer(text) {
        let pem = pem.map_err(|_| bad("pem"))?;
        match pem.label.as_str() {
            "CERTIFICATE" | "X509 CERTIFICATE" | "TRUSTED CERTIFICATE" => {
                if !is_certificate(&pem.contents) {
                    return Err(bad("certificate"));
                }
                out.push(pem.contents);
            }
            "PKCS7" | "CMS" => out.extend(from_cms(&pem.contents)?),
            _ => {}
        }
    }
    Ok(out)
}

/// The certificates of a CMS SignedData (a bundle or a signed message).
fn from_cms(der: &[u8]) -> Result<Vec<Vec<u8>>, Error> {
    let ci = match ContentInfo::from_der(der) {
        Ok(ci) => ci,
        // Mail programs often write BER (indefinite lengths) around DER certificates.
        Err(_) if is_ber_signed_data(der) => return Ok(scan_certificates(der)),
        Err(_) => return Err(bad("not_pkcs7")),
    };
    let oid = ci.content_type.to_string();
    if oid == ID_ENVELOPED_DATA {
        return Err(bad("encrypted"));
    }
    if oid != ID_SIGNED_DATA {
        return Err(bad("not_signed_data"));
    }
    let sd: SignedData = ci.content.decode_as().map_err(|_| bad("signed_data"))?;
    certs_of(sd.certificates)
}

fn certs_of(set: Option<CertificateSet>) -> Result<Vec<Vec<u8>>, Error> {
    let mut out = Vec::new();
    for choice in set.map(|s| s.0.into_vec()).unwrap_or_default() {
        if let cms::cert::CertificateChoices::Certificate(c) = choice {
            let der = c.to_der().map_err(|_| bad("certificate"))?;
            if is_certificate(&der) {
                out.push(der);
            }
        }
    }
    Ok(out)
}

/// True for a BER ContentInfo whose content type is signedData (its OID within the first bytes).
fn is_ber_signed_data(b: &[u8]) -> bool {
    // 06 09 2A 86 48 86 F7 0D 01 07 02 — the signedData OID.
    const OID: [u8; 11] = [
        0x06, 0x09, 0x2A, 0x86, 0x48, 0x86, 0xF7, 0x0D, 0x01, 0x07, 0x02,
    ];
    b[..b.len().min(24)].windows(OID.len()).any(|w| w == OID)
}

/// The complete DER certificates embedded in `b`, in order (each must parse in full).
fn scan_certificates(b: &[u8]) -> Vec<Vec<u8>> {
    let mut out = Vec::new();
    let mut i = 0;
    while i + 4 < b.len() {
        if b[i] == 0x30 && b[i + 1] == 0x82 {
            let len = ((b[i + 2] as usize) << 8 | b[i + 3] as usize) + 4;
            if let Some(cand) = b.get(i..i + len) {
                if is_certificate(cand) {
                    out.push(cand.to_vec());
                    i += len;
                    continue;
                }
            }
        }
        i += 1;
    }
    out
}

pub(crate) fn looks_like_mail(b: &[u8]) -> bool {
    let head = &b[..b.len().min(8192)];
    let text = String::from_utf8_lossy(head).to_ascii_lowercase();
    text.contains("content-type:")
        && (text.contains("mime-version:") || text.contains("\nfrom:") || text.starts_with("from:"))
}

fn from_mail(b: &[u8]) -> Result<Vec<Vec<u8>>, Error> {
    use mail_parser::MimeHeaders as _;
    let msg = mail_parser::MessageParser::default()
        .parse(b)
        .ok_or(bad("mail"))?;
    let mut out = Vec::new();
    let mut saw_encrypted = false;
    for part in msg.parts.iter() {
        let Some(ct) = part.content_type() else {
            continue;
        };
        let sub = ct.subtype().unwrap_or_default().to_ascii_lowercase();
        if !ct.ctype().eq_ignore_ascii_case("application")
            || !(sub == "pkcs7-signature"
                || sub == "x-pkcs7-signature"
                || sub == "pkcs7-mime"
                || sub == "x-pkcs7-mime")
        {
            continue;
        }
        match from_cms(part.contents()) {
            Ok(certs) => out.extend(certs),
            Err(Error::CertificateUnreadable("encrypted")) => saw_encrypted = true,
            Err(e) => return Err(e),
        }
    }
    if out.is_empty() && saw_encrypted {
        return Err(bad("encrypted"));
    }
    if out.is_empty() {
        return Err(bad("unsigned_mail"));
    }
    Ok(out)
}

/// Bare base64 text (with line breaks), decoded.
pub(crate) fn base64_text(b: &[u8]) -> Option<Vec<u8>> {
    use base64::Engine as _;
    let compact: Vec<u8> = b
        .iter()
        .copied()
        .filter(|c| !c.is_ascii_whitespace())
        .collect();
    if compact.len() < 64
        || !compact
            .iter()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, b'+' | b'/' | b'='))
    {
        return None;
    }
    base64::engine::general_purpose::STANDARD
        .decode(compact)
        .ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn junk_is_refused_by_name() {
        let code = |b: &[u8]| match certificates(b) {
            Err(Error::CertificateUnreadable(w)) => w,
            other => panic!("{other:?}"),
        };
        assert_eq!(code(b""), "empty");
        assert_eq!(code(b"   \n"), "empty");
        assert_eq!(code(b"hello"), "unknown_format");
        assert_eq!(code(&[0x30, 0x03, 0x02, 0x01, 0x01]), "not_pkcs7");
        assert_eq!(
            code(b"-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n"),
            "certificate"
        );
        assert_eq!(
            code(b"From: a@example.jp\nMIME-Version: 1.0\nContent-Type: text/plain\n\nhi\n"),
            "unsigned_mail"
        );
        assert_eq!(code(&vec![b'A'; MAX_INPUT + 1]), "too_large");
    }
}
