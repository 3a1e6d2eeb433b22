//! S/MIME (seed 001): every mail is signed with the service's certificate (「以降、…から届くメール
//! には、…の電子署名が付加されます」), and a mail to an address whose 受信メールの暗号化 is on is
//! encrypted to that address's certificate — never sent in clear when the certificate cannot be
//! used. OpenSSL's CMS does the cryptography: the same code as the `openssl cms` that reads the
//! mails on the other side.

use std::path::Path;

use openssl::cms::{CMSOptions, CmsContentInfo};
use openssl::pkcs12::Pkcs12;
use openssl::pkey::{PKey, Private};
use openssl::stack::Stack;
use openssl::symm::Cipher;
use openssl::x509::{CrlStatus, X509Crl, X509};

use crate::MailError;

/// The service's signing certificate and key, and the certificates between it and its root
/// (sent along so that the reader can build the chain). `Debug` never shows the key.
pub struct Signer {
    cert: X509,
    key: PKey<Private>,
    chain: Vec<X509>,
}

impl std::fmt::Debug for Signer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Signer")
            .field("subject", &self.subject())
            .field("key", &"***")
            .finish()
    }
}

fn bad(what: &str, e: impl std::fmt::Display) -> MailError {
    MailError::Config(format!("{what}: {e}"))
}

impl Signer {
    /// From PEM: the certificate file (leaf first, then any intermediates) and the key file.
    pub fn from_pem(cert_pem: &[u8], key_pem: &[u8]) -> Result<Signer, MailError> {
        let mut certs =
            X509::stack_from_pem(cert_pem).map_err(|e| bad("signing certificate", e))?;
        if certs.is_empty() {
            return Err(MailError::Config(
                "signing certificate: no certificate in the file".into(),
            ));
        }
        let cert = certs.remove(0);
        // The error never quotes the key's bytes.
        let key = PKey::private_key_from_pem(key_pem).map_err(|_| {
            MailError::Config("signing key: not a readable unencrypted PEM private key".into())
        })?;
        Signer::checked(cert, key, certs)
    }

    /// From a PKCS#12 file and its password.
    pub fn from_pkcs12(der: &[u8], password: &str) -> Result<Signer, MailError> {
        let p12 = Pkcs12::from_der(der).map_err(|e| bad("signing PKCS#12", e))?;
        let parsed = p12.parse2(password).map_err(|_| {
            MailError::Config("signing PKCS#12: wrong password or unreadable file".into())
        })?;
        let (Some(cert), Some(key)) = (parsed.cert, parsed.pkey) else {
            return Err(MailError::Config(
                "signing PKCS#12: no certificate with its key".into(),
            ));
        };
        let chain = parsed
            .ca
            .map(|s| s.into_iter().collect())
            .unwrap_or_default();
        Signer::checked(cert, key, chain)
    }

    /// Reads `cert` + `key` (PEM) or `p12` + its password file, whichever the configuration names.
    pub fn load(
        cert: Option<&Path>,
        key: Option<&Path>,
        p12: Option<&Path>,
        p12_password: Option<&Path>,
    ) -> Result<Signer, MailError> {
        let read = |p: &Path| std::fs::read(p).map_err(|e| bad(&p.display().to_string(), e));
        match (cert, key, p12) {
            (Some(c), Some(k), None) => Signer::from_pem(&read(c)?, &read(k)?),
            (None, None, Some(p)) => {
                let pass = match p12_password {
                    Some(f) => String::from_utf8(read(f)?)
                        .map_err(|_| {
                            MailError::Config("the PKCS#12 password file is not text".into())
                        })?
                        .trim_end_matches(['\r', '\n'])
                        .to_owned(),
                    None => String::new(),
                };
                Signer::from_pkcs12(&read(p)?, &pass)
            }
            _ => Err(MailError::Config(
                "signing: give either signing_cert and signing_key (PEM) or signing_p12".into(),
            )),
        }
    }

    fn checked(cert: X509, key: PKey<Private>, chain: Vec<X509>) -> Result<Signer, MailError> {
        let matches = cert
            .public_key()
            .map(|p| p.public_eq(&key))
            .unwrap_or(false);
        if !matches {
            return Err(MailError::Config(
                "signing: the key does not belong to the certificate".into(),
            ));
        }
        Ok(Signer { cert, key, chain })
    }

    /// The certificate's subject, for logs.
    pub fn subject(&self) -> String {
        crate::names(self.cert.subject_name())
    }

