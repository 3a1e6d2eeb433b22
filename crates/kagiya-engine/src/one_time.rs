//! Issuing and checking one-time secrets (core `directory::one_time`): the secret is made and
//! hashed before the write lock, its hash recorded in an event, and the secret handed back to the
//! caller for the mail — the only place it ever goes. A check hashes outside the lock too, and is
//! decided inside the transaction against the secret still pending, so two tries at once cannot
//! both use it.

use kagiya_core::directory::addresses::find;
use kagiya_core::directory::one_time::normalise_code;
use kagiya_core::directory::{Address, OneTimePurpose, User};
use kagiya_core::event::EventKind;
use kagiya_core::mail::MailKind;
use kagiya_core::password::Verified;
use kagiya_core::secret::Secret;
use kagiya_core::{Error, Lang, Millis};

use crate::port::{Change, MailOrder, Reads};
use crate::Engine;

/// A one-time secret for the mail to `address`. `Debug` hides the secret.
#[derive(Debug, Clone)]
pub struct OneTimeSecret {
    pub login_id: String,
    pub address: String,
    pub purpose: OneTimePurpose,
    pub secret: Secret,
    pub expires_at: Millis,
}

impl OneTimeSecret {
    /// The mail that carries it, queued with its event.
    pub(crate) fn order(&self, kind: MailKind, lang: Option<Lang>) -> Change {
        Change::Mail(MailOrder {
            kind,
            login_id: self.login_id.clone(),
            to: self.address.clone(),
            lang,
            secret: Some(self.secret.clone()),
            expires_at: Some(self.expires_at),
            detail: None,
        })
    }
}

/// A typed secret checked against the one pending, outside the lock.
pub(crate) struct Checked {
    /// The address as stored.
    pub address: String,
    /// The hash it was checked against (the decision re-reads and compares).
    pub hash: String,
    pub right: bool,
}

impl Engine {
    /// A fresh secret for `purpose` to `address` of `login_id`, and the event recording its hash.
    pub(crate) fn prepare_one_time(
        &self,
        login_id: &str,
        address: &str,
        purpose: OneTimePurpose,
        now: Millis,
    ) -> Result<(OneTimeSecret, EventKind), Error> {
        self.prepare_one_time_with(login_id, address, purpose, now, purpose.lifetime_ms(), 0)
    }

    /// As `prepare_one_time`, valid for `lifetime` and starting with `carried` tries spent.
    pub(crate) fn prepare_one_time_with(
        &self,
        login_id: &str,
        address: &str,
        purpose: OneTimePurpose,
        now: Millis,
        lifetime: Millis,
        carried: u32,
    ) -> Result<(OneTimeSecret, EventKind), Error> {
        let secret = purpose.generate();
        let hash = self.hasher.hash(&secret)?;
        let expires_at = now + lifetime;
        let ev = EventKind::OneTimeIssued {
            login_id: login_id.to_owned(),
            address: address.to_owned(),
            purpose,
            hash,
            expires_at,
            carried_attempts: carried,
        };
        Ok((
            OneTimeSecret {
                login_id: login_id.to_owned(),
                address: address.to_owned(),
                purpose,
                secret,
                expires_at,
            },
            ev,
        ))
    }

    /// Checks `typed` against the secret pending for `purpose` at `address` in the user's
    /// addresses `list`. `None` when nothing usable is pending (never sent, used, expired or out
    /// of tries); the argon2 cost is spent either way.
    pub(crate) fn check_one_time(
        &self,
        list: &[Address],
        address: &str,
        purpose: OneTimePurpose,
        typed: &Secret,
        now: Millis,
    ) -> Result<Option<Checked>, Error> {
        let typed = match purpose {
            OneTimePurpose::SignIn | OneTimePurpose::Enrollment => {
                Secret::new(normalise_code(typed.expose()))
            }
            _ => Secret::new(typed.expose().trim()),
        };
        let Some((address, hash)) = find(list, address).and_then(|a| {
            a.pending(purpose, now)
                .map(|o| (a.address.clone(), o.hash.clone()))
        }) else {
            self.hasher.waste_time(&typed);
            return Ok(None);
        };
        let right = matches!(self.hasher.verify(&typed, &hash), Verified::Yes { .. });
        Ok(Some(Checked {
            address,
            hash,
            right,
        }))
    }

    /// Settles a secret the user themself checked: used, followed by `then` (what it unlocks),
    /// or one try spent. Anything but a right secret still pending is `auth.one_time_refused`.
    pub(crate) fn settle_one_time(
        &self,
        user: &User,
        purpose: OneTimePurpose,
        checked: &Checked,
        now: Millis,
        then: Vec<EventKind>,
    ) -> Result<(), Error> {
        let address = &checked.address;
        self.transact(now, |r| {
            if !still_pending(r, &user.login_id, address, purpose, &checked.hash, now)? {
                return Ok((Vec::new(), Err(Error::OneTimeRefused)));
            }
            let actor = format!("user:{}", user.login_id);
            let mut changes = vec![Change::event(
                Some(&actor),
                outcome_event(user, address, purpose, checked.right),
            )];
            if !checked.right {
                return Ok((changes, Err(Error::OneTimeRefused)));
            }
            changes.extend(
                then.iter()
                    .map(|ev| Change::event(Some(&actor), ev.clone())),
            );
            Ok((changes, Ok(())))
        })?
    }
}

/// Inside the decision: whether the secret that was checked is still the one pending and usable.
pub(crate) fn still_pending(
    r: &dyn Reads,
    login_id: &str,
    address: &str,
    purpose: OneTimePurpose,
    hash: &str,
    now: Millis,
) -> Result<bool, Error> {
    let list = r.addresses(login_id)?;
    Ok(find(&list, address)
        .and_then(|a| a.pending(purpose, now))
        .is_some_and(|o| o.hash == hash))
}

/// The events of a checked secret: used, or one try spent.
pub(crate) fn outcome_event(
    user: &User,
    address: &str,
    purpose: OneTimePurpose,
    right: bool,
) -> EventKind {
    let (login_id, address) = (user.login_id.clone(), address.to_owned());
    if right {
        EventKind::OneTimeUsed {
            login_id,
            address,
            purpose,
        }
    } else {
        EventKind::OneTimeFailed {
            login_id,
            address,
            purpose,
        }
    }
}
