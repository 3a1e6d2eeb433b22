//! A real branch file (SQLCipher) syncing with a real server (PostgreSQL) through the desk's
//! client: enrolment, the first pull that makes the served customer's rows the server's fold,
//! an offline unlock while the user keeps failing online, and a push whose answer was lost.

mod common;

use std::sync::Arc;

use kagiya_core::directory::CredentialKind;
use kagiya_core::event::EventKind;
use kagiya_core::lockout::LockStatus;
use kagiya_desk::sync as client;
use kagiya_server::store::PgPort;
use kagiya_store::sync as local;
use kagiya_store::{directory, DbKey, Store};
use kagiya_sync::DeviceKey;

fn now() -> kagiya_core::Millis {
    kagiya_engine::Clock::now(&kagiya_engine::SystemClock)
}

fn key(generation: i64) -> DeviceKey {
    DeviceKey::from_seed(&[generation as u8; 32])
}

fn status(store: &Store, id: &str) -> LockStatus {
    let conn = store.conn();
    let u = directory::user(&conn, id).unwrap().unwrap();
    let t = directory::tenant(&conn, &u.contract_no).unwrap().unwrap();
    t.policy(CredentialKind::Login)
        .lockout
        .status(&u.login.lockout, now())
}

async fn wrong_sign_in(addr: std::net::SocketAddr, id: &str) {
    let body = serde_json::json!({"login_id": id, "password": "wrong-password-9"}).to_string();
    let head = format!(
        "POST /v1/sign-in HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n\
         Content-Length: {}\r\nConnection: close\r\n\r\n",
        body.len()
    );
    let (status, _, _) = common::request(addr, &head, body.as_bytes()).await;
    assert_eq!(status, 401);
}

