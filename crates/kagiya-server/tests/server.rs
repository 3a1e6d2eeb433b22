//! The server against a real PostgreSQL: the test command (`scripts/with-postgres.sh`) starts a
//! private cluster and names it in KAGIYA_TEST_DATABASE_URL; each test makes its own database.

mod common;

use common::{fresh_database, request, state};
use kagiya_server::http::router;
use kagiya_server::{db, migrate};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn four_processes_starting_at_once_migrate_once() {
    let url = fresh_database().await;
    // Four pools stand for four server processes: separate connections, one database.
    let runs = (0..4).map(|_| {
        let pool = db::pool(&url, 2).unwrap();
        tokio::spawn(async move { migrate::run(&pool).await })
    });
    let mut applied = Vec::new();
    for r in runs {
        let report = r.await.unwrap().unwrap();
        assert_eq!(report.to, migrate::latest());
        applied.extend(report.applied);
    }
    let want: Vec<i32> = (1..=migrate::latest()).collect();
    assert_eq!(applied, want, "each step applied exactly once in all");
    let pool = db::pool(&url, 1).unwrap();
    assert_eq!(migrate::current(&pool).await.unwrap(), migrate::latest());
    let again = migrate::run(&pool).await.unwrap();
    assert!(again.applied.is_empty());
}

#[tokio::test]
async fn a_database_ahead_of_this_program_is_refused_and_left_alone() {
    let url = fresh_database().await;
    let pool = db::pool(&url, 1).unwrap();
    migrate::run(&pool).await.unwrap();
    let c = pool.get().await.unwrap();
    c.execute(
        "INSERT INTO schema_migrations (version, name) VALUES (999, 'future')",
        &[],
    )
    .await
    .unwrap();
    drop(c);
    let e = migrate::run(&pool).await.unwrap_err();
    assert!(e.contains("newer"), "{e}");
    assert_eq!(migrate::current(&pool).await.unwrap(), 999);
}

/// Issue 13: 「the audit log on the server is per customer (a hash chain per tenant)」 — and, as
/// on the branch, an entry is accepted only at its chain's head and never changed or removed.
#[tokio::test]
async fn each_customers_chain_only_grows_at_its_head() {
    let url = fresh_database().await;
    let pool = db::pool(&url, 1).unwrap();
    migrate::run(&pool).await.unwrap();
    let c = pool.get().await.unwrap();
    let genesis = "0".repeat(64);
    let insert = "INSERT INTO events (chain, seq, at_ms, actor, kind, body, prev_hash, hash) \
                  VALUES ($1, $2, 0, NULL, 'k', '{}', $3, $4)";
    c.execute(insert, &[&"C-1", &1i64, &genesis, &"h1"])
        .await
        .unwrap();
    // Another customer's chain starts on its own.
    c.execute(insert, &[&"C-2", &1i64, &genesis, &"x1"])
        .await
        .unwrap();
    c.execute(insert, &[&"C-1", &2i64, &"h1", &"h2"])
        .await
        .unwrap();
    for (seq, prev) in [(2i64, "h1"), (4, "h2"), (3, "wrong")] {
        let e = c
            .execute(insert, &[&"C-1", &seq, &prev, &"hx"])
            .await
            .unwrap_err();
        assert!(msg(&e).contains("head"), "{}", msg(&e));
    }
    for sql in [
        "UPDATE events SET actor = 'x' WHERE chain = 'C-1'",
        "DELETE FROM events WHERE chain = 'C-1'",
        "TRUNCATE events CASCADE",
    ] {
        let e = c.batch_execute(sql).await.unwrap_err();
        assert!(msg(&e).contains("append-only"), "{sql}: {}", msg(&e));
    }
    let heads: Vec<(String, i64, String)> = c
        .query("SELECT chain, seq, hash FROM chains ORDER BY chain", &[])
        .await
        .unwrap()
        .iter()
        .map(|r| (r.get(0), r.get(1), r.get(2)))
        .collect();
    assert_eq!(
        heads,
        [
            ("C-1".to_owned(), 2, "h2".to_owned()),
            ("C-2".to_owned(), 1, "x1".to_owned())
        ]
    );
}

/// What PostgreSQL said (tokio-postgres shows only "db error").
fn msg(e: &tokio_postgres::Error) -> String {
    e.as_db_error()
        .map(|d| d.message().to_owned())
        .unwrap_or_else(|| e.to_string())
}

