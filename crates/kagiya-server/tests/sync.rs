//! Sync against a running server on a real PostgreSQL (issue 14): enrolment, signed pushes
//! decided again at ingest, idempotent retries, refusals, and pulls that never skip an entry
//! while several devices ingest at once and a slow transaction holds a customer's head.

mod common;

use std::collections::BTreeMap;
use std::sync::Arc;

use common::request;
use kagiya_core::directory::CredentialKind;
use kagiya_core::event::{first_broken, EventKind, StoredEvent};
use kagiya_core::lockout::LockStatus;
use kagiya_engine::port::Port;
use kagiya_server::devices::{self, Pulled};
use kagiya_server::store::PgPort;
use kagiya_sync::op::{request_message, DEVICE_GENESIS};
use kagiya_sync::{DeviceKey, Op, OpDraft};
use serde_json::{json, Value};

const CUSTOMER: &str = "K-1001";
const CHAIN: &str = "k-1001";

fn now() -> kagiya_core::Millis {
    kagiya_engine::Clock::now(&kagiya_engine::SystemClock)
}

struct Server {
    addr: std::net::SocketAddr,
    port: Arc<PgPort>,
    pool: deadpool_postgres::Pool,
}

async fn start() -> Server {
    let (addr, port, url) = common::demo_server(
        "[throttle]\nper_source_per_minute = 100000\nper_login_id_per_minute = 100000\n",
    )
    .await;
    let pool = kagiya_server::db::pool(&url, 8).unwrap();
    Server { addr, port, pool }
}

/// A branch PC as the sync client is: its key, its device ID once enrolled, its op chain and
/// its cursor.
struct Device {
    key: DeviceKey,
    id: String,
    last_seq: i64,
    last_hash: String,
    cursor: BTreeMap<String, i64>,
    pulled: Vec<Pulled>,
}

impl Device {
    fn new() -> Device {
        Device {
            key: DeviceKey::generate(),
            id: String::new(),
            last_seq: 0,
            last_hash: DEVICE_GENESIS.to_owned(),
            cursor: BTreeMap::new(),
            pulled: Vec::new(),
        }
    }

    fn op(&mut self, event: EventKind) -> Op {
        let draft = OpDraft {
            op_id: format!("{}-{}", self.id, self.last_seq + 1),
            customer: CUSTOMER.into(),
            base_seq: self.cursor.get(CHAIN).copied().unwrap_or(0),
            operator: Some("op101".into()),
            at: now(),
            event,
        };
        let op = self
            .key
            .seal(&self.id, self.last_seq, &self.last_hash, draft);
        self.last_seq = op.device_seq;
        self.last_hash = op.hash.clone();
        op
    }
}

impl Server {
    async fn post(&self, path: &str, lang: &str, headers: &str, body: &str) -> (u16, Value) {
        let head = format!(
            "POST {path} HTTP/1.1\r\nHost: x\r\nAccept-Language: {lang}\r\n{headers}\
             Content-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
            body.len()
        );
        let (status, _, text) = request(self.addr, &head, body.as_bytes()).await;
        (status, serde_json::from_str(&text).unwrap_or(Value::Null))
    }

    /// A request signed by `d` at `time`.
    async fn signed(&self, d: &Device, path: &str, time: i64, body: &Value) -> (u16, Value) {
        let body = body.to_string();
        let sig = d
            .key
            .sign(&request_message("POST", path, time, body.as_bytes()));
        let headers = format!(
            "kagiya-device: {}\r\nkagiya-time: {time}\r\nkagiya-signature: {sig}\r\n",
            d.id
        );
        self.post(path, "ja", &headers, &body).await
    }

