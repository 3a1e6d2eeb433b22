//! The steps a customer's user takes, shared by the JSON API (`api`) and the customers' pages
//! (`pages`): each reads its inputs, throttles, runs the engine and keeps the sessions, and
//! returns what happened — the API writes it as JSON, the pages as HTML. Nothing here knows how
//! the answer is written, so the two can never decide differently.

use std::net::IpAddr;
use std::time::Duration;

use kagiya_core::directory::{Channel, CredentialKind, OneTimePurpose, Tenant, User};
use kagiya_core::mail::MailKind;
use kagiya_core::secret::Secret;
use kagiya_core::{Error, ErrorKind, Lang, Millis};
use kagiya_engine::{ChangeOwn, Engine};

use crate::http::AppState;
use crate::sessions::{self, Session, Stage};
use crate::throttle::Kind;

/// Why a step was not taken, before the engine's own errors.
#[derive(Debug)]
pub enum Refusal {
    /// Too many attempts: nothing was checked or counted.
    Throttled(Duration),
    /// The engine's answer.
    Engine(Error),
    /// No live session.
    NoSession,
    /// The customer's IP rules refuse this source.
    AddressRefused,
    /// The session is at another step (the one it is at).
    WrongStep(Stage),
}

impl From<Error> for Refusal {
    fn from(e: Error) -> Refusal {
        Refusal::Engine(e)
    }
}

/// A session just made, and what it still needs.
pub struct Started {
    /// The token (the only time it exists in clear).
    pub token: String,
    pub stage: Stage,
    pub expires_at: Millis,
    /// The passwords to change first (seed 004 §2.4 forced, §2.5 expired).
    pub owed: Vec<CredentialKind>,
    /// Seed 003: the one-time-password address must be registered.
    pub otp_address_required: bool,
}

/// No failed password or code leaves earlier than this many milliseconds after the request
/// began (ours: a known user's refusal reads and writes a few more rows than an unknown ID's —
/// measured here 53 ms against 68 ms idle, 53 against 103 with eleven tests at once on two
/// cores — and a patient stranger could tell them apart; a fixed floor well above both makes
/// every wrong attempt take the same time under any load the floor covers. A person who mistypes
/// waits a quarter second; a guesser's connection is slowed the same. Successes are not delayed).
pub const FAILURE_FLOOR_MS: u64 = 250;

/// Holds a refused password or code until the floor, so that every wrong attempt takes the same
/// time whatever path it took.
pub async fn pad<T>(start: std::time::Instant, r: Result<T, Refusal>) -> Result<T, Refusal> {
    if matches!(&r, Err(Refusal::Engine(e)) if e.kind() == ErrorKind::WrongPassword) {
        let floor = Duration::from_millis(FAILURE_FLOOR_MS);
        tokio::time::sleep(floor.saturating_sub(start.elapsed())).await;
    }
    r
}

/// Runs `f` on the engine on a blocking thread, at most `workers` at once (each may hold an
/// argon2id block of memory): a flood waits here rather than exhausting the machine.
pub async fn run<T: Send + 'static>(
    s: &AppState,
    f: impl FnOnce(&Engine) -> Result<T, Error> + Send + 'static,
) -> Result<T, Error> {
    let permit = s
        .work
        .clone()
        .acquire_owned()
        .await
        .map_err(|_| Error::Internal("the work queue is closed".into()))?;
    let engine = std::sync::Arc::clone(&s.engine);
    tokio::task::spawn_blocking(move || {
        let _permit = permit;
        f(&engine)
    })
    .await
    .map_err(|e| Error::Internal(format!("engine task: {e}")))?
}

/// Counts an outcome for the metrics.
pub fn count<T>(s: &AppState, operation: &str, r: &Result<T, Refusal>) {
    let outcome = match r {
        Ok(_) => "ok",
        Err(Refusal::Engine(e)) => e.code(),
        Err(Refusal::Throttled(_)) => "auth.throttled",
        Err(Refusal::NoSession) => "auth.no_session",
        Err(Refusal::AddressRefused) => "auth.address_refused",
        Err(Refusal::WrongStep(_)) => "auth.step_required",
    };
    s.metrics
        .outcomes
        .with_label_values(&[operation, outcome])
        .inc();
}

