//! The sign-in API against a running server over HTTP on a real PostgreSQL, with the demo
//! customers (`kagiya-server demo`): each flow of issue 13 in Japanese and English.

mod common;

use std::sync::Arc;

use common::request;
use kagiya_core::directory::{CredentialKind, Service};
use kagiya_core::event::EventKind;
use kagiya_core::iprules::{IpAction, IpRule, RuleSet};
use kagiya_engine::port::{Change, Port};
use kagiya_server::demo::{BIZ_MAIL_LOGIN_PASSWORD as BIZ, CONFIRMATION_PASSWORD, LOGIN_PASSWORD};
use kagiya_server::store::PgPort;
use serde_json::{json, Value};

/// A server with the demo customers, listening on a free port.
struct Server {
    addr: std::net::SocketAddr,
    port: Arc<PgPort>,
    url: String,
}

async fn start(extra: &str) -> Server {
    let (addr, port, url) = common::demo_server(extra).await;
    Server { addr, port, url }
}

fn now() -> kagiya_core::Millis {
    kagiya_engine::Clock::now(&kagiya_engine::SystemClock)
}

/// High limits: the flows are not about throttling.
const UNTHROTTLED: &str =
    "[throttle]\nper_source_per_minute = 100000\nper_login_id_per_minute = 100000\n";

impl Server {
    /// A JSON call: (status, body, headers).
    async fn call(
        &self,
        method: &str,
        path: &str,
        token: Option<&str>,
        lang: &str,
        body: Option<Value>,
        extra_headers: &str,
    ) -> (u16, Value, String) {
        let body = body.map(|b| b.to_string()).unwrap_or_default();
        let auth = token
            .map(|t| format!("Authorization: Bearer {t}\r\n"))
            .unwrap_or_default();
        let head = format!(
            "{method} {path} HTTP/1.1\r\nHost: x\r\nAccept-Language: {lang}\r\n{auth}{extra_headers}\
             Content-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
            body.len()
        );
        let (status, headers, text) = request(self.addr, &head, body.as_bytes()).await;
        let v = serde_json::from_str(&text).unwrap_or(Value::Null);
        (status, v, headers)
    }

    async fn post(&self, path: &str, token: Option<&str>, lang: &str, body: Value) -> (u16, Value) {
        let (s, v, _) = self.call("POST", path, token, lang, Some(body), "").await;
        (s, v)
    }

    async fn sign_in(&self, id: &str, password: &str, lang: &str) -> (u16, Value) {
        self.post(
            "/v1/sign-in",
            None,
            lang,
            json!({"login_id": id, "password": password}),
        )
        .await
    }

    /// Records events as the branch would (suspensions, IP rules): through the same port.
    async fn record(&self, kinds: Vec<EventKind>) {
        let port = self.port.clone();
        tokio::task::spawn_blocking(move || {
            let changes: Vec<Change> = kinds
                .into_iter()
                .map(|k| Change::event(Some("op:test"), k))
                .collect();
            port.write(now(), "test", &mut |_| Ok(changes.clone()))
        })
        .await
        .unwrap()
        .unwrap();
    }

    /// Turns 2FA on for `login_id` as the engine's flow ends (an OTP address added, 2FA
    /// enrolled on it), recorded directly: the enrolment code's mail is the mail tests' concern.
    async fn enrol_two_factor(&self, login_id: &str) {
        use kagiya_core::directory::Purpose;
        let address = "sato-otp@example.co.jp".to_owned();
        self.record(vec![
            EventKind::AddressAdded {
                login_id: login_id.into(),
                address: address.clone(),
                purposes: vec![Purpose::Otp],
            },
            EventKind::MfaEnrolled {
                login_id: login_id.into(),
                address,
            },
        ])
        .await;
    }

    /// A user's failure count as stored.
    async fn failures(&self, id: &str, kind: CredentialKind) -> u32 {
        let port = self.port.clone();
        let id = id.to_owned();
        tokio::task::spawn_blocking(move || {
            let mut n = 0;
            port.read(&mut |r| {
                n = r.user(&id)?.unwrap().credential(kind).lockout.failures;
                Ok(())
            })
            .unwrap();
            n
        })
        .await
        .unwrap()
    }
}

