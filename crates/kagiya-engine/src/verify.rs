//! The authentication path the central server will use: verify one credential of a login ID on a
//! channel, with the lockout applied and every outcome recorded. Concurrent attempts are exact:
//! the argon2 verification runs outside the write lock, and the failure is counted against the
//! facts re-read inside the immediate transaction (a lock taken meanwhile refuses the attempt
//! without counting it).

use kagiya_core::directory::addresses::{dup_key, find, otp_address};
use kagiya_core::directory::fold::apply_to_user;
use kagiya_core::directory::ids::LoginId;
use kagiya_core::directory::{Channel, Credential, CredentialKind, CredentialState, UserStatus};
use kagiya_core::directory::{OneTimePurpose, Tenant, User};
use kagiya_core::event::{EventKind, RefusalReason};
use kagiya_core::iprules::IpAction;
use kagiya_core::lockout::FailureOutcome;
use kagiya_core::mail::{notice_addresses, MailKind};
use kagiya_core::password::{Preset, Verified};
use kagiya_core::secret::Secret;
use kagiya_core::{Error, Millis};

use crate::one_time::OneTimeSecret;
use crate::port::MailOrder;
use crate::port::{typed_id, Change, Reads};
use crate::{user_and_tenant, Engine};

/// A successful verification and what the user must do next.
#[derive(Debug, Clone, serde::Serialize)]
pub struct Verification {
    pub login_id: String,
    pub credential: CredentialKind,
    /// The password was set by an administrator or is temporary: change it now (seed 004 §2.4).
    pub must_change: bool,
    /// The password has expired: change it with the current one (seed 004 §2.5).
    pub expired: bool,
    /// The user's 2FA is on: the sign-in is complete only when this code, sent to the user's
    /// one-time-password address, comes back through [`Engine::verify_code`] (seed 002:
    /// 「ワンタイムパスワード認証」画面). The caller mails it; it is never shown or logged.
    #[serde(skip)]
    pub second_factor: Option<OneTimeSecret>,
}

/// Which password an attempt is for.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Target {
    /// One of the user's own passwords.
    Own(CredentialKind),
    /// The password of an added address (seed 002), by address.
    Address(String),
}

/// The credential `target` names in `u` / `list`, if it exists.
fn credential_of(
    u: &User,
    list: &[kagiya_core::directory::Address],
    target: &Target,
) -> Option<Credential> {
    match target {
        Target::Own(kind) => Some(u.credential(*kind).clone()),
        Target::Address(a) => find(list, a).and_then(|a| a.credential.clone()),
    }
}

/// Seed 002's login notices (「お客様ご自身のメールアドレス宛にのみ送信されます」), one per address.
pub(crate) fn sign_in_notices(
    login_id: &str,
    to: Vec<String>,
) -> impl Iterator<Item = Change> + '_ {
    to.into_iter().map(move |to| {
        Change::Mail(MailOrder {
            kind: MailKind::SignInNotice,
            login_id: login_id.to_owned(),
            to,
            lang: None,
            secret: None,
            expires_at: None,
            detail: None,
        })
    })
}

/// The user's addresses when the target needs them (none are read for an own password).
fn addresses_for(
    r: &dyn Reads,
    login_id: &str,
    target: &Target,
) -> Result<Vec<kagiya_core::directory::Address>, Error> {
    match target {
        Target::Own(_) => Ok(Vec::new()),
        Target::Address(_) => r.addresses(login_id),
    }
}

