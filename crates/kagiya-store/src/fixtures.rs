//! Bulk test data written through the store's own recording path (every row has its event, the
//! fold still matches), for tests and benchmarks that need thousands of users without paying an
//! argon2 hash per user. Compiled only with the `fixtures` feature.

use kagiya_core::directory::{CredentialKind, UserRole};
use kagiya_core::event::{EventKind, PasswordSetReason};
use kagiya_core::{Error, Millis};

use crate::{directory, Store};

/// Registers `n` general users `{prefix}{i:06}` of `contract_no` with `hash` as both passwords,
/// named 利用者 N and addressed `{prefix}{i}@example.co.jp`; with `locked`, each login password is
/// then failed up to the tenant's threshold at `at`. Returns the login IDs.
pub fn users(
    store: &Store,
    contract_no: &str,
    prefix: &str,
    n: usize,
    hash: &str,
    at: Millis,
    locked: bool,
) -> Result<Vec<String>, Error> {
    let tenant = directory::tenant(&store.conn(), contract_no)?.ok_or(Error::UnknownTenant)?;
    let lock = tenant.policy(CredentialKind::Login).lockout;
    let ids: Vec<String> = (0..n).map(|i| format!("{prefix}{i:06}")).collect();
    store.write(|tx| {
        for (i, id) in ids.iter().enumerate() {
            let ev = EventKind::UserCreated {
                login_id: id.clone(),
                contract_no: tenant.contract_no.clone(),
                name: format!("利用者 {i}"),
                role: UserRole::General,
                email: Some(format!("{id}@example.co.jp")),
            };
            directory::record(tx, at, Some("fixture"), Some("fixture"), ev)?;
            for kind in CredentialKind::BOTH {
                let ev = EventKind::PasswordSet {
                    login_id: id.clone(),
                    credential: kind,
                    hash: hash.to_owned(),
                    reason: PasswordSetReason::Initial,
                    must_change: false,
                    temporary: false,
                    expires_at: None,
                    exception: None,
                };
                directory::record(tx, at, Some("fixture"), Some("fixture"), ev)?;
            }
            if locked {
                lock_login(tx, id, &lock, at)?;
            }
        }
        Ok(())
    })?;
    Ok(ids)
}

/// Fails `id`'s login password up to the threshold at `at` (see `directory::fail_until_locked`).
pub fn lock_login(
    tx: &crate::Tx<'_>,
    id: &str,
    lock: &kagiya_core::lockout::LockoutPolicy,
    at: Millis,
) -> Result<(), Error> {
    directory::fail_until_locked(tx, id, CredentialKind::Login, lock, at, "fixture")
}
