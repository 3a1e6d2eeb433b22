//! Kagiya's domain rules, free of I/O and of Tauri, so that the desktop app, the CLI, the central
//! server and sync all decide the same way. Time is always passed in (`Millis`), never read here.

pub mod branch_fold;
pub mod certs;
pub mod checkpoint;
pub mod directory;
pub mod error;
pub mod event;
pub mod i18n;
pub mod iprules;
pub mod lockout;
pub mod mail;
pub mod operator;
pub mod password;
pub mod random;
pub mod secret;
pub mod session;
pub mod summary;
pub mod typed_id;

pub use error::{Error, ErrorKind, SyncProblem};
pub use i18n::Lang;

/// Milliseconds since the Unix epoch (UTC). Every timestamp in Kagiya uses this unit.
pub type Millis = i64;

/// One minute in milliseconds, for readable policy defaults.
pub const MINUTE: Millis = 60_000;
