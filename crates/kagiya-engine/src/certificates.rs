//! Registering an address's S/MIME certificate from any file a customer brings (seed 001), with the
//! validation explained; trusted roots for the chain check. A certificate with an error finding is
//! refused and nothing changes; warnings (an untrusted chain, a near end) are reported and kept.

use base64::Engine as _;
use kagiya_core::certs::{
    self, chain_status, check_for_address, inspect, possession, possession_findings, CertInfo,
    ChainStatus, Finding, Format, Severity,
};
use kagiya_core::directory::{authorize, Action, StoredCert};
use kagiya_core::event::EventKind;
use kagiya_core::mail::MailKind;
use kagiya_core::secret::Secret;
use kagiya_core::{Error, Lang};
use serde::Serialize;

use crate::addresses::find;
use crate::port::{Change, MailOrder};
use crate::{ActorRef, Engine};

/// What a certificate file holds and how it fits an address.
#[derive(Debug, Clone, Serialize)]
pub struct CertReport {
    pub format: Format,
    pub certificates_in_file: usize,
    pub certificate: CertInfo,
    pub findings: Vec<Finding>,
    pub chain: ChainStatus,
    /// Whether it can be registered (no error findings).
    pub acceptable: bool,
    /// The file is a mail from the address, signed with the certificate's key (seed 001's
    /// registration by signed mail): registering it switches signing and encryption on.
    pub possession_proven: bool,
}

/// What a signed mail to the registration address did (seed 001).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum MailRegistration {
    /// Registered for these users of the address, signing and encryption on; the sender is told.
    Registered {
        address: String,
        login_ids: Vec<String>,
    },
    /// Not registered (the codes say why); `answered` when the sender was told.
    Refused {
        address: String,
        codes: Vec<&'static str>,
        answered: bool,
    },
    /// Not from a registered address (or no sender): dropped unanswered.
    Ignored,
}

/// How old a registration mail's signature may be (*ours*, docs/mail.md: seed 001's mail is
/// processed 「数分後」; a week covers a mail held up on its way, and no more).
pub const REGISTRATION_MAX_AGE: kagiya_core::Millis = 7 * 24 * 3_600_000;

/// How far ahead of this server's clock a signing time may be (a sender's clock that is off).
pub const REGISTRATION_FUTURE_SKEW: kagiya_core::Millis = 3_600_000;

/// The certificate as kept for an address.
fn stored(
    report: &CertReport,
    der: &[u8],
    others: &[Vec<u8>],
    now: kagiya_core::Millis,
) -> StoredCert {
    StoredCert {
        der: base64::engine::general_purpose::STANDARD.encode(der),
        sha256: report.certificate.sha256.clone(),
        subject: report.certificate.subject.clone(),
        issuer: report.certificate.issuer.clone(),
        not_after: report.certificate.not_after,
        imported_at: now,
        format: report.format,
        trusted: matches!(report.chain, ChainStatus::Trusted { .. }),
        chain: others
            .iter()
            .map(|d| base64::engine::general_purpose::STANDARD.encode(d))
            .collect(),
    }
}

/// A report, the DER of the certificate it is about, and the other certificates of the file.
type Examined = (CertReport, Vec<u8>, Vec<Vec<u8>>);

impl Engine {
    /// Reads `bytes` and explains how its certificate fits `address`, changing nothing.
    pub fn certificate_report(
        &self,
        address: &str,
        bytes: &[u8],
        lang: Lang,
    ) -> Result<CertReport, Error> {
        self.examine(address, bytes, lang)
            .map(|(report, _, _)| report)
    }

