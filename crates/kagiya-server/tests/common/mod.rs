//! What the server's test files share: a fresh database on the test cluster, a raw HTTP request,
//! and a server's state with test settings.

#![allow(dead_code)]

use std::sync::atomic::{AtomicU32, Ordering};

use kagiya_server::config::Config;
use kagiya_server::http::AppState;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

/// A fresh, empty database on the test cluster; its URL.
pub async fn fresh_database() -> String {
    static N: AtomicU32 = AtomicU32::new(0);
    let admin = std::env::var("KAGIYA_TEST_DATABASE_URL").expect(
        "KAGIYA_TEST_DATABASE_URL is not set: run the tests under scripts/with-postgres.sh \
         (the README's test command does)",
    );
    let name = format!(
        "kagiya_test_{}_{}",
        std::process::id(),
        N.fetch_add(1, Ordering::SeqCst)
    );
    let (client, conn) = tokio_postgres::connect(&admin, tokio_postgres::NoTls)
        .await
        .expect("the test cluster answers");
    tokio::spawn(conn);
    client
        .batch_execute(&format!("CREATE DATABASE {name}"))
        .await
        .unwrap();
    // The admin URL with the database replaced.
    let mut cfg: tokio_postgres::Config = admin.parse().unwrap();
    cfg.dbname(&name);
    let hosts: Vec<String> = cfg
        .get_hosts()
        .iter()
        .map(|h| match h {
            tokio_postgres::config::Host::Tcp(s) => s.clone(),
            #[cfg(unix)]
            tokio_postgres::config::Host::Unix(p) => p.display().to_string(),
        })
        .collect();
    format!(
        "host={} port={} user={} dbname={name}",
        hosts[0],
        cfg.get_ports().first().copied().unwrap_or(5432),
        cfg.get_user().unwrap_or("postgres"),
    )
}

/// A request with its headers: (status, headers lower-cased, body).
pub async fn request(addr: std::net::SocketAddr, head: &str, body: &[u8]) -> (u16, String, String) {
    let (status, h, b) = request_raw(addr, head, body).await;
    (status, h.to_ascii_lowercase(), b)
}

/// A request with its headers as sent (cookie values keep their case): (status, headers, body).
pub async fn request_raw(
    addr: std::net::SocketAddr,
    head: &str,
    body: &[u8],
) -> (u16, String, String) {
    let mut s = tokio::net::TcpStream::connect(addr).await.unwrap();
    s.write_all(head.as_bytes()).await.unwrap();
    s.write_all(body).await.unwrap();
    let mut text = Vec::new();
    s.read_to_end(&mut text).await.unwrap();
    let text = String::from_utf8_lossy(&text).into_owned();
    let status = text[9..12].parse().unwrap();
    let (h, b) = text.split_once("\r\n\r\n").unwrap_or((&text, ""));
    (status, h.to_owned(), b.to_owned())
}

/// The configuration the tests run with: `extra` TOML lines over the defaults.
pub fn config(url: &str, extra: &str) -> Config {
    let dir = std::env::temp_dir().join(format!(
        "kagiya-server-cfg-{}-{}",
        std::process::id(),
        rand_suffix()
    ));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("server.toml");
    std::fs::write(&path, format!("database_url = {url:?}\n{extra}\n")).unwrap();
    let c = Config::load(Some(&path), |_| None).unwrap();
    std::fs::remove_dir_all(&dir).unwrap();
    c
}

fn rand_suffix() -> u32 {
    static N: AtomicU32 = AtomicU32::new(0);
    N.fetch_add(1, Ordering::SeqCst)
}

/// A server's state over `pool` with the default settings.
pub fn state(pool: deadpool_postgres::Pool) -> AppState {
    let c = config("unused", "");
    AppState::new(pool, &c, tokio::runtime::Handle::current()).unwrap()
}

/// A server process that is killed when the test ends, whether it passes or panics.
pub struct Running(pub std::process::Child);

