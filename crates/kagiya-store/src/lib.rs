//! Kagiya's local store: one SQLite file per branch PC, opened in WAL mode with foreign keys on,
//! migrated to the current schema on open, and written only inside immediate transactions so that a
//! crash or power cut leaves either the whole change or none of it.

mod db;
pub mod events;
pub mod operators;
pub mod settings;

pub use db::{Store, Tx};
