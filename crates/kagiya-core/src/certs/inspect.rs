//! What a certificate says, in plain fields: names, addresses, dates, key usage, key strength.

use serde::Serialize;
use sha2::{Digest, Sha256};
use x509_parser::extensions::{GeneralName, ParsedExtension};
use x509_parser::prelude::*;

use crate::{Error, Millis};

/// The facts of one certificate that matter for S/MIME.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct CertInfo {
    pub subject: String,
    pub issuer: String,
    pub serial: String,
    pub not_before: Millis,
    pub not_after: Millis,
    /// rfc822Name entries of the subject alternative names, then the subject's emailAddress.
    pub emails: Vec<String>,
    /// Key usage present, and which bits.
    pub key_usage: Option<KeyUsageBits>,
    /// Extended key usage present, and whether it allows e-mail protection.
    pub extended_key_usage: Option<bool>,
    pub key_algorithm: String,
    /// RSA modulus bits or EC curve size.
    pub key_bits: u32,
    pub is_ca: bool,
    pub self_signed: bool,
    /// SHA-256 of the DER, hex.
    pub sha256: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct KeyUsageBits {
    pub digital_signature: bool,
    pub non_repudiation: bool,
    pub key_encipherment: bool,
    pub key_agreement: bool,
}

/// Reads the facts of a DER certificate.
pub fn inspect(der: &[u8]) -> Result<CertInfo, Error> {
    let (_, cert) =
        X509Certificate::from_der(der).map_err(|_| Error::CertificateUnreadable("certificate"))?;
    let mut emails = Vec::new();
    let mut key_usage = None;
    let mut eku = None;
    let mut is_ca = false;
    for ext in cert.extensions() {
        match ext.parsed_extension() {
            ParsedExtension::SubjectAlternativeName(san) => {
                for n in &san.general_names {
                    if let GeneralName::RFC822Name(e) = n {
                        emails.push((*e).to_owned());
                    }
                }
            }
            ParsedExtension::KeyUsage(ku) => {
                key_usage = Some(KeyUsageBits {
                    digital_signature: ku.digital_signature(),
                    non_repudiation: ku.non_repudiation(),
                    key_encipherment: ku.key_encipherment(),
                    key_agreement: ku.key_agreement(),
                })
            }
            ParsedExtension::ExtendedKeyUsage(e) => eku = Some(e.email_protection || e.any),
            ParsedExtension::BasicConstraints(bc) => is_ca = bc.ca,
            _ => {}
        }
    }
    for e in cert.subject().iter_email() {
        if let Ok(s) = e.as_str() {
            if !emails.iter().any(|x| x.eq_ignore_ascii_case(s)) {
                emails.push(s.to_owned());
            }
        }
    }
    let spki = cert.public_key();
    let (key_algorithm, key_bits) = match spki.parsed() {
        Ok(x509_parser::public_key::PublicKey::RSA(rsa)) => {
            ("RSA".to_owned(), rsa.key_size() as u32)
        }
        Ok(x509_parser::public_key::PublicKey::EC(ec)) => ("EC".to_owned(), ec.key_size() as u32),
        Ok(_) => (spki.algorithm.algorithm.to_id_string(), 0),
        Err(_) => ("unknown".to_owned(), 0),
    };
    let ms = |t: ASN1Time| t.timestamp().saturating_mul(1000);
    Ok(CertInfo {
        subject: cert.subject().to_string(),
        issuer: cert.issuer().to_string(),
        serial: cert.raw_serial_as_string(),
        not_before: ms(cert.validity().not_before),
        not_after: ms(cert.validity().not_after),
        emails,
        key_usage,
        extended_key_usage: eku,
        key_algorithm,
        key_bits,
        is_ca,
        self_signed: cert.subject() == cert.issuer(),
        sha256: hex::encode(Sha256::digest(der)),
    })
}