/// Runs a blocking sync call off the async executor.
async fn blocking<T: Send + 'static>(f: impl FnOnce() -> T + Send + 'static) -> T {
    tokio::task::spawn_blocking(f).await.unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_branch_file_enrols_pulls_unlocks_offline_and_converges() {
    let (addr, port, url) = common::demo_server(
        "[throttle]\nper_source_per_minute = 100000\nper_login_id_per_minute = 100000\n",
    )
    .await;
    let pool = kagiya_server::db::pool(&url, 4).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let store = Arc::new(Store::open(&dir.path().join("branch.db"), &DbKey::generate()).unwrap());

    // Enrolment with the code the server's operator read out (typed in lower case, with spaces).
    let code =
        kagiya_server::devices::issue_code(&pool, "minato-branch", &["K-1001".into()], now())
            .await
            .unwrap();
    let server = format!("http://{addr}");
    let typed = code.to_lowercase().replace('-', " ");
    let (s, srv) = (store.clone(), server.clone());
    let e = blocking(move || client::enroll(&s, key, &srv, None, &typed, now()))
        .await
        .unwrap();
    assert_eq!(e.branch, "minato-branch");
    // A wrong address is refused before anything is sent.
    assert_eq!(
        client::check_url("ftp://example.jp").unwrap_err(),
        kagiya_core::Error::InvalidValue("server_url")
    );

    // The first round: the customer's rows are the server's fold.
    let s = store.clone();
    let r = blocking(move || client::round(&s, &key(1), now()))
        .await
        .unwrap();
    assert!(r.pulled > 10, "{r:?}");
    assert_eq!(
        r.refolded, 1,
        "the served customer is made from the server's chain"
    );
    assert_eq!(
        status(&store, "minato-sato"),
        LockStatus::Open { failures: 0 }
    );
    assert!(
        directory::user(&store.conn(), "kitahama-master")
            .unwrap()
            .is_none(),
        "not served"
    );
    assert!(directory::rebuild_matches(&store.conn()).unwrap());

    // Locked online; the branch sees it at its next round.
    for _ in 0..5 {
        wrong_sign_in(addr, "minato-sato").await;
    }
    let s = store.clone();
    let r = blocking(move || client::round(&s, &key(1), now()))
        .await
        .unwrap();
    assert!(status(&store, "minato-sato").is_locked());
    // Nothing waited at the branch: the new entries were applied one by one, no refold.
    assert_eq!((r.pulled, r.refolded), (5, 0));
    assert!(directory::rebuild_matches(&store.conn()).unwrap());

    // Offline: the branch unlocks (its screen shows it at once) …
    store
        .write(|tx| {
            directory::record(
                tx,
                now(),
                Some("op:sv001"),
                Some("desktop"),
                EventKind::UserUnlocked {
                    login_id: "minato-sato".into(),
                    credentials: vec![CredentialKind::Login],
                    batch: None,
                    kept_failures: Vec::new(),
                },
            )
            .map(|_| ())
        })
        .unwrap();
    assert_eq!(
        status(&store, "minato-sato"),
        LockStatus::Open { failures: 0 }
    );
    assert_eq!(local::state(&store.conn()).unwrap().waiting, 1);
    // … while the user fails twice more online.
    wrong_sign_in(addr, "minato-sato").await;
    wrong_sign_in(addr, "minato-sato").await;

    // The push reached the server but its answer was lost (sealed, ingested, not acknowledged).
    let ops = store.write(|tx| local::seal(tx, &key(1), 500)).unwrap();
    assert_eq!(ops.len(), 1);
    let (p, dev, o): (Arc<PgPort>, String, _) = (port.clone(), e.device_id.clone(), ops.clone());
    let first = blocking(move || p.ingest(&dev, &o, None, now()).unwrap().unwrap()).await;
    assert_eq!(
        first[0].decided.reason,
        Some(kagiya_sync::Reason::FailuresKept { failures: 2 })
    );

    // The next round sends the very same op, gets the stored outcome, and converges.
    let s = store.clone();
    let r = blocking(move || client::round(&s, &key(1), now()))
        .await
        .unwrap();
    assert_eq!((r.pushed, r.to_review), (1, 1));
    let state = local::state(&store.conn()).unwrap();
    assert_eq!(
        (state.waiting, state.to_review, state.last_error),
        (0, 1, None)
    );
    assert_eq!(
        status(&store, "minato-sato"),
        LockStatus::Open { failures: 2 }
    );
    let review = local::review(&store.conn()).unwrap();
    assert_eq!(review[0].reason, first[0].decided.reason);
    let unlocks: i64 = {
        let c = pool.get().await.unwrap();
        c.query_one(
            "SELECT count(*) FROM events WHERE chain = 'k-1001' AND kind = 'user_unlocked'",
            &[],
        )
        .await
        .unwrap()
        .get(0)
    };
    assert_eq!(unlocks, 1, "recorded once");
    assert!(directory::rebuild_matches(&store.conn()).unwrap());
    assert!(kagiya_server::check::run(&pool).await.unwrap().ok());

    // A server that does not answer: the round fails as unreachable, and nothing is lost.
    store
        .write(|tx| {
            directory::record(
                tx,
                now(),
                Some("op:sv001"),
                Some("desktop"),
                EventKind::UserSuspended {
                    login_id: "minato-kato".into(),
                },
            )
            .map(|_| ())
        })
        .unwrap();
    store
        .write(|tx| {
            tx.execute(
                "UPDATE sync_device SET server_url = 'http://127.0.0.1:9'",
                [],
            )
            .map(|_| ())
            .map_err(|e| kagiya_core::Error::Storage(e.to_string()))
        })
        .unwrap();
    let s = store.clone();
    let err = blocking(move || client::round(&s, &key(1), now()))
        .await
        .unwrap_err();
    assert_eq!(err.code(), "sync.unreachable");
    let state = local::state(&store.conn()).unwrap();
    assert_eq!(
        (state.waiting, state.last_error.as_deref()),
        (1, Some("sync.unreachable"))
    );
}
