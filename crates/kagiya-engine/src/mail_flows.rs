//! What the customers' users do through their mailbox: ask for a password reset and use its link
//! (seed 000: パスワード変更案内メール), have a sign-in code sent again (seeds 002/003), confirm an
//! address change through the link mailed to the old address (seed 002), and the mailer's own
//! step of making the link an event's mail carries. The mails themselves are queued with the
//! events (`Change::Mail`, `kagiya_core::mail::owed`); the central server delivers them.

use kagiya_core::directory::addresses::{find, otp_address, Purpose};
use kagiya_core::directory::one_time::DEFAULT_RESET_MINUTES;
use kagiya_core::directory::{Address, CredentialKind, CredentialState, OneTimePurpose, User};
use kagiya_core::directory::{Tenant, UserStatus};
use kagiya_core::event::{EventKind, PasswordSetReason};
use kagiya_core::mail::MailKind;
use kagiya_core::secret::Secret;
use kagiya_core::{Error, Lang, Millis, MINUTE};

use crate::one_time::{still_pending, OneTimeSecret};
use crate::passwords::{hash_checked, password_set, How};
use crate::port::{Change, MailOrder};
use crate::Engine;

/// The setting that holds how many minutes a reset link is valid.
pub const RESET_MINUTES_SETTING: &str = "reset_link_minutes";

/// A reset link is not made again for the same address within this time of the last (*ours*,
/// docs/mail.md: a stranger who knows an ID and its address cannot flood the mailbox or keep
/// voiding the link the user is about to use; a person who asks twice gets the first mail).
pub const RESET_COOLDOWN: Millis = 60_000;

/// What a reset request did. The requester is told the same whatever it is (no enumeration);
/// the value is for the server's log and the tests.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ResetAsked {
    /// The link was queued to the address.
    Mailed,
    /// The account is locked or suspended: the address is told that reset is not available.
    Locked,
    /// No user with that ID has that address: nothing was sent.
    NoMatch,
}

/// The addresses a reset may be asked for (seed 000: the 送信利用者 or 受信転送先 address
/// registered for the user; seed 003: the パスワード再設定用URL通知メールアドレス): any address
/// registered for the user except one kept only for one-time passwords.
fn reset_address<'a>(list: &'a [Address], address: &str) -> Option<&'a Address> {
    find(list, address).filter(|a| {
        a.purposes.is_empty()
            || a.purposes.iter().any(|p| {
                matches!(
                    p,
                    Purpose::Reset | Purpose::Forwarding | Purpose::Notifications
                )
            })
    })
}

/// Locked (temporarily or for good) or suspended: no reset (seed 000: 「この状態ではパスワードの
/// リセット機能は利用できません」).
fn reset_barred(user: &User, tenant: &Tenant, now: Millis) -> bool {
    if user.status == UserStatus::Suspended {
        return true;
    }
    let policy = tenant.policy(CredentialKind::Login);
    matches!(
        user.login
            .state(&policy.lockout, policy.password.warn_days, now),
        CredentialState::TemporarilyStopped { .. } | CredentialState::Stopped { .. }
    )
}

impl Engine {
    /// How long a reset link is valid (setting `reset_link_minutes`, 5–1440; default 30).
    pub fn reset_link_minutes(&self) -> Millis {
        self.read(|r| r.setting(RESET_MINUTES_SETTING))
            .ok()
            .flatten()
            .and_then(|v| v.parse().ok())
            .filter(|m| (5..=1440).contains(m))
            .unwrap_or(DEFAULT_RESET_MINUTES)
    }

