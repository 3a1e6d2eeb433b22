//! Writes a branch with 100,000 customer users for the desktop benchmark
//! (`scripts/bench-desktop.sh`): the demo operators and customers, then 99,000 users of
//! K-1002 and 1,000 locked ones, through the store's recording path (every row has its event).
//! The key goes to the OS keyring like the app's own, so the window opens the file as usual.
//!
//!     cargo run --release -p kagiya-desk --example big_branch -- DATA_DIR [USERS]

use kagiya_core::password::{HashParams, PasswordHasher};
use kagiya_core::secret::Secret;
use kagiya_desk::{Clock, Console, ConsoleOptions, SystemClock};
use kagiya_store::{fixtures, KeySource, Store};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut args = std::env::args().skip(1);
    let dir = std::path::PathBuf::from(args.next().ok_or("usage: big_branch DATA_DIR [USERS]")?);
    let users: usize = args
        .next()
        .map(|n| n.parse())
        .transpose()?
        .unwrap_or(100_000);
    let path = dir.join("kagiya.db");
    if path.exists() {
        return Err(format!("{} exists; give an empty folder", path.display()).into());
    }
    let mut console = Console::open(ConsoleOptions::new(path.clone()))?;
    console.seed_demo()?;
    drop(console);
    let key = KeySource::OsKeyring.resolve(&path)?;
    let store = Store::open(&path, &key)?;
    // Fixture users share one cheap hash: the benchmark measures lists, not sign-ins.
    let hash = PasswordHasher::new(HashParams {
        memory_kib: 8,
        iterations: 1,
        parallelism: 1,
    })?
    .hash(&Secret::new("Bench-Pass-0001"))?;
    let now = SystemClock.now();
    let locked = users / 100;
    fixtures::users(&store, "K-1002", "b", users - locked, &hash, now, false)?;
    fixtures::users(&store, "K-1002", "x", locked, &hash, now, true)?;
    println!("{} users written to {}", users, path.display());
    Ok(())
}