/// `step`'s outcome, counted for the metrics under `operation`.
pub async fn counted<T>(
    s: &AppState,
    operation: &str,
    step: impl std::future::Future<Output = Result<T, Refusal>>,
) -> Result<T, Refusal> {
    let r = step.await;
    count(s, operation, &r);
    r
}

/// Takes an attempt naming `id` from the throttles.
pub fn throttle(s: &AppState, kind: Kind, ip: IpAddr, id: &str) -> Result<(), Refusal> {
    s.throttle.attempt(kind, ip, id).map_err(Refusal::Throttled)
}

/// Takes an attempt from `ip`'s allowance alone (link routes: a stranger must not spend a
/// customer's).
pub fn throttle_source(s: &AppState, ip: IpAddr) -> Result<(), Refusal> {
    s.throttle
        .attempt_source(Kind::SignIn, ip)
        .map_err(Refusal::Throttled)
}

/// The passwords `u` must change before anything else (seed 004 §2.4 forced, §2.5 expired).
pub fn must_change(u: &User, t: &Tenant, now: Millis) -> Vec<CredentialKind> {
    t.credentials()
        .iter()
        .copied()
        .filter(|k| {
            let c = u.credential(*k);
            c.must_change || c.expired_since(now).is_some()
        })
        .collect()
}

/// Seed 003 (Biz Mail & Web): 「初回ログイン時に、多要素認証用(ワンタイムパスワード)メールアドレスの
/// 登録が求められます」 — a user of a Biz Mail customer without a registered one-time-password
/// address is asked for one. Said with every session; the customers' pages take the user there
/// first.
pub fn otp_address_required(u: &User, t: &Tenant) -> bool {
    t.preset == kagiya_core::password::Preset::BizMail && !u.mfa
}

/// Whether the user may turn 2FA off themself: not on Biz Mail, whose users are asked for the
/// one-time-password address at every sign-in without it (`otp_address_required`), so that
/// 「利用しない」 would only lead back to the registration. (The branch can still turn it off.)
pub fn mfa_optional(t: &Tenant) -> bool {
    t.preset != kagiya_core::password::Preset::BizMail
}

/// The session of `token` with its user, when it is live and at one of `stages`. `ip` is the
/// request's source: the customer's IP rules are asked again on every request (a token used from
/// elsewhere, rules tightened since, a user made an admin); `None` only for ending a session,
/// which any source may do.
pub async fn session(
    s: &AppState,
    token: Option<&str>,
    ip: Option<IpAddr>,
    stages: &[Stage],
) -> Result<(Session, User, Tenant), Refusal> {
    let token = token
        .map(str::trim)
        .filter(|t| !t.is_empty() && t.len() <= 128)
        .ok_or(Refusal::NoSession)?;
    let now = s.engine.now();
    let found = sessions::find(&s.pool, token, now, &s.session)
        .await?
        .ok_or(Refusal::NoSession)?;
    let login_id = found.login_id.clone();
    let (u, t, allowed) = run(s, move |e| {
        let (u, t) = e.user_and_tenant(&login_id)?;
        let allowed = match ip {
            Some(ip) => e.address_allows(&t, &u, Channel::Web, ip)?,
            None => true,
        };
        Ok((u, t, allowed))
    })
    .await
    .map_err(|e| match e {
        // The user is gone: so is the session. Anything else (the database) is not the
        // session's end: said as it is, and the session stays.
        Error::UnknownUser | Error::UnknownTenant => Refusal::NoSession,
        other => Refusal::Engine(other),
    })?;
    if !allowed {
        return Err(Refusal::AddressRefused);
    }
    if !sessions::still_valid(&u, &t, found.created_ms, now) {
        let _ = sessions::revoke(&s.pool, &found.token_hash, now).await;
        return Err(Refusal::NoSession);
    }
    if !stages.contains(&found.stage) {
        return Err(Refusal::WrongStep(found.stage));
    }
    Ok((found, u, t))
}

/// The session of a request that checks a secret of its signed-in user (a code, a confirmation,
/// a current password): live, at one of `stages`, within the user's allowance for `kind`.
pub async fn session_attempt(
    s: &AppState,
    token: Option<&str>,
    ip: IpAddr,
    stages: &[Stage],
    kind: Kind,
) -> Result<(Session, User), Refusal> {
    let (sess, u, _) = session(s, token, Some(ip), stages).await?;
    throttle(s, kind, ip, &u.login_id)?;
    Ok((sess, u))
}