    async fn enroll(&self, d: &mut Device, branch: &str) {
        let code = devices::issue_code(&self.pool, branch, &[CUSTOMER.into()], now())
            .await
            .unwrap();
        let typed = code.to_lowercase();
        let sig = d.key.sign(code.replace('-', "").as_bytes());
        let body = json!({"code": typed, "public_key": d.key.public(), "signature": sig});
        let (status, v) = self
            .post("/v1/sync/enroll", "en", "", &body.to_string())
            .await;
        assert_eq!(status, 200, "{v}");
        assert_eq!(v["branch"], branch);
        assert_eq!(v["customers"], json!([CHAIN]));
        d.id = v["device_id"].as_str().unwrap().to_owned();
        // The code works once: the same answer as a wrong one, in the client's language.
        let (status, v) = self
            .post("/v1/sync/enroll", "ja", "", &body.to_string())
            .await;
        assert_eq!(
            (status, v["code"].as_str()),
            (401, Some("sync.code_refused"))
        );
        assert!(v["message"].as_str().unwrap().contains("登録コード"));
    }

    async fn push(&self, d: &Device, ops: &[Op]) -> (u16, Value) {
        self.signed(d, "/v1/sync/push", now(), &json!({ "ops": ops }))
            .await
    }

    /// Pulls until nothing more is waiting; checks each entry continues its chain.
    async fn pull(&self, d: &mut Device) {
        loop {
            let (status, v) = self
                .signed(
                    d,
                    "/v1/sync/pull",
                    now(),
                    &json!({"cursor": d.cursor, "limit": 7}),
                )
                .await;
            assert_eq!(status, 200, "{v}");
            let entries: Vec<Pulled> = serde_json::from_value(v["entries"].clone()).unwrap();
            for e in entries {
                let last = d.cursor.entry(e.customer.clone()).or_insert(0);
                assert_eq!(e.seq, *last + 1, "no entry is skipped or repeated");
                *last = e.seq;
                d.pulled.push(e);
            }
            if v["more"] == false {
                break;
            }
        }
    }

    async fn sign_in(&self, id: &str, password: &str) -> u16 {
        let body = json!({"login_id": id, "password": password}).to_string();
        self.post("/v1/sign-in", "en", "", &body).await.0
    }

    async fn login_status(&self, id: &'static str) -> LockStatus {
        let port = self.port.clone();
        tokio::task::spawn_blocking(move || {
            let mut out = None;
            port.read(&mut |r| {
                let u = r.user(id)?.unwrap();
                let t = r.tenant(&u.contract_no)?.unwrap();
                out = Some(
                    t.policy(CredentialKind::Login)
                        .lockout
                        .status(&u.login.lockout, now()),
                );
                Ok(())
            })
            .unwrap();
            out.unwrap()
        })
        .await
        .unwrap()
    }

    async fn chain_len(&self) -> i64 {
        let c = self.pool.get().await.unwrap();
        c.query_one("SELECT seq FROM chains WHERE chain = $1", &[&CHAIN])
            .await
            .unwrap()
            .get(0)
    }
}

fn as_stored(p: &[Pulled]) -> Vec<StoredEvent> {
    p.iter()
        .map(|e| StoredEvent {
            seq: e.seq,
            at: e.at,
            actor: e.actor.clone(),
            kind: e.kind.clone(),
            body: e.body.clone(),
            prev_hash: e.prev_hash.clone(),
            hash: e.hash.clone(),
        })
        .collect()
}

fn unlock(id: &str) -> EventKind {
    EventKind::UserUnlocked {
        login_id: id.into(),
        credentials: vec![CredentialKind::Login],
        batch: None,
        kept_failures: Vec::new(),
    }
}