/// Issue 13: sign-in, the session, sign-out, and the same answer for every wrong attempt — an
/// unknown ID, a wrong password, a suspended user and a locked account with a wrong password
/// (「"locked" is said only after a correct password」), in Japanese and English.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn sign_in_session_sign_out_and_one_answer_for_every_wrong_attempt() {
    let s = start(UNTHROTTLED).await;
    let (status, v) = s.sign_in("minato-sato", LOGIN_PASSWORD, "en").await;
    assert_eq!(status, 200, "{v}");
    assert_eq!(v["stage"], "full");
    let token = v["token"].as_str().unwrap().to_owned();
    assert!(token.len() >= 43, "32 random bytes: {token}");
    let (status, me, _) = s.call("GET", "/v1/me", Some(&token), "en", None, "").await;
    assert_eq!(
        (status, me["login_id"].as_str()),
        (200, Some("minato-sato"))
    );
    let (status, _, _) = s
        .call("POST", "/v1/sign-out", Some(&token), "en", None, "")
        .await;
    assert_eq!(status, 204);
    // A suspension ends the user's sessions for good: resuming them does not bring one back.
    let (_, v) = s.sign_in("minato-sato", LOGIN_PASSWORD, "en").await;
    let live = v["token"].as_str().unwrap().to_owned();
    s.record(vec![EventKind::UserSuspended {
        login_id: "minato-sato".into(),
    }])
    .await;
    s.record(vec![EventKind::UserResumed {
        login_id: "minato-sato".into(),
    }])
    .await;
    assert_eq!(
        s.call("GET", "/v1/me", Some(&live), "en", None, "").await.0,
        401
    );
    assert_eq!(s.sign_in("minato-sato", LOGIN_PASSWORD, "en").await.0, 200);
    let (status, v, _) = s.call("GET", "/v1/me", Some(&token), "ja", None, "").await;
    assert_eq!(status, 401);
    assert_eq!(v["code"], "auth.no_session");
    assert!(v["message"].as_str().unwrap().contains("ログイン"), "{v}");

    // kitahama-ota: Biz Mail locks after 10 wrong passwords.
    for _ in 0..10 {
        assert_eq!(s.sign_in("kitahama-ota", "wrong-1", "en").await.0, 401);
    }
    s.record(vec![EventKind::UserSuspended {
        login_id: "aoba-ito".into(),
    }])
    .await;
    let unknown = s.sign_in("nobody-here", "wrong-1", "ja").await;
    let wrong = s.sign_in("minato-kato", "wrong-1", "ja").await;
    let suspended = s.sign_in("aoba-ito", LOGIN_PASSWORD, "ja").await;
    let locked_wrong = s.sign_in("kitahama-ota", "wrong-1", "ja").await;
    assert_eq!(unknown.0, 401);
    assert_eq!(unknown.1["code"], "auth.invalid_credentials");
    for other in [&wrong, &suspended, &locked_wrong] {
        assert_eq!(other, &unknown, "every wrong attempt gets one answer");
    }
    let en = s.sign_in("nobody-here", "wrong-1", "en").await;
    assert_ne!(
        en.1["message"], unknown.1["message"],
        "the message is in the client's language"
    );
    // Only the right password learns of the lock.
    let (status, v) = s.sign_in("kitahama-ota", BIZ, "ja").await;
    assert_eq!(status, 423, "{v}");
    assert_eq!(v["code"], "auth.credential_locked");
}

