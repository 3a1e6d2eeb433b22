//! A mail's bytes: the text and HTML parts made from its letter (askama templates), the headers,
//! and the S/MIME layers (RFC 8551): `multipart/signed` around the alternative parts, then, for
//! an address that encrypts, `application/pkcs7-mime` around that. lettre builds the MIME and
//! encodes Japanese in headers (RFC 2047) and bodies (base64 or quoted-printable).

use std::time::SystemTime;

use askama::Template;
use lettre::message::header::{ContentDisposition, ContentType, HeaderName, HeaderValue};
use lettre::message::{Body, Mailbox, MultiPart, SinglePart};
use lettre::Message;
use openssl::x509::X509;

use crate::letters::Letter;
use crate::smime::{encrypt, Signer};
use crate::MailError;

#[derive(Template)]
#[template(path = "letter.txt")]
struct Text<'a> {
    l: &'a Letter,
}

#[derive(Template)]
#[template(path = "letter.html")]
struct Html<'a> {
    l: &'a Letter,
    lang: &'a str,
}

/// The text and HTML parts of `l`.
pub fn render(l: &Letter) -> Result<(String, String), MailError> {
    let text = Text { l }
        .render()
        .map_err(|e| MailError::Internal(format!("text template: {e}")))?;
    let html = Html {
        l,
        lang: l.lang.code(),
    }
    .render()
    .map_err(|e| MailError::Internal(format!("HTML template: {e}")))?;
    Ok((text, html))
}

/// Who sends and who receives, and the mail's identity.
#[derive(Debug, Clone)]
pub struct Envelope<'a> {
    pub from: &'a Mailbox,
    pub reply_to: Option<&'a Mailbox>,
    pub to: &'a str,
    /// `<…@…>`, stable for one outbox row.
    pub message_id: &'a str,
    pub date: SystemTime,
}

/// How a mail is protected.
pub enum Protection<'a> {
    /// Signed with the service's certificate (every mail, seed 001).
    Signed(&'a Signer),
    /// Signed, then encrypted to the recipient's certificate (受信メールの暗号化 on).
    SignedAndEncrypted(&'a Signer, &'a X509),
    /// Neither: only where no signing certificate is configured (documented; the server warns).
    Plain,
}

/// The whole mail, ready for SMTP.
pub fn compose(
    env: &Envelope<'_>,
    l: &Letter,
    protection: Protection<'_>,
) -> Result<Vec<u8>, MailError> {
    let (text, html) = render(l)?;
    let body = MultiPart::alternative_plain_html(text, html);
    let to: Mailbox = env
        .to
        .parse()
        .map_err(|e| MailError::Address(format!("{}: {e}", env.to)))?;
    let mut b = Message::builder()
        .from(env.from.clone())
        .to(to)
        .subject(l.subject.clone())
        .message_id(Some(env.message_id.to_owned()))
        .date(env.date)
        // RFC 3834: an automatic mail; auto-responders should not answer it.
        .raw_header(HeaderValue::new(
            HeaderName::new_from_ascii_str("Auto-Submitted"),
            "auto-generated".to_owned(),
        ));
    if let Some(r) = env.reply_to {
        b = b.reply_to(r.clone());
    }
    let message = match protection {
        Protection::Plain => b.multipart(body),
        Protection::Signed(s) => b.multipart(signed(body, s)?),
        Protection::SignedAndEncrypted(s, cert) => {
            let inner = signed(body, s)?;
            let der = encrypt(&inner.formatted(), cert)?;
            b.singlepart(
                SinglePart::builder()
                    .header(content_type(
                        "application/pkcs7-mime; smime-type=enveloped-data; name=\"smime.p7m\"",
                    )?)
                    .header(ContentDisposition::attachment("smime.p7m"))
                    .body(Body::new(der)),
            )
        }
    }
    .map_err(|e| MailError::Internal(format!("message: {e}")))?;
    Ok(message.formatted())
}

fn content_type(s: &str) -> Result<ContentType, MailError> {
    ContentType::parse(s).map_err(|e| MailError::Internal(format!("content type: {e}")))
}

/// `body` signed: `multipart/signed` with the detached signature (RFC 8551 §3.5). What is
/// signed is the part exactly as it is written between the boundaries, without the CRLF that
/// belongs to the next boundary delimiter (RFC 2046 §5.1.1).
fn signed(body: MultiPart, signer: &Signer) -> Result<MultiPart, MailError> {
    let formatted = body.formatted();
    let content = formatted
        .strip_suffix(b"\r\n")
        .ok_or_else(|| MailError::Internal("a MIME part that does not end in CRLF".into()))?;
    let sig = signer.sign(content)?;
    Ok(
        MultiPart::signed("application/pkcs7-signature".into(), "sha-256".into())
            .multipart(body)
            .singlepart(
                SinglePart::builder()
                    .header(content_type(
                        "application/pkcs7-signature; name=\"smime.p7s\"",
                    )?)
                    .header(ContentDisposition::attachment("smime.p7s"))
                    .body(Body::new(sig)),
            ),
    )
}
