//! What the benchmarks share: a database next to the build (not tmpfs) with a supervisor and one
//! customer on the Business Web policy, and a cheap hash for fixture users (the benchmarks measure
//! storage paths, not argon2, except where they say so).

use kagiya_core::directory::Service;
use kagiya_core::password::{HashParams, PasswordHasher, Preset};
use kagiya_core::secret::Secret;
use kagiya_desk::{Console, ConsoleOptions, FirstSupervisor};
use kagiya_engine::{ActorRef, NewTenant};
use kagiya_store::{Branch, BranchOptions, DbKey, KeySource};

pub const LOGIN: &str = "Branch-Login-2026";
pub const CONF: &str = "Branch-Confirm-2026";

pub fn key() -> DbKey {
    DbKey::from_bytes([9; 32])
}

/// A fresh folder under the target directory.
pub fn bench_dir() -> tempfile::TempDir {
    let base = std::path::Path::new(env!("CARGO_TARGET_TMPDIR"));
    std::fs::create_dir_all(base).unwrap();
    tempfile::tempdir_in(base).unwrap()
}

pub fn open_console(path: &std::path::Path) -> Console {
    let mut o = ConsoleOptions::new(path.to_path_buf());
    o.key = KeySource::Given(key());
    Console::open(o).unwrap()
}

/// `dir/kagiya.db` with supervisor sv001 and customer C-1; the engine on it.
pub fn engine(dir: &std::path::Path) -> Branch {
    let path = dir.join("kagiya.db");
    open_console(&path)
        .create_first_supervisor(&FirstSupervisor::new("sv001", "山田 花子", LOGIN, CONF))
        .unwrap();
    let e = Branch::open(BranchOptions::new(path, KeySource::Given(key()), "bench")).unwrap();
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
    e
}

pub fn cheap_hash() -> String {
    PasswordHasher::new(HashParams {
        memory_kib: 8,
        iterations: 1,
        parallelism: 1,
    })
    .unwrap()
    .hash(&Secret::new("Temp-Pass-0001"))
    .unwrap()
}