/// Seed 004 §2.4: a password set by an administrator must be changed at the next sign-in — the
/// session can do nothing else until the current password and a new one come; then every old
/// session ends and a new one starts. The confirmation password checks a transaction.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_forced_change_comes_first_and_ends_the_old_sessions() {
    let s = start(UNTHROTTLED).await;
    let (status, v) = s.sign_in("minato-admin", LOGIN_PASSWORD, "en").await;
    assert_eq!(status, 200, "{v}");
    assert_eq!(v["stage"], "change");
    assert_eq!(v["must_change"], json!(["login"]));
    let token = v["token"].as_str().unwrap().to_owned();
    let (status, v, _) = s
        .call("GET", "/v1/admin/users", Some(&token), "ja", None, "")
        .await;
    assert_eq!(status, 403);
    assert_eq!(v["code"], "auth.step_required");
    let change = |current: &str| json!({"login": {"current": current, "new": "Hanako77new"}});
    let (status, v) = s
        .post("/v1/me/passwords", Some(&token), "en", change("not-it"))
        .await;
    assert_eq!(status, 401, "{v}");
    let (status, v) = s
        .post(
            "/v1/me/passwords",
            Some(&token),
            "en",
            change(LOGIN_PASSWORD),
        )
        .await;
    assert_eq!(status, 200, "{v}");
    assert_eq!(v["stage"], "full");
    let fresh = v["token"].as_str().unwrap().to_owned();
    assert_eq!(
        s.call("GET", "/v1/me", Some(&token), "en", None, "")
            .await
            .0,
        401
    );
    assert_eq!(
        s.call("GET", "/v1/me", Some(&fresh), "en", None, "")
            .await
            .0,
        200
    );
    // The old password no longer signs in; the new one does.
    assert_eq!(s.sign_in("minato-admin", LOGIN_PASSWORD, "en").await.0, 401);
    assert_eq!(s.sign_in("minato-admin", "Hanako77new", "en").await.0, 200);

    let (status, v) = s
        .post(
            "/v1/me/confirm",
            Some(&fresh),
            "ja",
            json!({"confirmation": "wrong"}),
        )
        .await;
    assert_eq!(status, 401);
    assert_eq!(v["code"], "auth.confirmation_failed");
    let (status, v) = s
        .post(
            "/v1/me/confirm",
            Some(&fresh),
            "ja",
            json!({"confirmation": CONFIRMATION_PASSWORD}),
        )
        .await;
    assert_eq!((status, &v["confirmed"]), (200, &json!(true)), "{v}");
}

