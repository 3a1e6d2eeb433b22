//! Delivery over SMTP (lettre, async on tokio): STARTTLS (required, never opportunistic) or
//! implicit TLS, AUTH with the configured account, a time limit on the whole hand-over, and the
//! mail server's answer sorted into "try again later" (4xx, connection and TLS trouble, no answer
//! in time) and "never" (5xx), which is what the outbox's states need.
//!
//! lettre's async transport limits only the connect; a server that stops answering mid-way would
//! hold a send for ever, so the whole hand-over runs under `tokio::time::timeout` here. Each mail
//! has a connection of its own (no pool): one cut short by the limit is closed, never reused.

use std::path::PathBuf;
use std::time::Duration;

use kagiya_core::secret::Secret;
use lettre::address::Envelope;
use lettre::transport::smtp::authentication::Credentials;
use lettre::transport::smtp::client::{Certificate, Tls, TlsParameters};
use lettre::{AsyncSmtpTransport, AsyncTransport, Tokio1Executor};

use crate::MailError;

/// How the connection is protected.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Security {
    /// STARTTLS on the submission port; refused if the server does not offer it.
    Starttls,
    /// TLS from the first byte (port 465).
    Tls,
    /// No TLS: only to a relay on this host (checked), never across a network.
    None,
}

/// Where and how to hand mail over.
#[derive(Clone)]
pub struct SmtpSettings {
    pub host: String,
    pub port: u16,
    pub security: Security,
    pub user: Option<String>,
    pub password: Option<Secret>,
    /// A CA file (PEM) trusted besides the OS's roots (the bank's own CA).
    pub ca_file: Option<PathBuf>,
    /// The longest one hand-over may take, connect to the final 250.
    pub timeout: Duration,
}

impl std::fmt::Debug for SmtpSettings {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SmtpSettings")
            .field("host", &self.host)
            .field("port", &self.port)
            .field("security", &self.security)
            .field("user", &self.user)
            .field("password", &self.password.as_ref().map(|_| "***"))
            .finish()
    }
}

/// Why a mail was not handed over.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SendError {
    /// Worth trying again later (4xx, no connection, a timeout, TLS trouble).
    Temporary(String),
    /// The server refused it for good (5xx).
    Permanent(String),
}

/// An SMTP client (a connection per mail).
#[derive(Clone)]
pub struct Smtp {
    transport: AsyncSmtpTransport<Tokio1Executor>,
    limit: Duration,
}

impl Smtp {
    pub fn new(s: &SmtpSettings) -> Result<Smtp, MailError> {
        let mut b = AsyncSmtpTransport::<Tokio1Executor>::builder_dangerous(&s.host)
            .port(s.port)
            .timeout(Some(s.timeout));
        let tls = || -> Result<TlsParameters, MailError> {
            let mut p = TlsParameters::builder(s.host.clone());
            if let Some(ca) = &s.ca_file {
                let pem = std::fs::read(ca)
                    .map_err(|e| MailError::Config(format!("{}: {e}", ca.display())))?;
                let cert = Certificate::from_pem(&pem)
                    .map_err(|e| MailError::Config(format!("{}: {e}", ca.display())))?;
                p = p.add_root_certificate(cert);
            }
            p.build_rustls()
                .map_err(|e| MailError::Config(format!("SMTP TLS: {e}")))
        };
        b = match s.security {
            Security::Starttls => b.tls(Tls::Required(tls()?)),
            Security::Tls => b.tls(Tls::Wrapper(tls()?)),
            Security::None => {
                if !is_loopback(&s.host) {
                    return Err(MailError::Config(format!(
                        "SMTP without TLS is only allowed to a relay on this host, not to {}",
                        s.host
                    )));
                }
                b.tls(Tls::None)
            }
        };
        if let (Some(u), Some(p)) = (&s.user, &s.password) {
            b = b.credentials(Credentials::new(u.clone(), p.expose().to_owned()));
        }
        Ok(Smtp {
            transport: b.build(),
            limit: s.timeout,
        })
    }

    /// Hands `raw` over for `to`, with `from` as the envelope sender.
    pub async fn send(&self, from: &str, to: &str, raw: &[u8]) -> Result<(), SendError> {
        let parse = |a: &str| {
            a.parse::<lettre::Address>()
                .map_err(|e| SendError::Permanent(format!("{a}: {e}")))
        };
        let env = Envelope::new(Some(parse(from)?), vec![parse(to)?])
            .map_err(|e| SendError::Permanent(e.to_string()))?;
        match tokio::time::timeout(self.limit, self.transport.send_raw(&env, raw)).await {
            Ok(Ok(_)) => Ok(()),
            Ok(Err(e)) if e.is_permanent() => Err(SendError::Permanent(e.to_string())),
            Ok(Err(e)) => Err(SendError::Temporary(e.to_string())),
            // The server may have taken the mail without its answer arriving: tried again later,
            // with the same Message-ID.
            Err(_) => Err(SendError::Temporary(format!(
                "no answer within the time limit ({} s)",
                self.limit.as_secs()
            ))),
        }
    }
}

fn is_loopback(host: &str) -> bool {
    host.eq_ignore_ascii_case("localhost")
        || host
            .trim_matches(['[', ']'])
            .parse::<std::net::IpAddr>()
            .is_ok_and(|ip| ip.is_loopback())
}
