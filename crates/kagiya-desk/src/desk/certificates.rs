//! Every registered S/MIME certificate with its status and expiry, and importing one from a file
//! the customer brought (picked or dropped in the window) with the validation explained first.

use base64::Engine as _;
use kagiya_core::certs::{ChainStatus, Severity};
use kagiya_core::directory::CertStatus;
use kagiya_core::secret::Secret;
use kagiya_core::{Error, Lang, Millis};
use kagiya_store::reports;
use serde::Serialize;

use crate::console::Console;
use kagiya_engine::certificates::CertReport;

/// The largest certificate file accepted from the window (a signed .eml with attachments can be
/// large, but a certificate file never is).
pub const MAX_FILE_BYTES: usize = 2 * 1024 * 1024;

#[derive(Debug, Clone, Serialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
pub struct CertificateRow {
    pub login_id: String,
    pub contract_no: String,
    pub address: String,
    pub subject: String,
    pub issuer: String,
    pub not_after: Millis,
    pub status: CertStatus,
    pub trusted: bool,
    pub sign: bool,
    pub encrypt: bool,
}

#[derive(Debug, Clone, Serialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
pub struct FindingView {
    pub code: &'static str,
    /// `error` (cannot be registered) or `warning`.
    pub severity: &'static str,
    pub message: String,
}

/// What a file holds and how it fits the address, in words.
#[derive(Debug, Clone, Serialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
pub struct CertificateReportView {
    pub format: String,
    pub certificates_in_file: u32,
    pub subject: String,
    pub issuer: String,
    pub serial: String,
    pub not_before: Millis,
    pub not_after: Millis,
    pub emails: Vec<String>,
    pub key: String,
    pub sha256: String,
    pub findings: Vec<FindingView>,
    pub chain_trusted: bool,
    /// The trusted root, or why the chain is not trusted.
    pub chain: String,
    pub acceptable: bool,
    /// A mail from the address signed with this certificate's key: registering it switches
    /// signing and encryption on (seed 001).
    pub possession_proven: bool,
}

impl CertificateReportView {
    fn new(r: CertReport, lang: Lang) -> Self {
        let c = r.certificate;
        let (chain_trusted, chain) = (
            matches!(r.chain, ChainStatus::Trusted { .. }),
            r.chain.message(lang),
        );
        CertificateReportView {
            possession_proven: r.possession_proven,
            format: serde_json::to_value(r.format)
                .ok()
                .and_then(|v| v.as_str().map(str::to_owned))
                .unwrap_or_default(),
            certificates_in_file: u32::try_from(r.certificates_in_file).unwrap_or(u32::MAX),
            subject: c.subject,
            issuer: c.issuer,
            serial: c.serial,
            not_before: c.not_before,
            not_after: c.not_after,
            emails: c.emails,
            key: format!("{} {}", c.key_algorithm, c.key_bits),
            sha256: c.sha256,
            findings: r
                .findings
                .into_iter()
                .map(|f| FindingView {
                    code: f.code,
                    severity: match f.severity {
                        Severity::Error => "error",
                        Severity::Warning => "warning",
                    },
                    message: f.message,
                })
                .collect(),
            chain_trusted,
            chain,
            acceptable: r.acceptable,
        }
    }
}

/// The file's bytes as the window sends them (base64).
fn file_bytes(base64_file: &str) -> Result<Vec<u8>, Error> {
    // Refused before decoding: base64 is 4 characters for every 3 bytes.
    if base64_file.trim().len() > MAX_FILE_BYTES.div_ceil(3) * 4 {
        return Err(Error::CertificateUnreadable("size"));
    }
    let bytes = base64::engine::general_purpose::STANDARD
        .decode(base64_file.trim())
        .map_err(|_| Error::CertificateUnreadable("encoding"))?;
    if bytes.is_empty() || bytes.len() > MAX_FILE_BYTES {
        return Err(Error::CertificateUnreadable("size"));
    }
    Ok(bytes)
}

impl Console {
    /// Every address that holds a certificate, soonest expiry first.
    pub fn certificates(&mut self) -> Result<Vec<CertificateRow>, Error> {
        self.active_operator()?;
        self.engine().switch_off_lapsed_encryption()?;
        let now = self.engine().now();
        let days = self.engine().expiring_days();
        let listed: Vec<_> = reports::addresses_with_certificates(&self.branch.store().conn())?
            .into_iter()
            .filter(|(_, _, a)| a.certificate.is_some())
            .collect();
        // Trust as of today's roots, not as it was at import.
        let trust = self
            .engine()
            .certificate_trust(listed.iter().filter_map(|(_, _, a)| a.certificate.as_ref()))?;
        let mut rows: Vec<CertificateRow> = listed
            .into_iter()
            .zip(trust)
            .filter_map(|((login_id, contract_no, a), trust)| {
                let status = a.cert_status(now, days);
                let c = a.certificate?;
                Some(CertificateRow {
                    login_id,
                    contract_no,
                    address: a.address,
                    subject: c.subject,
                    issuer: c.issuer,
                    not_after: c.not_after,
                    status,
                    trusted: matches!(trust, ChainStatus::Trusted { .. }),
                    sign: a.sign,
                    encrypt: a.encrypt,
                })
            })
            .collect();
        rows.sort_by_key(|r| r.not_after);
        Ok(rows)
    }

    /// Explains how the file's certificate fits `address`, changing nothing.
    pub fn certificate_report(
        &mut self,
        address: &str,
        base64_file: &str,
    ) -> Result<CertificateReportView, Error> {
        self.active_operator()?;
        let bytes = file_bytes(base64_file)?;
        let lang = self.lang();
        Ok(CertificateReportView::new(
            self.engine()
                .certificate_report(address, &bytes, self.lang())?,
            lang,
        ))
    }

    /// Registers the file's certificate for the user's address.
    pub fn import_certificate(
        &mut self,
        login_id: &str,
        address: &str,
        base64_file: &str,
        confirmation: &Secret,
    ) -> Result<CertificateReportView, Error> {
        let who = self.acting_operator()?;
        let bytes = file_bytes(base64_file)?;
        let lang = self.lang();
        let report = self.engine().import_certificate(
            &who,
            confirmation,
            login_id,
            address,
            &bytes,
            lang,
        )?;
        Ok(CertificateReportView::new(report, lang))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Issue 12, low: 「size limits before decoding (certificate upload…)」: text longer than the
    /// largest file's base64 is refused without being decoded — even text that is not base64.
    #[test]
    fn an_oversized_upload_is_refused_before_decoding() {
        let over = "*".repeat(MAX_FILE_BYTES.div_ceil(3) * 4 + 1);
        assert_eq!(
            file_bytes(&over).unwrap_err(),
            Error::CertificateUnreadable("size")
        );
        assert_eq!(
            file_bytes("*").unwrap_err(),
            Error::CertificateUnreadable("encoding")
        );
    }
}
