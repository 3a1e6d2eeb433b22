//! The console: one store, one session, one language. Every method returns the new `Status` or a
//! refusal; refusals change nothing beyond the audit entries they are owed.

use std::path::PathBuf;
use std::sync::Arc;

use kagiya_core::event::EventKind;
use kagiya_core::operator::OperatorRecord;
use kagiya_core::password::{HashParams, PasswordPolicy, PolicyContext, RuleStatus};
use kagiya_core::secret::Secret;
use kagiya_core::session::{Session, SessionOperator, SessionState, Transition};
use kagiya_core::{Error, Lang, Millis, MINUTE};
use kagiya_store::operators;
use kagiya_store::{events, settings, KeySource, Store};

use crate::view::{EventView, SessionView, Status, Theme};
use kagiya_engine::{ActorRef, Clock, Engine, FirstSupervisor, SystemClock};
use kagiya_store::{Branch, BranchOptions};

/// Idle-lock minutes allowed in the settings.
pub const IDLE_LOCK_MINUTES: std::ops::RangeInclusive<u32> = 1..=120;
/// The default idle lock: 10 minutes.
pub const DEFAULT_IDLE_LOCK_MINUTES: u32 = 10;

/// How to open the console.
pub struct ConsoleOptions {
    /// The SQLite file.
    pub db_path: PathBuf,
    /// Where its encryption key comes from (the OS keyring in the product).
    pub key: KeySource,
    /// The OS locale, used for the language until one is chosen.
    pub os_locale: Option<String>,
    /// An idle lock in seconds that overrides the setting (for kiosk set-ups and the E2E tests):
    /// never longer than the setting, and recorded in the audit log when in force.
    pub idle_lock_seconds_override: Option<u32>,
    pub hash_params: HashParams,
    pub clock: Arc<dyn Clock>,
    /// Run the background sync thread (rounds only once the PC is enrolled).
    pub sync: bool,
}

impl ConsoleOptions {
    pub fn new(db_path: PathBuf) -> Self {
        ConsoleOptions {
            db_path,
            key: KeySource::OsKeyring,
            os_locale: None,
            idle_lock_seconds_override: None,
            hash_params: HashParams::default(),
            clock: Arc::new(SystemClock),
            sync: true,
        }
    }
}

pub struct Console {
    /// The branch database and the credential engine over it: the branch workflows (see `desk`).
    pub(crate) branch: Branch,
    session: Session,
    lang: Lang,
    idle_minutes: u32,
    idle_override: Option<u32>,
    /// The last readings of the monotonic and the wall clock, and how far the session's time
    /// has been moved ahead of the monotonic one (see `session_time`).
    clocks: std::cell::Cell<SessionClock>,
    /// The background sync (see `crate::sync`), when started.
    pub(crate) sync: Option<crate::sync::Worker>,
}

/// See `Console::session_time`.
#[derive(Debug, Clone, Copy, Default)]
struct SessionClock {
    mono: Millis,
    wall: Millis,
    ahead: Millis,
    started: bool,
}

impl Console {
    /// Opens the database (creating and migrating it as needed) with a signed-out session.
    pub fn open(opts: ConsoleOptions) -> Result<Console, Error> {
        let mut bo = BranchOptions::new(opts.db_path.clone(), opts.key, "desktop");
        bo.hash_params = opts.hash_params;
        bo.clock = opts.clock;
        let branch = Branch::open(bo)?;
        let store = branch.store();
        let lang = match settings::get(&store.conn(), settings::LANGUAGE)? {
            Some(code) => Lang::parse(&code).unwrap_or(Lang::En),
            None => opts
                .os_locale
                .as_deref()
                .map(Lang::from_locale)
                .unwrap_or(Lang::En),
        };
        let idle_minutes = settings::get(&store.conn(), settings::IDLE_LOCK_MINUTES)?
            .and_then(|v| v.parse::<u32>().ok())
            .filter(|m| IDLE_LOCK_MINUTES.contains(m))
            .unwrap_or(DEFAULT_IDLE_LOCK_MINUTES);
        // A start-up override may only make the lock come sooner than the branch's setting, and
        // is recorded: it is a way round a supervisor's setting (issue 12, low).
        let setting_seconds = idle_minutes * 60;
        let idle_override = opts
            .idle_lock_seconds_override
            .filter(|s| *s > 0)
            .map(|s| s.min(setting_seconds));
        if let Some(seconds) = idle_override {
            let now = branch.engine().now();
            let kind = EventKind::IdleLockOverridden {
                seconds,
                setting_seconds,
            };
            branch
                .store()
                .write(|tx| events::append(tx, now, None, kind).map(|_| ()))?;
        }
        // Signatures carry the wall clock: the server takes them only near its own time.
        let sync = opts.sync.then(|| {
            crate::sync::Worker::start(branch.shared_store(), branch.device_keys(), || {
                SystemClock.now()
            })
        });
        let mut c = Console {
            branch,
            session: Session::new(0),
            lang,
            idle_minutes,
            idle_override,
            clocks: std::cell::Cell::new(SessionClock::default()),
            sync,
        };
        c.session.set_idle_ms(c.idle_ms());
        Ok(c)
    }

