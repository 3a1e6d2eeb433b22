//! What the console hands to a user interface: plain, serializable, already in the UI language,
//! and never holding a secret or a hash.

use kagiya_core::event::{EventBody, StoredEvent};
use kagiya_core::password::RuleStatus;
use kagiya_core::session::{SessionOperator, SessionState};
use kagiya_core::{Error, Lang, Millis};
use serde::Serialize;

/// An error as `{code, message}`.
#[cfg_attr(feature = "specta", derive(specta::Type))]
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ErrorView {
    pub code: &'static str,
    /// What kind of refusal it is, so that the window treats each kind alike.
    pub kind: kagiya_core::ErrorKind,
    pub message: String,
}

impl ErrorView {
    pub fn new(e: &Error, lang: Lang) -> Self {
        ErrorView {
            code: e.code(),
            kind: e.kind(),
            message: e.message(lang),
        }
    }
}

/// The colour theme: follow the OS, or fixed.
#[cfg_attr(feature = "specta", derive(specta::Type))]
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Theme {
    #[default]
    System,
    Light,
    Dark,
}

impl Theme {
    pub const ALL: [Theme; 3] = [Theme::System, Theme::Light, Theme::Dark];

    /// The stored setting's value.
    pub fn code(self) -> &'static str {
        match self {
            Theme::System => "system",
            Theme::Light => "light",
            Theme::Dark => "dark",
        }
    }

    pub fn parse(s: &str) -> Option<Theme> {
        Theme::ALL.into_iter().find(|t| t.code() == s)
    }
}

/// The session as the UI sees it.
#[cfg_attr(feature = "specta", derive(specta::Type))]
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct SessionView {
    /// "signed_out", "active" or "locked".
    pub state: &'static str,
    pub operator: Option<SessionOperator>,
}

impl From<&SessionState> for SessionView {
    fn from(s: &SessionState) -> Self {
        match s {
            SessionState::SignedOut => SessionView {
                state: "signed_out",
                operator: None,
            },
            SessionState::Active { operator, .. } => SessionView {
                state: "active",
                operator: Some(operator.clone()),
            },
            SessionState::Locked { operator, .. } => SessionView {
                state: "locked",
                operator: Some(operator.clone()),
            },
        }
    }
}

/// Everything the UI needs to choose a screen.
#[cfg_attr(feature = "specta", derive(specta::Type))]
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Status {
    /// No operator exists yet: show the first-run screen.
    pub needs_setup: bool,
    pub lang: Lang,
    pub session: SessionView,
    /// The idle-lock setting in minutes.
    pub idle_lock_minutes: u32,
    /// The idle time actually in force, in seconds (differs when started with an override).
    pub idle_lock_seconds: i64,
    pub theme: Theme,
    /// The operator password rules with nothing typed, for the first-run checklist.
    pub operator_password_rules: Vec<RuleStatus>,
    /// The signed-in operator's login password was reset or has expired: nothing can be
    /// confirmed until it is changed (Settings → change my passwords).
    pub password_change_due: bool,
    /// The database was filled with demo data (for good): shown on every screen.
    pub demo: bool,
}

/// One audit entry for a list.
#[cfg_attr(feature = "specta", derive(specta::Type))]
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct EventView {
    pub seq: i64,
    pub at: Millis,
    pub actor: Option<String>,
    pub kind: String,
    /// Where it was done (`desktop`, `cli`, `… ip=`), when recorded.
    pub origin: Option<String>,
    pub summary: String,
}

impl EventView {
    pub fn new(e: &StoredEvent, lang: Lang) -> Self {
        let body = serde_json::from_str::<EventBody>(&e.body).ok();
        EventView {
            seq: e.seq,
            at: e.at,
            actor: e.actor.clone(),
            kind: e.kind.clone(),
            origin: body.as_ref().and_then(|b| b.origin.clone()),
            summary: body
                .map(|b| b.kind.summary(lang))
                .unwrap_or_else(|| e.kind.clone()),
        }
    }
}
