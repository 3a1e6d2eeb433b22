//! Passwords: how they are hashed for storage, which rules a new one must meet, the presets from
//! the seeds, the reuse rules and generated temporary passwords.

pub mod blocklist;
pub mod generate;
pub mod hash;
pub mod policy;
pub mod presets;
pub mod reuse;

pub use hash::{HashParams, PasswordHasher, Verified};
pub use policy::{PasswordPolicy, PolicyContext, RuleStatus};
pub use presets::Preset;
