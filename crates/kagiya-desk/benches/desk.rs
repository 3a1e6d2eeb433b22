//! The desktop's start-up and search paths with a 100,000-user branch on a real encrypted file:
//! opening the console (key, migrations) and signing in through to the dashboard's figures
//! (goal with the window: ≤ 1 s to an interactive dashboard), and one page of the users table
//! per keystroke as a login ID is typed (goal ≤ 16 ms per keystroke, IPC and rendering included).

use std::hint::black_box;

use criterion::{criterion_group, criterion_main, Criterion};
use kagiya_core::secret::Secret;
use kagiya_desk::desk::UserPageQuery;
use kagiya_desk::{Clock, SystemClock};
use kagiya_store::fixtures;

mod support;

use support::{bench_dir, cheap_hash, engine, open_console as open, LOGIN};

/// 100,000 users of one customer, 1,000 of them locked.
fn branch(dir: &std::path::Path) -> std::path::PathBuf {
    let e = engine(dir);
    let hash = cheap_hash();
    let now = SystemClock.now();
    fixtures::users(e.store(), "C-1", "u", 99_000, &hash, now, false).unwrap();
    fixtures::users(e.store(), "C-1", "l", 1_000, &hash, now, true).unwrap();
    dir.join("kagiya.db")
}

fn desk(c: &mut Criterion) {
    let dir = bench_dir();
    let path = branch(dir.path());

    let mut g = c.benchmark_group("desk with 100,000 users");
    g.sample_size(10);
    g.bench_function("open + sign in + dashboard", |b| {
        b.iter(|| {
            let mut c = open(&path);
            c.sign_in("sv001", &Secret::new(LOGIN)).unwrap();
            let d = c.dashboard(540).unwrap();
            assert_eq!(d.locks.login_temporary, 1_000);
            black_box(d)
        })
    });
    let mut signed_in = open(&path);
    signed_in.sign_in("sv001", &Secret::new(LOGIN)).unwrap();
    g.bench_function("dashboard only", |b| {
        b.iter(|| black_box(signed_in.dashboard(540).unwrap()))
    });
    g.finish();

    let mut g = c.benchmark_group("users table page of 100 among 100,000 users");
    g.sample_size(30);
    let mut console = open(&path);
    console.sign_in("sv001", &Secret::new(LOGIN)).unwrap();
    let q = |text: &str, filter: &str, offset: u32| UserPageQuery {
        text: text.into(),
        filter: serde_json::from_value(serde_json::Value::String(filter.into())).unwrap(),
        offset,
        limit: 100,
        ..UserPageQuery::default()
    };
    for text in ["u", "u0", "u01", "u012", "u0123", "利用者 45"] {
        let page = console.user_page(&q(text, "all", 0)).unwrap();
        assert!(page.total > 0, "{text} finds users");
        g.bench_function(
            format!("keystroke '{text}' ({} matches)", page.total),
            |b| b.iter(|| black_box(console.user_page(&q(text, "all", 0)).unwrap())),
        );
    }
    g.bench_function("locked filter (1,000 matches)", |b| {
        b.iter(|| black_box(console.user_page(&q("", "locked", 0)).unwrap()))
    });
    g.bench_function("scrolled to row 50,000", |b| {
        b.iter(|| black_box(console.user_page(&q("", "all", 50_000)).unwrap()))
    });
    g.finish();
}

criterion_group!(benches, desk);
criterion_main!(benches);
