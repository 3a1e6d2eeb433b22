//! The engine's storage-bound paths on a real encrypted database file (WAL, synchronous=FULL):
//! the durable record of one failed attempt (goal ≤ 0.5 ms), prefix search among 100,000 users
//! (≤ 5 ms), and a bulk unlock of 1,000 users including the one argon2 verification of the
//! operator's confirmation password (≤ 300 ms + one argon2).

use std::hint::black_box;
use std::time::{Duration, Instant};

use criterion::{criterion_group, criterion_main, Criterion};
use kagiya_core::directory::{Channel, CredentialKind};
use kagiya_core::event::EventKind;
use kagiya_core::password::{HashParams, PasswordHasher};
use kagiya_core::secret::Secret;
use kagiya_core::Lang;
use kagiya_desk::{Clock, SystemClock};
use kagiya_engine::ActorRef;
use kagiya_store::{directory, fixtures};

mod support;

use support::{bench_dir, cheap_hash, engine, CONF};

fn record_failure(c: &mut Criterion) {
    let dir = bench_dir();
    let e = engine(dir.path());
    let now = SystemClock.now();
    let ids = fixtures::users(e.store(), "C-1", "f", 1, &cheap_hash(), now, false).unwrap();
    let id = ids[0].clone();
    c.bench_function("durable record of one failed attempt (tx + fsync)", |b| {
        b.iter(|| {
            let now = SystemClock.now();
            e.store()
                .write(|tx| {
                    let u = directory::user(tx, &id)?.unwrap();
                    let t = directory::tenant(tx, &u.contract_no)?.unwrap();
                    let (_, outcome) = t.login.lockout.on_failure(&u.login.lockout, now);
                    let ev = EventKind::CredentialFailed {
                        login_id: id.clone(),
                        credential: CredentialKind::Login,
                        channel: Channel::Api,
                        outcome,
                        right_password: false,
                    };
                    directory::record(tx, now, None, Some("bench"), ev).map(|_| ())
                })
                .unwrap()
        })
    });
}

fn search(c: &mut Criterion) {
    let dir = bench_dir();
    let e = engine(dir.path());
    let now = SystemClock.now();
    fixtures::users(e.store(), "C-1", "u", 100_000, &cheap_hash(), now, false).unwrap();
    let guard = e.store().conn();
    let conn = &*guard;
    assert_eq!(directory::user_count(conn).unwrap(), 100_000);
    let mut g = c.benchmark_group("search among 100,000 users (first 50)");
    for (what, prefix) in [
        ("login ID", "u0123"),
        ("name", "利用者 4567"),
        ("e-mail", "u009876@ex"),
    ] {
        let hits = directory::search(conn, prefix, 50).unwrap().len();
        assert!(hits > 0, "{what} finds something");
        g.bench_function(what, |b| {
            b.iter(|| directory::search(conn, black_box(prefix), 50).unwrap())
        });
    }
    g.finish();
}

fn bulk_unlock(c: &mut Criterion) {
    let dir = bench_dir();
    let e = engine(dir.path());
    let ids = fixtures::users(
        e.store(),
        "C-1",
        "b",
        1000,
        &cheap_hash(),
        SystemClock.now(),
        false,
    )
    .unwrap();
    let lock = directory::tenant(&e.store().conn(), "C-1")
        .unwrap()
        .unwrap()
        .login
        .lockout;
    let sv = ActorRef::Operator("sv001".into());
    let conf = Secret::new(CONF);
    let mut g = c.benchmark_group("bulk unlock");
    g.sample_size(10).measurement_time(Duration::from_secs(20));
    g.bench_function(
        "1,000 locked users, one confirmation (argon2 m=19 MiB t=2)",
        |b| {
            // Each iteration locks the 1,000 users again (not timed), then times the unlock.
            b.iter_custom(|iters| {
                let mut total = Duration::ZERO;
                for _ in 0..iters {
                    let now = SystemClock.now();
                    e.store()
                        .write(|tx| {
                            for id in &ids {
                                fixtures::lock_login(tx, id, &lock, now)?;
                            }
                            Ok(())
                        })
                        .unwrap();
                    let t = Instant::now();
                    let (_, rows) = e.unlock(&sv, &conf, &ids, Lang::Ja).unwrap();
                    total += t.elapsed();
                    assert!(rows
                        .iter()
                        .all(|r| r.outcome == kagiya_engine::UnlockOutcome::Unlocked));
                }
                total
            })
        },
    );
    g.bench_function("one argon2 verification alone (for subtraction)", |b| {
        let h = PasswordHasher::new(HashParams::default()).unwrap();
        let phc = h.hash(&conf).unwrap();
        b.iter(|| h.verify(&conf, &phc))
    });
    g.finish();
}

criterion_group!(benches, record_failure, search, bulk_unlock);
criterion_main!(benches);
