//! The console's own tables — operators, settings, the country table — as the audit log says
//! they must be. The directory has its fold (`directory::Directory`); this one covers what the
//! branch keeps about itself, so that the full check (`kagiya db check`, the window's chain
//! check) also catches a supervisor's password hash swapped, a role raised, a disabled operator
//! enabled, a setting or the country table changed behind the log's back (issue 12, finding 2).
//!
//! Password hashes are not in these events (issue 12, finding 4); a SHA-256 digest of each stored
//! PHC string is. It says whether the stored hash is the one the log recorded, and cannot be
//! turned back into a hash or tested against a guessed password (the salt is not in it).
//! Sign-in counters and lock times are not folded: changing them only frees or locks an
//! operator, which whoever holds the key can do through the console anyway.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::event::EventKind;
use crate::operator::Role;

/// Settings kept without an audit entry: the key of the typed-ID hashes is a secret and must not
/// enter the log (`typed_id`).
pub const UNLOGGED_SETTINGS: &[&str] = &[crate::typed_id::KEY_SETTING, SYNC_KEY_GENERATION];

/// The last sync key generation taken (a counter that makes each enrolment attempt's device key
/// new; the enrolment itself is logged as `sync_enrolled`).
pub const SYNC_KEY_GENERATION: &str = "sync.key_generation";

/// Digests of an operator's stored password hashes, recorded whenever they are set.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CredentialDigests {
    pub login: String,
    /// Absent when only the login password changed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub confirmation: Option<String>,
}

impl CredentialDigests {
    pub fn of(login_phc: &str, confirm_phc: Option<&str>) -> Self {
        CredentialDigests {
            login: digest(login_phc),
            confirmation: confirm_phc.map(digest),
        }
    }
}

/// The digest of one stored PHC string.
pub fn digest(phc: &str) -> String {
    let mut h = Sha256::new();
    h.update(b"kagiya-operator-credential\0");
    h.update(phc.as_bytes());
    hex::encode(h.finalize())
}

/// What the log says about one operator.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OperatorFacts {
    pub name: String,
    pub role: Role,
    pub disabled: bool,
    pub must_change: bool,
    /// `None` where the log predates digests (written before this check existed).
    pub login: Option<String>,
    pub confirmation: Option<String>,
}

/// The console's own state, folded from the log or read from the tables.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct BranchFacts {
    /// By operator ID in lower case (IDs compare without regard to case).
    pub operators: BTreeMap<String, OperatorFacts>,
    pub settings: BTreeMap<String, String>,
    /// The SHA-256 of the imported country table's text.
    pub country_table: Option<String>,
}

impl BranchFacts {
    /// Applies one entry of the log, in order.
    pub fn apply(&mut self, kind: &EventKind) {
        use EventKind as E;
        match kind {
            E::OperatorCreated {
                operator_id,
                name,
                role,
                credentials,
            } => {
                let d = credentials.as_ref();
                self.operators.insert(
                    operator_id.to_lowercase(),
                    OperatorFacts {
                        name: name.clone(),
                        role: *role,
                        disabled: false,
                        must_change: false,
                        login: d.map(|d| d.login.clone()),
                        confirmation: d.and_then(|d| d.confirmation.clone()),
                    },
                );
            }
            E::OperatorDisabled { operator_id } => self.with(operator_id, |o| o.disabled = true),
            E::OperatorEnabled { operator_id } => self.with(operator_id, |o| o.disabled = false),
            E::OperatorRoleChanged { operator_id, role } => {
                self.with(operator_id, |o| o.role = *role)
            }
            E::OperatorPasswordRehashed {
                operator_id,
                credentials,
            } => self.with(operator_id, |o| o.set_digests(credentials.as_ref())),
            E::OperatorPasswordsReset {
                operator_id,
                credentials,
            } => self.with(operator_id, |o| {
                o.must_change = true;
                o.set_digests(credentials.as_ref());
            }),
            E::OperatorPasswordChanged {
                operator_id,
                credentials,
                ..
            } => self.with(operator_id, |o| {
                o.must_change = false;
                o.set_digests(credentials.as_ref());
            }),
            E::SettingChanged { key, value } => {
                self.settings.insert(key.clone(), value.clone());
            }
            E::CountryTableImported { sha256, .. } => self.country_table = Some(sha256.clone()),
            _ => {}
        }
    }

