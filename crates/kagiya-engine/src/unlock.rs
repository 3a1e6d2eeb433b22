//! Unlocking one or many users (seed 004 §2.2): the acting person's confirmation password is
//! checked once, then every listed user is handled in one transaction and a per-user result
//! table comes back, like the seed's 利用者停止・解除結果 screen. A user who is not locked, not
//! found or not the actor's to manage is reported in the table and left untouched.

use kagiya_core::directory::{authorize, Action, Address, CredentialKind, Tenant};
use kagiya_core::event::EventKind;
use kagiya_core::secret::Secret;
use kagiya_core::{Error, Lang, Millis};
use serde::Serialize;

use crate::port::Change;
use crate::verify::observe_release;
use crate::{Acting, ActorRef, Engine};
use kagiya_core::directory::ids::fold;

/// What happened to one user.
#[cfg_attr(feature = "specta", derive(specta::Type))]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum UnlockOutcome {
    Unlocked,
    NotLocked,
    NotFound,
    NotPermitted,
}

/// One row of the result table.
#[cfg_attr(feature = "specta", derive(specta::Type))]
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct UnlockRow {
    pub login_id: String,
    pub name: String,
    /// 利用者区分.
    pub role: String,
    /// サービス状態 before the unlock, in seed 004's words.
    pub before: String,
    pub outcome: UnlockOutcome,
    /// Seed 004's ※ under the result table for a user who was not released — 「※ 現在は
    /// ログインパスワード利用停止です。」 for one the actor may not unlock (saburodt, a master, when an
    /// admin unlocks) — and why for a row that changed nothing.
    pub note: Option<String>,
}

/// The ※ note of a result row (none for a user who was released).
fn outcome_note(outcome: UnlockOutcome, before: &str, lang: Lang) -> Option<String> {
    match (outcome, lang) {
        (UnlockOutcome::Unlocked, _) => None,
        (UnlockOutcome::NotPermitted, Lang::Ja) => Some(format!("※ 現在は{before}です。")),
        (UnlockOutcome::NotPermitted, Lang::En) => Some(format!("※ Still: {before}.")),
        (UnlockOutcome::NotLocked, _) => Some(
            lang.pick("※ 利用停止ではありません。", "※ Not locked.")
                .to_owned(),
        ),
        (UnlockOutcome::NotFound, _) => Some(
            lang.pick(
                "※ このログインIDの利用者はいません。",
                "※ No user has this login ID.",
            )
            .to_owned(),
        ),
    }
}

impl Engine {
    /// Unlocks the listed users' login and confirmation passwords. Returns the result table and
    /// the batch ID that groups the events.
    pub fn unlock(
        &self,
        who: &ActorRef,
        confirmation: &Secret,
        login_ids: &[String],
        lang: Lang,
    ) -> Result<(String, Vec<UnlockRow>), Error> {
        if login_ids.is_empty() {
            return Err(Error::InvalidValue("login_ids"));
        }
        let acting = self.confirm(who, confirmation, "unlock")?;
        let now = self.now();
        let batch = format!("U{now}");
        let actor = acting.audit_name();
        let rows = self.transact(now, |r| {
            let mut rows = Vec::with_capacity(login_ids.len());
            let mut changes = Vec::new();
            let mut seen = std::collections::HashSet::new();
            // A customer's own administrator looks only among their company's users: another
            // company's ID is never even read (on the server, reading a user takes their
            // company's lock, which a stranger's list must not be able to hold).
            let own: Option<std::collections::HashMap<String, kagiya_core::directory::User>> =
                match &acting {
                    Acting::User { contract_no, .. } => Some(
                        r.users_of(contract_no)?
                            .into_iter()
                            .map(|u| (fold(&u.login_id), u))
                            .collect(),
                    ),
                    Acting::Operator { .. } => None,
                };
            for id in login_ids {
                let found = match &own {
                    Some(users) => users.get(&fold(id)).cloned(),
                    None => r.user(id)?,
                };
                let Some(mut u) = found.filter(|u| acting.sees(u)) else {
                    rows.push(UnlockRow {
                        login_id: id.trim().to_owned(),
                        name: String::new(),
                        role: String::new(),
                        before: String::new(),
                        outcome: UnlockOutcome::NotFound,
                        note: outcome_note(UnlockOutcome::NotFound, "", lang),
                    });
                    continue;
                };
                if !seen.insert(u.login_id.to_lowercase()) {
                    // Listed twice: the first row says what happened.
                    continue;
                }
                let t = r.tenant(&u.contract_no)?.ok_or(Error::UnknownTenant)?;
                let mut locked: Vec<CredentialKind> = t
                    .credentials()
                    .iter()
                    .copied()
                    .filter(|k| u.credential_state(&t, *k, now).is_locked())
                    .collect();
                if !locked.contains(&CredentialKind::Login)
                    && address_locked(&r.addresses(&u.login_id)?, &t, now)
                {
                    // Seed 002: an added address locked on its own is released with the login.
                    locked.insert(0, CredentialKind::Login);
                }
                let before = state_label(&u, &t, now, lang);
                let outcome =
                    if authorize(acting.actor(), Action::ManageUser { target: &u }).is_err() {
                        UnlockOutcome::NotPermitted
                    } else if locked.is_empty() {
                        for &k in t.credentials() {
                            changes.extend(observe_release(&mut u, &t, now, k)?);
                        }
                        UnlockOutcome::NotLocked
                    } else {
                        let ev = EventKind::UserUnlocked {
                            login_id: u.login_id.clone(),
                            credentials: locked,
                            batch: (login_ids.len() > 1).then(|| batch.clone()),
                            kept_failures: Vec::new(),
                        };
                        changes.push(Change::event(Some(&actor), ev));
                        UnlockOutcome::Unlocked
                    };
                rows.push(UnlockRow {
                    login_id: u.login_id.clone(),
                    name: u.name.clone(),
                    role: u.role.label(lang).to_owned(),
                    note: outcome_note(outcome, &before, lang),
                    before,
                    outcome,
                });
            }
            Ok((changes, rows))
        })?;
        Ok((batch, rows))
    }
}

