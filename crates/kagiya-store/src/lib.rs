//! Kagiya's local store, the engine's storage port on a branch PC: one SQLCipher-encrypted SQLite file per branch PC (key in the OS keyring), opened in WAL mode with foreign keys on,
//! migrated to the current schema on open, and written only inside immediate transactions so that a
//! crash or power cut leaves either the whole change or none of it.

pub mod backup;
mod branch;
pub mod branch_facts;
pub mod countries;
mod db;
pub mod directory;
pub mod events;
#[cfg(feature = "fixtures")]
pub mod fixtures;
pub mod key;
pub mod operators;
pub mod outbox;
mod port;
pub mod reports;
pub mod settings;
pub mod sync;

pub use branch::{Branch, BranchOptions, CheckReport};
pub use db::{beside, Store, Tx};
pub use key::{DbKey, KeySource};
pub use port::ConnReads;
