//! Scratch: times SQL variants of the users table over 100,000 users (not committed).
use std::time::Instant;

use kagiya_console::engine::{ActorRef, NewTenant};
use kagiya_console::{
    Clock, Console, ConsoleOptions, Engine, EngineOptions, FirstSupervisor, SystemClock,
};
use kagiya_core::directory::Service;
use kagiya_core::password::{HashParams, PasswordHasher, Preset};
use kagiya_core::secret::Secret;
use kagiya_store::{fixtures, DbKey, KeySource, Store};

fn key() -> DbKey {
    DbKey::from_bytes([9; 32])
}

fn main() {
    let path = std::path::PathBuf::from("/tmp/querylab/kagiya.db");
    if !path.exists() {
        std::fs::create_dir_all("/tmp/querylab").unwrap();
        let mut o = ConsoleOptions::new(path.clone());
        o.key = KeySource::Given(key());
        let mut c = Console::open(o).unwrap();
        c.create_first_supervisor(&FirstSupervisor {
            operator_id: "sv001".into(),
            name: "x".into(),
            password: "Branch-Login-2026".into(),
            password_repeat: "Branch-Login-2026".into(),
            confirmation_password: "Branch-Confirm-2026".into(),
            confirmation_password_repeat: "Branch-Confirm-2026".into(),
        })
        .unwrap();
        drop(c);
        let mut e = Engine::open(EngineOptions::new(
            path.clone(),
            KeySource::Given(key()),
            "b",
        ))
        .unwrap();
        e.create_tenant(
            &ActorRef::Operator("sv001".into()),
            &Secret::new("Branch-Confirm-2026"),
            NewTenant {
                contract_no: "C-1".into(),
                name: "b".into(),
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
    }
    let s = Store::open(&path, &key()).unwrap();
    let c = s.conn();
    let args: Vec<String> = std::env::args().skip(1).collect();
    for sql in args {
        let mut st = c.prepare(&sql).unwrap();
        let mut plan = c.prepare(&format!("EXPLAIN QUERY PLAN {sql}")).unwrap();
        let p: Vec<String> = plan
            .query_map([], |r| r.get::<_, String>(3))
            .unwrap()
            .map(|x| x.unwrap())
            .collect();
        let mut best = f64::MAX;
        let mut n = 0;
        for _ in 0..5 {
            let t = Instant::now();
            n = st.query_map([], |_| Ok(())).unwrap().count();
            best = best.min(t.elapsed().as_secs_f64() * 1000.0);
        }
        println!(
            "{best:8.2} ms  {n:6} rows  {sql}\n          plan: {}",
            p.join(" | ")
        );
    }
}
