//! Exit codes, so that scripts can tell a wrong password from a lock or a missing user.

use kagiya_core::{Error, ErrorKind};

pub const OK: i32 = 0;
pub const INTERNAL: i32 = 1;
pub const WRONG_PASSWORD: i32 = 3;
pub const LOCKED: i32 = 4;
pub const NOT_PERMITTED: i32 = 5;
pub const NOT_FOUND: i32 = 6;
pub const INVALID: i32 = 7;
pub const CONFLICT: i32 = 8;
pub const AUDIT_BROKEN: i32 = 9;
pub const UNAVAILABLE: i32 = 10;

/// The exit code of an error: one per kind.
pub fn code_of(e: &Error) -> i32 {
    match e.kind() {
        ErrorKind::WrongPassword => WRONG_PASSWORD,
        ErrorKind::Locked => LOCKED,
        ErrorKind::NotPermitted => NOT_PERMITTED,
        ErrorKind::NotFound => NOT_FOUND,
        ErrorKind::Invalid => INVALID,
        ErrorKind::Conflict => CONFLICT,
        ErrorKind::AuditBroken => AUDIT_BROKEN,
        ErrorKind::Unavailable => UNAVAILABLE,
        ErrorKind::Internal => INTERNAL,
    }
}
