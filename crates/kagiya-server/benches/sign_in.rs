//! The sign-in benchmark of issue 13 (figures for the notes, not a timed test): on this machine,
//! in one run —
//!
//! 1. the raw argon2id verification rate at the server's parameters, one thread per core;
//! 2. the server's sign-in throughput with right and with wrong passwords, p50/p99 latency, under a
//!    bounded loopback load (a fixed number of clients in flight);
//! 3. what recording a failure durably costs beyond the hash: the engine's wrong-password path
//!    against the bare verification, one at a time.
//!
//! Run under a private PostgreSQL: `scripts/with-postgres.sh cargo bench -p kagiya-server --bench
//! sign_in` (`BENCH_SECONDS`, `BENCH_CLIENTS` change the load).

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use kagiya_core::directory::{Channel, CredentialKind};
use kagiya_core::password::{HashParams, PasswordHasher};
use kagiya_core::secret::Secret;
use kagiya_server::demo;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

// The test files' own set-up (a fresh database on the private cluster, the demo server).
#[path = "../tests/common/mod.rs"]
mod common;

fn seconds() -> u64 {
    std::env::var("BENCH_SECONDS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(10)
}

fn clients() -> usize {
    std::env::var("BENCH_CLIENTS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(32)
}

fn cores() -> usize {
    std::thread::available_parallelism().map_or(2, |n| n.get())
}

/// Verifications per second with one thread per core, for `secs` seconds.
fn raw_rate(secs: u64) -> f64 {
    let hasher = Arc::new(PasswordHasher::new(HashParams::default()).unwrap());
    let hash = Arc::new(hasher.hash(&Secret::new("Minato2026kA")).unwrap());
    let stop = Arc::new(AtomicBool::new(false));
    let done = Arc::new(AtomicU64::new(0));
    let start = Instant::now();
    let threads: Vec<_> = (0..cores())
        .map(|_| {
            let (hasher, hash, stop, done) =
                (hasher.clone(), hash.clone(), stop.clone(), done.clone());
            std::thread::spawn(move || {
                let pw = Secret::new("wrong-password");
                while !stop.load(Ordering::Relaxed) {
                    let _ = hasher.verify(&pw, &hash);
                    done.fetch_add(1, Ordering::Relaxed);
                }
            })
        })
        .collect();
    std::thread::sleep(Duration::from_secs(secs));
    stop.store(true, Ordering::Relaxed);
    for t in threads {
        t.join().unwrap();
    }
    done.load(Ordering::Relaxed) as f64 / start.elapsed().as_secs_f64()
}

/// One sign-in on a kept-alive connection: (status, seconds). The load is the server's, not the
/// TCP handshakes'.
async fn sign_in(s: &mut tokio::net::TcpStream, body: &str) -> (u16, f64) {
    let t = Instant::now();
    let head = format!(
        "POST /v1/sign-in HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n\
         Content-Length: {}\r\n\r\n{body}",
        body.len()
    );
    s.write_all(head.as_bytes()).await.unwrap();
    // The head, then as many body bytes as it announces.
    let mut buf = Vec::new();
    let mut byte = [0u8; 1024];
    let end = loop {
        let n = s.read(&mut byte).await.unwrap();
        assert!(n > 0, "the server closed the connection");
        buf.extend_from_slice(&byte[..n]);
        if let Some(i) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
            break i + 4;
        }
    };
    let head = String::from_utf8_lossy(&buf[..end]).to_ascii_lowercase();
    let len: usize = head
        .lines()
        .find_map(|l| l.strip_prefix("content-length: "))
        .and_then(|v| v.trim().parse().ok())
        .unwrap_or(0);
    while buf.len() < end + len {
        let n = s.read(&mut byte).await.unwrap();
        assert!(n > 0);
        buf.extend_from_slice(&byte[..n]);
    }
    let status = head[9..12].parse().unwrap();
    (status, t.elapsed().as_secs_f64())
}

/// `clients` loops signing in with `body` for `secs` seconds: (per second, p50 ms, p99 ms).
async fn load(addr: std::net::SocketAddr, body: &str, want: u16, secs: u64) -> (f64, f64, f64) {
    let stop = Arc::new(AtomicBool::new(false));
    let start = Instant::now();
    let tasks: Vec<_> = (0..clients())
        .map(|_| {
            let (stop, body) = (stop.clone(), body.to_owned());
            tokio::spawn(async move {
                let mut times = Vec::new();
                let mut conn = tokio::net::TcpStream::connect(addr).await.unwrap();
                while !stop.load(Ordering::Relaxed) {
                    let (status, t) = sign_in(&mut conn, &body).await;
                    assert_eq!(status, want);
                    times.push(t);
                }
                times
            })
        })
        .collect();
    tokio::time::sleep(Duration::from_secs(secs)).await;
    stop.store(true, Ordering::Relaxed);
    let mut all = Vec::new();
    for t in tasks {
        all.extend(t.await.unwrap());
    }
    let elapsed = start.elapsed().as_secs_f64();
    all.sort_by(|a, b| a.partial_cmp(b).unwrap());
    let pct = |p: f64| all[((all.len() as f64 - 1.0) * p) as usize] * 1000.0;
    (all.len() as f64 / elapsed, pct(0.5), pct(0.99))
}

fn main() {
    let secs = seconds();
    println!(
        "argon2id m={} KiB t={} p={}, {} cores",
        HashParams::default().memory_kib,
        HashParams::default().iterations,
        HashParams::default().parallelism,
        cores()
    );
    let raw = raw_rate(secs);
    println!("raw argon2id verify: {raw:.1}/s");

    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .unwrap();
    rt.block_on(async {
        let workers = std::env::var("BENCH_WORKERS").unwrap_or_else(|_| "0".into());
        let (addr, port, _) = common::demo_server(&format!(
            "pool_size = 16\nworkers = {workers}\n[throttle]\n\
             per_source_per_minute = 100000000\nper_login_id_per_minute = 100000000\n"
        ))
        .await;

        let right = serde_json::json!({"login_id": "minato-sato", "password": demo::LOGIN_PASSWORD});
        let (rate, p50, p99) = load(addr, &right.to_string(), 200, secs).await;
        println!(
            "server, right password ({} clients): {rate:.1}/s = {:.1} % of raw, p50 {p50:.1} ms, p99 {p99:.1} ms",
            clients(),
            100.0 * rate / raw
        );
        let wrong = serde_json::json!({"login_id": "minato-kato", "password": "wrong-1"});
        let (rate, p50, p99) = load(addr, &wrong.to_string(), 401, secs).await;
        println!(
            "server, wrong password ({} clients; every failure answer waits for the 250 ms floor): \
             {rate:.1}/s = {:.1} % of raw, p50 {p50:.1} ms, p99 {p99:.1} ms",
            clients(),
            100.0 * rate / raw
        );

        // One at a time: the engine's wrong-password path (hash + the durable record) against the
        // bare hash.
        tokio::task::spawn_blocking(move || {
            let e = kagiya_engine::Engine::new(port, "bench", HashParams::default()).unwrap();
            let hasher = PasswordHasher::new(HashParams::default()).unwrap();
            let pw = Secret::new("wrong-2");
            // Interleaved, so that the machine's drift weighs on both alike.
            let stored = e
                .read(|r| r.user("minato-admin"))
                .unwrap()
                .unwrap()
                .login
                .hash;
            let n = 40;
            let (mut bare, mut full) = (0.0, 0.0);
            for _ in 0..n {
                let t = Instant::now();
                let _ = hasher.verify(&pw, &stored);
                bare += t.elapsed().as_secs_f64();
                let t = Instant::now();
                let r = e.verify("minato-admin", CredentialKind::Login, Channel::Web, &pw);
                full += t.elapsed().as_secs_f64();
                assert!(r.is_err());
            }
            let (bare, full) = (bare / n as f64, full / n as f64);
            println!(
                "a wrong password, one at a time: hash {:.2} ms, hash + durable record {:.2} ms, \
                 the record costs {:.2} ms",
                bare * 1e3,
                full * 1e3,
                (full - bare) * 1e3
            );
        })
        .await
        .unwrap();
    });
}