    fn idle_ms(&self) -> Millis {
        let setting = Millis::from(self.idle_minutes) * MINUTE;
        match self.idle_override {
            // Never longer than the setting, also after a supervisor shortened it.
            Some(s) => (Millis::from(s) * 1000).min(setting),
            None => setting,
        }
    }

    pub fn lang(&self) -> Lang {
        self.lang
    }

    /// The credential engine over this branch's database.
    pub fn engine(&self) -> &Engine {
        self.branch.engine()
    }

    pub fn store(&self) -> &Store {
        self.branch.store()
    }

    /// The engine's clock: the session and the decisions share one "now".
    fn now(&self) -> Millis {
        self.engine().now()
    }

    /// Appends one audit event in a transaction of its own.
    pub(crate) fn record(
        &mut self,
        at: Millis,
        actor: Option<&str>,
        kind: EventKind,
    ) -> Result<(), Error> {
        self.branch
            .store()
            .write(|tx| events::append(tx, at, actor, kind).map(|_| ()))
    }

    /// Stores a setting together with its audit event.
    fn save_setting(&mut self, key: &str, value: &str, actor: Option<&str>) -> Result<(), Error> {
        let now = self.now();
        self.branch.store().write(|tx| {
            settings::set(tx, key, value)?;
            let kind = EventKind::SettingChanged {
                key: key.into(),
                value: value.into(),
            };
            events::append(tx, now, actor, kind).map(|_| ())
        })
    }

    /// The session's own time (issue 12, low): it advances with the monotonic clock, so setting
    /// the PC's clock back does not keep an unattended session open — and, when the wall clock
    /// advanced further between two readings (the PC slept: the monotonic clock stops during a
    /// suspend), by the wall clock's step, so a session left open over a sleep still locks.
    fn session_time(&self) -> Millis {
        let (mono, wall) = (self.engine().monotonic(), self.now());
        let mut c = self.clocks.get();
        if c.started {
            let (dm, dw) = (mono - c.mono, wall - c.wall);
            if dw > dm {
                c.ahead += dw - dm;
            }
        }
        c = SessionClock {
            mono,
            wall,
            ahead: c.ahead,
            started: true,
        };
        self.clocks.set(c);
        mono + c.ahead
    }

    /// Applies the idle rule and records an idle lock when it happens.
    fn observe(&mut self) -> Result<(), Error> {
        if let Transition::IdleLocked { .. } = self.session.observe(self.session_time()) {
            if let Some(id) = self.session.operator().map(|op| op.operator_id.clone()) {
                let kind = EventKind::SessionLocked {
                    operator_id: id.clone(),
                    idle: true,
                };
                // Recorded when noticed: a time worked back from the session's clock could sit
                // before an entry another program wrote meanwhile.
                let now = self.now();
                self.record(now, Some(&id), kind)?;
            }
        }
        Ok(())
    }

    /// The operator of an active session, or the refusal to show.
    pub(crate) fn active_operator(&mut self) -> Result<SessionOperator, Error> {
        self.observe()?;
        let op = match self.session.state() {
            SessionState::Active { operator, .. } => operator.clone(),
            SessionState::Locked { .. } => return Err(Error::SessionLocked),
            SessionState::SignedOut => return Err(Error::NotSignedIn),
        };
        // A supervisor may have disabled the operator since the sign-in: the session ends.
        if self.engine().operator_standing(&op.operator_id)?.is_none() {
            self.sign_out()?;
            return Err(Error::NotSignedIn);
        }
        Ok(op)
    }

