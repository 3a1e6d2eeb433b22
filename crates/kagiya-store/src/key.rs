//! The database's encryption key: 32 random bytes, created on first run and kept in the OS
//! credential store (Keychain on macOS, Credential Manager on Windows, Secret Service on Linux),
//! never in a file, the webview, logs or events. If the store cannot be reached the database is
//! not opened — there is no fallback to an unencrypted file or a key on disk.

use std::path::{Path, PathBuf};

use kagiya_core::Error;
use zeroize::Zeroizing;

/// The service name of the keyring entries (the app's bundle identifier).
pub const KEYRING_SERVICE: &str = "jp.kagiya.console";

/// A raw 256-bit SQLCipher key.
pub struct DbKey(Zeroizing<[u8; 32]>);

impl DbKey {
    /// A new key from the OS CSPRNG.
    pub fn generate() -> DbKey {
        let mut k = Zeroizing::new([0u8; 32]);
        kagiya_core::random::fill(&mut k[..]);
        DbKey(k)
    }

    /// A key from its 32 bytes.
    pub fn from_bytes(bytes: [u8; 32]) -> DbKey {
        DbKey(Zeroizing::new(bytes))
    }

    fn from_slice(bytes: &[u8]) -> Option<DbKey> {
        let arr: [u8; 32] = bytes.try_into().ok()?;
        Some(DbKey::from_bytes(arr))
    }

    /// The `PRAGMA key` statement (a raw key, so SQLCipher skips its own key derivation).
    /// The seed of the branch's checkpoint signing key (derived, see `kagiya_core::checkpoint`).
    pub(crate) fn checkpoint_seed(&self) -> Zeroizing<[u8; 32]> {
        kagiya_core::checkpoint::seed_from(&self.0[..])
    }

    /// Another copy of the key (for a thread that derives from it; wiped when dropped).
    pub(crate) fn duplicate(&self) -> DbKey {
        DbKey(Zeroizing::new(*self.0))
    }

    /// The seed of the sync device key of enrolment `generation` (a new one at each enrolment,
    /// so that a PC enrolled again after a revocation gets a key the server has not seen).
    pub(crate) fn device_seed(&self, generation: i64) -> Zeroizing<[u8; 32]> {
        let label = format!("kagiya sync device key v1 {generation}");
        kagiya_core::checkpoint::derive_seed(&self.0[..], label.as_bytes())
    }

    pub(crate) fn pragma(&self) -> Zeroizing<String> {
        Zeroizing::new(format!(
            "PRAGMA key = \"x'{}'\";",
            hex::encode_upper(&self.0[..])
        ))
    }
}

impl std::fmt::Debug for DbKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("DbKey(***)")
    }
}

/// Where the key of a database comes from.
pub enum KeySource {
    /// The OS credential store, one entry per database file.
    OsKeyring,
    /// A key handed over by the caller (tests, and restoring with a key exported by IT).
    Given(DbKey),
}

/// The keyring account name of a database: its absolute path.
pub fn account_for(path: &Path) -> Result<String, Error> {
    let abs: PathBuf = match (path.parent(), path.file_name()) {
        (Some(dir), Some(name)) if !dir.as_os_str().is_empty() => {
            std::fs::create_dir_all(dir).map_err(|e| Error::DatabaseUnavailable(e.to_string()))?;
            dir.canonicalize()
                .map_err(|e| Error::DatabaseUnavailable(e.to_string()))?
                .join(name)
        }
        _ => std::env::current_dir()
            .map_err(|e| Error::DatabaseUnavailable(e.to_string()))?
            .join(path),
    };
    Ok(format!("database:{}", abs.display()))
}

fn unavailable(e: impl std::fmt::Display) -> Error {
    Error::KeyUnavailable(e.to_string())
}

fn has_content(path: &Path) -> bool {
    std::fs::metadata(path).is_ok_and(|m| m.len() > 0)
}

impl KeySource {
    /// The key for the database at `path`. From the OS keyring, a missing entry is created only
    /// when the database does not exist yet; a new entry is read back before it is trusted.
    pub fn resolve(self, path: &Path) -> Result<DbKey, Error> {
        match self {
            KeySource::Given(k) => Ok(k),
            KeySource::OsKeyring => {
                let account = account_for(path)?;
                // Two first starts at once (issue 12, finding 9) must not each make a key and
                // leave a database encrypted under the one the keyring lost: the look-up, a new
                // key and its read-back happen under an exclusive lock on a file beside the
                // database. The OS releases it with the process, so it never goes stale.
                let _guard = lock_beside(path)?;
                let entry = keyring::Entry::new(KEYRING_SERVICE, &account).map_err(unavailable)?;
                match entry.get_secret() {
                    Ok(bytes) => {
                        let bytes = Zeroizing::new(bytes);
                        DbKey::from_slice(&bytes)
                            .ok_or_else(|| unavailable("the stored key is not 32 bytes"))
                    }
                    Err(keyring::Error::NoEntry) if !has_content(path) => {
                        let key = DbKey::generate();
                        entry.set_secret(&key.0[..]).map_err(unavailable)?;
                        let back = Zeroizing::new(entry.get_secret().map_err(unavailable)?);
                        if back[..] != key.0[..] {
                            return Err(unavailable("the keyring did not keep the new key"));
                        }
                        tracing::info!("created the database key in the OS keyring");
                        Ok(key)
                    }
                    Err(keyring::Error::NoEntry) => Err(Error::KeyMissing),
                    Err(e) => Err(unavailable(e)),
                }
            }
        }
    }
}

/// An exclusive lock on `<db>.keylock`, held until the returned file is dropped.
fn lock_beside(path: &Path) -> Result<std::fs::File, Error> {
    crate::db::lock_beside(path, ".keylock")
}

/// Removes the keyring entry of a database (used when a database is deleted for good).
pub fn forget(path: &Path) -> Result<(), Error> {
    let entry = keyring::Entry::new(KEYRING_SERVICE, &account_for(path)?).map_err(unavailable)?;
    match entry.delete_credential() {
        Ok(()) | Err(keyring::Error::NoEntry) => Ok(()),
        Err(e) => Err(unavailable(e)),
    }
}
