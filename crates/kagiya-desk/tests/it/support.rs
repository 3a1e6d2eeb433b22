//! Set-up shared by the desk's tests.

use kagiya_store::DbKey;

/// A fixed moment (2026-11-24) for tests of time-based rules.
pub const T0: i64 = 1_795_400_000_000;

/// The key the test databases are encrypted with (each test has its own file).
pub fn key() -> DbKey {
    DbKey::from_bytes([9; 32])
}

/// A value of an IPC enum from its wire name, as the window sends it.
pub fn code<T: serde::de::DeserializeOwned>(s: &str) -> T {
    serde_json::from_value(serde_json::Value::String(s.to_owned()))
        .unwrap_or_else(|e| panic!("{s}: {e}"))
}
