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
    let (_dir, config) = common::demo_config(&url);
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

    // Right sign-ins racing the master's unlock, over the four processes: each is decided
    // against the state its transaction sees — refused and not counted while the lock holds
    // (423), signed in once the unlock is in (200) — never anything else, and the chain's order
    // says which: every refusal before the unlock, every sign-in after it.
    let master = {
        let body =
            json!({"login_id": "minato-master", "password": kagiya_server::demo::LOGIN_PASSWORD})
                .to_string();
        let head = format!(
            "POST /v1/sign-in HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n\
             Content-Length: {}\r\nConnection: close\r\n\r\n",
            body.len()
        );
        let (status, _, text) = request(addrs[0], &head, body.as_bytes()).await;
        assert_eq!(status, 200, "{text}");
        let v: serde_json::Value = serde_json::from_str(&text).unwrap();
        v["token"].as_str().unwrap().to_owned()
    };
    let mut racers = Vec::new();
    for i in 0..40 {
        let addr = addrs[i % 4];
        racers.push(tokio::spawn(async move {
            sign_in(addr, kagiya_server::demo::LOGIN_PASSWORD).await
        }));
    }
    let unlock = {
        let body = json!({"login_ids": ["minato-sato"],
                          "confirmation": kagiya_server::demo::CONFIRMATION_PASSWORD})
        .to_string();
        let head = format!(
            "POST /v1/admin/unlock HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n\
             Authorization: Bearer {master}\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
            body.len()
        );
        request(addrs[1], &head, body.as_bytes()).await
    };
    assert_eq!(unlock.0, 200, "{}", unlock.2);
    let mut statuses = std::collections::BTreeMap::<u16, usize>::new();
    for r in racers {
        *statuses.entry(r.await.unwrap()).or_default() += 1;
    }
    assert!(
        statuses.keys().all(|s| [200, 423].contains(s)),
        "only signed in or refused: {statuses:?}"
    );
    let rows = client
        .query(
            "SELECT kind, body FROM events WHERE chain = 'k-1001' AND seq > $1 \
             AND kind IN ('credential_failed', 'credential_verified', 'user_unlocked') \
             AND body LIKE '%\"login_id\":\"minato-sato\"%' ORDER BY seq",
            // After the customer, its users, the 500 and the four right ones during the lock.
            &[&(1i64 + 4 * 3 + 500 + 4)],
        )
        .await
        .unwrap();
    let kinds: Vec<String> = rows.iter().map(|r| r.get::<_, String>(0)).collect();
    let unlocked_at = kinds
        .iter()
        .position(|k| k == "user_unlocked")
        .expect("the unlock is recorded");
    assert!(
        kinds[..unlocked_at]
            .iter()
            .all(|k| k == "credential_failed"),
        "before the unlock only refusals: {kinds:?}"
    );
    for r in &rows[..unlocked_at] {
        let body: serde_json::Value = serde_json::from_str(r.get(1)).unwrap();
        assert_eq!(body["outcome"]["result"], "refused_while_locked", "{body}");
    }
    assert!(
        kinds[unlocked_at + 1..]
            .iter()
            .all(|k| k == "credential_verified"),
        "after it only sign-ins: {kinds:?}"
    );
    assert_eq!(statuses.get(&423).copied().unwrap_or(0), unlocked_at);
    assert_eq!(
        statuses.get(&200).copied().unwrap_or(0),
        kinds.len() - unlocked_at - 1
    );
    drop(servers);
}