impl Drop for Running {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// A configuration file in a new temporary directory for `url`, throttles out of the way (the
/// load tests are not about them), with the schema migrated and the demo customers written by
/// the binary itself. Keep the directory alive while the file is used.
pub fn demo_config(url: &str) -> (tempfile::TempDir, std::path::PathBuf) {
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("server.toml");
    std::fs::write(
        &config,
        format!(
            "database_url = {url:?}\npool_size = 4\nmigrate_on_start = true\n\
             [throttle]\nper_source_per_minute = 1000000\nper_login_id_per_minute = 1000000\n\
             api_per_source_per_minute = 1000000\napi_per_login_id_per_minute = 1000000\n"
        ),
    )
    .unwrap();
    for step in ["migrate", "demo"] {
        let out = std::process::Command::new(env!("CARGO_BIN_EXE_kagiya-server"))
            .args(["--config", config.to_str().unwrap(), step])
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
    (dir, config)
}

/// A server in this process with the demo customers on a fresh database, listening on a free
/// loopback port, configured by `extra` TOML lines: its address, the engine's port over its
/// database (for writing what a branch would) and the database's URL.
pub async fn demo_server(
    extra: &str,
) -> (
    std::net::SocketAddr,
    std::sync::Arc<kagiya_server::store::PgPort>,
    String,
) {
    let d = demo_server_full(extra).await;
    (d.addr, d.port, d.url)
}

/// A running in-process server and what the tests reach it by.
pub struct Demo {
    pub addr: std::net::SocketAddr,
    /// The server's own port (queuing mail as the server does).
    pub port: std::sync::Arc<kagiya_server::store::PgPort>,
    pub url: String,
    pub state: AppState,
    /// The registration-by-mail listener, when `[mail.registration]` is configured.
    pub registration: Option<std::net::SocketAddr>,
}

/// `demo_server` with everything it started, mail included when `[mail]` is configured.
pub async fn demo_server_full(extra: &str) -> Demo {
    use kagiya_server::{db, migrate};
    let url = fresh_database().await;
    let c = config(&url, extra);
    let pool = db::pool(&url, c.pool_size).unwrap();
    migrate::run(&pool).await.unwrap();
    kagiya_server::store::ensure_typed_id_key(&pool)
        .await
        .unwrap();
    let rt = tokio::runtime::Handle::current();
    let state = AppState::new(pool, &c, rt).unwrap();
    let port = state.port.clone();
    let p = port.clone();
    tokio::task::spawn_blocking(move || {
        let hasher = kagiya_core::password::PasswordHasher::new(Default::default()).unwrap();
        let now = kagiya_engine::Clock::now(&kagiya_engine::SystemClock);
        kagiya_server::demo::seed(p.as_ref(), &hasher, now).unwrap();
    })
    .await
    .unwrap();
    let registration = kagiya_server::mail::start(&state, &c).unwrap();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let served = state.clone();
    tokio::spawn(async move {
        axum::serve(
            listener,
            kagiya_server::http::router(served)
                .into_make_service_with_connect_info::<std::net::SocketAddr>(),
        )
        .await
    });
    Demo {
        addr,
        port,
        url,
        state,
        registration,
    }
}

/// The real SMTP server of `scripts/with-smtp.sh` as one test's mail: its own sender address
/// (so that tests running at once, which share the server, each find only their own mails), an
/// outbox key, and the `[mail]` section that sends through the STARTTLS port with AUTH, signed
/// with the test signer.
pub struct TestMail {
    pub from: String,
    pub maildir: std::path::PathBuf,
    pub control: std::path::PathBuf,
    pub smime: std::path::PathBuf,
    pub dir: tempfile::TempDir,
}

fn env(name: &str) -> String {
    std::env::var(name).unwrap_or_else(|_| {
        panic!("{name} is not set: run the tests under scripts/with-smtp.sh (the README's test command does)")
    })
}

/// One mail the test SMTP server took.
#[derive(Debug, Clone)]
pub struct Captured {
    pub raw: Vec<u8>,
    pub to: Vec<String>,
    pub mode: String,
    pub login: String,
}

impl Captured {
    /// The mail's text part (of the signed content; an encrypted mail is opened with `key`).
    pub fn text(&self) -> String {
        let msg = mail_parser::MessageParser::default()
            .parse(&self.raw)
            .unwrap();
        msg.body_text(0).map(|t| t.into_owned()).unwrap_or_default()
    }

    pub fn subject(&self) -> String {
        let msg = mail_parser::MessageParser::default()
            .parse(&self.raw)
            .unwrap();
        msg.subject().unwrap_or_default().to_owned()
    }

    pub fn header(&self, name: &str) -> Option<String> {
        let msg = mail_parser::MessageParser::default()
            .parse(&self.raw)
            .unwrap();
        msg.header_raw(name).map(|h| h.trim().to_owned())
    }

    /// The link the mail carries (`https://…?token=…`).
    pub fn link(&self) -> Option<String> {
        self.text()
            .split_whitespace()
            .find(|w| {
                (w.starts_with("https://") || w.starts_with("http://")) && w.contains("token=")
            })
            .map(str::to_owned)
    }

    /// The token of the link.
    pub fn token(&self) -> Option<String> {
        self.link()
            .and_then(|l| l.split_once("token=").map(|(_, t)| t.to_owned()))
    }

    /// The six-digit code the mail carries.
    pub fn code(&self) -> Option<String> {
        self.text()
            .split_whitespace()
            .find(|w| w.len() == 6 && w.bytes().all(|b| b.is_ascii_digit()))
            .map(str::to_owned)
    }

    /// `openssl cms -verify` against the test CA: (ok, output).
    pub fn verify(&self, smime: &std::path::Path) -> (bool, String) {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("m.eml"), &self.raw).unwrap();
        let out = std::process::Command::new("openssl")
            .args([
                "cms", "-verify", "-in", "m.eml", "-out", "content", "-CAfile",
            ])
            .arg(smime.join("ca.pem"))
            .current_dir(dir.path())
            .output()
            .unwrap();
        (
            out.status.success(),
            String::from_utf8_lossy(&out.stderr).into_owned(),
        )
    }

    /// `openssl cms -decrypt` with `who`'s key (`taro` → taro.pem/taro.key): the inner mail.
    pub fn decrypt(&self, smime: &std::path::Path, who: &str) -> Option<Captured> {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("m.eml"), &self.raw).unwrap();
        let out = std::process::Command::new("openssl")
            .args([
                "cms",
                "-decrypt",
                "-in",
                "m.eml",
                "-out",
                "inner.eml",
                "-recip",
            ])
            .arg(smime.join(format!("{who}.pem")))
            .arg("-inkey")
            .arg(smime.join(format!("{who}.key")))
            .current_dir(dir.path())
            .output()
            .unwrap();
        out.status.success().then(|| Captured {
            raw: std::fs::read(dir.path().join("inner.eml")).unwrap(),
            ..self.clone()
        })
    }
}

