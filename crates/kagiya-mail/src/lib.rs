//! Kagiya's mail, apart from any database: what each mail says in Japanese and English
//! (`letters`), how it is written as MIME with its S/MIME signature and encryption (`compose`,
//! `smime`), and how it is handed to the bank's mail server (`smtp`). The central server's outbox
//! and worker decide *when*; this crate decides *what* and *how*.

pub mod compose;
pub mod letters;
pub mod smime;
pub mod smtp;

pub use compose::{compose, render, Envelope, Protection};
pub use letters::{letter, when, Facts, Letter, Link};
pub use lettre::message::Mailbox;
pub use smime::{encrypt, recipient, Revocations, Signer, Unusable};
pub use smtp::{Security, SendError, Smtp, SmtpSettings};

/// What went wrong making or sending a mail.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum MailError {
    /// The configuration (a certificate, a key, a server setting) cannot be used.
    #[error("mail configuration: {0}")]
    Config(String),
    /// The recipient's address cannot be written in a mail.
    #[error("mail address: {0}")]
    Address(String),
    /// OpenSSL refused an operation.
    #[error("S/MIME: {0}")]
    Crypto(String),
    #[error("mail: {0}")]
    Internal(String),
}

impl MailError {
    fn crypto(e: openssl::error::ErrorStack) -> MailError {
        MailError::Crypto(e.to_string())
    }
}

/// An X.509 name as one line (`CN=…, O=…`).
pub(crate) fn names(n: &openssl::x509::X509NameRef) -> String {
    n.entries()
        .map(|e| {
            format!(
                "{}={}",
                e.object().nid().short_name().unwrap_or("?"),
                e.data().to_string().unwrap_or_default()
            )
        })
        .collect::<Vec<_>>()
        .join(", ")
}