/// A plain HTTP/1.1 GET on loopback: (status, body).
async fn get(addr: std::net::SocketAddr, path: &str) -> (u16, String) {
    let head = format!("GET {path} HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n");
    let (status, _, body) = request(addr, &head, b"").await;
    (status, body)
}

#[tokio::test]
async fn ready_only_when_the_database_answers_with_the_current_schema() {
    let url = fresh_database().await;
    let pool = db::pool(&url, 2).unwrap();
    let st = state(pool);
    let pool = st.pool.clone();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let app = router(st);
    tokio::spawn(async move { axum::serve(listener, app).await });
    assert_eq!(get(addr, "/healthz").await.0, 200);
    let (status, body) = get(addr, "/readyz").await;
    assert_eq!(status, 503, "{body}");
    assert!(body.contains("schema version 0"), "{body}");
    migrate::run(&pool).await.unwrap();
    let (status, body) = get(addr, "/readyz").await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(get(addr, "/nowhere").await.0, 404);
    // A database that does not answer: not ready, and the process still healthy.
    let dead = db::pool(
        "host=127.0.0.1 port=1 user=nobody dbname=none connect_timeout=2",
        1,
    )
    .unwrap();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let app = router(state(dead));
    tokio::spawn(async move { axum::serve(listener, app).await });
    let (status, body) = get(addr, "/readyz").await;
    assert_eq!(status, 503);
    assert!(body.contains("does not answer"), "{body}");
    assert_eq!(get(addr, "/healthz").await.0, 200);
}

/// The binary as an operator runs it: `migrate`, then `serve` until SIGTERM, which it answers by
/// finishing and exiting 0; a bad setting stops it at once with the setting named.
#[tokio::test]
async fn the_binary_migrates_serves_and_stops_on_sigterm() {
    let url = fresh_database().await;
    let bin = env!("CARGO_BIN_EXE_kagiya-server");
    let port = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        l.local_addr().unwrap().port()
    };
    let run = |args: &[&str]| {
        std::process::Command::new(bin)
            .args(args)
            .env("KAGIYA_SERVER_DATABASE_URL", &url)
            .env("KAGIYA_SERVER_LISTEN", format!("127.0.0.1:{port}"))
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped())
            .spawn()
            .unwrap()
    };
    let out = run(&["migrate"]).wait_with_output().unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let log = String::from_utf8_lossy(&out.stdout).into_owned();
    assert!(
        log.lines()
            .any(|l| l.starts_with('{') && l.contains("schema up to date")),
        "{log}"
    );

    let child = run(&["serve"]);
    let addr: std::net::SocketAddr = format!("127.0.0.1:{port}").parse().unwrap();
    let mut ready = false;
    for _ in 0..100 {
        if tokio::net::TcpStream::connect(addr).await.is_ok() {
            ready = get(addr, "/readyz").await.0 == 200;
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    assert!(ready, "the server answered /readyz");
    let status = std::process::Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(status.success());
    let out = tokio::task::spawn_blocking(move || child.wait_with_output())
        .await
        .unwrap()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(String::from_utf8_lossy(&out.stdout).contains("stop signal"));

    let out = std::process::Command::new(bin)
        .arg("serve")
        .env("KAGIYA_SERVER_DATABASE_URL", &url)
        .env("KAGIYA_SERVER_POOL_SIZE", "0")
        .output()
        .unwrap();
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("pool_size"));
}