impl TestMail {
    pub fn new() -> TestMail {
        static N: AtomicU32 = AtomicU32::new(0);
        let dir = tempfile::tempdir().unwrap();
        let key = dir.path().join("outbox.key");
        kagiya_server::mail::seal::OutboxKey::create(&key).unwrap();
        std::fs::write(
            dir.path().join("smtp.pass"),
            env("KAGIYA_TEST_SMTP_PASSWORD"),
        )
        .unwrap();
        TestMail {
            from: format!(
                "noreply+t{}-{}@bank.example",
                std::process::id(),
                N.fetch_add(1, Ordering::SeqCst)
            ),
            maildir: env("KAGIYA_TEST_SMTP_MAILDIR").into(),
            control: env("KAGIYA_TEST_SMTP_CONTROL").into(),
            smime: env("KAGIYA_TEST_SMIME_DIR").into(),
            dir,
        }
    }

    /// The `[mail]` section (and `registration` when asked), sending over STARTTLS.
    pub fn toml(&self, registration: bool) -> String {
        self.toml_with(
            "starttls",
            &env("KAGIYA_TEST_SMTP_STARTTLS_PORT"),
            registration,
            "",
        )
    }

    /// The `[mail]` section with the given security, port and extra lines.
    pub fn toml_with(&self, security: &str, port: &str, registration: bool, extra: &str) -> String {
        let mut t = format!(
            "[mail]
from = \"鍵屋 <{from}>\"
link_base = \"https://kagiya.test\"
             smtp_host = {host:?}
smtp_port = {port}
smtp_security = \"{security}\"
             smtp_user = {user:?}
smtp_password_file = {pass:?}
smtp_ca_file = {ca:?}
             smtp_timeout_seconds = 5
             signing_cert = {cert:?}
signing_key = {key:?}
crl_files = [{crl:?}]
             outbox_key_file = {okey:?}
poll_ms = 50
{extra}
",
            from = self.from,
            host = env("KAGIYA_TEST_SMTP_HOST"),
            user = env("KAGIYA_TEST_SMTP_USER"),
            pass = self.dir.path().join("smtp.pass"),
            ca = env("KAGIYA_TEST_SMTP_CA"),
            cert = self.smime.join("signer.pem"),
            key = self.smime.join("signer.key"),
            crl = self.smime.join("ca.crl"),
            okey = self.dir.path().join("outbox.key"),
        );
        if registration {
            t.push_str(
                "[mail.registration]
address = \"digitalid@bank.example\"
listen = \"127.0.0.1:0\"
",
            );
        }
        t
    }