/// The full session of a master or an admin — what the users list, unlocks and password resets
/// need (a general user's confirmation password would otherwise buy a table of the company's
/// users).
pub async fn manager_session(
    s: &AppState,
    token: Option<&str>,
    ip: IpAddr,
) -> Result<(Session, User, Tenant), Refusal> {
    let (sess, u, t) = session(s, token, Some(ip), &[Stage::Full]).await?;
    if !u.role.is_manager() {
        let denied = kagiya_core::directory::authz::Denial::RoleTooLow;
        return Err(Refusal::Engine(Error::NotPermitted(denied)));
    }
    Ok((sess, u, t))
}

/// The stage a session of `u` starts at, after the password (and the code, if owed).
fn next_stage(code_owed: bool, owed: &[CredentialKind]) -> Stage {
    if code_owed {
        Stage::Code
    } else if owed.is_empty() {
        Stage::Full
    } else {
        Stage::Change
    }
}

/// A new session of `u` counted from `since` (see `sessions::still_valid`).
pub async fn start(
    s: &AppState,
    u: &User,
    t: &Tenant,
    stage: Stage,
    owed: Vec<CredentialKind>,
    since: Millis,
) -> Result<Started, Refusal> {
    let (token, expires_at) = sessions::create(&s.pool, u, stage, since, &s.session).await?;
    Ok(Started {
        token,
        stage,
        expires_at,
        owed,
        otp_address_required: otp_address_required(u, t),
    })
}

/// After a change to the user's own secrets: every session of theirs ends, and a new one starts
/// at the step still owed, counted from `since`.
async fn restart(s: &AppState, u: &User, t: &Tenant, since: Millis) -> Result<Started, Refusal> {
    let now = s.engine.now();
    sessions::revoke_all(&s.pool, &u.login_id, now).await?;
    let owed = must_change(u, t, now);
    let stage = next_stage(false, &owed);
    start(s, u, t, stage, owed, since).await
}

/// Signs in with the login password (or, on the Web member site, an address's own password).
/// No answer tells an ID apart: an unknown ID, a wrong password, a suspended user, a refused
/// address and a locked account with a wrong password all get `auth.invalid_credentials`, at
/// the same time (see `FAILURE_FLOOR_MS`).
pub async fn sign_in(
    s: &AppState,
    ip: IpAddr,
    login_id: String,
    password: Secret,
    address: Option<String>,
) -> Result<Started, Refusal> {
    let begun = std::time::Instant::now();
    let r = sign_in_unpadded(s, ip, login_id, password, address).await;
    count(s, "sign_in", &r);
    pad(begun, r).await
}

async fn sign_in_unpadded(
    s: &AppState,
    ip: IpAddr,
    login_id: String,
    password: Secret,
    address: Option<String>,
) -> Result<Started, Refusal> {
    // The session counts from before the password was checked: a password set anew meanwhile
    // (an administrator's reset racing this sign-in) ends it.
    let started = s.engine.now();
    throttle(s, Kind::SignIn, ip, &login_id)?;
    let (v, u, t) = run(s, move |e| {
        let v = match address.as_deref() {
            Some(a) => e.verify_with_address(&login_id, a, Channel::Web, &password, Some(ip)),
            None => e.verify_from(
                &login_id,
                CredentialKind::Login,
                Channel::Web,
                &password,
                Some(ip),
            ),
        }?;
        // The code's mail is queued with the sign-in (the worker sends it); a server without
        // mail refuses with `mail.unavailable` rather than ask for a code nobody sends.
        let (u, t) = e.user_and_tenant(&v.login_id)?;
        Ok((v, u, t))
    })
    .await?;
    let owed = must_change(&u, &t, s.engine.now());
    let stage = next_stage(v.second_factor.is_some(), &owed);
    start(s, &u, &t, stage, owed, started).await
}

