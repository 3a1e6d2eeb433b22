//! Seed 001's registration by signed mail: 「証明書をインストールしたメールクライアントソフトから
//! 電子署名付メールを digitalid@… へ送信します」. The organisation's mail server forwards mail for the
//! registration address to this SMTP listener (chosen over polling a mailbox: no mailbox password
//! to keep, and the relay's own retry covers this server being down). Each mail is decided by the
//! engine before the listener answers 250 — registered, refused, or dropped unanswered — so a
//! mail the relay was told was taken is never lost; a database that does not answer gets 451 and
//! the relay tries again.

use std::net::{IpAddr, SocketAddr, TcpListener};
use std::sync::Arc;

use kagiya_core::Lang;
use kagiya_engine::Engine;
use mailin_embedded::{response, Handler, Response, Server};

use crate::config::RegistrationConfig;

/// The largest mail taken (ours: a signed mail with its certificate chain is tens of KB; 2 MiB
/// leaves room for a long chain and keeps a hostile sender from costing memory).
pub const MAX_MAIL_BYTES: usize = 2 * 1024 * 1024;

/// Connections served at once.
const THREADS: u32 = 4;

/// How often one address is answered a refusal (ours: one an hour; a registered address whose
/// signature checks out but fails, e.g. an expired certificate, learns why without anyone being
/// able to make the server mail it over and over).
const REFUSAL_ANSWER_EVERY: kagiya_core::Millis = 3_600_000;

/// Whether a certificate (DER) is on the server's revocation lists.
pub type Revoked = Arc<dyn Fn(&[u8]) -> bool + Send + Sync>;

#[derive(Clone)]
struct Registration {
    engine: Arc<Engine>,
    revoked: Revoked,
    answered: Arc<std::sync::Mutex<std::collections::HashMap<String, kagiya_core::Millis>>>,
    address: String,
    allow: Arc<Vec<ipnet::IpNet>>,
    lang: Lang,
    peer_allowed: bool,
    data: Vec<u8>,
    too_big: bool,
}

impl Handler for Registration {
    fn helo(&mut self, ip: IpAddr, _domain: &str) -> Response {
        self.peer_allowed = self.allow.iter().any(|n| n.contains(&ip));
        if self.peer_allowed {
            response::OK
        } else {
            tracing::warn!(peer = %ip, "registration mail from a host not allowed");
            response::BLOCKED_IP
        }
    }

    fn mail(&mut self, ip: IpAddr, _domain: &str, _from: &str) -> Response {
        if self.allow.iter().any(|n| n.contains(&ip)) {
            response::OK
        } else {
            response::BLOCKED_IP
        }
    }

    fn rcpt(&mut self, to: &str) -> Response {
        let to = to.trim().trim_matches(['<', '>']);
        if self.peer_allowed && to.eq_ignore_ascii_case(self.address.trim()) {
            response::OK
        } else {
            response::NO_MAILBOX
        }
    }

    fn data_start(
        &mut self,
        _domain: &str,
        _from: &str,
        _is8bit: bool,
        _to: &[String],
    ) -> Response {
        self.data.clear();
        self.too_big = false;
        response::OK
    }

    fn data(&mut self, buf: &[u8]) -> std::io::Result<()> {
        if self.data.len() + buf.len() > MAX_MAIL_BYTES {
            self.too_big = true;
        } else {
            self.data.extend_from_slice(buf);
        }
        Ok(())
    }

    fn data_end(&mut self) -> Response {
        if self.too_big {
            self.data.clear();
            return response::NO_STORAGE;
        }
        let raw = std::mem::take(&mut self.data);
        let now = self.engine.now();
        let from = kagiya_core::certs::mail_from(&raw)
            .map(|f| kagiya_core::directory::addresses::dup_key(&f))
            .unwrap_or_default();
        let may_answer = self
            .answered
            .lock()
            .map(|m| m.get(&from).is_none_or(|t| now - t >= REFUSAL_ANSWER_EVERY))
            .unwrap_or(false);
        let revoked = self.revoked.clone();
        match self
            .engine
            .register_certificate_by_mail(&raw, self.lang, may_answer, &|der| revoked(der))
        {
            Ok(r) => {
                if let kagiya_engine::certificates::MailRegistration::Refused {
                    answered: true,
                    ..
                } = &r
                {
                    if let Ok(mut m) = self.answered.lock() {
                        m.retain(|_, t| now - *t < REFUSAL_ANSWER_EVERY);
                        m.insert(from, now);
                    }
                }
                tracing::info!(outcome = ?r, "registration mail decided");
                response::OK
            }
            Err(e) => {
                tracing::error!(error = %e, "registration mail not decided; the relay will retry");
                response::INTERNAL_ERROR
            }
        }
    }
}

/// Listens on `listener` for the registration address in a thread of its own (the engine's port
/// is synchronous; the listener's threads are not the runtime's, so they may block on it).
pub fn spawn(
    engine: Arc<Engine>,
    revoked: Revoked,
    config: &RegistrationConfig,
    lang: Lang,
    listener: TcpListener,
) -> Result<std::thread::JoinHandle<()>, String> {
    let handler = Registration {
        engine,
        revoked,
        answered: Default::default(),
        address: config.address.clone(),
        allow: Arc::new(config.allow.clone()),
        lang,
        peer_allowed: false,
        data: Vec::new(),
        too_big: false,
    };
    let mut server = Server::new(handler);
    server
        .with_name("kagiya-registration")
        .with_num_threads(THREADS)
        .with_tcp_listener(listener);
    std::thread::Builder::new()
        .name("mail-registration".into())
        .spawn(move || {
            if let Err(e) = server.serve() {
                tracing::error!(error = %e, "the registration listener stopped");
            }
        })
        .map_err(|e| format!("registration listener: {e}"))
}

/// Binds the configured address.
pub fn bind(addr: SocketAddr) -> Result<TcpListener, String> {
    TcpListener::bind(addr).map_err(|e| format!("registration listener on {addr}: {e}"))
}
