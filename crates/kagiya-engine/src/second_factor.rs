//! The second factor (seed 002: 多要素認証（ワンタイムパスワード）, 「利用する」/「利用しない」; seed 003:
//! the one-time-password address is registered first). Turning it on sends a code to the chosen
//! address and takes effect only when the code comes back; with it on, a right login password
//! only earns a code to that address, and the sign-in ends when the code is entered in time.
//! Only an enrolled second factor relaxes a policy's minimum (see `PolicyContext::mfa`).

use kagiya_core::directory::addresses::otp_address;
use kagiya_core::directory::{Channel, CredentialKind, CredentialState, OneTimePurpose};
use kagiya_core::event::{EventKind, RefusalReason};
use kagiya_core::mail::{notice_addresses, MailKind};
use kagiya_core::secret::Secret;
use kagiya_core::Error;

use crate::addresses::find;
use crate::one_time::{outcome_event, still_pending, OneTimeSecret};
use crate::port::Change;
use crate::verify::Gate;
use crate::{user_and_tenant, ActorRef, Engine, Verification};

impl Engine {
    /// Starts turning 2FA on for `login_id` with `address` (one of the user's addresses) as
    /// where the one-time passwords go: a code is sent there. By the user themself or whoever
    /// may manage them, confirmed by the actor's own confirmation password.
    pub fn start_mfa_enrollment(
        &self,
        who: &ActorRef,
        confirmation: &Secret,
        login_id: &str,
        address: &str,
    ) -> Result<OneTimeSecret, Error> {
        let (acting, user, list) =
            self.confirm_for_addresses(who, confirmation, login_id, "mfa_enroll")?;
        if user.mfa {
            return Err(Error::MfaRule("already_on"));
        }
        let target = find(&list, address)?;
        let now = self.now();
        let (secret, ev) = self.prepare_one_time(
            &user.login_id,
            &target.address,
            OneTimePurpose::Enrollment,
            now,
        )?;
        let order = secret.order(MailKind::EnrollmentCode, None);
        self.commit(
            now,
            vec![Change::event(Some(&acting.audit_name()), ev), order],
        )?;
        Ok(secret)
    }

    /// Finishes turning 2FA on: `code` is the one sent to `address`. A wrong code spends one of
    /// its tries; nothing is turned on until a right one comes back in time.
    pub fn confirm_mfa_enrollment(
        &self,
        login_id: &str,
        address: &str,
        code: &Secret,
    ) -> Result<(), Error> {
        let user = self.user(login_id).map_err(|_| Error::OneTimeRefused)?;
        let now = self.now();
        let purpose = OneTimePurpose::Enrollment;
        let list = self.read(|r| r.addresses(&user.login_id))?;
        let Some(checked) = self.check_one_time(&list, address, purpose, code, now)? else {
            return Err(Error::OneTimeRefused);
        };
        let on = EventKind::MfaEnrolled {
            login_id: user.login_id.clone(),
            address: checked.address.clone(),
        };
        self.settle_one_time(&user, purpose, &checked, now, vec![on])
    }

    /// Turns 2FA off. Where the preset allows a shorter login password only with 2FA (Biz Mail,
    /// NIST), the login password must then be changed at the next login: it may be one the
    /// policy without 2FA refuses. Returns whether that was ordered.
    pub fn disable_mfa(
        &self,
        who: &ActorRef,
        confirmation: &Secret,
        login_id: &str,
    ) -> Result<bool, Error> {
        let (acting, user, _) =
            self.confirm_for_addresses(who, confirmation, login_id, "mfa_disable")?;
        if !user.mfa {
            return Err(Error::MfaRule("already_off"));
        }
        let tenant = self.tenant(&user.contract_no)?;
        let policy = &tenant.policy(CredentialKind::Login).password;
        let force_change = policy.min_len_with_mfa.is_some_and(|m| m < policy.min_len)
            || policy.composition_without_mfa_only;
        let ev = EventKind::MfaDisabled {
            login_id: user.login_id,
            force_change,
        };
        self.record_all(Some(&acting.audit_name()), self.now(), vec![ev])?;
        Ok(force_change)
    }

    /// The second step of a sign-in with 2FA on: the code sent after the right login password.
    /// A wrong code spends one of its tries and counts towards the login password's lock, like
    /// a wrong password (so that guessing codes is bounded by the same lock); everything that
    /// is not a right code gets the same `auth.one_time_refused`.
    pub fn verify_code(
        &self,
        login_id: &str,
        code: &Secret,
        channel: Channel,
        ip: Option<std::net::IpAddr>,
    ) -> Result<Verification, Error> {
        let now = self.now();
        let origin = self.origin_for(ip);
        let attempted: String = login_id.trim().chars().take(64).collect();
        let refuse = |id: &str, reason: RefusalReason| -> Result<Verification, Error> {
            self.hasher.waste_time(code);
            self.record_refusal(now, &origin, id, CredentialKind::Login, channel, reason)?;
            Err(Error::OneTimeRefused)
        };
        let (user, list) = match self.gate(&attempted, channel, ip, |_| true)? {
            Gate::Open(open) => {
                let (u, _, list) = *open;
                (u, list)
            }
            Gate::Refused(id, reason) => return refuse(&id, reason),
        };
        let Some(address) = otp_address(&list).map(|a| a.address.clone()) else {
            return refuse(&user.login_id, RefusalReason::NoCodePending);
        };
        let purpose = OneTimePurpose::SignIn;
        let Some(checked) = self.check_one_time(&list, &address, purpose, code, now)? else {
            return self
                .record_refusal(
                    now,
                    &origin,
                    &user.login_id,
                    CredentialKind::Login,
                    channel,
                    RefusalReason::NoCodePending,
                )
                .and(Err(Error::OneTimeRefused));
        };
        self.transact_from(now, &origin, |r| {
            if !still_pending(r, &user.login_id, &address, purpose, &checked.hash, now)? {
                return Ok((Vec::new(), Err(Error::OneTimeRefused)));
            }
            let (fresh, tenant) = user_and_tenant(r, &user.login_id)?;
            let mut changes = vec![Change::event(
                None,
                outcome_event(&fresh, &address, purpose, checked.right),
            )];
            let policy = tenant.policy(CredentialKind::Login);
            let cred = &fresh.login;
            if !checked.right {
                let (_, outcome) = policy.lockout.on_failure(&cred.lockout, now);
                changes.push(Change::event(
                    None,
                    EventKind::CredentialFailed {
                        login_id: fresh.login_id.clone(),
                        credential: CredentialKind::Login,
                        channel,
                        outcome,
                        right_password: false,
                    },
                ));
                // One answer for every wrong code, locking or not (finding 7).
                return Ok((changes, Err(Error::OneTimeRefused)));
            }
            match cred.state(&policy.lockout, policy.password.warn_days, now) {
                CredentialState::TemporarilyStopped { until } => {
                    return Ok((changes, Err(Error::CredentialLocked { until: Some(until) })));
                }
                CredentialState::Stopped { .. } => {
                    return Ok((changes, Err(Error::CredentialLocked { until: None })));
                }
                _ => {}
            }
            if channel == Channel::Web {
                let to = notice_addresses(&fresh, &r.addresses(&fresh.login_id)?);
                changes.extend(crate::verify::sign_in_notices(&fresh.login_id, to));
            }
            Ok((
                changes,
                Ok(Verification {
                    login_id: fresh.login_id.clone(),
                    credential: CredentialKind::Login,
                    must_change: cred.must_change,
                    expired: cred.expired_since(now).is_some(),
                    second_factor: None,
                }),
            ))
        })?
    }
}
