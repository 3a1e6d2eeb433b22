//! The desktop's start-up and search paths with a 100,000-user branch on a real encrypted file:
//! opening the console (key, migrations) and signing in through to the dashboard's figures
//! (goal with the window: ≤ 1 s to an interactive dashboard), and one page of the users table
//! per keystroke as a login ID is typed (goal ≤ 16 ms per keystroke, IPC and rendering included).

use std::hint::black_box;

use criterion::{criterion_group, criterion_main, Criterion};
use kagiya_console::desk::UserPageQuery;
use kagiya_console::engine::{ActorRef, NewTenant};
use kagiya_console::{
    Clock, Console, ConsoleOptions, Engine, EngineOptions, FirstSupervisor, SystemClock,
};
use kagiya_core::directory::Service;
use kagiya_core::password::{HashParams, PasswordHasher, Preset};
use kagiya_core::secret::Secret;
use kagiya_store::{fixtures, DbKey, KeySource};

const CONF: &str = "Branch-Confirm-2026";
const LOGIN: &str = "Branch-Login-2026";

fn key() -> DbKey {
    DbKey::from_bytes([9; 32])
}

fn open(path: &std::path::Path) -> Console {
    let mut o = ConsoleOptions::new(path.to_path_buf());
    o.key = KeySource::Given(key());
    Console::open(o).unwrap()
}

/// 100,000 users of one customer, 1,000 more of them locked.
fn branch(dir: &std::path::Path) -> std::path::PathBuf {
    let path = dir.join("kagiya.db");
    let mut c = open(&path);
    c.create_first_supervisor(&FirstSupervisor::new("sv001", "山田 花子", LOGIN, CONF))
        .unwrap();
    drop(c);
    let mut e = Engine::open(EngineOptions::new(
        path.clone(),
        KeySource::Given(key()),
        "bench",
    ))
    .unwrap();
    e.create_tenant(
        &ActorRef::Operator("sv001".into()),
        &Secret::new(CONF),
        NewTenant {
            contract_no: "C-1".into(),
            name: "ベンチ株式会社".into(),
            services: vec![Service::UserWeb],
            preset: Preset::BusinessWeb,
        },
    )
    .unwrap();
    let hash = PasswordHasher::new(HashParams {
        memory_kib: 8,
        iterations: 1,
        parallelism: 1,
    })
    .unwrap()
    .hash(&Secret::new("Temp-Pass-0001"))
    .unwrap();
    let now = SystemClock.now();
    fixtures::users(e.store_mut(), "C-1", "u", 99_000, &hash, now, false).unwrap();
    fixtures::users(e.store_mut(), "C-1", "l", 1_000, &hash, now, true).unwrap();
    path
}

fn desk(c: &mut Criterion) {
    let base = std::path::Path::new(env!("CARGO_TARGET_TMPDIR"));
    std::fs::create_dir_all(base).unwrap();
    let dir = tempfile::tempdir_in(base).unwrap();
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
        filter: filter.into(),
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
