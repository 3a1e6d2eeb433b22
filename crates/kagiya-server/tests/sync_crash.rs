//! Issue 14: 「kill -9 of the server or the desktop during push and ingest, repeated: no op lost
//! or doubled」. The server is the real binary; the desktop is this test binary run again as a
//! child process that records work and syncs a real SQLCipher branch file in a loop. Each round
//! kills one of them (or both) with SIGKILL at a random moment; afterwards every op the branch
//! recorded has exactly one outcome at the server, every applied op is exactly one entry in its
//! customer's chain, and both sides' checks pass.

mod common;

use std::time::Duration;

use common::fresh_database;
use kagiya_core::event::EventKind;
use kagiya_desk::sync as client;
use kagiya_store::sync as local;
use kagiya_store::{directory, DbKey, Store};
use kagiya_sync::DeviceKey;

const CHILD: &str = "KAGIYA_SYNC_CRASH_CHILD";

fn now() -> kagiya_core::Millis {
    kagiya_engine::Clock::now(&kagiya_engine::SystemClock)
}

fn db_key() -> DbKey {
    DbKey::from_bytes([7; 32])
}

fn key(generation: i64) -> DeviceKey {
    DeviceKey::from_seed(&[generation as u8 + 40; 32])
}

/// Rounds of kills (bounded for the test command; `KAGIYA_CRASH_ROUNDS` runs more).
fn rounds() -> u32 {
    std::env::var("KAGIYA_CRASH_ROUNDS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(6)
}

/// Suspends or resumes one of the customer's users, as a branch operator would (refused, like the
/// engine would, until the first round has brought the customer's users).
fn record(store: &Store, n: u64) -> Result<(), kagiya_core::Error> {
    let login_id = ["minato-sato", "minato-kato"][(n % 2) as usize].to_owned();
    let kind = if (n / 2).is_multiple_of(2) {
        EventKind::UserSuspended { login_id }
    } else {
        EventKind::UserResumed { login_id }
    };
    store.write(|tx| {
        directory::record(tx, now(), Some("op:sv001"), Some("desktop"), kind).map(|_| ())
    })
}

/// The desktop: records work and syncs until killed (only when run as the child).
#[test]
fn child_desktop_records_and_syncs_until_killed() {
    let Ok(path) = std::env::var(CHILD) else {
        return;
    };
    let store = Store::open(std::path::Path::new(&path), &db_key()).unwrap();
    let mut n = 0;
    loop {
        // The server may be down: the round fails and the work stays queued.
        let _ = client::round(&store, &key(1), now());
        for _ in 0..3 {
            if record(&store, n).is_ok() {
                n += 1;
            }
        }
        std::thread::sleep(Duration::from_millis(5));
    }
}

fn start_desktop(db: &std::path::Path) -> common::Running {
    common::Running(
        std::process::Command::new(std::env::current_exe().unwrap())
            .args([
                "--exact",
                "child_desktop_records_and_syncs_until_killed",
                "--nocapture",
            ])
            .env(CHILD, db)
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .spawn()
            .unwrap(),
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn kill_nine_of_server_or_desktop_during_sync_loses_and_doubles_no_op() {
    let url = fresh_database().await;
    let (_dir, config) = common::demo_config(&url);
    let port = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        l.local_addr().unwrap().port()
    };
    let addr: std::net::SocketAddr = format!("127.0.0.1:{port}").parse().unwrap();
    let pool = kagiya_server::db::pool(&url, 2).unwrap();
    let branch_dir = tempfile::tempdir().unwrap();
    let db = branch_dir.path().join("branch.db");

    // Enrol the branch while the server runs.
    {
        let _server = common::Running(common::start_server(&config, port));
        assert!(common::ready(addr).await);
        let code =
            kagiya_server::devices::issue_code(&pool, "minato-branch", &["K-1001".into()], now())
                .await
                .unwrap();
        let (d, server) = (db.clone(), format!("http://{addr}"));
        tokio::task::spawn_blocking(move || {
            let store = Store::open(&d, &db_key()).unwrap();
            client::enroll(&store, key, &server, None, &code, now()).unwrap();
        })
        .await
        .unwrap();
    }

    let mut kills = (0, 0);
    for round in 0..rounds() {
        let mut server = Some(common::Running(common::start_server(&config, port)));
        assert!(
            common::ready(addr).await,
            "round {round}: the server came back"
        );
        let mut desktop = Some(start_desktop(&db));
        tokio::time::sleep(Duration::from_millis(300 + common::jitter(700))).await;
        // Kill the server, the desktop, or both, in either order.
        let victim = (round + common::jitter(3) as u32) % 3;
        if victim != 1 {
            let mut s = server.take().unwrap();
            s.0.kill().unwrap();
            s.0.wait().unwrap();
            kills.0 += 1;
            tokio::time::sleep(Duration::from_millis(common::jitter(200))).await;
        }
        if victim != 0 {
            let mut d = desktop.take().unwrap();
            d.0.kill().unwrap();
            d.0.wait().unwrap();
            kills.1 += 1;
        }
        drop(desktop);
        drop(server);
    }

    // Back up, sync until nothing waits.
    let _server = common::Running(common::start_server(&config, port));
    assert!(common::ready(addr).await);
    let d = db.clone();
    let (waiting, recorded, sealed) = tokio::task::spawn_blocking(move || {
        let store = Store::open(&d, &db_key()).unwrap();
        for _ in 0..20 {
            let _ = client::round(&store, &key(1), now());
            if local::state(&store.conn()).unwrap().waiting == 0 {
                break;
            }
        }
        assert!(
            directory::rebuild_matches(&store.conn()).unwrap(),
            "the branch's check"
        );
        let conn = store.conn();
        let recorded: i64 = conn
            .query_row(
                "SELECT count(*) FROM events WHERE kind IN ('user_suspended', 'user_resumed')",
                [],
                |r| r.get(0),
            )
            .unwrap();
        let sealed: i64 = conn
            .query_row("SELECT last_seq FROM sync_device", [], |r| r.get(0))
            .unwrap();
        (local::state(&conn).unwrap().waiting, recorded, sealed)
    })
    .await
    .unwrap();
    assert_eq!(waiting, 0, "every op was decided");

    let c = pool.get().await.unwrap();
    let ops: i64 = c
        .query_one("SELECT count(*) FROM sync_ops", &[])
        .await
        .unwrap()
        .get(0);
    let applied: i64 = c
        .query_one(
            "SELECT count(*) FROM sync_ops WHERE outcome = 'applied'",
            &[],
        )
        .await
        .unwrap()
        .get(0);
    let entries: i64 = c
        .query_one(
            "SELECT count(*) FROM events WHERE body LIKE '%\"origin\":\"sync device=%'",
            &[],
        )
        .await
        .unwrap()
        .get(0);
    let distinct: i64 = c
        .query_one(
            "SELECT count(DISTINCT substring(body from 'op=[^\"]+')) FROM events \
             WHERE body LIKE '%\"origin\":\"sync device=%'",
            &[],
        )
        .await
        .unwrap()
        .get(0);
    eprintln!(
        "kills: server {} desktop {}; recorded {recorded}, sealed {sealed}, ops {ops}, \
         applied {applied}, chain entries {entries}",
        kills.0, kills.1
    );
    assert!(recorded > 10, "the desktop did work between the kills");
    // None lost: every recorded op reached the server and has one outcome.
    assert_eq!(ops, recorded);
    assert_eq!(sealed, recorded);
    // None doubled: each applied op is one chain entry, each from a different op.
    assert_eq!(entries, applied);
    assert_eq!(distinct, entries);
    assert!(kagiya_server::check::run(&pool).await.unwrap().ok());
}
