//! The branch PC's sync client (issue 14, docs/sync.md): enrolment with a one-time code, and one
//! sync round — push what waits, pull what the server has, make the served customers' rows the
//! server's fold again — over HTTPS with the device key signing every request. Each step commits
//! before the next network call, so a crash or a cut network at any point loses nothing and
//! doubles nothing: sealed ops are resent as they are and answered from the server's record.
//!
//! `Worker` runs rounds on its own thread whenever the server answers (backing off from 5 s to
//! 5 min while it does not, ours) and at once on "sync now".

use std::path::Path;
use std::sync::{Arc, Condvar, Mutex};
use std::time::Duration;

use kagiya_core::{Error, Millis, SyncProblem};
use kagiya_store::sync as local;
use kagiya_store::{events, Store};
use kagiya_sync::op::{request_message, DEVICE_HEADER, SIGNATURE_HEADER, TIME_HEADER};
use kagiya_sync::wire::{
    Anchor, EnrolRequest, Enrolled, PullAnswer, PullRequest, PushAnswer, PushRequest, ENROLL,
    MAX_BATCH, PULL, PUSH,
};
use kagiya_sync::DeviceKey;
use serde::Serialize;

/// How long one request may take (ours: a push of 500 ops is decided in well under a second on
/// the server; 30 s covers a slow line without hanging the worker).
const REQUEST_TIMEOUT: Duration = Duration::from_secs(30);

/// The server's address: `https://…`, or `http://` to this PC itself only (a local test server).
pub fn check_url(url: &str) -> Result<String, Error> {
    let url = url.trim().trim_end_matches('/');
    let local = ["http://127.0.0.1", "http://localhost", "http://[::1]"]
        .iter()
        .any(|p| url.starts_with(p));
    let well_formed = url.len() <= 200 && !url.chars().any(|c| c.is_whitespace() || c.is_control());
    if well_formed && (url.starts_with("https://") && url.len() > "https://".len() || local) {
        Ok(url.to_owned())
    } else {
        Err(Error::InvalidValue("server_url"))
    }
}

/// An HTTP client for one server.
pub struct Client {
    agent: ureq::Agent,
    base: String,
}

impl Client {
    /// A client of `base` trusting the OS's roots, or only `ca_file` (PEM) when given.
    pub fn new(base: &str, ca_file: Option<&Path>) -> Result<Client, Error> {
        use ureq::tls::{Certificate, RootCerts, TlsConfig};
        let roots = match ca_file {
            Some(path) => {
                let pem = std::fs::read(path).map_err(|e| Error::File(e.to_string()))?;
                let certs: Vec<Certificate<'static>> = ureq::tls::parse_pem(&pem)
                    .filter_map(|item| match item {
                        Ok(ureq::tls::PemItem::Certificate(c)) => Some(c),
                        _ => None,
                    })
                    .collect();
                if certs.is_empty() {
                    return Err(Error::CertificateUnreadable("pem"));
                }
                RootCerts::Specific(Arc::new(certs))
            }
            None => RootCerts::PlatformVerifier,
        };
        let config = ureq::Agent::config_builder()
            .timeout_global(Some(REQUEST_TIMEOUT))
            .http_status_as_error(false)
            .tls_config(TlsConfig::builder().root_certs(roots).build())
            .build();
        Ok(Client {
            agent: ureq::Agent::new_with_config(config),
            base: check_url(base)?,
        })
    }