    fn with(&mut self, operator_id: &str, f: impl FnOnce(&mut OperatorFacts)) {
        if let Some(o) = self.operators.get_mut(&operator_id.to_lowercase()) {
            f(o);
        }
    }

    /// The parts where `tables` differ from this fold: `operators`, `settings`, `country_table`.
    /// A digest the log does not have (an entry older than digests) is not compared.
    pub fn differences(&self, tables: &BranchFacts) -> Vec<&'static str> {
        let mut out = Vec::new();
        let operators_match = self.operators.len() == tables.operators.len()
            && self.operators.iter().all(|(id, f)| {
                tables.operators.get(id).is_some_and(|t| {
                    let mut t = t.clone();
                    if f.login.is_none() {
                        t.login = None;
                    }
                    if f.confirmation.is_none() {
                        t.confirmation = None;
                    }
                    &t == f
                })
            });
        if !operators_match {
            out.push("operators");
        }
        let logged = |s: &BTreeMap<String, String>| -> BTreeMap<String, String> {
            s.iter()
                .filter(|(k, _)| !UNLOGGED_SETTINGS.contains(&k.as_str()))
                .map(|(k, v)| (k.clone(), v.clone()))
                .collect()
        };
        if logged(&self.settings) != logged(&tables.settings) {
            out.push("settings");
        }
        if self.country_table != tables.country_table {
            out.push("country_table");
        }
        out
    }
}

impl OperatorFacts {
    fn set_digests(&mut self, d: Option<&CredentialDigests>) {
        match d {
            Some(d) => {
                self.login = Some(d.login.clone());
                if d.confirmation.is_some() {
                    self.confirmation = d.confirmation.clone();
                }
            }
            // A change the log does not describe: what is stored can no longer be compared.
            None => {
                self.login = None;
                self.confirmation = None;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn created(id: &str, login: &str, confirm: &str) -> EventKind {
        EventKind::OperatorCreated {
            operator_id: id.into(),
            name: "Sato".into(),
            role: Role::Operator,
            credentials: Some(CredentialDigests::of(login, Some(confirm))),
        }
    }

    fn tables(login: &str, confirm: &str, role: Role) -> BranchFacts {
        let mut t = BranchFacts::default();
        t.operators.insert(
            "op01".into(),
            OperatorFacts {
                name: "Sato".into(),
                role,
                disabled: false,
                must_change: false,
                login: Some(digest(login)),
                confirmation: Some(digest(confirm)),
            },
        );
        t
    }

    #[test]
    fn a_swapped_hash_or_a_raised_role_is_a_difference() {
        let mut fold = BranchFacts::default();
        fold.apply(&created("OP01", "$argon2id$a", "$argon2id$b"));
        assert!(fold
            .differences(&tables("$argon2id$a", "$argon2id$b", Role::Operator))
            .is_empty());
        assert_eq!(
            fold.differences(&tables("$argon2id$mine", "$argon2id$b", Role::Operator)),
            ["operators"]
        );
        assert_eq!(
            fold.differences(&tables("$argon2id$a", "$argon2id$b", Role::Supervisor)),
            ["operators"]
        );
    }

    #[test]
    fn a_login_change_keeps_the_confirmation_digest_and_clears_must_change() {
        let mut fold = BranchFacts::default();
        fold.apply(&created("op01", "l1", "c1"));
        fold.apply(&EventKind::OperatorPasswordsReset {
            operator_id: "op01".into(),
            credentials: Some(CredentialDigests::of("l2", Some("c2"))),
        });
        assert!(fold.operators["op01"].must_change);
        fold.apply(&EventKind::OperatorPasswordChanged {
            operator_id: "op01".into(),
            confirmation: false,
            credentials: Some(CredentialDigests::of("l3", None)),
        });
        assert!(fold
            .differences(&tables("l3", "c2", Role::Operator))
            .is_empty());
    }

    #[test]
    fn settings_and_the_country_table_follow_the_log_but_the_secret_key_does_not() {
        let mut fold = BranchFacts::default();
        fold.apply(&EventKind::SettingChanged {
            key: "theme".into(),
            value: "dark".into(),
        });
        let mut t = BranchFacts::default();
        t.settings.insert("theme".into(), "dark".into());
        t.settings
            .insert(crate::typed_id::KEY_SETTING.into(), "secret".into());
        assert!(fold.differences(&t).is_empty());
        t.settings.insert("theme".into(), "light".into());
        t.country_table = Some("abc".into());
        assert_eq!(fold.differences(&t), ["settings", "country_table"]);
    }
}