/// Seed 004 §2.2/§2.3 as API: a master lists the company's users with states, unlocks several at
/// once with their own confirmation password and gets the result table (another company's user
/// is answered like an unknown one), and sets a user's password with a forced change — which
/// ends that user's session.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_customers_master_unlocks_several_and_resets_a_password() {
    let s = start(UNTHROTTLED).await;
    // Business Web: 5 wrong passwords stop minato-sato for a while.
    for _ in 0..5 {
        assert_eq!(s.sign_in("minato-sato", "wrong-1", "en").await.0, 401);
    }
    let (_, v) = s.sign_in("minato-kato", LOGIN_PASSWORD, "en").await;
    let kato = v["token"].as_str().unwrap().to_owned();
    let (_, v) = s.sign_in("minato-master", LOGIN_PASSWORD, "ja").await;
    let master = v["token"].as_str().unwrap().to_owned();
    let (status, v, _) = s
        .call("GET", "/v1/admin/users", Some(&master), "ja", None, "")
        .await;
    assert_eq!(status, 200, "{v}");
    let users = v["users"].as_array().unwrap();
    assert_eq!(users.len(), 4, "only the company's own users: {v}");
    let sato = users
        .iter()
        .find(|u| u["login_id"] == "minato-sato")
        .unwrap();
    assert_eq!(sato["login"]["locked"], true, "{sato}");
    assert!(
        sato["service_state"].as_str().unwrap().contains("停止"),
        "{sato}"
    );
    // A general user may not see the list.
    let (status, _, _) = s
        .call("GET", "/v1/admin/users", Some(&kato), "en", None, "")
        .await;
    assert_eq!(status, 403);
    // Nor buy it with their own confirmation password through an unlock, nor reset anyone.
    let (status, v) = s
        .post(
            "/v1/admin/unlock",
            Some(&kato),
            "en",
            json!({"login_ids": ["minato-master"], "confirmation": CONFIRMATION_PASSWORD}),
        )
        .await;
    assert_eq!(status, 403, "{v}");
    let (status, _) = s
        .post(
            "/v1/admin/passwords",
            Some(&kato),
            "en",
            json!({"login_id": "minato-sato", "confirmation": CONFIRMATION_PASSWORD,
                   "login_password": {"force_change": true}}),
        )
        .await;
    assert_eq!(status, 403);

    let unlock = |conf: &str| json!({"login_ids": ["minato-sato", "kitahama-ota", "nobody-here"], "confirmation": conf});
    let (status, v) = s
        .post("/v1/admin/unlock", Some(&master), "ja", unlock("wrong"))
        .await;
    assert_eq!(status, 401);
    assert_eq!(v["code"], "auth.confirmation_failed");
    let (status, v) = s
        .post(
            "/v1/admin/unlock",
            Some(&master),
            "ja",
            unlock(CONFIRMATION_PASSWORD),
        )
        .await;
    assert_eq!(status, 200, "{v}");
    let rows = v["rows"].as_array().unwrap();
    assert_eq!(rows[0]["outcome"], "unlocked");
    assert_eq!(
        rows[1]["outcome"], "not_found",
        "another company's user: {v}"
    );
    assert_eq!(rows[1]["name"], "", "nothing of another company is shown");
    assert_eq!(rows[2]["outcome"], "not_found");
    assert_eq!(s.failures("minato-sato", CredentialKind::Login).await, 0);
    assert_eq!(s.sign_in("minato-sato", LOGIN_PASSWORD, "en").await.0, 200);

    let (status, v) = s
        .post(
            "/v1/admin/passwords",
            Some(&master),
            "en",
            json!({"login_id": "minato-kato", "confirmation": CONFIRMATION_PASSWORD,
                   "login_password": {"force_change": true}}),
        )
        .await;
    assert_eq!(status, 200, "{v}");
    let generated = v["generated_login_password"].as_str().unwrap().to_owned();
    assert_eq!(
        s.call("GET", "/v1/me", Some(&kato), "en", None, "").await.0,
        401
    );
    let (status, v) = s.sign_in("minato-kato", &generated, "en").await;
    assert_eq!((status, v["stage"].as_str()), (200, Some("change")), "{v}");
    // Another company's user: not found, as if there were none.
    let (status, v) = s
        .post(
            "/v1/admin/passwords",
            Some(&master),
            "en",
            json!({"login_id": "kitahama-ota", "confirmation": CONFIRMATION_PASSWORD,
                   "login_password": {"force_change": true}}),
        )
        .await;
    assert_eq!(status, 404, "{v}");
}

/// Seed 000: 「一定時間内に誤ったパスワードで3回以上のリクエストでアカウントがロックされ、全ての
/// リクエストで認証エラーとなります」 — the API channel, and the web with it.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn three_wrong_api_requests_lock_the_whole_account() {
    let s = start(UNTHROTTLED).await;
    let api = |pw: &str| json!({"login_id": "iroha-api", "password": pw});
    let (status, v) = s
        .post("/v1/api/authenticate", None, "en", api(LOGIN_PASSWORD))
        .await;
    assert_eq!((status, &v["authenticated"]), (200, &json!(true)), "{v}");
    for _ in 0..3 {
        assert_eq!(
            s.post("/v1/api/authenticate", None, "en", api("x")).await.0,
            401
        );
    }
    let (status, v) = s
        .post("/v1/api/authenticate", None, "ja", api(LOGIN_PASSWORD))
        .await;
    assert_eq!(status, 423, "{v}");
    // The whole account: the web too.
    assert_eq!(s.sign_in("iroha-api", LOGIN_PASSWORD, "en").await.0, 423);
}

