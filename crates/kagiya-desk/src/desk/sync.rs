//! Sync as the window shows it (issue 14): the status bar's state, enrolment of the PC by a
//! supervisor (with their confirmation password, recorded in the audit log), "sync now", and the
//! review list of ops the server did not simply apply, each with the reason and what to do next
//! in the operator's language.

use kagiya_core::event::EventKind;
use kagiya_core::{Error, Lang, Millis};
use kagiya_store::sync as local;
use kagiya_sync::Outcome;
use serde::Serialize;

use crate::console::Console;
use crate::sync::Round;

/// The status bar's sync state.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
pub struct SyncView {
    /// `not_enrolled`, `syncing`, `online`, `offline` or `unknown` (enrolled, no round yet).
    pub state: String,
    pub state_label: String,
    pub server_url: Option<String>,
    pub branch: Option<String>,
    pub device_id: Option<String>,
    /// Ops recorded here and not yet decided by the server.
    pub waiting: i64,
    pub to_review: i64,
    pub last_sync_at: Option<Millis>,
    /// Why the last round failed, in the operator's language.
    pub last_error: Option<String>,
    pub last_round: Option<Round>,
    pub pushed: i64,
    pub pulled: i64,
}

/// One op for the review screen.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
pub struct ReviewRow {
    pub device_seq: i64,
    /// What the branch did, as the audit list says it.
    pub what: String,
    pub customer: String,
    pub operator: Option<String>,
    pub acted_at: Millis,
    /// `applied`, `superseded`, `rejected` or `quarantined`.
    pub outcome: String,
    pub outcome_label: String,
    pub reason: String,
    pub next_step: String,
    pub decided_at: Millis,
    pub done: bool,
}

fn outcome_label(o: Outcome, lang: Lang) -> &'static str {
    match o {
        Outcome::Applied => lang.pick("反映済み", "Applied"),
        Outcome::Superseded => lang.pick("別の操作を優先", "Superseded"),
        Outcome::Rejected => lang.pick("反映せず", "Rejected"),
        Outcome::Quarantined => lang.pick("保留", "Held for review"),
    }
}

impl Console {
    /// Where sync stands.
    pub fn sync_view(&mut self) -> Result<SyncView, Error> {
        self.active_operator()?;
        let lang = self.lang();
        let s = local::state(&self.store().conn())?;
        let worker = self.sync.as_ref().map(|w| w.state()).unwrap_or_default();
        let state = match (&s.enrolment, worker.syncing, worker.online) {
            (None, _, _) => "not_enrolled",
            (Some(_), true, _) => "syncing",
            (Some(_), false, Some(true)) => "online",
            (Some(_), false, Some(false)) => "offline",
            (Some(_), false, None) => "unknown",
        };
        let state_label = match state {
            "not_enrolled" => lang.pick(
                "未登録（この端末だけで動作）",
                "Not enrolled (this PC only)",
            ),
            "syncing" => lang.pick("同期中", "Syncing"),
            "online" => lang.pick("オンライン", "Online"),
            "offline" => lang.pick(
                "オフライン（操作は保存され、接続時に送信）",
                "Offline (work is kept and sent when connected)",
            ),
            _ => lang.pick("確認中", "Checking"),
        };
        let last_error = s.last_error.as_deref().map(|code| match code {
            "sync.unreachable" => {
                Error::Sync(kagiya_core::SyncProblem::Unreachable, String::new()).message(lang)
            }
            "sync.chain_broken" => {
                Error::Sync(kagiya_core::SyncProblem::ChainBroken, String::new()).message(lang)
            }
            other => Error::Sync(kagiya_core::SyncProblem::Refused, other.to_owned()).message(lang),
        });
        Ok(SyncView {
            state: state.into(),
            state_label: state_label.into(),
            server_url: s.enrolment.as_ref().map(|e| e.server_url.clone()),
            branch: s.enrolment.as_ref().map(|e| e.branch.clone()),
            device_id: s.enrolment.as_ref().map(|e| e.device_id.clone()),
            waiting: s.waiting,
            to_review: s.to_review,
            last_sync_at: s.last_sync_at,
            last_error,
            last_round: worker.last_round,
            pushed: s.pushed,
            pulled: s.pulled,
        })
    }

    /// A supervisor enrols this PC with the server at `server_url` using the one-time `code`
    /// (their confirmation password first); `ca_file` names a CA certificate to trust for it.
    /// Recorded in the audit log; the first round starts at once.
    pub fn enrol_sync(
        &mut self,
        server_url: &str,
        ca_file: Option<&str>,
        code: &str,
        confirmation: &kagiya_core::secret::Secret,
    ) -> Result<SyncView, Error> {
        let who = self.acting_operator()?;
        // A demo database's customers are made up: they must never reach the server.
        if kagiya_store::settings::get(&self.store().conn(), kagiya_store::settings::DEMO)?
            .is_some()
        {
            return Err(Error::InvalidValue("demo_database"));
        }
        let url = crate::sync::check_url(server_url)?;
        let ca_file = ca_file.map(str::trim).filter(|s| !s.is_empty());
        self.engine()
            .confirm_supervisor(&who, confirmation, "enrol_sync")?;
        let keys = self.branch.device_keys();
        let now = kagiya_engine::Clock::now(&kagiya_engine::SystemClock);
        let e = crate::sync::enroll(self.store(), keys, &url, ca_file, code, now)?;
        let actor = match &who {
            kagiya_engine::ActorRef::Operator(id) => Some(format!("op:{id}")),
            _ => None,
        };
        let at = self.engine().now();
        self.store().write(|tx| {
            kagiya_store::events::append(
                tx,
                at,
                actor.as_deref(),
                EventKind::SyncEnrolled {
                    server: e.server_url.clone(),
                    device_id: e.device_id.clone(),
                    branch: e.branch.clone(),
                },
            )
            .map(|_| ())
        })?;
        self.sync_now()
    }

    /// Starts a round now.
    pub fn sync_now(&mut self) -> Result<SyncView, Error> {
        self.active_operator()?;
        if let Some(w) = &self.sync {
            w.sync_now();
        }
        self.sync_view()
    }

    /// The ops to review, newest first.
    pub fn sync_review(&mut self) -> Result<Vec<ReviewRow>, Error> {
        self.active_operator()?;
        let lang = self.lang();
        Ok(local::review(&self.store().conn())?
            .into_iter()
            .map(|r| ReviewRow {
                device_seq: r.device_seq,
                what: r.op.draft.event.summary(lang),
                customer: r.op.draft.customer.clone(),
                operator: r.op.draft.operator.clone(),
                acted_at: r.op.draft.at,
                outcome: r.outcome.code().into(),
                outcome_label: outcome_label(r.outcome, lang).into(),
                reason: r
                    .reason
                    .as_ref()
                    .map(|x| x.message(lang))
                    .unwrap_or_default(),
                next_step: r
                    .reason
                    .as_ref()
                    .map(|x| x.next_step(lang).to_owned())
                    .unwrap_or_default(),
                decided_at: r.decided_at,
                done: r.done,
            })
            .collect())
    }

    /// Marks a review item as dealt with.
    pub fn sync_review_done(&mut self, device_seq: i64) -> Result<Vec<ReviewRow>, Error> {
        self.active_operator()?;
        if !self.store().write(|tx| local::mark_done(tx, device_seq))? {
            return Err(Error::InvalidValue("device_seq"));
        }
        self.sync_review()
    }
}