    /// The report on `bytes` for `address`, and the DER of the certificate it is about.
    fn examine(&self, address: &str, bytes: &[u8], lang: Lang) -> Result<Examined, Error> {
        let mut decoded = certs::certificates(bytes)?;
        let infos: Vec<(usize, CertInfo)> = decoded
            .certificates
            .iter()
            .enumerate()
            .filter_map(|(i, d)| inspect(d).ok().map(|c| (i, c)))
            .collect();
        // The end-entity certificate naming the address; else the first end-entity one.
        let names = |c: &CertInfo| {
            c.emails
                .iter()
                .any(|e| e.eq_ignore_ascii_case(address.trim()))
        };
        let (leaf_i, info) = infos
            .iter()
            .find(|(_, c)| !c.is_ca && names(c))
            .or_else(|| infos.iter().find(|(_, c)| !c.is_ca))
            .or_else(|| infos.first())
            .cloned()
            .ok_or(Error::CertificateUnreadable("no_certificate"))?;
        let findings = check_for_address(&info, address, self.now(), self.expiring_days(), lang);
        let others: Vec<Vec<u8>> = decoded
            .certificates
            .iter()
            .enumerate()
            .filter(|(i, _)| *i != leaf_i)
            .map(|(_, d)| d.clone())
            .collect();
        let roots = self.root_ders()?;
        let chain = chain_status(&decoded.certificates[leaf_i], &others, &roots, self.now());
        let proof = possession(bytes, &decoded.certificates[leaf_i]);
        let mut findings = findings;
        findings.extend(possession_findings(&proof, address, lang));
        let report = CertReport {
            possession_proven: proof.proves(address),
            format: decoded.format,
            certificates_in_file: decoded.certificates.len(),
            acceptable: !findings.iter().any(|f| f.severity == Severity::Error),
            certificate: info,
            findings,
            chain,
        };
        Ok((report, decoded.certificates.swap_remove(leaf_i), others))
    }

    /// Registers the certificate in `bytes` for `login_id`'s `address`, replacing (and keeping in
    /// the history) the one before.
    pub fn import_certificate(
        &self,
        who: &ActorRef,
        confirmation: &Secret,
        login_id: &str,
        address: &str,
        bytes: &[u8],
        lang: Lang,
    ) -> Result<CertReport, Error> {
        let (report, der, others) = self.examine(address, bytes, lang)?;
        if !report.acceptable {
            let codes = report
                .findings
                .iter()
                .filter(|f| f.severity == Severity::Error)
                .map(|f| f.code)
                .collect();
            return Err(Error::CertificateRejected(codes));
        }
        let (acting, user, list) =
            self.confirm_for_addresses(who, confirmation, login_id, "import_certificate")?;
        let current = find(&list, address)?;
        let owner = user.login_id.clone();
        let ev = EventKind::CertificateImported {
            login_id: user.login_id,
            address: current.address.clone(),
            certificate: stored(&report, &der, &others, self.now()),
        };
        let mut evs = vec![ev];
        if report.possession_proven {
            // Seed 001: registered from the customer's signed mail, 「電子署名」 and 「受信メールの
            // 暗号化」 are on (「チェクボックスがオンの状態」).
            evs.push(EventKind::AddressFlagsSet {
                login_id: owner,
                address: current.address.clone(),
                sign: true,
                encrypt: true,
            });
        }
        self.record_all(Some(&acting.audit_name()), self.now(), evs)?;
        Ok(report)
    }