/// Seed 002: the Web member site signs in with login ID, address and password.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_web_member_signs_in_with_the_address_too() {
    let s = start(UNTHROTTLED).await;
    assert_eq!(s.sign_in("aoba-master", LOGIN_PASSWORD, "en").await.0, 401);
    let with = |address: &str| json!({"login_id": "aoba-master", "address": address, "password": LOGIN_PASSWORD});
    assert_eq!(
        s.post("/v1/sign-in", None, "en", with("someone@example.co.jp"))
            .await
            .0,
        401
    );
    let (status, v) = s
        .post("/v1/sign-in", None, "en", with("aoba-master@example.co.jp"))
        .await;
    assert_eq!(status, 200, "{v}");
}

/// IP rules before any password: a refused source neither signs in nor counts a failure, and the
/// forwarded address is believed only from a configured proxy.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_refused_address_cannot_sign_in_or_lock_and_only_proxies_are_believed() {
    let s = start(&format!(
        "trusted_proxies = [\"127.0.0.1/32\"]\n{UNTHROTTLED}"
    ))
    .await;
    let office = RuleSet {
        rules: vec![IpRule {
            action: IpAction::Allow,
            net: "10.1.0.0/16".parse().unwrap(),
            note: "office".into(),
        }],
        default: IpAction::Deny,
        allowed_countries: None,
    };
    s.record(vec![EventKind::IpRulesSet {
        contract_no: "K-1002".into(),
        service: Service::UserWeb,
        rules: office,
    }])
    .await;
    let body = json!({"login_id": "kitahama-ota", "password": BIZ}).to_string();
    let from = |xff: &'static str| {
        let body = body.clone();
        let s = &s;
        async move {
            s.call(
                "POST",
                "/v1/sign-in",
                None,
                "en",
                Some(serde_json::from_str(&body).unwrap()),
                xff,
            )
            .await
            .0
        }
    };
    // The peer itself (127.0.0.1) is outside the office: refused even with the right password.
    assert_eq!(from("").await, 401);
    for _ in 0..12 {
        let (status, _, _) = s
            .call(
                "POST",
                "/v1/sign-in",
                None,
                "en",
                Some(json!({"login_id": "kitahama-ota", "password": "guess"})),
                "X-Forwarded-For: 198.51.100.7\r\n",
            )
            .await;
        assert_eq!(status, 401);
    }
    assert_eq!(
        s.failures("kitahama-ota", CredentialKind::Login).await,
        0,
        "a refused source locks no one"
    );
    // Through the trusted proxy, from the office.
    assert_eq!(from("X-Forwarded-For: 10.1.2.3\r\n").await, 200);
    // A client's own garbage left of the proxy's entry changes nothing (still the client's
    // address, still refused); garbage where the client's address should be is refused outright.
    assert_eq!(from("X-Forwarded-For: x, 198.51.100.7\r\n").await, 401);
    let right = json!({"login_id": "kitahama-ota", "password": BIZ});
    let (status, v, _) = s
        .call(
            "POST",
            "/v1/sign-in",
            None,
            "ja",
            Some(right.clone()),
            "X-Forwarded-For: nonsense\r\n",
        )
        .await;
    assert_eq!(
        (status, v["code"].as_str()),
        (400, Some("input.forwarded_for")),
        "{v}"
    );
    // The rules hold for every request of a session, not only its sign-in.
    let office = "X-Forwarded-For: 10.1.2.3\r\n";
    let elsewhere = "X-Forwarded-For: 198.51.100.7\r\n";
    let (_, v, _) = s
        .call("POST", "/v1/sign-in", None, "en", Some(right), office)
        .await;
    let token = v["token"].as_str().unwrap().to_owned();
    assert_eq!(
        s.call("GET", "/v1/me", Some(&token), "en", None, office)
            .await
            .0,
        200
    );
    let (status, v, _) = s
        .call("GET", "/v1/me", Some(&token), "ja", None, elsewhere)
        .await;
    assert_eq!(
        (status, v["code"].as_str()),
        (403, Some("auth.address_refused")),
        "{v}"
    );
    // The counters are for this host only: through the proxy from outside, there is no page.
    assert_eq!(
        s.call("GET", "/metrics", None, "en", None, elsewhere)
            .await
            .0,
        404
    );
    assert_eq!(s.call("GET", "/metrics", None, "en", None, "").await.0, 200);
    let _ = &s.url;
}

