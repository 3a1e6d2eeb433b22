//! Set-up shared by the store's tests: a branch database in a temporary folder with its first
//! supervisor registered through the engine, on a clock the test moves.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use kagiya_core::password::HashParams;
use kagiya_core::secret::Secret;
use kagiya_engine::{ActorRef, FirstSupervisor, FixedClock};
use kagiya_store::{Branch, BranchOptions, DbKey, KeySource};

/// A fixed moment (2026-11-24) for tests of time-based rules.
pub const T0: i64 = 1_795_400_000_000;
/// The first supervisor's passwords.
pub const SV_LOGIN: &str = "Branch-Login-2026";
pub const SV_CONF: &str = "Branch-Confirm-2026";

/// The first supervisor as the acting operator, and their confirmation password.
pub fn sv() -> ActorRef {
    ActorRef::Operator("sv001".into())
}

pub fn conf() -> Secret {
    Secret::new(SV_CONF)
}

/// A database file and the key it is encrypted with.
pub struct BranchFile {
    /// Removed with the file when the test ends.
    _dir: tempfile::TempDir,
    pub path: PathBuf,
    pub key_byte: u8,
}

impl BranchFile {
    /// A new database in a temporary folder (encrypted with 32 × `key_byte`) whose first
    /// supervisor `sv001` is registered at the clock's time.
    pub fn new(key_byte: u8, clock: &Arc<FixedClock>, hash: HashParams) -> BranchFile {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("kagiya.db");
        let f = BranchFile {
            _dir: dir,
            path,
            key_byte,
        };
        f.open(clock, hash, "setup")
            .create_first_supervisor(&FirstSupervisor::new(
                "sv001",
                "山田 花子",
                SV_LOGIN,
                SV_CONF,
            ))
            .unwrap();
        f
    }

    /// Another connection to the file, recording `origin`.
    pub fn open(&self, clock: &Arc<FixedClock>, hash: HashParams, origin: &str) -> Branch {
        open(&self.path, self.key_byte, clock, hash, origin)
    }
}

/// Opens the database at `path` encrypted with 32 × `key_byte`.
pub fn open(
    path: &Path,
    key_byte: u8,
    clock: &Arc<FixedClock>,
    hash: HashParams,
    origin: &str,
) -> Branch {
    let mut o = BranchOptions::new(
        path.to_owned(),
        KeySource::Given(DbKey::from_bytes([key_byte; 32])),
        origin,
    );
    o.hash_params = hash;
    o.clock = clock.clone();
    Branch::open(o).unwrap()
}