    /// Seed 001's registration by signed mail: a mail signed with the certificate and sent from
    /// the address to the registration address. Registered for every user who has the address,
    /// with 「電子署名」 and 「受信メールの暗号化」 switched on, when the signature is the
    /// certificate's own, the From: is the address, the certificate fits it and its chain leads
    /// to a trusted root (nobody at a branch looks at this one, so an untrusted chain is refused
    /// rather than warned about). The sender is answered by mail either way — but only a
    /// registered address: a mail from anyone else is dropped unanswered (no backscatter).
    ///
    /// A registration also needs a fresh signature (its signing time within
    /// `REGISTRATION_MAX_AGE`, so an old signed mail of the user's cannot be sent again by
    /// someone else), a certificate nobody revoked (`revoked`, the server's lists), and one no
    /// older than the address already has. A refusal is answered only when the signature is the
    /// certificate's own from its address (a forged sender gets nothing to bounce), and only
    /// when `answer_refusals` (the listener's limit per address).
    pub fn register_certificate_by_mail(
        &self,
        raw: &[u8],
        lang: Lang,
        answer_refusals: bool,
        revoked: &dyn Fn(&[u8]) -> bool,
    ) -> Result<MailRegistration, Error> {
        let Some(from) = certs::mail_from(raw) else {
            return Ok(MailRegistration::Ignored);
        };
        let holders = self.read(|r| r.address_holders(&from))?;
        let Some(first) = holders.first().cloned() else {
            return Ok(MailRegistration::Ignored);
        };
        let answer = |kind: MailKind, detail: Option<String>| {
            Change::Mail(MailOrder {
                kind,
                login_id: first.clone(),
                to: from.clone(),
                lang: Some(lang),
                secret: None,
                expires_at: None,
                detail,
            })
        };
        let mut codes: Vec<&'static str> = Vec::new();
        let examined = match self.examine(&from, raw, lang) {
            Ok(x) => Some(x),
            Err(e) => {
                codes.push(e.code());
                None
            }
        };
        let now = self.now();
        let fresh = certs::signing_time(raw).is_some_and(|t| {
            t >= now - REGISTRATION_MAX_AGE && t <= now + REGISTRATION_FUTURE_SKEW
        });
        if !fresh {
            codes.push("cert.stale_signature");
        }
        if let Some((report, der, _)) = &examined {
            if revoked(der) {
                codes.push("cert.revoked");
            }
            let lists = self.read(|r| {
                holders
                    .iter()
                    .map(|id| r.addresses(id))
                    .collect::<Result<Vec<_>, Error>>()
            })?;
            let older = lists.iter().flatten().any(|a| {
                kagiya_core::directory::addresses::dup_key(&a.address)
                    == kagiya_core::directory::addresses::dup_key(&from)
                    && a.certificate
                        .as_ref()
                        .is_some_and(|c| report.certificate.not_after < c.not_after)
            });
            if older {
                codes.push("cert.older_than_registered");
            }
            codes.extend(
                report
                    .findings
                    .iter()
                    .filter(|f| f.severity == Severity::Error)
                    .map(|f| f.code),
            );
            if !report.possession_proven {
                codes.push("cert.possession_not_proven");
            }
            if !matches!(report.chain, ChainStatus::Trusted { .. }) {
                codes.push("cert.untrusted_chain");
            }
        }
        let actor = format!("mail:{from}");
        match examined {
            Some((report, der, others)) if codes.is_empty() => {
                let mut changes = Vec::new();
                for login_id in &holders {
                    let list = self.read(|r| r.addresses(login_id))?;
                    let current = find(&list, &from)?;
                    for ev in [
                        EventKind::CertificateImported {
                            login_id: login_id.clone(),
                            address: current.address.clone(),
                            certificate: stored(&report, &der, &others, now),
                        },
                        EventKind::AddressFlagsSet {
                            login_id: login_id.clone(),
                            address: current.address.clone(),
                            sign: true,
                            encrypt: true,
                        },
                    ] {
                        changes.push(Change::event(Some(&actor), ev));
                    }
                }
                changes.push(answer(MailKind::CertificateRegistered, None));
                self.commit(now, changes)?;
                Ok(MailRegistration::Registered {
                    address: from,
                    login_ids: holders,
                })
            }
            other => {
                codes.dedup();
                let proven = other.is_some_and(|(r, _, _)| r.possession_proven);
                let answered = answer_refusals && proven;
                if answered {
                    self.commit(
                        now,
                        vec![answer(MailKind::CertificateRefused, Some(codes.join(",")))],
                    )?;
                }
                Ok(MailRegistration::Refused {
                    address: from,
                    codes,
                    answered,
                })
            }
        }
    }