/// The user's service state in seed 004's words: the locked credentials, or 利用可能.
pub fn state_label(
    u: &kagiya_core::directory::User,
    t: &kagiya_core::directory::Tenant,
    now: kagiya_core::Millis,
    lang: Lang,
) -> String {
    if u.status == kagiya_core::directory::UserStatus::Suspended {
        return lang.pick("利用停止（管理者）", "Suspended").to_owned();
    }
    let parts: Vec<String> = t
        .credentials()
        .iter()
        .map(|&k| (k, u.credential_state(t, k, now)))
        .filter(|(_, s)| s.is_locked())
        .map(|(k, s)| s.label(k, lang))
        .collect();
    if parts.is_empty() {
        lang.pick("利用可能", "Available").to_owned()
    } else {
        parts.join(lang.pick("・", ", "))
    }
}

impl Engine {
    /// Seed 004's 「「」をチェックするとご自身を除くすべてのユーザが選択されます」: the login IDs of the
    /// customer's users that are locked now and that `who` may unlock — never `who` itself, and
    /// for an admin never a master. A read: nothing is confirmed or recorded until the unlock.
    pub fn unlock_candidates(
        &self,
        who: &ActorRef,
        contract_no: &str,
    ) -> Result<Vec<String>, Error> {
        let tenant = self.tenant(contract_no)?;
        let now = self.now();
        let acting = match who {
            ActorRef::Operator(id) => {
                let op = self.read(|r| r.operator(id))?.ok_or(Error::NotSignedIn)?;
                Acting::Operator {
                    id: op.operator_id,
                    role: op.role,
                }
            }
            ActorRef::User(login_id) => {
                let u = self.user(login_id)?;
                Acting::User {
                    login_id: u.login_id,
                    contract_no: u.contract_no,
                    role: u.role,
                }
            }
        };
        let own = match who {
            ActorRef::User(id) => Some(id.to_lowercase()),
            ActorRef::Operator(_) => None,
        };
        Ok(self
            .read(|r| r.users_of(&tenant.contract_no))?
            .into_iter()
            .filter(|u| own.as_deref() != Some(u.login_id.to_lowercase().as_str()))
            .filter(|u| u.is_locked(&tenant, now))
            .filter(|u| authorize(acting.actor(), Action::ManageUser { target: u }).is_ok())
            .map(|u| u.login_id)
            .collect())
    }
}

/// Whether one of the user's added addresses (seed 002) is locked on its own password.
fn address_locked(list: &[Address], t: &Tenant, now: Millis) -> bool {
    let p = t.policy(CredentialKind::Login);
    list.iter()
        .filter_map(|a| a.credential.as_ref())
        .any(|c| c.state(&p.lockout, 0, now).is_locked())
}