    /// Where things stand, after applying the idle rule.
    pub fn status(&mut self) -> Result<Status, Error> {
        self.observe()?;
        let needs_setup = operators::count(&self.branch.store().conn())? == 0;
        // Only the first-run form shows the empty checklist; polls after that skip building it.
        let operator_password_rules = if needs_setup {
            PasswordPolicy::OPERATOR.checklist("", &PolicyContext::default(), self.lang)
        } else {
            Vec::new()
        };
        let password_change_due = match self.session.operator().map(|o| o.operator_id.clone()) {
            Some(id) => self.engine().operator_standing(&id)?.unwrap_or(false),
            None => false,
        };
        let demo = settings::get(&self.branch.store().conn(), settings::DEMO)?.is_some();
        Ok(Status {
            demo,
            password_change_due,
            needs_setup,
            lang: self.lang,
            session: SessionView::from(self.session.state()),
            idle_lock_minutes: self.idle_minutes,
            idle_lock_seconds: self.idle_ms() / 1000,
            theme: settings::get(&self.branch.store().conn(), settings::THEME)?
                .and_then(|t| Theme::parse(&t))
                .unwrap_or_default(),
            operator_password_rules,
        })
    }

    /// The operator password checklist for what is being typed.
    pub fn check_operator_password(
        &self,
        operator_id: &str,
        password: &Secret,
        login_password: Option<&Secret>,
    ) -> Vec<RuleStatus> {
        let ctx = PolicyContext {
            login_id: operator_id.trim(),
            must_differ_from: login_password.map(Secret::expose),
            ..Default::default()
        };
        PasswordPolicy::OPERATOR.checklist(password.expose(), &ctx, self.lang)
    }

    /// Registers the first supervisor on an empty database (the engine's rule) and signs them in.
    pub fn create_first_supervisor(&mut self, f: &FirstSupervisor) -> Result<Status, Error> {
        let id = self.engine().create_first_supervisor(f)?;
        let record = operators::find(&self.branch.store().conn(), &id)?
            .ok_or_else(|| Error::Internal("first supervisor not stored".into()))?;
        let now = self.now();
        self.branch.store().write(|tx| {
            operators::record_sign_in(tx, &id, now)?;
            let signed_in = EventKind::OperatorSignedIn {
                operator_id: id.clone(),
            };
            events::append(tx, now, Some(&id), signed_in).map(|_| ())
        })?;
        let operator = SessionOperator {
            operator_id: record.operator_id,
            name: record.name,
            role: record.role,
        };
        self.session.sign_in(operator, self.session_time());
        self.status()
    }

    fn session_operator(op: &OperatorRecord) -> SessionOperator {
        SessionOperator {
            operator_id: op.operator_id.clone(),
            name: op.name.clone(),
            role: op.role,
        }
    }

    /// Signs an operator in. Any current session is signed out first.
    pub fn sign_in(&mut self, operator_id: &str, password: &Secret) -> Result<Status, Error> {
        if operators::count(&self.branch.store().conn())? == 0 {
            return Err(Error::SetupRequired);
        }
        if self.session.operator().is_some() {
            self.sign_out()?;
        }
        let op = self
            .engine()
            .authenticate_operator(operator_id, password, |id| EventKind::OperatorSignedIn {
                operator_id: id.to_owned(),
            })?;
        self.session
            .sign_in(Self::session_operator(&op), self.session_time());
        self.status()
    }

    /// Re-sign-in on the lock screen: the locked session's operator enters the password again and
    /// the screen comes back as it was. Failures count towards the sign-in lockout.
    pub fn resume(&mut self, password: &Secret) -> Result<Status, Error> {
        self.observe()?;
        let operator_id = match self.session.state() {
            SessionState::Locked { operator, .. } => operator.operator_id.clone(),
            SessionState::Active { .. } => return Err(Error::SessionNotLocked),
            SessionState::SignedOut => return Err(Error::NotSignedIn),
        };
        self.engine()
            .authenticate_operator(&operator_id, password, |id| EventKind::SessionResumed {
                operator_id: id.to_owned(),
            })?;
        self.session.resume(self.session_time());
        self.status()
    }

    /// Records activity (keyboard or pointer) in an active session.
    pub fn touch(&mut self) -> Result<Status, Error> {
        self.observe()?;
        self.session.touch(self.session_time());
        self.status()
    }

