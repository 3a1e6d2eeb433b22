//! The authentication path the central server will use: verify one credential of a login ID on a
//! channel, with the lockout applied and every outcome recorded. Concurrent attempts are exact:
//! the argon2 verification runs outside the write lock, and the failure is counted against the
//! facts re-read inside the immediate transaction (a lock taken meanwhile refuses the attempt
//! without counting it).

use kagiya_core::directory::fold::apply_to_user;
use kagiya_core::directory::ids::LoginId;
use kagiya_core::directory::{Channel, CredentialKind, CredentialState, UserStatus};
use kagiya_core::directory::{Tenant, User};
use kagiya_core::event::{EventKind, RefusalReason};
use kagiya_core::iprules::IpAction;
use kagiya_core::lockout::FailureOutcome;
use kagiya_core::password::Verified;
use kagiya_core::secret::Secret;
use kagiya_core::{Error, Millis};

use crate::port::{typed_id, Change};
use crate::{user_and_tenant, Engine};

/// A successful verification and what the user must do next.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Verification {
    pub login_id: String,
    pub credential: CredentialKind,
    /// The password was set by an administrator or is temporary: change it now (seed 004 §2.4).
    pub must_change: bool,
    /// The password has expired: change it with the current one (seed 004 §2.5).
    pub expired: bool,
}

enum Step {
    Done(Result<Verification, Error>),
    /// The hash changed between the check and the write: check again.
    Retry,
}

/// The automatic end of a temporary lock of `u`'s `kind` credential that has run out by `now`
/// and is not recorded yet, applied to `u` as well so that what is decided next sees it.
pub(crate) fn observe_release(
    u: &mut User,
    t: &Tenant,
    now: Millis,
    kind: CredentialKind,
) -> Result<Option<Change>, Error> {
    let Some(ended_at) = t
        .policy(kind)
        .lockout
        .expired_lock(&u.credential(kind).lockout, now)
    else {
        return Ok(None);
    };
    let ev = EventKind::CredentialLockReleased {
        login_id: u.login_id.clone(),
        credential: kind,
        ended_at,
    };
    apply_to_user(u, t, now, &ev)?;
    Ok(Some(Change::event(None, ev)))
}

impl Engine {
    /// Verifies `password` as `login_id`'s `kind` credential arriving on `channel`.
    ///
    /// Unknown IDs and wrong passwords get the same `auth.invalid_credentials` (and the same
    /// argon2 cost); a locked credential gets `auth.credential_locked`, a suspended user the
    /// same refusal as a wrong password.
    pub fn verify(
        &self,
        login_id: &str,
        kind: CredentialKind,
        channel: Channel,
        password: &Secret,
    ) -> Result<Verification, Error> {
        self.verify_from(login_id, kind, channel, password, None)
    }