/// What [`Engine::gate`] decided.
pub(crate) enum Gate {
    /// The user, their customer and (when asked for) their addresses.
    Open(Box<(User, Tenant, Vec<kagiya_core::directory::Address>)>),
    /// Turned away: the ID to record and why.
    Refused(String, RefusalReason),
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
        self.verify_target(login_id, None, kind, channel, password, ip, true)
    }

    /// Checks the password of a user who is already signed in (their confirmation before an
    /// act, the current password when changing it): counted and recorded like any attempt, but
    /// it is not a sign-in — no address is asked for and no one-time password is sent.
    pub(crate) fn recheck(
        &self,
        login_id: &str,
        kind: CredentialKind,
        password: &Secret,
    ) -> Result<Verification, Error> {
        self.verify_target(login_id, None, kind, Channel::Web, password, None, false)
    }

    /// The Web member site's sign-in (seed 002: 「ログインID」「メールアドレス」「パスワード」の3種類):
    /// the user's own contact address goes with the login password, an added address with the
    /// password set through its setup link, each with its own lock. An address the user does not
    /// have is refused like a wrong password, and nothing is counted.
    pub fn verify_with_address(
        &self,
        login_id: &str,
        address: &str,
        channel: Channel,
        password: &Secret,
        ip: Option<std::net::IpAddr>,
    ) -> Result<Verification, Error> {
        self.verify_target(
            login_id,
            Some(address),
            CredentialKind::Login,
            channel,
            password,
            ip,
            true,
        )
    }

    #[allow(clippy::too_many_arguments)]
    fn verify_target(
        &self,
        login_id: &str,
        address: Option<&str>,
        kind: CredentialKind,
        channel: Channel,
        password: &Secret,
        ip: Option<std::net::IpAddr>,
        sign_in: bool,
    ) -> Result<Verification, Error> {
        let attempted: String = login_id.trim().chars().take(64).collect();
        loop {
            let now = self.now();
            let origin = self.origin_for(ip);
            // Refused before any password is checked: recorded, never counted, with the answer
            // and the argon2 cost of a wrong password (nothing tells an ID apart). An unknown ID
            // is recorded as typed only when it is a well-formed login ID.
            let refuse =
                |attempted_id: &str, reason: RefusalReason| -> Result<Verification, Error> {
                    self.hasher.waste_time(password);
                    self.record_refusal(now, &origin, attempted_id, kind, channel, reason)?;
                    Err(Error::InvalidUserCredentials)
                };
            // The addresses are read once, when the address or a sign-in code needs them.
            let wants = |u: &User| address.is_some() || (sign_in && u.mfa);
            let (u, tenant, list) = match self.gate(&attempted, channel, ip, wants)? {
                Gate::Open(open) => *open,
                Gate::Refused(id, reason) => return refuse(&id, reason),
            };
            if !tenant.uses(kind) {
                // The service has no such password (seeds 000/002/003 have one per account).
                return refuse(&u.login_id, RefusalReason::CredentialNotUsed);
            }
            let target = match address {
                // Seed 002 signs in with the address too; a login without one is refused.
                None if sign_in
                    && tenant.preset == Preset::WebMember
                    && kind == CredentialKind::Login =>
                {
                    return refuse(&u.login_id, RefusalReason::AddressRequired);
                }
                None => Target::Own(kind),
                Some(a) if u.email.as_deref().map(dup_key) == Some(dup_key(a)) => {
                    Target::Own(CredentialKind::Login)
                }
                Some(a) => match find(&list, a) {
                    Some(found) if found.credential.is_some() => {
                        Target::Address(found.address.clone())
                    }
                    _ => return refuse(&u.login_id, RefusalReason::UnknownAddress),
                },
            };
            let Some(cred) = credential_of(&u, &list, &target) else {
                return refuse(&u.login_id, RefusalReason::UnknownAddress);
            };
            let hash = cred.hash.clone();
            let verified = if hash.is_empty() {
                self.hasher.waste_time(password);
                Verified::No
            } else {
                self.hasher.verify(password, &hash)
            };
            // The code of the second factor is made (and hashed) before the write lock, when the
            // password was right and the user has 2FA on.
            // A site user's added address signs in with its own password (seed 002), but the
            // account's 2FA holds for it all the same: a right address password earns a code too.
            let signs_in = matches!(
                target,
                Target::Own(CredentialKind::Login) | Target::Address(_)
            );
            let code = match &verified {
                Verified::Yes { .. } if sign_in && u.mfa && signs_in => match otp_address(&list) {
                    Some(a) => Some(self.prepare_one_time(
                        &u.login_id,
                        &a.address,
                        OneTimePurpose::SignIn,
                        now,
                    )?),
                    None => None,
                },
                _ => None,
            };
            let hasher = &self.hasher;
            let step = self.transact_from(now, &origin, |r| {
                let (mut fresh, tenant) = user_and_tenant(r, &u.login_id)?;
                let list = addresses_for(r, &u.login_id, &target)?;
                let mut changes: Vec<Change> = Vec::new();
                if let Target::Own(kind) = target {
                    changes.extend(observe_release(&mut fresh, &tenant, now, kind)?);
                }
                let Some(cred) = credential_of(&fresh, &list, &target) else {
                    return Ok((Vec::new(), Step::Retry));
                };
                if cred.hash != hash {
                    return Ok((Vec::new(), Step::Retry));
                }
                // A right login password of a user with 2FA on earns a code, never a sign-in.
                let code_owed = sign_in
                    && fresh.mfa
                    && code.is_none()
                    && signs_in
                    && matches!(verified, Verified::Yes { .. });
                if code_owed && !u.mfa {
                    // Turned on since the password check: again, so that a code is made.
                    return Ok((Vec::new(), Step::Retry));
                }
                if code_owed {
                    // No verified address to send it to (cannot normally happen: the last
                    // one-time-password address cannot be deleted while 2FA is on).
                    return Ok((
                        Vec::new(),
                        Step::Done(Err(Error::MfaRule("needs_otp_address"))),
                    ));
                }
                let policy = tenant.policy(match target {
                    Target::Own(k) => k,
                    Target::Address(_) => CredentialKind::Login,
                });
                let state = cred.state(&policy.lockout, policy.password.warn_days, now);
                let right_password = matches!(verified, Verified::Yes { .. });
                let failed = |outcome: FailureOutcome| match &target {
                    Target::Own(kind) => EventKind::CredentialFailed {
                        login_id: fresh.login_id.clone(),
                        credential: *kind,
                        channel,
                        outcome,
                        right_password,
                    },
                    Target::Address(a) => EventKind::AddressCredentialFailed {
                        login_id: fresh.login_id.clone(),
                        address: a.clone(),
                        channel,
                        outcome,
                        right_password,
                    },
                };
                let refused = match (&verified, state) {
                    (Verified::No, _) => Some(policy.lockout.on_failure(&cred.lockout, now).1),
                    // A right password during a lock is refused and not counted either.
                    (_, CredentialState::TemporarilyStopped { until }) => {
                        Some(FailureOutcome::RefusedWhileLocked { until })
                    }
                    (_, CredentialState::Stopped { since }) => {
                        Some(FailureOutcome::RefusedWhilePermanentlyLocked { since })
                    }
                    _ => None,
                };
                if let Some(outcome) = refused {
                    changes.push(Change::event(None, failed(outcome)));
                    // "Locked" only to whoever knows the password (issue 12, finding 7): a wrong
                    // one gets the answer an unknown ID gets, at the same cost, even while (or
                    // because) it locks — so a lock never tells a guesser that the ID exists.
                    let answer = match verified {
                        Verified::No => Error::InvalidUserCredentials,
                        Verified::Yes { .. } => outcome_error(outcome),
                    };
                    return Ok((changes, Step::Done(Err(answer))));
                }
                let rehash = match verified {
                    Verified::Yes { needs_rehash: true } => Some(hasher.hash(password)?),
                    _ => None,
                };
                let ev = match &target {
                    Target::Own(kind) => EventKind::CredentialVerified {
                        login_id: fresh.login_id.clone(),
                        credential: *kind,
                        channel,
                        rehash,
                    },
                    Target::Address(a) => EventKind::AddressCredentialVerified {
                        login_id: fresh.login_id.clone(),
                        address: a.clone(),
                        channel,
                        rehash,
                    },
                };
                changes.push(Change::event(Some(&format!("user:{}", fresh.login_id)), ev));
                let second_factor = match (&code, fresh.mfa && sign_in) {
                    (Some((secret, ev)), true) => {
                        changes.push(Change::event(None, ev.clone()));
                        changes.push(secret.order(MailKind::SignInCode, None));
                        Some(secret.clone())
                    }
                    _ => None,
                };
                // Seed 002's ログイン通知メール, once the sign-in is complete (with 2FA on, after
                // the code: `verify_code`); a password checked again for a change is no sign-in.
                if sign_in && channel == Channel::Web && second_factor.is_none() && signs_in {
                    let to = match &target {
                        Target::Address(a) => vec![a.clone()],
                        Target::Own(_) => notice_addresses(&fresh, &r.addresses(&fresh.login_id)?),
                    };
                    changes.extend(sign_in_notices(&fresh.login_id, to));
                }
                Ok((
                    changes,
                    Step::Done(Ok(Verification {
                        login_id: fresh.login_id.clone(),
                        credential: kind,
                        must_change: cred.must_change,
                        expired: cred.expired_since(now).is_some(),
                        second_factor,
                    })),
                ))
            })?;
            match step {
                Step::Done(r) => return r,
                Step::Retry => continue,
            }
        }
    }

    /// What an attempt from `ip` is recorded as coming from.
    pub(crate) fn origin_for(&self, ip: Option<std::net::IpAddr>) -> String {
        match ip {
            Some(ip) => format!("{} ip={ip}", self.origin),
            None => self.origin.clone(),
        }
    }

    /// Whether an attempt on `attempted` from `ip` may be checked at all — the same gate for a
    /// password and a one-time code: an unknown ID, a suspended user and an address the
    /// customer's IP access rules refuse for the channel's service are turned away before any
    /// secret is looked at. The user's addresses are read in the same view when `wants` says so.
    pub(crate) fn gate(
        &self,
        attempted: &str,
        channel: Channel,
        ip: Option<std::net::IpAddr>,
        wants: impl Fn(&User) -> bool,
    ) -> Result<Gate, Error> {
        let snapshot = self.read(|r| match r.user(attempted)? {
            Some(u) => {
                let t = r.tenant(&u.contract_no)?.ok_or(Error::UnknownTenant)?;
                let list = if wants(&u) {
                    r.addresses(&u.login_id)?
                } else {
                    Vec::new()
                };
                Ok(Some((u, t, list)))
            }
            None => Ok(None),
        })?;
        let Some((u, tenant, list)) = snapshot else {
            return Ok(Gate::Refused(
                attempted.to_owned(),
                RefusalReason::UnknownUser,
            ));
        };
        if u.status != UserStatus::Active {
            return Ok(Gate::Refused(u.login_id, RefusalReason::Suspended));
        }
        if let Some(ip) = ip {
            // The customer's IP access rules for the service this channel uses, before any
            // secret is checked: a refused address can neither guess nor lock.
            let service = channel.service(u.role, &tenant.services);
            if self.address_decision(&tenant, service, ip)?.action == IpAction::Deny {
                return Ok(Gate::Refused(u.login_id, RefusalReason::AddressDenied));
            }
        }
        Ok(Gate::Open(Box::new((u, tenant, list))))
    }

    /// Records an attempt refused before any secret was checked.
    pub(crate) fn record_refusal(
        &self,
        now: Millis,
        origin: &str,
        attempted_id: &str,
        kind: CredentialKind,
        channel: Channel,
        reason: RefusalReason,
    ) -> Result<(), Error> {
        self.transact_from(now, origin, |r| {
            let mut changes = Vec::new();
            let is_id =
                reason != RefusalReason::UnknownUser || LoginId::parse(attempted_id).is_ok();
            let ev = EventKind::CredentialRefused {
                attempted_id: typed_id(r, attempted_id, is_id, &mut changes)?,
                credential: kind,
                channel,
                reason,
            };
            changes.push(Change::event(None, ev));
            Ok((changes, ()))
        })
    }
}

/// The error a refused attempt gets.
pub(crate) fn outcome_error(outcome: FailureOutcome) -> Error {
    match outcome {
        FailureOutcome::Counted { .. } => Error::InvalidUserCredentials,
        FailureOutcome::LockedNow { until } | FailureOutcome::RefusedWhileLocked { until } => {
            Error::CredentialLocked { until: Some(until) }
        }
        FailureOutcome::LockedPermanently { .. }
        | FailureOutcome::RefusedWhilePermanentlyLocked { .. } => {
            Error::CredentialLocked { until: None }
        }
    }
}