    /// POSTs `body` to `path`, signed by `device` when given; the JSON answer, or the server's
    /// `{code, message}` refusal as `Sync(Refused, code)`.
    fn post<T: serde::de::DeserializeOwned>(
        &self,
        path: &str,
        body: &impl Serialize,
        device: Option<(&str, &DeviceKey)>,
    ) -> Result<T, Error> {
        // Each request carries the clock's time when it is signed: a long round never goes
        // stale at the server.
        let now = kagiya_engine::Clock::now(&kagiya_engine::SystemClock);
        let body = serde_json::to_vec(body).map_err(|e| Error::Internal(e.to_string()))?;
        let mut req = self
            .agent
            .post(format!("{}{path}", self.base))
            .header("content-type", "application/json")
            .header("accept-language", "en");
        if let Some((id, key)) = device {
            let sig = key.sign(&request_message("POST", path, now, &body));
            req = req
                .header(DEVICE_HEADER, id)
                .header(TIME_HEADER, now.to_string())
                .header(SIGNATURE_HEADER, sig);
        }
        let mut res = req
            .send(&body[..])
            .map_err(|e| Error::Sync(SyncProblem::Unreachable, e.to_string()))?;
        let status = res.status().as_u16();
        let text = res
            .body_mut()
            .with_config()
            .limit(64 * 1024 * 1024)
            .read_to_string()
            .map_err(|e| Error::Sync(SyncProblem::Unreachable, e.to_string()))?;
        if status == 200 {
            return serde_json::from_str(&text)
                .map_err(|e| Error::Sync(SyncProblem::Refused, format!("answer: {e}")));
        }
        let code = serde_json::from_str::<serde_json::Value>(&text)
            .ok()
            .and_then(|v| v["code"].as_str().map(str::to_owned))
            .unwrap_or_else(|| format!("http {status}"));
        if status >= 500 {
            return Err(Error::Sync(SyncProblem::Unreachable, code));
        }
        Err(Error::Sync(SyncProblem::Refused, code))
    }
}

/// Enrols this PC with `code` at `server_url`; `key_for` gives the device key of a generation.
pub fn enroll(
    store: &Store,
    key_for: impl Fn(i64) -> DeviceKey,
    server_url: &str,
    ca_file: Option<&str>,
    code: &str,
    now: Millis,
) -> Result<local::Enrolment, Error> {
    let url = check_url(server_url)?;
    let client = Client::new(&url, ca_file.map(Path::new))?;
    // A new generation for every attempt (kept before the code is sent): an attempt whose
    // answer was lost left its key enrolled at the server, and that key must not be tried again.
    let generation = store.write(local::take_key_generation)?;
    let key = key_for(generation);
    let typed: String = code
        .chars()
        .filter(|c| c.is_ascii_alphanumeric())
        .map(|c| c.to_ascii_uppercase())
        .collect();
    if typed.len() != 15 {
        return Err(Error::InvalidValue("enrolment_code"));
    }
    let answer: Enrolled = client.post(
        ENROLL,
        &EnrolRequest {
            code: typed.clone(),
            public_key: key.public(),
            signature: key.sign(typed.as_bytes()),
        },
        None,
    )?;
    store.write(|tx| local::enrol(tx, &answer, &url, ca_file, generation, now))?;
    local::enrolment(&store.conn())?.ok_or_else(|| Error::Internal("enrolment not kept".into()))
}

/// What one round did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
pub struct Round {
    pub pushed: u32,
    pub pulled: u32,
    /// Outcomes that went to the review list.
    pub to_review: u32,
    pub refolded: u32,
}

/// One sync round: push every waiting op (in batches), pull until nothing more waits, refold.
/// Its figures are recorded whether it ends well or not.
pub fn round(store: &Store, key: &DeviceKey, now: Millis) -> Result<Round, Error> {
    let mut r = Round::default();
    let out = round_in(store, key, now, &mut r);
    store.write(|tx| {
        local::finish(
            tx,
            now,
            r.pushed as usize,
            r.pulled as usize,
            out.as_ref().err(),
        )
    })?;
    out.map(|()| r)
}

fn round_in(store: &Store, key: &DeviceKey, now: Millis, r: &mut Round) -> Result<(), Error> {
    let dev = local::enrolment(&store.conn())?
        .ok_or_else(|| Error::Sync(SyncProblem::NotEnrolled, String::new()))?;
    let client = Client::new(&dev.server_url, dev.ca_file.as_deref().map(Path::new))?;
    let me = Some((dev.device_id.as_str(), key));
    loop {
        let ops = store.write(|tx| local::seal(tx, key, MAX_BATCH))?;
        if ops.is_empty() {
            break;
        }
        let anchor = events::head(&store.conn())?.map(|(seq, hash)| Anchor { seq, hash });
        let sent = ops.len();
        let answer: PushAnswer = client.post(PUSH, &PushRequest { ops, anchor }, me)?;
        let before = local::state(&store.conn())?.to_review;
        store.write(|tx| local::acknowledge(tx, &answer.outcomes, now))?;
        r.pushed += answer.outcomes.len() as u32;
        r.to_review += (local::state(&store.conn())?.to_review - before).max(0) as u32;
        if answer.outcomes.len() < sent {
            return Err(Error::Sync(SyncProblem::Refused, "short answer".into()));
        }
    }
    loop {
        let cursor = local::cursor(&store.conn())?;
        let answer: PullAnswer = client.post(
            PULL,
            &PullRequest {
                cursor,
                limit: None,
            },
            me,
        )?;
        store.write(|tx| local::absorb(tx, &answer.entries))?;
        r.pulled += answer.entries.len() as u32;
        if !answer.more || answer.entries.is_empty() {
            break;
        }
    }
    r.refolded = store.write(local::refold_dirty)? as u32;
    Ok(())
}

