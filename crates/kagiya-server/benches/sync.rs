//! The sync benchmark of issue 14 (figures for the notes, not a timed test), on this machine:
//!
//! 1. ingest: signed ops per second into PostgreSQL, each decided again (`PgPort::ingest`,
//!    batches of 500);
//! 2. pull: entries per second out of it (`devices::pull`, pages of 5,000);
//! 3. a backlog round trip: a real SQLCipher branch file with N ops recorded offline, synced in
//!    one round through the desk's client over HTTP (seal, push, decide, pull, refold), for N =
//!    10,000, 30,000 and 100,000 — how the time grows.
//!
//! Run under a private PostgreSQL: `scripts/with-postgres.sh cargo bench -p kagiya-server --bench
//! sync` (`BENCH_BACKLOGS=10000,100000` changes the sizes).

use std::time::Instant;

use kagiya_core::event::EventKind;
use kagiya_store::{directory, DbKey, Store};
use kagiya_sync::{DeviceKey, Op, OpDraft};

#[path = "../tests/common/mod.rs"]
mod common;

fn now() -> kagiya_core::Millis {
    kagiya_engine::Clock::now(&kagiya_engine::SystemClock)
}

fn backlogs() -> Vec<usize> {
    std::env::var("BENCH_BACKLOGS")
        .ok()
        .map(|v| v.split(',').filter_map(|n| n.trim().parse().ok()).collect())
        .unwrap_or_else(|| vec![10_000, 30_000, 100_000])
}

/// Alternating suspensions and resumptions of two users: every op is applied.
fn event(n: usize) -> EventKind {
    let login_id = ["minato-sato", "minato-kato"][n % 2].to_owned();
    if (n / 2).is_multiple_of(2) {
        EventKind::UserSuspended { login_id }
    } else {
        EventKind::UserResumed { login_id }
    }
}

async fn enrol(pool: &deadpool_postgres::Pool, branch: &str, key: &DeviceKey) -> String {
    let code = kagiya_server::devices::issue_code(pool, branch, &["K-1001".into()], now())
        .await
        .unwrap();
    let typed: String = code.chars().filter(|c| *c != '-').collect();
    kagiya_server::devices::enroll(
        pool,
        &code,
        &key.public(),
        &key.sign(typed.as_bytes()),
        now(),
    )
    .await
    .unwrap()
    .unwrap()
    .device_id
}

fn main() {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    rt.block_on(run());
}

async fn run() {
    let (addr, port, url) = common::demo_server("").await;
    let pool = kagiya_server::db::pool(&url, 4).unwrap();
    println!(
        "sync benchmark: {} cores",
        std::thread::available_parallelism().map_or(0, |n| n.get())
    );

    // 1. Ingest.
    let key = DeviceKey::generate();
    let device = enrol(&pool, "bench-ingest", &key).await;
    let n = 10_000;
    let mut ops: Vec<Op> = Vec::with_capacity(n);
    let (mut seq, mut hash) = (0, kagiya_sync::op::DEVICE_GENESIS.to_owned());
    for i in 0..n {
        let op = key.seal(
            &device,
            seq,
            &hash,
            OpDraft {
                op_id: format!("bench-{i}"),
                customer: "K-1001".into(),
                base_seq: 0,
                operator: Some("op:bench".into()),
                at: now(),
                event: event(i),
            },
        );
        seq = op.device_seq;
        hash = op.hash.clone();
        ops.push(op);
    }
    let p = port.clone();
    let d = device.clone();
    let secs = tokio::task::spawn_blocking(move || {
        let start = Instant::now();
        for batch in ops.chunks(500) {
            let out = p.ingest(&d, batch, None, now()).unwrap().unwrap();
            assert!(out
                .iter()
                .all(|o| o.decided.outcome == kagiya_sync::Outcome::Applied));
        }
        start.elapsed().as_secs_f64()
    })
    .await
    .unwrap();
    println!(
        "ingest: {n} ops in {secs:.2} s = {:.0} ops/s (decided again, batches of 500)",
        n as f64 / secs
    );

    // 2. Pull.
    let start = Instant::now();
    let mut cursor = std::collections::BTreeMap::new();
    let mut pulled = 0;
    loop {
        let (entries, more) =
            kagiya_server::devices::pull(&pool, &device, "bench-ingest", &cursor, 5_000)
                .await
                .unwrap();
        pulled += entries.len();
        if let Some(last) = entries.last() {
            cursor.insert(last.customer.clone(), last.seq);
        }
        if !more {
            break;
        }
    }
    let secs = start.elapsed().as_secs_f64();
    println!(
        "pull: {pulled} entries in {secs:.2} s = {:.0} entries/s (pages of 5,000)",
        pulled as f64 / secs
    );

    // 3. Backlog round trips.
    for (i, n) in backlogs().into_iter().enumerate() {
        let dir = tempfile::tempdir().unwrap();
        let db = dir.path().join("branch.db");
        let code = kagiya_server::devices::issue_code(
            &pool,
            &format!("bench-branch-{i}"),
            &["K-1001".into()],
            now(),
        )
        .await
        .unwrap();
        let server = format!("http://{addr}");
        let g = i as u8 + 1;
        let (took, pushed, pulled) = tokio::task::spawn_blocking(move || {
            let store = Store::open(&db, &DbKey::generate()).unwrap();
            let key = move |_| DeviceKey::from_seed(&[g; 32]);
            kagiya_desk::sync::enroll(&store, key, &server, None, &code, now()).unwrap();
            kagiya_desk::sync::round(&store, &key(1), now()).unwrap();
            // Offline: n ops recorded (not timed).
            store
                .write(|tx| {
                    for j in 0..n {
                        directory::record(tx, now(), Some("op:sv001"), Some("desktop"), event(j))?;
                    }
                    Ok(())
                })
                .unwrap();
            let start = Instant::now();
            let r = kagiya_desk::sync::round(&store, &key(1), now()).unwrap();
            (start.elapsed().as_secs_f64(), r.pushed, r.pulled)
        })
        .await
        .unwrap();
        println!(
            "backlog round trip: {n} ops in {took:.2} s ({:.0} ops/s; pushed {pushed}, pulled {pulled})",
            n as f64 / took
        );
    }
}