    /// The mails this test's sender sent so far, oldest first.
    pub fn sent(&self) -> Vec<Captured> {
        let mut names: Vec<_> = std::fs::read_dir(&self.maildir)
            .unwrap()
            .filter_map(|e| e.ok().map(|e| e.path()))
            .filter(|p| p.extension().is_some_and(|x| x == "json"))
            .collect();
        names.sort();
        names
            .into_iter()
            .filter_map(|json| {
                let meta: serde_json::Value =
                    serde_json::from_str(&std::fs::read_to_string(&json).ok()?).ok()?;
                if meta["mail_from"].as_str() != Some(self.from.as_str()) {
                    return None;
                }
                let raw = std::fs::read(json.with_extension("eml")).ok()?;
                Some(Captured {
                    raw,
                    to: meta["rcpt_tos"]
                        .as_array()?
                        .iter()
                        .filter_map(|v| v.as_str().map(str::to_owned))
                        .collect(),
                    mode: meta["mode"].as_str().unwrap_or("").to_owned(),
                    login: meta["login"].as_str().unwrap_or("").to_owned(),
                })
            })
            .collect()
    }

    /// Waits (at most `secs`) until the mails sent to `to` that `pick` accepts number `n`.
    pub async fn wait_for(
        &self,
        to: &str,
        n: usize,
        secs: u64,
        pick: impl Fn(&Captured) -> bool,
    ) -> Vec<Captured> {
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(secs);
        loop {
            let got: Vec<Captured> = self
                .sent()
                .into_iter()
                .filter(|c| c.to.iter().any(|t| t.eq_ignore_ascii_case(to)) && pick(c))
                .collect();
            if got.len() >= n || std::time::Instant::now() > deadline {
                return got;
            }
            tokio::time::sleep(std::time::Duration::from_millis(50)).await;
        }
    }
}

/// The server binary serving `config` on loopback `port` (its output dropped).
pub fn start_server(config: &std::path::Path, port: u16) -> std::process::Child {
    std::process::Command::new(env!("CARGO_BIN_EXE_kagiya-server"))
        .args(["--config", config.to_str().unwrap(), "serve"])
        .env("KAGIYA_SERVER_LISTEN", format!("127.0.0.1:{port}"))
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap()
}

/// Waits (at most 10 s) until the server at `addr` says it is ready.
pub async fn ready(addr: std::net::SocketAddr) -> bool {
    for _ in 0..200 {
        if let Ok(mut s) = tokio::net::TcpStream::connect(addr).await {
            let _ = s
                .write_all(b"GET /readyz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
                .await;
            let mut text = Vec::new();
            let _ = s.read_to_end(&mut text).await;
            if text.get(9..12) == Some(b"200") {
                return true;
            }
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    false
}

/// A pseudo-random number below `max` from the clock (the moments of the kills; no seed to keep).
pub fn jitter(max: u64) -> u64 {
    let n = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .subsec_nanos() as u64;
    n % max
}

/// The events that register `pem`'s certificate for `address` with encryption on, as a branch
/// would have recorded them.
pub fn encrypting(
    login_id: &str,
    addr: &str,
    smime: &std::path::Path,
    pem: &str,
) -> Vec<kagiya_core::event::EventKind> {
    let cert = openssl::x509::X509::from_pem(&std::fs::read(smime.join(pem)).unwrap()).unwrap();
    let der = cert.to_der().unwrap();
    let info = kagiya_core::certs::inspect(&der).unwrap();
    vec![
        kagiya_core::event::EventKind::CertificateImported {
            login_id: login_id.into(),
            address: addr.into(),
            certificate: kagiya_core::directory::StoredCert {
                der: {
                    use base64::Engine as _;
                    base64::engine::general_purpose::STANDARD.encode(&der)
                },
                sha256: info.sha256.clone(),
                subject: info.subject.clone(),
                issuer: info.issuer.clone(),
                not_after: info.not_after,
                imported_at: kagiya_engine::Clock::now(&kagiya_engine::SystemClock),
                format: kagiya_core::certs::Format::Pem,
                trusted: true,
                chain: vec![],
            },
        },
        kagiya_core::event::EventKind::AddressFlagsSet {
            login_id: login_id.into(),
            address: addr.into(),
            sign: true,
            encrypt: true,
        },
    ]
}