/// The background sync: rounds while the server answers, with backoff while it does not.
pub struct Worker {
    shared: Arc<(Mutex<WorkerState>, Condvar)>,
}

/// What the status bar reads.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
pub struct WorkerState {
    /// A round is running now.
    pub syncing: bool,
    /// The last round reached the server (`None` before any).
    pub online: Option<bool>,
    pub last_round: Option<Round>,
    /// The code of the last round's error.
    pub last_error: Option<String>,
    #[serde(skip)]
    wake: bool,
    #[serde(skip)]
    stop: bool,
}

/// Backoff while the server does not answer (ours: 5 s, doubling, at most 5 min; a round every
/// 30 s while it does, so online failures reach the branch's screens within a minute).
const FIRST_RETRY: Duration = Duration::from_secs(5);
const MAX_RETRY: Duration = Duration::from_secs(300);
const ONLINE_EVERY: Duration = Duration::from_secs(30);

impl Worker {
    /// Starts the thread. `key` is this PC's device key (see `Branch::device_key`), `now` its
    /// clock.
    pub fn start(
        store: Arc<Store>,
        key: impl Fn(i64) -> DeviceKey + Send + 'static,
        now: impl Fn() -> Millis + Send + 'static,
    ) -> Worker {
        let shared = Arc::new((Mutex::new(WorkerState::default()), Condvar::new()));
        let s = shared.clone();
        std::thread::Builder::new()
            .name("kagiya-sync".into())
            .spawn(move || {
                let mut wait = FIRST_RETRY;
                loop {
                    let enrolled = local::enrolment(&store.conn()).ok().flatten();
                    if let Some(dev) = enrolled {
                        set(&s, |st| st.syncing = true);
                        let out = round(&store, &key(dev.key_generation), now());
                        let online = !matches!(out, Err(Error::Sync(SyncProblem::Unreachable, _)));
                        wait = if online {
                            ONLINE_EVERY
                        } else {
                            (wait * 2).clamp(FIRST_RETRY, MAX_RETRY)
                        };
                        set(&s, |st| {
                            st.syncing = false;
                            st.online = Some(online);
                            match &out {
                                Ok(r) => {
                                    st.last_round = Some(*r);
                                    st.last_error = None;
                                }
                                Err(e) => st.last_error = Some(e.code().to_owned()),
                            }
                        });
                        if let Err(e) = &out {
                            tracing::warn!(code = e.code(), error = %e, "sync round failed");
                        }
                    }
                    let (lock, cv) = &*s;
                    let guard = lock.lock().unwrap_or_else(|p| p.into_inner());
                    let (mut guard, _) = cv
                        .wait_timeout_while(guard, wait, |st| !st.wake && !st.stop)
                        .unwrap_or_else(|p| p.into_inner());
                    if guard.stop {
                        return;
                    }
                    guard.wake = false;
                }
            })
            .expect("the sync thread starts");
        Worker { shared }
    }

    /// Runs a round now (or right after the one running).
    pub fn sync_now(&self) {
        set(&self.shared, |st| st.wake = true);
    }

    pub fn state(&self) -> WorkerState {
        self.shared
            .0
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .clone()
    }
}

impl Drop for Worker {
    fn drop(&mut self) {
        set(&self.shared, |st| st.stop = true);
    }
}

fn set(s: &Arc<(Mutex<WorkerState>, Condvar)>, f: impl FnOnce(&mut WorkerState)) {
    let (lock, cv) = &**s;
    f(&mut lock.lock().unwrap_or_else(|p| p.into_inner()));
    cv.notify_all();
}