/// Issue 13, operating it: request ids (kept from the proxy or made, and echoed), errors as
/// `{code, message}` in the client's language, and Prometheus counts by route and status with the
/// pool's use.
#[tokio::test]
async fn requests_carry_ids_errors_are_json_and_metrics_count_them() {
    let url = fresh_database().await;
    let state = state(db::pool(&url, 2).unwrap());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, router(state)).await });

    let (status, head, _) = request(
        addr,
        "GET /healthz HTTP/1.1\r\nHost: x\r\nX-Request-Id: from-the-proxy-1\r\nConnection: close\r\n\r\n",
        b"",
    )
    .await;
    assert_eq!(status, 200);
    assert!(head.contains("x-request-id: from-the-proxy-1"), "{head}");
    let (_, head, _) = request(
        addr,
        "GET /healthz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n",
        b"",
    )
    .await;
    let made = head
        .lines()
        .find_map(|l| l.strip_prefix("x-request-id: "))
        .expect("an id is made when none came");
    assert_eq!(made.len(), 36, "a UUID: {made}");
    // An id too long, or with what a log line should not hold, is replaced by a fresh one.
    for bad in ["x".repeat(65), "a b\"c".to_owned()] {
        let (_, head, _) = request(
            addr,
            &format!("GET /healthz HTTP/1.1\r\nHost: x\r\nX-Request-Id: {bad}\r\nConnection: close\r\n\r\n"),
            b"",
        )
        .await;
        let id = head
            .lines()
            .find_map(|l| l.strip_prefix("x-request-id: "))
            .unwrap();
        assert_eq!(id.len(), 36, "{bad:?} replaced: {id}");
    }

    let (status, _, body) = request(
        addr,
        "GET /nowhere HTTP/1.1\r\nHost: x\r\nAccept-Language: ja-JP,ja;q=0.9\r\nConnection: close\r\n\r\n",
        b"",
    )
    .await;
    assert_eq!(status, 404);
    let v: serde_json::Value = serde_json::from_str(&body).unwrap();
    assert_eq!(v["code"], "http.not_found");
    assert_eq!(v["message"], "指定されたページはありません。");
    let (_, _, body) = request(
        addr,
        "GET /nowhere HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n",
        b"",
    )
    .await;
    assert!(body.contains("There is no such page."), "{body}");

    let (status, head, body) = request(
        addr,
        "GET /metrics HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n",
        b"",
    )
    .await;
    assert_eq!(status, 200);
    assert!(head.contains("content-type: text/plain"), "{head}");
    assert!(
        body.contains("kagiya_http_requests_total{route=\"/healthz\",status=\"200\"} 4"),
        "{body}"
    );
    assert!(
        body.contains("kagiya_http_requests_total{route=\"unmatched\",status=\"404\"} 2"),
        "{body}"
    );
    assert!(
        body.contains("kagiya_http_request_seconds_bucket"),
        "{body}"
    );
    assert!(body.contains("kagiya_db_pool_connections"), "{body}");
}

/// Issue 13: 「a hash chain per tenant, so that customers never serialise on one row」. Eight
/// writers per customer for two customers at once, each entry in a transaction of its own: every
/// entry is kept once, in one unbroken chain per customer, in the branch's format; a rolled-back
/// write leaves no entry and no gap; an entry altered behind the server's back is found.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn concurrent_writers_keep_one_unbroken_chain_per_customer() {
    use kagiya_core::event::EventKind;
    use kagiya_server::events;
    let url = fresh_database().await;
    let pool = std::sync::Arc::new(db::pool(&url, 16).unwrap());
    migrate::run(&pool).await.unwrap();
    let mut tasks = Vec::new();
    for chain in ["c-1", "c-2"] {
        for w in 0..8 {
            let pool = pool.clone();
            tasks.push(tokio::spawn(async move {
                for i in 0..25 {
                    let mut c = pool.get().await.unwrap();
                    let tx = c.transaction().await.unwrap();
                    let kind = EventKind::SettingChanged {
                        key: format!("{chain}/{w}/{i}"),
                        value: String::new(),
                    };
                    events::append(&tx, chain, 1_000 + i, Some("writer"), Some("test"), kind)
                        .await
                        .unwrap();
                    tx.commit().await.unwrap();
                }
            }));
        }
    }
    for t in tasks {
        t.await.unwrap();
    }
    let c = pool.get().await.unwrap();
    for chain in ["c-1", "c-2"] {
        assert_eq!(
            events::verify(&**c, chain).await.unwrap(),
            Ok(200),
            "{chain}"
        );
        let keys: i64 = c
            .query_one(
                "SELECT count(DISTINCT body) FROM events WHERE chain = $1",
                &[&chain],
            )
            .await
            .unwrap()
            .get(0);
        assert_eq!(keys, 200, "every write kept once");
    }
    // A write that rolls back leaves nothing: the next entry continues the chain.
    {
        let mut c = pool.get().await.unwrap();
        let tx = c.transaction().await.unwrap();
        let kind = EventKind::SettingChanged {
            key: "rolled back".into(),
            value: String::new(),
        };
        events::append(&tx, "c-1", 5_000, None, None, kind)
            .await
            .unwrap();
        tx.rollback().await.unwrap();
    }
    assert_eq!(events::verify(&**c, "c-1").await.unwrap(), Ok(200));
    // Altered behind the server's back (the triggers dropped first): found at its place.
    c.batch_execute(
        "ALTER TABLE events DISABLE TRIGGER events_no_update_or_delete;
         UPDATE events SET actor = 'someone else' WHERE chain = 'c-2' AND seq = 17;",
    )
    .await
    .unwrap();
    assert_eq!(events::verify(&**c, "c-2").await.unwrap(), Err(17));
    assert_eq!(events::verify(&**c, "c-1").await.unwrap(), Ok(200));
}