    /// Seed 000's reset request: the login ID and a registered address. When they match, the
    /// link goes to that address (or, while the account is locked, the notice that reset is not
    /// available); otherwise nothing happens. Every outcome costs one argon2id hash.
    pub fn request_password_reset(
        &self,
        login_id: &str,
        address: &str,
        ip: Option<std::net::IpAddr>,
        lang: Option<Lang>,
    ) -> Result<ResetAsked, Error> {
        let now = self.now();
        let origin = self.origin_for(ip);
        let typed = login_id.trim();
        let found = self.read(|r| {
            let Some(u) = r.user(typed)? else {
                return Ok(None);
            };
            let t = r.tenant(&u.contract_no)?.ok_or(Error::UnknownTenant)?;
            let list = r.addresses(&u.login_id)?;
            Ok(reset_address(&list, address).map(|a| {
                let recent = a
                    .pending(OneTimePurpose::PasswordReset, now)
                    .is_some_and(|o| now - o.issued_at < RESET_COOLDOWN);
                (u, t, a.address.clone(), recent)
            }))
        })?;
        let Some((user, tenant, to, recent)) = found else {
            self.hasher.waste_time(&Secret::new(address));
            return Ok(ResetAsked::NoMatch);
        };
        if reset_barred(&user, &tenant, now) {
            self.hasher.waste_time(&Secret::new(address));
            let order = Change::Mail(MailOrder {
                kind: MailKind::ResetWhileLocked,
                login_id: user.login_id.clone(),
                to,
                lang,
                secret: None,
                expires_at: None,
                detail: None,
            });
            self.commit_from(now, &origin, vec![order])?;
            return Ok(ResetAsked::Locked);
        }
        if recent {
            self.hasher.waste_time(&Secret::new(address));
            return Ok(ResetAsked::Mailed);
        }
        let lifetime = self.reset_link_minutes() * MINUTE;
        let purpose = OneTimePurpose::PasswordReset;
        let (secret, ev) =
            self.prepare_one_time_with(&user.login_id, &to, purpose, now, lifetime, 0)?;
        self.commit_from(
            now,
            &origin,
            vec![
                Change::event(None, ev),
                secret.order(MailKind::PasswordReset, lang),
            ],
        )?;
        Ok(ResetAsked::Mailed)
    }

    /// Sets a new login password through the reset link mailed to `address` (seed 000: saving
    /// it signs the user in and the old password no longer works). A wrong or used link is
    /// `auth.one_time_refused`; a password the policy refuses changes nothing and leaves the link
    /// usable; a locked account is refused (`auth.reset_unavailable`).
    pub fn reset_password(
        &self,
        login_id: &str,
        address: &str,
        token: &Secret,
        new_password: &Secret,
    ) -> Result<(), Error> {
        let (user, tenant) = self
            .user_and_tenant(login_id)
            .map_err(|_| Error::OneTimeRefused)?;
        let now = self.now();
        let purpose = OneTimePurpose::PasswordReset;
        let list = self.read(|r| r.addresses(&user.login_id))?;
        let Some(checked) = self.check_one_time(&list, address, purpose, token, now)? else {
            return Err(Error::OneTimeRefused);
        };
        let mut then = Vec::new();
        if checked.right {
            if reset_barred(&user, &tenant, now) {
                return Err(Error::ResetUnavailable);
            }
            let kind = CredentialKind::Login;
            let hash = hash_checked(
                &self.hasher,
                &user,
                &tenant,
                kind,
                new_password,
                None,
                false,
            )?;
            let how = How {
                reason: PasswordSetReason::MailReset,
                must_change: false,
                temporary: false,
            };
            then.push(password_set(&user, &tenant, kind, hash, how, now));
        }
        self.settle_one_time(&user, purpose, &checked, now, then)
    }

    /// Sends the sign-in code again (a new code to the same address; the old one stops working).
    /// The tries already spent are carried over: a resend never gives more tries.
    pub fn resend_sign_in_code(&self, login_id: &str, lang: Option<Lang>) -> Result<(), Error> {
        let user = self.user(login_id).map_err(|_| Error::OneTimeRefused)?;
        let now = self.now();
        let purpose = OneTimePurpose::SignIn;
        let list = self.read(|r| r.addresses(&user.login_id))?;
        let (address, pending) = otp_address(&list)
            .and_then(|a| {
                a.pending(purpose, now)
                    .map(|o| (a.address.clone(), o.clone()))
            })
            .ok_or(Error::OneTimeRefused)?;
        let (secret, ev) = self.prepare_one_time_with(
            &user.login_id,
            &address,
            purpose,
            now,
            purpose.lifetime_ms(),
            pending.attempts,
        )?;
        let order = secret.order(MailKind::SignInCode, lang);
        self.transact(now, |r| {
            // Decided against the code still pending: a try spent meanwhile is carried too.
            if !still_pending(r, &user.login_id, &address, purpose, &pending.hash, now)? {
                return Ok((Vec::new(), Err(Error::OneTimeRefused)));
            }
            let spent = r
                .addresses(&user.login_id)?
                .iter()
                .find(|a| a.address == address)
                .and_then(|a| a.pending(purpose, now))
                .map_or(pending.attempts, |o| o.attempts);
            let mut ev = ev.clone();
            if let EventKind::OneTimeIssued {
                carried_attempts, ..
            } = &mut ev
            {
                *carried_attempts = spent;
            }
            Ok((vec![Change::event(None, ev), order.clone()], Ok(())))
        })?
    }