    /// Locks the screen now.
    pub fn lock_now(&mut self) -> Result<Status, Error> {
        let op = self.active_operator()?;
        let now = self.now();
        self.session.lock(self.session_time());
        let kind = EventKind::SessionLocked {
            operator_id: op.operator_id.clone(),
            idle: false,
        };
        self.record(now, Some(&op.operator_id), kind)?;
        self.status()
    }

    /// Signs out (from an active or a locked session); the kept screen state is discarded.
    pub fn sign_out(&mut self) -> Result<Status, Error> {
        self.observe()?;
        if let Some(op) = self.session.operator().cloned() {
            let now = self.now();
            let kind = EventKind::OperatorSignedOut {
                operator_id: op.operator_id.clone(),
            };
            // Cleared first: a failed write cannot leave the session open (issue 12, low).
            self.session.sign_out();
            self.record(now, Some(&op.operator_id), kind)?;
        }
        self.status()
    }

    /// The signed-in (active or locked) operator's name and ID, for slips.
    pub(crate) fn session_operator_name(&self) -> Option<String> {
        self.session
            .operator()
            .map(|op| format!("{}（{}）", op.name, op.operator_id))
    }

    /// Chooses the colour theme (signed-in operators only).
    pub fn set_theme(&mut self, theme: Theme) -> Result<Status, Error> {
        let op = self.active_operator()?;
        self.save_setting(settings::THEME, theme.code(), Some(&op.operator_id))?;
        self.status()
    }

    fn actor(&self) -> Option<String> {
        match self.session.state() {
            SessionState::Active { operator, .. } => Some(operator.operator_id.clone()),
            _ => None,
        }
    }

    /// Chooses the UI language ("ja" or "en"); allowed before sign-in too.
    pub fn set_language(&mut self, lang: Lang) -> Result<Status, Error> {
        self.observe()?;
        let actor = self.actor();
        self.save_setting(settings::LANGUAGE, lang.code(), actor.as_deref())?;
        self.lang = lang;
        self.status()
    }

    /// Sets the idle-lock time in minutes: the branch's protection of unattended screens, so a
    /// supervisor's, confirmed with their confirmation password (issue 12, low).
    pub fn set_idle_lock_minutes(
        &mut self,
        minutes: u32,
        confirmation: &Secret,
    ) -> Result<Status, Error> {
        let op = self.active_operator()?;
        if !IDLE_LOCK_MINUTES.contains(&minutes) {
            return Err(Error::IdleLockOutOfRange {
                min: *IDLE_LOCK_MINUTES.start(),
                max: *IDLE_LOCK_MINUTES.end(),
            });
        }
        // Refused before any password is checked: a wrong confirmation counts towards a lock.
        if op.role != kagiya_core::operator::Role::Supervisor {
            return Err(Error::NotPermitted(
                kagiya_core::directory::authz::Denial::SupervisorOnly,
            ));
        }
        let who = ActorRef::Operator(op.operator_id.clone());
        self.engine()
            .confirm_supervisor(&who, confirmation, "set_idle_lock")?;
        self.save_setting(
            settings::IDLE_LOCK_MINUTES,
            &minutes.to_string(),
            Some(&op.operator_id),
        )?;
        self.idle_minutes = minutes;
        self.session.set_idle_ms(self.idle_ms());
        self.session.touch(self.session_time());
        self.status()
    }

    /// The newest audit entries (signed-in operators only).
    pub fn recent_events(&mut self, limit: u32) -> Result<Vec<EventView>, Error> {
        self.active_operator()?;
        let rows = events::recent(&self.branch.store().conn(), limit.clamp(1, 500))?;
        Ok(rows.iter().map(|e| EventView::new(e, self.lang)).collect())
    }

    /// Fills an empty database with the demo branch (operators, see `demo`; customers and users,
    /// see `demo_branch`); false when it was not empty.
    pub fn seed_demo(&mut self) -> Result<bool, Error> {
        let now = self.now();
        if !crate::demo::seed(self.branch.store(), self.engine().hasher(), now)? {
            return Ok(false);
        }
        crate::demo_branch::seed(&mut self.branch, now)?;
        Ok(true)
    }

    /// Verifies the whole audit chain; the number of entries when intact.
    pub fn verify_audit(&mut self) -> Result<i64, Error> {
        self.active_operator()?;
        events::verify(&self.branch.store().conn())
    }
}