    /// [`Engine::verify`] for an attempt from `ip`, which is recorded with every outcome (and
    /// tells the IP rules' warnings which addresses administrators use).
    pub fn verify_from(
        &self,
        login_id: &str,
        kind: CredentialKind,
        channel: Channel,
        password: &Secret,
        ip: Option<std::net::IpAddr>,
    ) -> Result<Verification, Error> {
        let attempted: String = login_id.trim().chars().take(64).collect();
        loop {
            let now = self.now();
            let origin = match ip {
                Some(ip) => format!("{} ip={ip}", self.origin),
                None => self.origin.clone(),
            };
            // Refused before any password is checked: recorded, never counted, with the answer
            // and the argon2 cost of a wrong password (nothing tells an ID apart). An unknown ID
            // is recorded as typed only when it is a well-formed login ID.
            let refuse =
                |attempted_id: &str, reason: RefusalReason| -> Result<Verification, Error> {
                    self.hasher.waste_time(password);
                    self.transact_from(now, &origin, |r| {
                        let mut changes = Vec::new();
                        let is_id = reason != RefusalReason::UnknownUser
                            || LoginId::parse(attempted_id).is_ok();
                        let ev = EventKind::CredentialRefused {
                            attempted_id: typed_id(r, attempted_id, is_id, &mut changes)?,
                            credential: kind,
                            channel,
                            reason,
                        };
                        changes.push(Change::event(None, ev));
                        Ok((changes, ()))
                    })?;
                    Err(Error::InvalidUserCredentials)
                };
            let snapshot = self.read(|r| match r.user(&attempted)? {
                Some(u) => {
                    let t = r.tenant(&u.contract_no)?.ok_or(Error::UnknownTenant)?;
                    Ok(Some((u, t)))
                }
                None => Ok(None),
            })?;
            let Some((u, tenant)) = snapshot else {
                return refuse(&attempted, RefusalReason::UnknownUser);
            };
            if u.status != UserStatus::Active {
                return refuse(&u.login_id, RefusalReason::Suspended);
            }
            if let Some(ip) = ip {
                // The customer's IP access rules for the service this channel uses, before any
                // password is checked: a refused address can neither guess nor lock.
                let service = channel.service(u.role, &tenant.services);
                if self.address_decision(&tenant, service, ip)?.action == IpAction::Deny {
                    return refuse(&u.login_id, RefusalReason::AddressDenied);
                }
            }
            if !tenant.uses(kind) {
                // The service has no such password (seeds 000/002/003 have one per account).
                return refuse(&u.login_id, RefusalReason::CredentialNotUsed);
            }
            let hash = u.credential(kind).hash.clone();
            let verified = if hash.is_empty() {
                self.hasher.waste_time(password);
                Verified::No
            } else {
                self.hasher.verify(password, &hash)
            };
            let hasher = &self.hasher;
            let step = self.transact_from(now, &origin, |r| {
                let (mut fresh, tenant) = user_and_tenant(r, &u.login_id)?;
                let mut changes: Vec<Change> = Vec::new();
                changes.extend(observe_release(&mut fresh, &tenant, now, kind)?);
                let cred = fresh.credential(kind);
                if cred.hash != hash {
                    return Ok((Vec::new(), Step::Retry));
                }
                let policy = tenant.policy(kind);
                let state = cred.state(&policy.lockout, policy.password.warn_days, now);
                match verified {
                    Verified::No => {
                        let (_, outcome) = policy.lockout.on_failure(&cred.lockout, now);
                        let ev = EventKind::CredentialFailed {
                            login_id: fresh.login_id.clone(),
                            credential: kind,
                            channel,
                            outcome,
                        };
                        changes.push(Change::event(None, ev));
                        Ok((
                            changes,
                            Step::Done(Err(match outcome {
                                FailureOutcome::Counted { .. } => Error::InvalidUserCredentials,
                                FailureOutcome::LockedNow { until }
                                | FailureOutcome::RefusedWhileLocked { until } => {
                                    Error::CredentialLocked { until: Some(until) }
                                }
                                FailureOutcome::LockedPermanently { .. }
                                | FailureOutcome::RefusedWhilePermanentlyLocked { .. } => {
                                    Error::CredentialLocked { until: None }
                                }
                            })),
                        ))
                    }
                    Verified::Yes { needs_rehash } => {
                        if let CredentialState::TemporarilyStopped { until } = state {
                            // A right password during a lock is refused and not counted either.
                            let ev = EventKind::CredentialFailed {
                                login_id: fresh.login_id.clone(),
                                credential: kind,
                                channel,
                                outcome: FailureOutcome::RefusedWhileLocked { until },
                            };
                            changes.push(Change::event(None, ev));
                            return Ok((
                                changes,
                                Step::Done(Err(Error::CredentialLocked { until: Some(until) })),
                            ));
                        }
                        if let CredentialState::Stopped { since } = state {
                            let ev = EventKind::CredentialFailed {
                                login_id: fresh.login_id.clone(),
                                credential: kind,
                                channel,
                                outcome: FailureOutcome::RefusedWhilePermanentlyLocked { since },
                            };
                            changes.push(Change::event(None, ev));
                            return Ok((
                                changes,
                                Step::Done(Err(Error::CredentialLocked { until: None })),
                            ));
                        }
                        let rehash = if needs_rehash {
                            Some(hasher.hash(password)?)
                        } else {
                            None
                        };
                        let ev = EventKind::CredentialVerified {
                            login_id: fresh.login_id.clone(),
                            credential: kind,
                            channel,
                            rehash,
                        };
                        changes.push(Change::event(Some(&format!("user:{}", fresh.login_id)), ev));
                        Ok((
                            changes,
                            Step::Done(Ok(Verification {
                                login_id: fresh.login_id.clone(),
                                credential: kind,
                                must_change: cred.must_change,
                                expired: cred.expired_since(now).is_some(),
                            })),
                        ))
                    }
                }
            })?;
            match step {
                Step::Done(r) => return r,
                Step::Retry => continue,
            }
        }
    }
}