/// The branch unlocks a user it saw locked, offline; meanwhile the user keeps failing online.
/// Seed 004: 「誤ったログインパスワードを一定回数入力すると、一時的に利用停止の状態になります」 — the
/// failures the branch never saw still count after its unlock, and lock again.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn an_offline_unlock_keeps_the_failures_made_online_meanwhile() {
    let s = start().await;
    let mut a = Device::new();
    s.enroll(&mut a, "minato-branch").await;
    s.pull(&mut a).await;
    // Only the branch's customer, verified link by link from the genesis.
    assert!(a.pulled.iter().all(|e| e.customer == CHAIN));
    assert_eq!(first_broken(&as_stored(&a.pulled)), None);

    for _ in 0..5 {
        assert_eq!(s.sign_in("minato-sato", "wrong-password-1").await, 401);
    }
    assert!(s.login_status("minato-sato").await.is_locked());
    s.pull(&mut a).await;
    let op = a.op(unlock("minato-sato"));
    // Online meanwhile: two more wrong passwords, refused while locked.
    for _ in 0..2 {
        assert_eq!(s.sign_in("minato-sato", "wrong-password-2").await, 401);
    }
    let (status, v) = s.push(&a, std::slice::from_ref(&op)).await;
    assert_eq!(status, 200, "{v}");
    let out = &v["outcomes"][0];
    assert_eq!(out["outcome"], "applied");
    assert_eq!(
        out["reason"],
        json!({"code": "failures_kept", "failures": 2})
    );
    assert_eq!(
        s.login_status("minato-sato").await,
        LockStatus::Open { failures: 2 }
    );
    // A retry returns the stored outcome and records nothing.
    let before = s.chain_len().await;
    let (status, again) = s.push(&a, std::slice::from_ref(&op)).await;
    assert_eq!((status, &again), (200, &v));
    assert_eq!(s.chain_len().await, before);
    // Three more wrong passwords lock: the two the branch never saw were not lost.
    for _ in 0..3 {
        s.sign_in("minato-sato", "wrong-password-3").await;
    }
    assert!(s.login_status("minato-sato").await.is_locked());
    // The branch's replica folds to the server's state; the tables are the fold of the chains.
    s.pull(&mut a).await;
    assert_eq!(first_broken(&as_stored(&a.pulled)), None);
    let unlock_entry = a.pulled.iter().find(|e| e.kind == "user_unlocked").unwrap();
    assert!(unlock_entry.body.contains("kept_failures"));
    assert_eq!(
        unlock_entry.actor.as_deref(),
        Some("branch:minato-branch/op101"),
        "named as the branch's operator, never as one of the server's own actors"
    );
    let report = kagiya_server::check::run(&s.pool).await.unwrap();
    assert!(report.ok(), "{report:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn gaps_forgeries_skewed_clocks_and_revoked_devices_are_refused() {
    let s = start().await;
    let mut a = Device::new();
    s.enroll(&mut a, "minato-branch").await;
    s.pull(&mut a).await;
    let op1 = a.op(EventKind::UserSuspended {
        login_id: "minato-kato".into(),
    });
    let op2 = a.op(EventKind::UserResumed {
        login_id: "minato-kato".into(),
    });
    // A gap: op 2 without op 1.
    let (status, v) = s.push(&a, std::slice::from_ref(&op2)).await;
    assert_eq!(
        (status, v["code"].as_str(), &v["expected"]),
        (409, Some("sync.gap"), &json!(1))
    );
    // A forged op: changed after signing.
    let mut forged = op1.clone();
    forged.draft.operator = Some("sv999".into());
    let (status, v) = s.push(&a, &[forged]).await;
    assert_eq!((status, v["code"].as_str()), (422, Some("sync.op_forged")));
    // A request signed by another key, and one from a clock ten minutes off.
    let mut other = Device::new();
    other.id = a.id.clone();
    let (status, v) = s.push(&other, std::slice::from_ref(&op1)).await;
    assert_eq!(
        (status, v["code"].as_str()),
        (401, Some("sync.device_refused"))
    );
    let (status, v) = s
        .signed(&a, "/v1/sync/push", now() - 600_000, &json!({"ops": [op1]}))
        .await;
    assert_eq!((status, v["code"].as_str()), (401, Some("sync.clock_skew")));
    assert!(v["message"].as_str().unwrap().contains("時計"));
    let before = s.chain_len().await;
    assert_eq!(before, s.chain_len().await, "nothing was recorded");
    // The whole batch in order is taken.
    let (status, v) = s.push(&a, &[op1, op2]).await;
    assert_eq!(status, 200, "{v}");
    assert_eq!(s.chain_len().await, before + 2);
    // Revoked: refused from now on.
    assert!(devices::revoke(&s.pool, &a.id, now()).await.unwrap());
    let op3 = a.op(EventKind::UserSuspended {
        login_id: "minato-kato".into(),
    });
    let (status, _) = s.push(&a, &[op3]).await;
    assert_eq!(status, 401);
    let (status, _) = s
        .signed(&a, "/v1/sync/pull", now(), &json!({"cursor": {}}))
        .await;
    assert_eq!(status, 401);
}