    /// A detached CMS signature (DER) of `content`, which is already in canonical CRLF form.
    pub fn sign(&self, content: &[u8]) -> Result<Vec<u8>, MailError> {
        let mut chain = Stack::new().map_err(MailError::crypto)?;
        for c in &self.chain {
            chain.push(c.clone()).map_err(MailError::crypto)?;
        }
        CmsContentInfo::sign(
            Some(&self.cert),
            Some(&self.key),
            Some(&chain),
            Some(content),
            CMSOptions::DETACHED | CMSOptions::BINARY,
        )
        .and_then(|c| c.to_der())
        .map_err(MailError::crypto)
    }
}

/// `content` encrypted (AES-256-CBC, the interoperable choice for mail clients) to `recipient`.
pub fn encrypt(content: &[u8], recipient: &X509) -> Result<Vec<u8>, MailError> {
    let mut certs = Stack::new().map_err(MailError::crypto)?;
    certs.push(recipient.clone()).map_err(MailError::crypto)?;
    CmsContentInfo::encrypt(&certs, content, Cipher::aes_256_cbc(), CMSOptions::BINARY)
        .and_then(|c| c.to_der())
        .map_err(MailError::crypto)
}

/// Why a recipient's certificate cannot be encrypted to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Unusable {
    Missing,
    Unreadable,
    Expired,
    NotYetValid,
    Revoked,
    /// A configured revocation list is past its next update: whether the certificate was
    /// revoked since cannot be told, so nothing is encrypted to it (an operator's job fetches
    /// the lists; a stale one is theirs to mend).
    RevocationListOutdated,
}

/// The certificate revocation lists the configuration names (the CA publishes them; an operator's
/// job fetches them into the files). A certificate on one of them, from its issuer, is revoked.
/// The files are read again whenever they change.
#[derive(Default)]
pub struct Revocations {
    files: Vec<(std::path::PathBuf, Option<std::time::SystemTime>)>,
    crls: Vec<X509Crl>,
}

fn modified(p: &Path) -> Option<std::time::SystemTime> {
    std::fs::metadata(p).and_then(|m| m.modified()).ok()
}

impl Revocations {
    /// Reads each file (PEM or DER).
    pub fn load(paths: &[std::path::PathBuf]) -> Result<Revocations, MailError> {
        let mut crls = Vec::new();
        let mut files = Vec::new();
        for p in paths {
            files.push((p.clone(), modified(p)));
            let bytes = std::fs::read(p).map_err(|e| bad(&p.display().to_string(), e))?;
            let crl = X509Crl::from_pem(&bytes)
                .or_else(|_| X509Crl::from_der(&bytes))
                .map_err(|e| bad(&p.display().to_string(), e))?;
            crls.push(crl);
        }
        Ok(Revocations { files, crls })
    }

    /// Reads the files again when one changed since; keeps the lists it has when a new one
    /// cannot be read (and says why).
    pub fn refresh(&mut self) -> Result<bool, MailError> {
        if self.files.iter().all(|(p, at)| modified(p) == *at) {
            return Ok(false);
        }
        let paths: Vec<_> = self.files.iter().map(|(p, _)| p.clone()).collect();
        *self = Revocations::load(&paths)?;
        Ok(true)
    }

    /// Whether a list is past its next update at `now_secs`.
    pub fn outdated(&self, now_secs: i64) -> bool {
        let Ok(now) = openssl::asn1::Asn1Time::from_unix(now_secs) else {
            return true;
        };
        self.crls
            .iter()
            .any(|c| c.next_update().is_some_and(|next| next < now))
    }

    pub fn revoked(&self, cert: &X509) -> bool {
        self.crls.iter().any(|crl| {
            crl.issuer_name()
                .try_cmp(cert.issuer_name())
                .is_ok_and(|o| o == std::cmp::Ordering::Equal)
                && matches!(crl.get_by_cert(cert), CrlStatus::Revoked(_))
        })
    }
}

/// The certificate to encrypt to, from its DER, as of `now_secs`: usable, or why not.
pub fn recipient(der: Option<&[u8]>, now_secs: i64, crls: &Revocations) -> Result<X509, Unusable> {
    let der = der.ok_or(Unusable::Missing)?;
    let cert = X509::from_der(der).map_err(|_| Unusable::Unreadable)?;
    let now = openssl::asn1::Asn1Time::from_unix(now_secs).map_err(|_| Unusable::Unreadable)?;
    if cert.not_after() <= now {
        return Err(Unusable::Expired);
    }
    if cert.not_before() > now {
        return Err(Unusable::NotYetValid);
    }
    if crls.revoked(&cert) {
        return Err(Unusable::Revoked);
    }
    if crls.outdated(now_secs) {
        return Err(Unusable::RevocationListOutdated);
    }
    Ok(cert)
}
