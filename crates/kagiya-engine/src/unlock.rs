//! Unlocking one or many users (seed 004 §2.2): the acting person's confirmation password is
//! checked once, then every listed user is handled in one transaction and a per-user result
//! table comes back, like the seed's 利用者停止・解除結果 screen. A user who is not locked, not
//! found or not the actor's to manage is reported in the table and left untouched.

use kagiya_core::directory::{authorize, Action, CredentialKind};
use kagiya_core::event::EventKind;
use kagiya_core::secret::Secret;
use kagiya_core::{Error, Lang};
use serde::Serialize;

use crate::port::Change;
use crate::verify::observe_release;
use crate::{ActorRef, Engine};

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
            for id in login_ids {
                let Some(mut u) = r.user(id)? else {
                    rows.push(UnlockRow {
                        login_id: id.trim().to_owned(),
                        name: String::new(),
                        role: String::new(),
                        before: String::new(),
                        outcome: UnlockOutcome::NotFound,
                    });
                    continue;
                };
                if !seen.insert(u.login_id.to_lowercase()) {
                    // Listed twice: the first row says what happened.
                    continue;
                }
                let t = r.tenant(&u.contract_no)?.ok_or(Error::UnknownTenant)?;
                let locked: Vec<CredentialKind> = t
                    .credentials()
                    .iter()
                    .copied()
                    .filter(|k| u.credential_state(&t, *k, now).is_locked())
                    .collect();
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
                        };
                        changes.push(Change::event(Some(&actor), ev));
                        UnlockOutcome::Unlocked
                    };
                rows.push(UnlockRow {
                    login_id: u.login_id.clone(),
                    name: u.name.clone(),
                    role: u.role.label(lang).to_owned(),
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