    /// The mailer's step for a mail an event queued without its link (`AddressSetup` after
    /// `AddressAdded`, `AddressChange` after `AddressChangeRequested`): a fresh link, recorded
    /// as issued, handed back for that mail only. A new link voids the one before.
    pub fn issue_mail_link(
        &self,
        kind: MailKind,
        login_id: &str,
        address: &str,
    ) -> Result<OneTimeSecret, Error> {
        match kind {
            MailKind::AddressSetup => self.issue_address_setup(login_id, address),
            MailKind::AddressChange => {
                let user = self.user(login_id)?;
                let list = self.read(|r| r.addresses(&user.login_id))?;
                let target = find(&list, address).ok_or(Error::AddressRule("unknown"))?;
                if target.pending_change.is_none() {
                    return Err(Error::AddressRule("no_pending_change"));
                }
                let now = self.now();
                let (secret, ev) = self.prepare_one_time(
                    &user.login_id,
                    &target.address,
                    OneTimePurpose::AddressChange,
                    now,
                )?;
                self.record_all(None, now, vec![ev])?;
                Ok(secret)
            }
            other => Err(Error::Internal(format!(
                "the {} mail has no link to issue",
                other.code()
            ))),
        }
    }

    /// Whether `token` is the link still waiting for `purpose` at `login_id`'s `address`: the page
    /// a link opens asks before it shows its form, so that a used or expired link shows nothing
    /// of its user. Nothing is used or counted; the argon2id cost is spent either way.
    pub fn link_live(
        &self,
        login_id: &str,
        address: &str,
        purpose: OneTimePurpose,
        token: &Secret,
    ) -> Result<bool, Error> {
        let Ok(user) = self.user(login_id) else {
            self.hasher.waste_time(token);
            return Ok(false);
        };
        let list = self.read(|r| r.addresses(&user.login_id))?;
        let checked = self.check_one_time(&list, address, purpose, token, self.now())?;
        Ok(checked.is_some_and(|c| c.right))
    }

    /// Whether a link for `purpose` still waits at `login_id`'s `address` (unused, in time, tries
    /// left) — the cheap check behind the password rules a link's page ticks as they are typed.
    pub fn link_pending(
        &self,
        login_id: &str,
        address: &str,
        purpose: OneTimePurpose,
    ) -> Result<bool, Error> {
        let list = self.read(|r| r.addresses(login_id))?;
        let now = self.now();
        Ok(find(&list, address).is_some_and(|a| a.pending(purpose, now).is_some()))
    }

    /// Confirms an address change through the link mailed to the old address (seed 002: the
    /// change takes effect only then).
    pub fn confirm_address_change_by_link(
        &self,
        login_id: &str,
        address: &str,
        token: &Secret,
    ) -> Result<(), Error> {
        let user = self.user(login_id).map_err(|_| Error::OneTimeRefused)?;
        let now = self.now();
        let purpose = OneTimePurpose::AddressChange;
        let list = self.read(|r| r.addresses(&user.login_id))?;
        let Some(checked) = self.check_one_time(&list, address, purpose, token, now)? else {
            return Err(Error::OneTimeRefused);
        };
        let pending = find(&list, &checked.address)
            .and_then(|a| a.pending_change.clone())
            .ok_or(Error::OneTimeRefused)?;
        let then = vec![EventKind::AddressChangeConfirmed {
            login_id: user.login_id.clone(),
            address: checked.address.clone(),
            new_address: pending.new_address,
        }];
        self.settle_one_time(&user, purpose, &checked, now, then)
    }

    /// The server's record that a mail did not reach `address` (held, refused, given up): kept
    /// in the customer's chain, so that the branch sees it after sync.
    pub fn record_mail_undelivered(
        &self,
        login_id: &str,
        address: &str,
        mail: MailKind,
        reason: kagiya_core::mail::Undelivered,
    ) -> Result<(), Error> {
        let user = self.user(login_id)?;
        let ev = EventKind::MailUndelivered {
            login_id: user.login_id,
            address: address.to_owned(),
            mail,
            reason,
        };
        self.record_all(None, self.now(), vec![ev])
    }
}