/// Throttling in front of the lockouts: past the per-ID allowance the answer is "try again
/// later" with Retry-After, for an ID that exists and one that does not alike, and nothing is
/// counted.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_flood_on_one_id_is_throttled_before_it_counts() {
    let s = start("[throttle]\nper_source_per_minute = 1000\nper_login_id_per_minute = 3\n").await;
    for id in ["minato-kato", "nobody-here"] {
        for _ in 0..3 {
            assert_eq!(s.sign_in(id, "wrong-1", "en").await.0, 401);
        }
        let (status, v, head) = s
            .call(
                "POST",
                "/v1/sign-in",
                None,
                "ja",
                Some(json!({"login_id": id.to_uppercase(), "password": "wrong-1"})),
                "",
            )
            .await;
        assert_eq!(status, 429, "{v}");
        assert_eq!(v["code"], "auth.throttled");
        assert!(head.contains("retry-after: "), "{head}");
    }
    assert_eq!(s.failures("minato-kato", CredentialKind::Login).await, 3);
}

/// Bad input: malformed, mistyped, oversized and non-JSON bodies are refused with `{code,
/// message}` and change nothing; the OpenAPI document lists the routes.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn bad_bodies_get_clear_errors_and_the_openapi_document_is_served() {
    let s = start(UNTHROTTLED).await;
    let raw = |body: &'static [u8], ctype: &'static str| {
        let addr = s.addr;
        async move {
            let head = format!(
                "POST /v1/sign-in HTTP/1.1\r\nHost: x\r\nAccept-Language: ja\r\nContent-Type: {ctype}\r\n\
                 Content-Length: {}\r\nConnection: close\r\n\r\n",
                body.len()
            );
            let (status, _, text) = request(addr, &head, body).await;
            let v: Value = serde_json::from_str(&text).unwrap_or(Value::Null);
            (status, v["code"].as_str().unwrap_or("").to_owned())
        }
    };
    assert_eq!(
        raw(b"{\"login_id\": ", "application/json").await,
        (400, "input.malformed".into())
    );
    assert_eq!(
        raw(
            b"{\"login_id\": 5, \"password\": \"x\"}",
            "application/json"
        )
        .await,
        (422, "input.invalid_fields".into())
    );
    assert_eq!(
        raw(b"login_id=x", "text/plain").await,
        (415, "input.not_json".into())
    );
    let big: &'static [u8] = Box::leak(vec![b' '; 100 * 1024].into_boxed_slice());
    assert_eq!(
        raw(big, "application/json").await,
        (413, "input.too_large".into())
    );
    assert_eq!(s.failures("minato-kato", CredentialKind::Login).await, 0);

    // A user of a customer the server does not have is refused by name, not as a storage fault
    // (the foreign key's violation, read by the port's one error mapping).
    let port = s.port.clone();
    let refused = tokio::task::spawn_blocking(move || {
        let kind = EventKind::UserCreated {
            login_id: "stray-user".into(),
            contract_no: "K-9999".into(),
            name: "迷子".into(),
            role: kagiya_core::directory::UserRole::General,
            email: None,
        };
        let changes = vec![Change::event(Some("op:test"), kind)];
        port.write(now(), "test", &mut |_| Ok(changes.clone()))
    })
    .await
    .unwrap();
    assert_eq!(refused, Err(kagiya_core::Error::UnknownTenant));
    // A NUL character (which PostgreSQL's text cannot hold) is just a wrong ID.
    let (status, v) = s.sign_in("minato\u{0}kato", "wrong-1", "en").await;
    assert_eq!(
        (status, v["code"].as_str()),
        (401, Some("auth.invalid_credentials")),
        "{v}"
    );

    let (status, v, _) = s.call("GET", "/openapi.json", None, "en", None, "").await;
    assert_eq!(status, 200);
    for path in [
        "/v1/sign-in",
        "/v1/sign-in/code",
        "/v1/me/passwords",
        "/v1/admin/unlock",
    ] {
        assert!(v["paths"][path].is_object(), "{path} in the document");
    }
}