    /// Whether registered certificates lead to a trusted root *today*: checked again against
    /// the branch's current roots and clock each time they are shown, not frozen at import (a
    /// root added later makes one trusted; an issuer that expired makes it untrusted). The roots
    /// are read once for all of them.
    pub fn certificate_trust<'a>(
        &self,
        certs: impl IntoIterator<Item = &'a StoredCert>,
    ) -> Result<Vec<ChainStatus>, Error> {
        let b64 = |s: &str| base64::engine::general_purpose::STANDARD.decode(s).ok();
        let roots = self.root_ders()?;
        let now = self.now();
        certs
            .into_iter()
            .map(|cert| {
                let leaf =
                    b64(&cert.der).ok_or_else(|| Error::Storage("certificate DER".into()))?;
                let chain: Vec<Vec<u8>> = cert.chain.iter().filter_map(|c| b64(c)).collect();
                Ok(chain_status(&leaf, &chain, &roots, now))
            })
            .collect()
    }

    /// The DER of every trusted root.
    fn root_ders(&self) -> Result<Vec<Vec<u8>>, Error> {
        Ok(self
            .read(|r| r.trusted_roots())?
            .into_iter()
            .map(|(_, d)| d)
            .collect())
    }

    /// Encryption to an expired certificate is switched off, recorded as the system's change
    /// (issue 11: an expired certificate must not keep 「受信メールの暗号化」 on, where mail would be
    /// encrypted to a key nobody should use any more). Returns (login ID, address) of each.
    /// Run whenever the branch looks at certificates (the dashboard, the certificates list);
    /// the mail path checks the certificate itself before encrypting.
    pub fn switch_off_lapsed_encryption(&self) -> Result<Vec<(String, String)>, Error> {
        let now = self.now();
        let lapsed = |a: &kagiya_core::directory::Address| {
            a.certificate.as_ref().is_some_and(|c| c.not_after <= now)
        };
        // A read first: the dashboard runs this on every look, and a write lock is taken only
        // when something has lapsed (and decided again inside it).
        if !self
            .read(|r| r.encrypting_addresses())?
            .iter()
            .any(|(_, a)| lapsed(a))
        {
            return Ok(Vec::new());
        }
        self.transact(now, |r| {
            let mut changes = Vec::new();
            let mut switched = Vec::new();
            for (login_id, a) in r.encrypting_addresses()? {
                if lapsed(&a) {
                    changes.push(Change::event(
                        None,
                        EventKind::AddressFlagsSet {
                            login_id: login_id.clone(),
                            address: a.address.clone(),
                            sign: a.sign,
                            encrypt: false,
                        },
                    ));
                    switched.push((login_id, a.address));
                }
            }
            Ok((changes, switched))
        })
    }

    /// A supervisor adds a root certificate to trust for chain checks.
    pub fn add_trusted_root(
        &self,
        who: &ActorRef,
        confirmation: &Secret,
        bytes: &[u8],
    ) -> Result<CertInfo, Error> {
        let decoded = certs::certificates(bytes)?;
        let der = decoded
            .certificates
            .first()
            .ok_or(Error::CertificateUnreadable("no_certificate"))?;
        let info = inspect(der)?;
        if !info.is_ca && !info.self_signed {
            return Err(Error::CertificateRejected(vec!["cert.not_a_root"]));
        }
        let acting = self.confirm(who, confirmation, "add_trusted_root")?;
        authorize(acting.actor(), Action::ChangeTenantPolicy)?;
        let ev = EventKind::TrustedRootAdded {
            sha256: info.sha256.clone(),
            subject: info.subject.clone(),
            der: base64::engine::general_purpose::STANDARD.encode(der),
        };
        self.record_all(Some(&acting.audit_name()), self.now(), vec![ev])?;
        Ok(info)
    }
}
