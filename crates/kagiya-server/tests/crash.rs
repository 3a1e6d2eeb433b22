//! Issue 13: 「kill -9 of a server process at random moments during mixed load, repeated many times:
//! afterwards every tenant's chain verifies, the tables equal the fold of the log, no event lost
//! or doubled, and the server starts again by itself」.
//!
//! Every sign-in that reaches the engine records exactly one entry (verified, failed or refused)
//! in the transaction that decides it, before the answer leaves: so after the crashes the entries
//! must be at least the answers the clients received (none lost) and at most the requests sent
//! (none doubled).

mod common;

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;

use common::fresh_database;
use kagiya_server::db;
use serde_json::json;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

/// Rounds of load and `kill -9` (bounded for the test command; `KAGIYA_CRASH_ROUNDS` runs more).
fn rounds() -> u32 {
    std::env::var("KAGIYA_CRASH_ROUNDS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(8)
}

/// A POST that may meet a dead server: the status, or none.
async fn try_post(addr: std::net::SocketAddr, path: &str, body: &str) -> Option<u16> {
    let mut s = tokio::net::TcpStream::connect(addr).await.ok()?;
    let head = format!(
        "POST {path} HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n\
         Content-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    );
    s.write_all(head.as_bytes()).await.ok()?;
    let mut text = Vec::new();
    s.read_to_end(&mut text).await.ok()?;
    std::str::from_utf8(text.get(9..12)?).ok()?.parse().ok()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn kill_nine_under_load_loses_and_doubles_nothing_and_the_server_comes_back() {
    let url = fresh_database().await;
    let (_dir, config) = common::demo_config(&url);
    let bin = env!("CARGO_BIN_EXE_kagiya-server");
    let cfg = config.to_str().unwrap();
    let port = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        l.local_addr().unwrap().port()
    };
    let addr: std::net::SocketAddr = format!("127.0.0.1:{port}").parse().unwrap();
    let sent = Arc::new(AtomicU64::new(0));
    let answered = Arc::new(AtomicU64::new(0));
    let good = kagiya_server::demo::LOGIN_PASSWORD;
    // (route, login ID, password): right and wrong passwords, unknown IDs, the API channel.
    let mix: Arc<Vec<(&str, String, &str)>> = Arc::new(vec![
        ("/v1/sign-in", "minato-master".into(), good),
        ("/v1/sign-in", "minato-kato".into(), "wrong-1"),
        ("/v1/sign-in", "kitahama-ota".into(), "wrong-1"),
        ("/v1/sign-in", "aoba-ito".into(), good),
        ("/v1/api/authenticate", "iroha-api".into(), "wrong-1"),
        ("/v1/api/authenticate", "kitahama-master".into(), "wrong-1"),
        ("/v1/sign-in", "nobody-here".into(), "wrong-1"),
    ]);
    for round in 0..rounds() {
        let mut child = common::Running(common::start_server(&config, port));
        assert!(
            common::ready(addr).await,
            "round {round}: the server came back by itself"
        );
        let stop = Arc::new(std::sync::atomic::AtomicBool::new(false));
        let mut load = Vec::new();
        for worker in 0..12usize {
            let (sent, answered, stop, mix) =
                (sent.clone(), answered.clone(), stop.clone(), mix.clone());
            load.push(tokio::spawn(async move {
                let mut i = worker;
                while !stop.load(Ordering::SeqCst) {
                    let (path, id, pw) = &mix[i % mix.len()];
                    i += 1;
                    let body = json!({"login_id": id, "password": pw}).to_string();
                    sent.fetch_add(1, Ordering::SeqCst);
                    match try_post(addr, path, &body).await {
                        Some(200 | 401 | 423) => {
                            answered.fetch_add(1, Ordering::SeqCst);
                        }
                        Some(other) => panic!("unexpected status {other}"),
                        None => {
                            tokio::time::sleep(Duration::from_millis(20)).await;
                        }
                    }
                }
            }));
        }
        tokio::time::sleep(Duration::from_millis(300 + common::jitter(900))).await;
        // SIGKILL: no drain, no rollback message; PostgreSQL ends the open transactions.
        child.0.kill().unwrap();
        child.0.wait().unwrap();
        tokio::time::sleep(Duration::from_millis(100)).await;
        stop.store(true, Ordering::SeqCst);
        for t in load {
            t.await.unwrap();
        }
    }
    // It starts again by itself and serves.
    let last = common::Running(common::start_server(&config, port));
    assert!(
        common::ready(addr).await,
        "the server came back after the last kill"
    );
    let status = try_post(
        addr,
        "/v1/sign-in",
        &json!({"login_id": "minato-sato", "password": good}).to_string(),
    )
    .await;
    assert_eq!(status, Some(200));
    drop(last);

    let pool = db::pool(&url, 2).unwrap();
    let report = kagiya_server::check::run(&pool).await.unwrap();
    assert!(report.ok(), "{report:?}");
    let client = pool.get().await.unwrap();
    let recorded: i64 = client
        .query_one(
            "SELECT count(*) FROM events WHERE kind IN \
             ('credential_verified', 'credential_failed', 'credential_refused') \
             AND NOT (kind = 'credential_verified' AND body LIKE '%\"minato-sato\"%')",
            &[],
        )
        .await
        .unwrap()
        .get(0);
    let (sent, answered) = (
        sent.load(Ordering::SeqCst) as i64,
        answered.load(Ordering::SeqCst) as i64,
    );
    eprintln!("sent {sent}, answered {answered}, recorded {recorded}, {report:?}");
    assert!(answered > 0, "the load reached the server");
    assert!(
        recorded >= answered,
        "no answered attempt lost: {recorded} < {answered}"
    );
    assert!(
        recorded <= sent,
        "no attempt recorded twice: {recorded} > {sent}"
    );

    // The check is not blind: a role raised behind the log's back is named, and the command
    // says so with exit code 2.
    let out = std::process::Command::new(bin)
        .args(["--config", cfg, "check"])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stdout)
    );
    client
        .execute(
            "UPDATE users SET doc = jsonb_set(doc, '{role}', '\"master\"') \
             WHERE login_key = 'minato-kato'",
            &[],
        )
        .await
        .unwrap();
    let report = kagiya_server::check::run(&pool).await.unwrap();
    assert_eq!(report.mismatched, vec!["users".to_owned()]);
    let out = std::process::Command::new(bin)
        .args(["--config", cfg, "check"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stdout).contains("users"));
}