/// Unknown IDs and wrong passwords of known ones: the same body, and the same cost — medians of
/// interleaved attempts within 5 % of each other (issue 13, "no enumeration").
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn unknown_and_known_ids_cost_the_same() {
    let s = start(UNTHROTTLED).await;
    let mut unknown = Vec::new();
    let mut known = Vec::new();
    let mut bodies = std::collections::HashSet::new();
    // Warm both paths (connections, the first chain rows).
    s.sign_in("nobody-0", "wrong-1", "en").await;
    s.sign_in("kitahama-ota", "wrong-1", "en").await;
    for i in 0..40 {
        let t = std::time::Instant::now();
        let a = s.sign_in(&format!("nobody-{i}"), "wrong-1", "en").await;
        unknown.push(t.elapsed());
        let t = std::time::Instant::now();
        let b = s.sign_in("kitahama-ota", "wrong-1", "en").await;
        known.push(t.elapsed());
        bodies.insert(a.1.to_string());
        bodies.insert(b.1.to_string());
    }
    assert_eq!(bodies.len(), 1, "one body for both: {bodies:?}");
    let median = |v: &mut Vec<std::time::Duration>| {
        v.sort();
        v[v.len() / 2].as_secs_f64()
    };
    let (u, k) = (median(&mut unknown), median(&mut known));
    let gap = (u - k).abs() / u.max(k);
    eprintln!(
        "median unknown {:.1} ms, known {:.1} ms, gap {:.1} %",
        u * 1e3,
        k * 1e3,
        gap * 100.0
    );
    assert!(gap <= 0.05, "unknown {u:.4}s vs known {k:.4}s");
}

/// Seed 002 「ワンタイムパスワード認証」 as API: a user with 2FA on gets a session that can do nothing
/// but answer the code mailed to their one-time-password address (「同時に、お客様メールアドレスに
/// 「ワンタイムパスワード通知」メールが届きます」, captured from the real SMTP server); a wrong code is
/// refused, the right one gives a new, full session.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_user_with_two_factors_answers_the_code_before_anything_else() {
    let mail = common::TestMail::new();
    let s = start(&format!("{UNTHROTTLED}\n{}", mail.toml(false))).await;
    s.enrol_two_factor("minato-sato").await;

    let (status, v) = s.sign_in("minato-sato", LOGIN_PASSWORD, "en").await;
    assert_eq!((status, v["stage"].as_str()), (200, Some("code")), "{v}");
    let pending = v["token"].as_str().unwrap().to_owned();
    let (status, v, _) = s
        .call("GET", "/v1/admin/users", Some(&pending), "en", None, "")
        .await;
    assert_eq!(
        (status, v["code"].as_str()),
        (403, Some("auth.step_required"))
    );
    // A password alone shows nothing of the user either.
    let (status, _, _) = s
        .call("GET", "/v1/me", Some(&pending), "en", None, "")
        .await;
    assert_eq!(status, 403);
    let mails = mail
        .wait_for("sato-otp@example.co.jp", 1, 20, |c| {
            c.subject().contains("ワンタイムパスワード通知")
        })
        .await;
    assert_eq!(mails.len(), 1, "one code mailed");
    let code = mails[0].code().expect("the mail carries the code");
    let wrong = if code == "000000" { "111111" } else { "000000" };
    let (status, v) = s
        .post(
            "/v1/sign-in/code",
            Some(&pending),
            "ja",
            json!({"code": wrong}),
        )
        .await;
    assert_eq!(
        (status, v["code"].as_str()),
        (401, Some("auth.one_time_refused")),
        "{v}"
    );
    let (status, v) = s
        .post(
            "/v1/sign-in/code",
            Some(&pending),
            "en",
            json!({"code": code}),
        )
        .await;
    assert_eq!((status, v["stage"].as_str()), (200, Some("full")), "{v}");
    let full = v["token"].as_str().unwrap().to_owned();
    assert_eq!(
        s.call("GET", "/v1/me", Some(&pending), "en", None, "")
            .await
            .0,
        401
    );
    assert_eq!(
        s.call("GET", "/v1/me", Some(&full), "en", None, "").await.0,
        200
    );
    // The code is spent.
    let (status, _) = s.sign_in("minato-sato", LOGIN_PASSWORD, "en").await;
    assert_eq!(status, 200);
}