/// Answers the one-time code of a sign-in with 2FA: the session's rights grow, so it gets a new
/// token (the one that waited for the code ends).
pub async fn code(
    s: &AppState,
    ip: IpAddr,
    token: Option<&str>,
    code: Secret,
) -> Result<Started, Refusal> {
    let begun = std::time::Instant::now();
    let r = async {
        let (sess, u) = session_attempt(s, token, ip, &[Stage::Code], Kind::SignIn).await?;
        let login_id = u.login_id.clone();
        let started = s.engine.now();
        let (u, t) = run(s, move |e| {
            e.verify_code(&login_id, &code, Channel::Web, Some(ip))?;
            e.user_and_tenant(&login_id)
        })
        .await?;
        sessions::revoke(&s.pool, &sess.token_hash, s.engine.now()).await?;
        let owed = must_change(&u, &t, s.engine.now());
        let stage = next_stage(false, &owed);
        start(s, &u, &t, stage, owed, started).await
    }
    .await;
    count(s, "sign_in_code", &r);
    pad(begun, r).await
}

/// Sends the sign-in code again: a new code to the same address; the tries already spent stay
/// spent.
pub async fn resend_code(
    s: &AppState,
    ip: IpAddr,
    token: Option<&str>,
    l: Lang,
) -> Result<(), Refusal> {
    counted(s, "sign_in_code_resend", async {
        let (_, u) = session_attempt(s, token, ip, &[Stage::Code], Kind::SignIn).await?;
        let login_id = u.login_id.clone();
        Ok(run(s, move |e| e.resend_sign_in_code(&login_id, Some(l))).await?)
    })
    .await
}

/// Changes the user's own passwords with the current ones (seed 004 §2.4 forced, §2.5 expired).
/// Every session of the user ends; a new one is returned, counted from the new password.
pub async fn change_passwords(
    s: &AppState,
    ip: IpAddr,
    token: Option<&str>,
    change: ChangeOwn,
) -> Result<Started, Refusal> {
    counted(s, "change_passwords", async {
        let stages = [Stage::Change, Stage::Full];
        let (_, u) = session_attempt(s, token, ip, &stages, Kind::Account).await?;
        let login_id = u.login_id.clone();
        let (u, t) = run(s, move |e| {
            e.change_own_passwords(&login_id, change)?;
            e.user_and_tenant(&login_id)
        })
        .await?;
        // Counted from the newest password as read back after the change (the user's own).
        let since = t
            .credentials()
            .iter()
            .map(|k| u.credential(*k).set_at)
            .max()
            .unwrap_or(s.engine.now());
        restart(s, &u, &t, since).await
    })
    .await
}

/// Registers the user's one-time-password address (seed 003 at the first sign-in; seed 002:
/// 多要素認証を「利用する」): the address is added if it is not one of the user's yet, and a code
/// is mailed to it; 2FA is on only once that code comes back.
pub async fn register_otp_address(
    s: &AppState,
    ip: IpAddr,
    token: Option<&str>,
    address: String,
    password: Secret,
) -> Result<(), Refusal> {
    counted(s, "otp_address", async {
        let stages = [Stage::Change, Stage::Full];
        let (_, u) = session_attempt(s, token, ip, &stages, Kind::Account).await?;
        let login_id = u.login_id.clone();
        Ok(run(s, move |e| {
            use kagiya_core::directory::Purpose;
            let me = kagiya_engine::ActorRef::User(login_id.clone());
            let address = address.trim();
            let known = e
                .read(|r| r.addresses(&login_id))?
                .iter()
                .any(|a| a.address.eq_ignore_ascii_case(address));
            if !known {
                e.add_address(&me, &password, &login_id, address, &[Purpose::Otp])?;
            }
            e.start_mfa_enrollment(&me, &password, &login_id, address)
                .map(|_| ())
        })
        .await?)
    })
    .await
}

/// Answers the code mailed to the new one-time-password address: 2FA is on from now, every
/// session of the user ends, and a new one is returned.
pub async fn confirm_otp_address(
    s: &AppState,
    ip: IpAddr,
    token: Option<&str>,
    address: String,
    code: Secret,
) -> Result<Started, Refusal> {
    counted(s, "otp_address_confirm", async {
        let stages = [Stage::Change, Stage::Full];
        let (sess, u) = session_attempt(s, token, ip, &stages, Kind::Account).await?;
        let login_id = u.login_id.clone();
        let (u, t) = run(s, move |e| {
            e.confirm_mfa_enrollment(&login_id, &address, &code)?;
            e.user_and_tenant(&login_id)
        })
        .await?;
        restart(s, &u, &t, sess.created_ms).await
    })
    .await
}