/// Four devices push at once while a slow transaction holds the customer's head and a poller
/// pulls in small pages: the poller never skips a sequence (commit order is sequence order,
/// because every writer takes the head row first), and every op is recorded exactly once.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn concurrent_ingest_never_lets_a_poller_skip_an_entry() {
    let s = Arc::new(start().await);
    let mut poller = Device::new();
    s.enroll(&mut poller, "poller-branch").await;
    s.pull(&mut poller).await;
    let start_len = s.chain_len().await;

    let mut pushers = Vec::new();
    for b in 0..4 {
        let mut d = Device::new();
        s.enroll(&mut d, &format!("branch-{b}")).await;
        s.pull(&mut d).await;
        let s = s.clone();
        pushers.push(tokio::spawn(async move {
            let user = ["minato-sato", "minato-kato"][b % 2];
            for _ in 0..10 {
                let ops: Vec<Op> = (0..3)
                    .map(|_| {
                        d.op(EventKind::UserSuspended {
                            login_id: user.into(),
                        })
                    })
                    .collect();
                let (status, v) = s.push(&d, &ops).await;
                assert_eq!(status, 200, "{v}");
                assert!(v["outcomes"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .all(|o| o["outcome"] == "applied"));
            }
        }));
    }
    // A slow writer: takes the head, waits, then appends and commits.
    let slow = {
        let s = s.clone();
        tokio::spawn(async move {
            for _ in 0..3 {
                let mut c = s.pool.get().await.unwrap();
                let tx = c.transaction().await.unwrap();
                kagiya_server::events::append(
                    &tx,
                    CHAIN,
                    now(),
                    Some("slow"),
                    Some("test"),
                    EventKind::CredentialRefused {
                        attempted_id: "minato-sato".into(),
                        credential: CredentialKind::Login,
                        channel: kagiya_core::directory::Channel::Web,
                        reason: kagiya_core::event::RefusalReason::Suspended,
                    },
                )
                .await
                .unwrap();
                tokio::time::sleep(std::time::Duration::from_millis(250)).await;
                tx.commit().await.unwrap();
            }
        })
    };
    let mut polls = 0;
    while !pushers.iter().all(|p| p.is_finished()) || !slow.is_finished() {
        s.pull(&mut poller).await; // asserts every entry continues the one before
        polls += 1;
        tokio::time::sleep(std::time::Duration::from_millis(5)).await;
    }
    for p in pushers {
        p.await.unwrap();
    }
    slow.await.unwrap();
    s.pull(&mut poller).await;
    let end = s.chain_len().await;
    // 4 devices × 10 pushes × 3 ops, plus the slow writer's 3: each recorded once.
    assert_eq!(end - start_len, 4 * 10 * 3 + 3);
    assert_eq!(poller.cursor[CHAIN], end);
    assert_eq!(first_broken(&as_stored(&poller.pulled)), None);
    assert!(
        polls > 3,
        "the poller polled while the writers wrote ({polls})"
    );
    let report = kagiya_server::check::run(&s.pool).await.unwrap();
    assert!(report.ok(), "{report:?}");
}

/// A device cannot claim to have seen more than it was sent: an unlock whose base_seq is beyond
/// what the server ever sent it is decided at what it was sent, so the failures after that are
/// kept and lock again.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_base_seq_beyond_what_the_device_was_sent_is_not_believed() {
    let s = start().await;
    let mut a = Device::new();
    s.enroll(&mut a, "minato-branch").await;
    s.pull(&mut a).await;
    for _ in 0..5 {
        assert_eq!(s.sign_in("minato-sato", "wrong-password-1").await, 401);
    }
    // Not pulled since: the device never saw those five.
    a.cursor.insert(CHAIN.into(), 1_000_000);
    let op = a.op(unlock("minato-sato"));
    let (status, v) = s.push(&a, &[op]).await;
    assert_eq!(status, 200, "{v}");
    assert_eq!(
        v["outcomes"][0]["reason"],
        json!({"code": "locked_again", "failures": 5})
    );
    assert!(s.login_status("minato-sato").await.is_locked());
}