/// A private CA (`ca.pem`) and a certificate for localhost it signs (`cert.pem`, `key.pem`) in
/// `dir`, made by openssl as an organisation's own PKI would make them.
fn make_server_certificate(dir: &std::path::Path) {
    std::fs::write(
        dir.join("ext.cnf"),
        "subjectAltName=DNS:localhost,IP:127.0.0.1\nbasicConstraints=CA:FALSE\n\
         extendedKeyUsage=serverAuth\n",
    )
    .unwrap();
    let ec = "-newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes";
    for step in [
        format!("req -x509 {ec} -subj /CN=KagiyaTestCA -days 2 -keyout ca.key -out ca.pem"),
        format!("req {ec} -subj /CN=localhost -keyout key.pem -out req.csr"),
        "x509 -req -in req.csr -CA ca.pem -CAkey ca.key -CAcreateserial -days 2 \
         -extfile ext.cnf -out cert.pem"
            .to_owned(),
    ] {
        let made = std::process::Command::new("openssl")
            .args(step.split_whitespace())
            .current_dir(dir)
            .output()
            .unwrap();
        assert!(
            made.status.success(),
            "{}",
            String::from_utf8_lossy(&made.stderr)
        );
    }
}

/// Issue 13, operating it: 「TLS with rustls from the config」. The binary serves HTTPS with a
/// certificate made by openssl; a client that trusts it gets answers, plain HTTP gets none; a key
/// without its certificate, or a file that is no key, stops the start with the setting named
/// (and nothing of the file's content).
#[tokio::test]
async fn the_binary_serves_tls_from_the_config() {
    use std::sync::Arc;
    let url = fresh_database().await;
    let dir = tempfile::tempdir().unwrap();
    let (cert, key) = (dir.path().join("cert.pem"), dir.path().join("key.pem"));
    let ca = dir.path().join("ca.pem");
    make_server_certificate(dir.path());
    let bin = env!("CARGO_BIN_EXE_kagiya-server");
    let port = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        l.local_addr().unwrap().port()
    };
    let child = std::process::Command::new(bin)
        .arg("serve")
        .env("KAGIYA_SERVER_DATABASE_URL", &url)
        .env("KAGIYA_SERVER_MIGRATE_ON_START", "true")
        .env("KAGIYA_SERVER_LISTEN", format!("127.0.0.1:{port}"))
        .env("KAGIYA_SERVER_TLS_CERT", &cert)
        .env("KAGIYA_SERVER_TLS_KEY", &key)
        .stdout(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let server = common::Running(child);
    let mut roots = rustls::RootCertStore::empty();
    use rustls_pki_types::pem::PemObject;
    for c in rustls_pki_types::CertificateDer::pem_file_iter(&ca).unwrap() {
        roots.add(c.unwrap()).unwrap();
    }
    let client = rustls::ClientConfig::builder_with_provider(Arc::new(
        rustls::crypto::ring::default_provider(),
    ))
    .with_safe_default_protocol_versions()
    .unwrap()
    .with_root_certificates(roots)
    .with_no_client_auth();
    let connector = tokio_rustls::TlsConnector::from(Arc::new(client));
    let addr: std::net::SocketAddr = format!("127.0.0.1:{port}").parse().unwrap();
    let mut answer = String::new();
    for _ in 0..100 {
        if let Ok(tcp) = tokio::net::TcpStream::connect(addr).await {
            let name = rustls_pki_types::ServerName::try_from("localhost").unwrap();
            let mut tls = connector.connect(name, tcp).await.unwrap();
            tls.write_all(b"GET /healthz HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n")
                .await
                .unwrap();
            let mut text = Vec::new();
            let _ = tls.read_to_end(&mut text).await;
            answer = String::from_utf8_lossy(&text).into_owned();
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    assert!(answer.starts_with("HTTP/1.1 200"), "{answer}");
    // Plain HTTP on the TLS port: no HTTP answer.
    let mut plain = tokio::net::TcpStream::connect(addr).await.unwrap();
    plain
        .write_all(b"GET /healthz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
        .await
        .unwrap();
    let mut text = Vec::new();
    let _ = tokio::time::timeout(
        std::time::Duration::from_secs(5),
        plain.read_to_end(&mut text),
    )
    .await;
    assert!(!String::from_utf8_lossy(&text).contains("200 OK"));
    drop(server);

    let start = |cert: &std::path::Path, key: Option<&std::path::Path>| {
        let mut c = std::process::Command::new(bin);
        c.arg("serve")
            .env("KAGIYA_SERVER_DATABASE_URL", &url)
            .env("KAGIYA_SERVER_LISTEN", "127.0.0.1:1")
            .env("KAGIYA_SERVER_TLS_CERT", cert);
        if let Some(k) = key {
            c.env("KAGIYA_SERVER_TLS_KEY", k);
        }
        c.output().unwrap()
    };
    let out = start(&cert, None);
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("tls_cert and tls_key go together"));
    let secret_looking = dir.path().join("not-a-key.pem");
    std::fs::write(&secret_looking, "SECRET-CONTENT-1234\n").unwrap();
    let out = start(&cert, Some(&secret_looking));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success());
    assert!(
        err.contains("tls_key") && !err.contains("SECRET-CONTENT-1234"),
        "{err}"
    );
}

/// Issue 14: 「transport over HTTPS (rustls)」. The branch's sync client talks to the binary
/// serving TLS with a certificate from the bank's own CA: with that CA's file named in Settings
/// it enrols and pulls; without it (the OS roots only) it is refused before anything is sent.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_branch_syncs_over_https_trusting_the_banks_ca_file() {
    let url = fresh_database().await;
    let (_cfg_dir, config) = common::demo_config(&url);
    let dir = tempfile::tempdir().unwrap();
    make_server_certificate(dir.path());
    let port = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        l.local_addr().unwrap().port()
    };
    let _server = common::Running(
        std::process::Command::new(env!("CARGO_BIN_EXE_kagiya-server"))
            .args(["--config", config.to_str().unwrap(), "serve"])
            .env("KAGIYA_SERVER_LISTEN", format!("127.0.0.1:{port}"))
            .env("KAGIYA_SERVER_TLS_CERT", dir.path().join("cert.pem"))
            .env("KAGIYA_SERVER_TLS_KEY", dir.path().join("key.pem"))
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .spawn()
            .unwrap(),
    );
    let pool = kagiya_server::db::pool(&url, 2).unwrap();
    let now = || kagiya_engine::Clock::now(&kagiya_engine::SystemClock);
    let server = format!("https://localhost:{port}");
    // Wait until it answers (over TLS, through the client itself is not possible before
    // enrolment: poll the port).
    for _ in 0..100 {
        if tokio::net::TcpStream::connect(("127.0.0.1", port))
            .await
            .is_ok()
        {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    let ca = dir.path().join("ca.pem").display().to_string();
    for (trust, expect_ok) in [(None, false), (Some(ca), true)] {
        let code =
            kagiya_server::devices::issue_code(&pool, "tls-branch", &["K-1001".into()], now())
                .await
                .unwrap();
        let db = dir.path().join(format!("branch-{expect_ok}.db"));
        let server = server.clone();
        let out = tokio::task::spawn_blocking(move || {
            let store = kagiya_store::Store::open(&db, &kagiya_store::DbKey::generate()).unwrap();
            let key = |g: i64| kagiya_sync::DeviceKey::from_seed(&[g as u8 + 90; 32]);
            kagiya_desk::sync::enroll(&store, key, &server, trust.as_deref(), &code, now())?;
            kagiya_desk::sync::round(&store, &key(1), now())
        })
        .await
        .unwrap();
        match (expect_ok, out) {
            (true, Ok(r)) => assert!(r.pulled > 10, "{r:?}"),
            (false, Err(e)) => {
                // Refused by the certificate check, not by a closed port.
                assert_eq!(e.code(), "sync.unreachable", "{e}");
                let text = e.to_string().to_lowercase();
                assert!(text.contains("cert") || text.contains("issuer"), "{e}");
            }
            (want, got) => panic!("trusting the CA file {want}: {got:?}"),
        }
    }
}