/// Asks for a password reset link (seed 000). The work goes on by itself: the caller answers
/// the same thing at the same time (`RESET_FLOOR_MS`) whether or not the ID and address matched.
pub fn request_reset(
    s: &AppState,
    ip: IpAddr,
    login_id: String,
    address: String,
    l: Lang,
) -> Result<(), Refusal> {
    throttle(s, Kind::SignIn, ip, &login_id)?;
    // Without mail nobody gets a link: said to everyone alike, before anything is looked up.
    if s.mailer.is_none() {
        return Err(Refusal::Engine(Error::MailUnavailable));
    }
    let work = s.clone();
    tokio::spawn(async move {
        let r = run(&work, move |e| {
            e.request_password_reset(&login_id, &address, Some(ip), Some(l))
        })
        .await
        .map_err(Refusal::from);
        count(&work, "password_reset", &r);
        match r {
            Ok(asked) => tracing::info!(outcome = ?asked, "password reset asked"),
            Err(e) => tracing::error!(error = ?e, "password reset request not recorded"),
        }
    });
    Ok(())
}

/// Every reset request is answered after this many milliseconds, whatever it found (ours: long
/// enough to look like work; the work itself goes on apart from the answer).
pub const RESET_FLOOR_MS: u64 = 400;

/// The user and address a link was mailed to, by the SHA-256 of its token.
async fn link_owner(s: &AppState, kind: MailKind, token: &str) -> Result<(String, String), Error> {
    let digest = crate::mail::outbox::link_digest(&Secret::new(token.trim()));
    let client = s
        .pool
        .get()
        .await
        .map_err(|e| Error::DatabaseUnavailable(e.to_string()))?;
    let row = client
        .query_opt(
            "SELECT login_id, recipient FROM mail_outbox WHERE link_sha256 = $1 AND kind = $2",
            &[&digest, &kind.code()],
        )
        .await
        .map_err(|e| Error::Storage(crate::db::message(e)))?;
    row.map(|r| (r.get(0), r.get(1)))
        .ok_or(Error::OneTimeRefused)
}

/// Runs `f` with the link's user and address; an unknown token costs the argon2id time a known
/// one does.
async fn with_link<T: Send + 'static>(
    s: &AppState,
    kind: MailKind,
    token: String,
    f: impl FnOnce(&Engine, &str, &str, &Secret) -> Result<T, Error> + Send + 'static,
) -> Result<T, Error> {
    let owner = link_owner(s, kind, &token).await;
    run(s, move |e| {
        let token = Secret::new(token.trim());
        match owner {
            Ok((login_id, address)) => f(e, &login_id, &address, &token),
            Err(err) => {
                e.waste_time(&token);
                Err(err)
            }
        }
    })
    .await
}

/// The secret's purpose behind a link of `kind`.
fn purpose_of(kind: MailKind) -> OneTimePurpose {
    match kind {
        MailKind::AddressSetup => OneTimePurpose::AddressSetup,
        MailKind::AddressChange => OneTimePurpose::AddressChange,
        _ => OneTimePurpose::PasswordReset,
    }
}

/// The user and address of a link of `kind` that is still good — unused, in time, its token the
/// one waiting — before its page shows anything: a used or expired link (a browser's history, a
/// forwarded mail) shows nothing of its user. A check of a secret: it takes an attempt from the
/// source's allowance; nothing is used or counted.
pub async fn live_link(
    s: &AppState,
    ip: IpAddr,
    kind: MailKind,
    token: String,
) -> Result<(String, String), Refusal> {
    throttle_source(s, ip)?;
    let owner = link_owner(s, kind, &token).await;
    let live = run(s, move |e| {
        let token = Secret::new(token.trim());
        match owner {
            Ok((login_id, address)) => {
                let live = e.link_live(&login_id, &address, purpose_of(kind), &token)?;
                Ok(live.then_some((login_id, address)))
            }
            Err(_) => {
                e.waste_time(&token);
                Ok(None)
            }
        }
    })
    .await?;
    live.ok_or(Refusal::Engine(Error::OneTimeRefused))
}

