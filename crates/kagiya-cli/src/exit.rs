//! Exit codes, so that scripts can tell a wrong password from a lock or a missing user.

use kagiya_core::Error;

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

/// The exit code of an error.
pub fn code_of(e: &Error) -> i32 {
    match e {
        Error::InvalidCredentials | Error::InvalidUserCredentials | Error::ConfirmationFailed => {
            WRONG_PASSWORD
        }
        Error::CredentialLocked { .. } | Error::SignInLocked { .. } => LOCKED,
        Error::NotPermitted(_) => NOT_PERMITTED,
        Error::UnknownTenant | Error::UnknownUser | Error::UnknownRequest => NOT_FOUND,
        Error::PasswordPolicy(_)
        | Error::PasswordRepeatMismatch
        | Error::InvalidLoginId
        | Error::InvalidContractNo
        | Error::InvalidName
        | Error::InvalidOperatorId
        | Error::InvalidOperatorName
        | Error::InvalidValue(_)
        | Error::UnknownLanguage
        | Error::CertificateUnreadable(_)
        | Error::CertificateRejected(_)
        | Error::InvalidIpRule(_)
        | Error::AddressRule(_)
        | Error::File(_) => INVALID,
        Error::AlreadyExists(_)
        | Error::OperatorIdTaken
        | Error::SetupAlreadyDone
        | Error::SetupRequired
        | Error::RequestState(_)
        | Error::ManagersStillAvailable => CONFLICT,
        Error::AuditChainBroken { .. } | Error::EventLogInconsistent(_) => AUDIT_BROKEN,
        Error::DatabaseUnavailable(_) | Error::KeyUnavailable(_) | Error::KeyMissing => UNAVAILABLE,
        _ => INTERNAL,
    }
}