/// Without mail, a user with 2FA is told the code cannot be sent (after the right password only).
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn without_mail_two_factor_users_are_told_the_code_cannot_be_sent() {
    let s = start(UNTHROTTLED).await;
    s.enrol_two_factor("minato-sato").await;
    assert_eq!(s.sign_in("minato-sato", "wrong-1", "en").await.0, 401);
    let (status, v) = s.sign_in("minato-sato", LOGIN_PASSWORD, "ja").await;
    assert_eq!(
        (status, v["code"].as_str()),
        (503, Some("mail.unavailable")),
        "{v}"
    );
}

/// Seed 004 §2.5 (パスワードの有効期限切れ) as API: expired passwords must be changed, each with its
/// current one, before anything else; the session says which are still owed after each change.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn expired_passwords_are_changed_one_by_one_before_anything_else() {
    let s = start(UNTHROTTLED).await;
    let hasher = kagiya_core::password::PasswordHasher::new(Default::default()).unwrap();
    let expired = |credential, pw: &str| EventKind::PasswordSet {
        login_id: "minato-sato".into(),
        credential,
        hash: hasher.hash(&kagiya_core::secret::Secret::new(pw)).unwrap(),
        reason: kagiya_core::event::PasswordSetReason::Initial,
        must_change: false,
        temporary: false,
        expires_at: Some(now() - 60_000),
        exception: None,
    };
    s.record(vec![
        expired(CredentialKind::Login, LOGIN_PASSWORD),
        expired(CredentialKind::Confirmation, CONFIRMATION_PASSWORD),
    ])
    .await;
    let (status, v) = s.sign_in("minato-sato", LOGIN_PASSWORD, "ja").await;
    assert_eq!(status, 200, "{v}");
    assert_eq!(v["stage"], "change");
    assert_eq!(v["must_change"], json!(["login", "confirmation"]));
    let token = v["token"].as_str().unwrap().to_owned();
    let (status, _) = s
        .post(
            "/v1/me/confirm",
            Some(&token),
            "en",
            json!({"confirmation": CONFIRMATION_PASSWORD}),
        )
        .await;
    assert_eq!(status, 403, "no transaction before the change");
    let (status, v) = s
        .post(
            "/v1/me/passwords",
            Some(&token),
            "en",
            json!({"login": {"current": LOGIN_PASSWORD, "new": "Sato2027new"}}),
        )
        .await;
    assert_eq!(status, 200, "{v}");
    assert_eq!(
        v["stage"], "change",
        "the confirmation password is still owed"
    );
    assert_eq!(v["must_change"], json!(["confirmation"]));
    let token = v["token"].as_str().unwrap().to_owned();
    let (status, v) = s
        .post(
            "/v1/me/passwords",
            Some(&token),
            "ja",
            json!({"confirmation": {"current": CONFIRMATION_PASSWORD, "new": "Kaku2027new"}}),
        )
        .await;
    assert_eq!(status, 200, "{v}");
    assert_eq!(
        (v["stage"].as_str(), &v["must_change"]),
        (Some("full"), &json!([]))
    );
    let token = v["token"].as_str().unwrap().to_owned();
    let (status, _) = s
        .post(
            "/v1/me/confirm",
            Some(&token),
            "en",
            json!({"confirmation": "Kaku2027new"}),
        )
        .await;
    assert_eq!(status, 200);
}