/// The user and address of a link of `kind` whose secret still waits (the cheap check behind the
/// rules its page ticks as they are typed; the page itself was shown only for a live link).
pub async fn pending_link(s: &AppState, kind: MailKind, token: &str) -> Option<(String, String)> {
    let (login_id, address) = link_owner(s, kind, token).await.ok()?;
    let (id, a) = (login_id.clone(), address.clone());
    let pending = run(s, move |e| e.link_pending(&id, &a, purpose_of(kind))).await;
    matches!(pending, Ok(true)).then_some((login_id, address))
}

/// Sets a new login password through the reset link (seed 000: 「以前のパスワードは無効となります」).
/// Every session of the user ends; they sign in with the new password.
pub async fn complete_reset(
    s: &AppState,
    ip: IpAddr,
    token: String,
    password: Secret,
) -> Result<(), Refusal> {
    counted(s, "password_reset_complete", async {
        throttle_source(s, ip)?;
        let login_id = with_link(
            s,
            MailKind::PasswordReset,
            token,
            move |e, login_id, address, token| {
                e.reset_password(login_id, address, token, &password)
                    .map(|()| login_id.to_owned())
            },
        )
        .await?;
        sessions::revoke_all(&s.pool, &login_id, s.engine.now()).await?;
        Ok(())
    })
    .await
}

/// Sets an added address's own password through its setup link (seed 002).
pub async fn complete_address_setup(
    s: &AppState,
    ip: IpAddr,
    token: String,
    password: Secret,
) -> Result<(), Refusal> {
    counted(s, "address_setup", async {
        throttle_source(s, ip)?;
        Ok(with_link(
            s,
            MailKind::AddressSetup,
            token,
            move |e, login_id, address, token| {
                e.set_address_password(login_id, address, token, &password)
            },
        )
        .await?)
    })
    .await
}

/// Confirms an address change through the link mailed to the old address (seed 002).
pub async fn confirm_address_change(
    s: &AppState,
    ip: IpAddr,
    token: String,
) -> Result<(), Refusal> {
    counted(s, "address_change", async {
        throttle_source(s, ip)?;
        Ok(with_link(
            s,
            MailKind::AddressChange,
            token,
            |e, login_id, address, token| {
                e.confirm_address_change_by_link(login_id, address, token)
            },
        )
        .await?)
    })
    .await
}

/// The most users one unlock may list (ours: seed 004's list screen shows a company's users; a
/// bound keeps one request's work and lock time small).
pub const MAX_UNLOCK: usize = 500;

/// A master's or admin's unlock of several users with their own confirmation password (seed 004
/// §2.2): the batch and the result table's rows.
pub async fn unlock(
    s: &AppState,
    ip: IpAddr,
    token: Option<&str>,
    login_ids: Vec<String>,
    confirmation: Secret,
    l: Lang,
) -> Result<(String, Vec<kagiya_engine::UnlockRow>), Refusal> {
    counted(s, "admin_unlock", async {
        let u = manager_attempt(s, token, ip).await?;
        if login_ids.len() > MAX_UNLOCK {
            return Err(Refusal::Engine(Error::InvalidValue("login_ids")));
        }
        let who = kagiya_engine::ActorRef::User(u.login_id);
        Ok(run(s, move |e| e.unlock(&who, &confirmation, &login_ids, l)).await?)
    })
    .await
}

/// A master's or admin's setting of another user's passwords, each with its own 「ログイン時に
/// 強制変更する」 (seed 004 §2.3), confirmed with their own password.
pub async fn set_user_passwords(
    s: &AppState,
    ip: IpAddr,
    token: Option<&str>,
    target: String,
    confirmation: Secret,
    set: kagiya_engine::SetPasswords,
) -> Result<kagiya_engine::Issued, Refusal> {
    counted(s, "admin_set_passwords", async {
        let u = manager_attempt(s, token, ip).await?;
        let who = kagiya_engine::ActorRef::User(u.login_id);
        Ok(run(s, move |e| {
            e.set_passwords(&who, &confirmation, &target, set)
        })
        .await?)
    })
    .await
}

/// The manager's session of a request that checks their own password: within their allowance.
async fn manager_attempt(s: &AppState, token: Option<&str>, ip: IpAddr) -> Result<User, Refusal> {
    let (_, u, _) = manager_session(s, token, ip).await?;
    throttle(s, Kind::Account, ip, &u.login_id)?;
    Ok(u)
}
