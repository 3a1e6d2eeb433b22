//! The customers' pages under a bounded loopback load (issue 16; figures for the notes, not a
//! timed test): for each page, `BENCH_CLIENTS` kept-alive connections (default 8) ask for it for
//! `BENCH_SECONDS` (default 5), and the time to the first byte of each answer is recorded — p50,
//! p99 and answers per second. Signed-in pages carry a master's session (each request reads and
//! touches it in PostgreSQL, and asks the customer's IP rules, as in service).
//!
//! Run under a private PostgreSQL: `scripts/with-postgres.sh cargo bench -p kagiya-server --bench
//! pages`.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use tokio::io::{AsyncReadExt, AsyncWriteExt};

#[path = "../tests/common/mod.rs"]
mod common;

fn env_or(name: &str, default: u64) -> u64 {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

/// One GET on a kept-alive connection: (status, seconds to the first byte of the answer).
async fn get(s: &mut tokio::net::TcpStream, path: &str, cookie: &str) -> (u16, f64) {
    let head = format!(
        "GET {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nAccept-Language: ja\r\nSec-Fetch-Site: none\r\n{cookie}\r\n"
    );
    let t = Instant::now();
    s.write_all(head.as_bytes()).await.unwrap();
    let mut buf = Vec::new();
    let mut chunk = [0u8; 16 * 1024];
    let mut first = None;
    let end = loop {
        let n = s.read(&mut chunk).await.unwrap();
        assert!(n > 0, "the server closed the connection");
        first.get_or_insert_with(|| t.elapsed().as_secs_f64());
        buf.extend_from_slice(&chunk[..n]);
        if let Some(i) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
            break i + 4;
        }
    };
    let head = String::from_utf8_lossy(&buf[..end]).to_ascii_lowercase();
    let len: usize = head
        .lines()
        .find_map(|l| l.strip_prefix("content-length: "))
        .and_then(|v| v.trim().parse().ok())
        .expect("pages answer with a length");
    while buf.len() < end + len {
        let n = s.read(&mut chunk).await.unwrap();
        assert!(n > 0);
        buf.extend_from_slice(&chunk[..n]);
    }
    (head[9..12].parse().unwrap(), first.unwrap())
}

/// `clients` connections asking for `path` for `secs` seconds: (per second, p50 ms, p99 ms).
async fn load(
    addr: std::net::SocketAddr,
    path: &str,
    cookie: &str,
    want: u16,
    clients: u64,
    secs: u64,
) -> (f64, f64, f64) {
    let stop = Arc::new(AtomicBool::new(false));
    let start = Instant::now();
    let tasks: Vec<_> = (0..clients)
        .map(|_| {
            let (stop, path, cookie) = (stop.clone(), path.to_owned(), cookie.to_owned());
            tokio::spawn(async move {
                let mut times = Vec::new();
                let mut conn = tokio::net::TcpStream::connect(addr).await.unwrap();
                while !stop.load(Ordering::Relaxed) {
                    let (status, t) = get(&mut conn, &path, &cookie).await;
                    assert_eq!(status, want, "{path}");
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

/// A master's session cookie, signed in through the page.
async fn session(addr: std::net::SocketAddr) -> String {
    let (_, head, body) = common::request_raw(
        addr,
        "GET /sign-in HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n",
        b"",
    )
    .await;
    let csrf = head
        .lines()
        .find_map(|l| l.strip_prefix("set-cookie: __Host-kagiya-csrf="))
        .and_then(|v| v.split(';').next())
        .expect("a CSRF cookie")
        .to_owned();
    assert!(body.contains(&csrf));
    let form = format!(
        "csrf={csrf}&login_id=minato-master&password={}",
        kagiya_server::demo::LOGIN_PASSWORD
    );
    let head = format!(
        "POST /sign-in HTTP/1.1\r\nHost: x\r\nCookie: __Host-kagiya-csrf={csrf}\r\n\
         Content-Type: application/x-www-form-urlencoded\r\nContent-Length: {}\r\n\
         Connection: close\r\n\r\n",
        form.len()
    );
    let (status, head, _) = common::request_raw(addr, &head, form.as_bytes()).await;
    assert_eq!(status, 303);
    let token = head
        .lines()
        .find_map(|l| l.strip_prefix("set-cookie: __Host-kagiya-session="))
        .and_then(|v| v.split(';').next())
        .expect("a session cookie")
        .to_owned();
    format!("Cookie: __Host-kagiya-session={token}\r\n")
}

fn main() {
    let (secs, clients) = (env_or("BENCH_SECONDS", 5), env_or("BENCH_CLIENTS", 8));
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .unwrap();
    rt.block_on(async {
        let (addr, _, _) = common::demo_server(
            "pool_size = 16\n[session]\nidle_minutes = 600\n[throttle]\n\
             per_source_per_minute = 100000000\nper_login_id_per_minute = 100000000\n",
        )
        .await;
        let signed_in = session(addr).await;
        println!(
            "time to first byte, {clients} kept-alive clients, {secs} s per page, {} cores:",
            std::thread::available_parallelism().map_or(2, |n| n.get())
        );
        // (page, signed in, status): a link's page checks its token (one argon2id) before it
        // shows anything; a made-up one gets the dead link's page.
        let pages: [(&str, bool, u16); 9] = [
            ("/sign-in", false, 200),
            ("/sign-in/member", false, 200),
            ("/password-reset", false, 200),
            ("/password-reset?token=made-up", false, 401),
            ("/assets/site.css", false, 200),
            ("/me", true, 200),
            ("/admin/users", true, 200),
            ("/admin/users/minato-kato/passwords", true, 200),
            ("/password/change", true, 200),
        ];
        for (path, needs_session, want) in pages {
            let cookie = if needs_session {
                signed_in.as_str()
            } else {
                ""
            };
            let (rate, p50, p99) = load(addr, path, cookie, want, clients, secs).await;
            println!("  {path:<38} {rate:>7.0}/s  p50 {p50:>6.2} ms  p99 {p99:>6.2} ms");
        }
    });
}
