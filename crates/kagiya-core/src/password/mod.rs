//! Passwords: how they are hashed for storage and which rules a new one must meet.

pub mod blocklist;
pub mod hash;
pub mod policy;

pub use hash::{HashParams, PasswordHasher, Verified};
pub use policy::{PasswordPolicy, PolicyContext, RuleStatus};
