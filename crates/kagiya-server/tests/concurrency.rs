//! Issue 13: 「500 concurrent wrong-password sign-ins for one user spread over 4 server processes
//! on one PostgreSQL: every attempt recorded, the lock at exactly the N-th, no overshoot, nothing
//! lost」 — the real binary, four times, over one database.

mod common;

use std::sync::Arc;

use common::{fresh_database, request};
use kagiya_server::{db, events};
use serde_json::json;

/// Starts `kagiya-server serve` with `config`; returns the child and its address.
async fn serve(config: &std::path::Path) -> (common::Running, std::net::SocketAddr) {
    let port = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        l.local_addr().unwrap().port()
    };
    let child = std::process::Command::new(env!("CARGO_BIN_EXE_kagiya-server"))
        .args(["--config", config.to_str().unwrap(), "serve"])
        .env("KAGIYA_SERVER_LISTEN", format!("127.0.0.1:{port}"))
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let child = common::Running(child);
    let addr: std::net::SocketAddr = format!("127.0.0.1:{port}").parse().unwrap();
    for _ in 0..200 {
        if tokio::net::TcpStream::connect(addr).await.is_ok() {
            return (child, addr);
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    panic!("the server did not start");
}

async fn sign_in(addr: std::net::SocketAddr, password: &str) -> u16 {
    let body = json!({"login_id": "minato-sato", "password": password}).to_string();
    let head = format!(
        "POST /v1/sign-in HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n\
         Content-Length: {}\r\nConnection: close\r\n\r\n",
        body.len()
    );
    request(addr, &head, body.as_bytes()).await.0
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn five_hundred_wrong_sign_ins_over_four_processes_lock_at_exactly_the_fifth() {
    let url = fresh_database().await;
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("server.toml");
    std::fs::write(
        &config,
        format!(
            "database_url = {url:?}\npool_size = 4\nmigrate_on_start = true\n\
             [throttle]\nper_source_per_minute = 100000\nper_login_id_per_minute = 100000\n"
        ),
    )
    .unwrap();
    let bin = env!("CARGO_BIN_EXE_kagiya-server");
    let cfg = config.to_str().unwrap();
    let out = std::process::Command::new(bin)
        .args(["--config", cfg, "migrate"])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let out = std::process::Command::new(bin)
        .args(["--config", cfg, "demo"])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let mut servers = Vec::new();
    for _ in 0..4 {
        servers.push(serve(&config).await);
    }
    let addrs: Vec<_> = servers.iter().map(|(_, a)| *a).collect();

    // 500 attempts, 40 in flight at a time, round-robin over the four processes.
    let gate = Arc::new(tokio::sync::Semaphore::new(40));
    let mut tasks = Vec::new();
    for i in 0..500 {
        let addr = addrs[i % 4];
        let gate = gate.clone();
        tasks.push(tokio::spawn(async move {
            let _p = gate.acquire().await.unwrap();
            sign_in(addr, "wrong-1").await
        }));
    }
    for t in tasks {
        assert_eq!(t.await.unwrap(), 401, "every wrong attempt: the one answer");
    }

    // Every attempt recorded once; Business Web locks at the 5th and counts nothing after.
    let pool = db::pool(&url, 2).unwrap();
    let client = pool.get().await.unwrap();
    let rows = client
        .query(
            "SELECT body FROM events WHERE chain = 'k-1001' AND kind = 'credential_failed'",
            &[],
        )
        .await
        .unwrap();
    assert_eq!(rows.len(), 500, "every attempt recorded");
    let mut outcomes = std::collections::BTreeMap::<String, usize>::new();
    for r in &rows {
        let body: serde_json::Value = serde_json::from_str(r.get(0)).unwrap();
        *outcomes
            .entry(body["outcome"]["result"].as_str().unwrap_or("?").to_owned())
            .or_default() += 1;
    }
    assert_eq!(outcomes.get("counted"), Some(&4), "{outcomes:?}");
    assert_eq!(outcomes.get("locked_now"), Some(&1), "{outcomes:?}");
    assert_eq!(
        outcomes.get("refused_while_locked"),
        Some(&495),
        "{outcomes:?}"
    );
    assert_eq!(
        events::verify(&**client, "k-1001").await.unwrap(),
        Ok(1 + 4 * 3 + 500),
        "one unbroken chain: the customer, its 4 users and their 8 passwords, 500 attempts"
    );

    // The right password during the lock is refused and not counted, on every process.
    for addr in &addrs {
        assert_eq!(
            sign_in(*addr, kagiya_server::demo::LOGIN_PASSWORD).await,
            423
        );
    }
    drop(servers);
}
