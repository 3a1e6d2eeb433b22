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

/// A request with its headers: (status, headers, body).
pub async fn request(addr: std::net::SocketAddr, head: &str, body: &[u8]) -> (u16, String, String) {
    let mut s = tokio::net::TcpStream::connect(addr).await.unwrap();
    s.write_all(head.as_bytes()).await.unwrap();
    s.write_all(body).await.unwrap();
    let mut text = Vec::new();
    s.read_to_end(&mut text).await.unwrap();
    let text = String::from_utf8_lossy(&text).into_owned();
    let status = text[9..12].parse().unwrap();
    let (h, b) = text.split_once("\r\n\r\n").unwrap_or((&text, ""));
    (status, h.to_ascii_lowercase(), b.to_owned())
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
    use kagiya_server::{db, migrate};
    let url = fresh_database().await;
    let c = config(&url, extra);
    let pool = db::pool(&url, c.pool_size).unwrap();
    migrate::run(&pool).await.unwrap();
    kagiya_server::store::ensure_typed_id_key(&pool)
        .await
        .unwrap();
    let rt = tokio::runtime::Handle::current();
    let port = std::sync::Arc::new(kagiya_server::store::PgPort::new(pool.clone(), rt.clone()));
    let p = port.clone();
    tokio::task::spawn_blocking(move || {
        let hasher = kagiya_core::password::PasswordHasher::new(Default::default()).unwrap();
        let now = kagiya_engine::Clock::now(&kagiya_engine::SystemClock);
        kagiya_server::demo::seed(p.as_ref(), &hasher, now).unwrap();
    })
    .await
    .unwrap();
    let state = AppState::new(pool, &c, rt).unwrap();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move {
        axum::serve(
            listener,
            kagiya_server::http::router(state)
                .into_make_service_with_connect_info::<std::net::SocketAddr>(),
        )
        .await
    });
    (addr, port, url)
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
