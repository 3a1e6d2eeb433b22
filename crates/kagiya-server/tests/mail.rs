//! Issue 15: the mails, end to end, through the API and a real SMTP server (aiosmtpd with
//! STARTTLS or implicit TLS and AUTH, `scripts/with-smtp.sh`), read back byte for byte and
//! checked with OpenSSL's `cms` as the peer — signed by the service, encrypted to an address that
//! asks for it, held when that address's certificate cannot be used — and seed 001's
//! registration by signed mail made with `openssl cms -sign`. Faults of the mail server (refusing
//! for now, for good, slow, down) are set per test through the server's knobs.

mod common;

use std::sync::Arc;
use std::time::Duration;

use base64::Engine as _;
use common::{Captured, Demo, TestMail};
use kagiya_core::directory::Purpose;
use kagiya_core::event::EventKind;
use kagiya_core::secret::Secret;
use kagiya_engine::port::{Change, Port};
use kagiya_engine::{ActorRef, Engine};
use kagiya_server::demo::LOGIN_PASSWORD;
use serde_json::{json, Value};

struct S {
    d: Demo,
    mail: TestMail,
}

/// Interfax's (seed 000) demo user, and its customer's login password.
const IROHA: &str = "iroha-master";

async fn start(mail: TestMail, mail_toml: String) -> S {
    let throttle = "[throttle]\nper_source_per_minute = 100000\nper_login_id_per_minute = 100000\n";
    let d = common::demo_server_full(&format!("{throttle}\n{mail_toml}")).await;
    S { d, mail }
}

fn now() -> kagiya_core::Millis {
    kagiya_engine::Clock::now(&kagiya_engine::SystemClock)
}

impl S {
    async fn post(&self, path: &str, token: Option<&str>, lang: &str, body: Value) -> (u16, Value) {
        let body = body.to_string();
        let auth = token
            .map(|t| format!("Authorization: Bearer {t}\r\n"))
            .unwrap_or_default();
        let head = format!(
            "POST {path} HTTP/1.1\r\nHost: x\r\nAccept-Language: {lang}\r\n{auth}\
             Content-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
            body.len()
        );
        let (status, _, text) = common::request(self.d.addr, &head, body.as_bytes()).await;
        (status, serde_json::from_str(&text).unwrap_or(Value::Null))
    }

    async fn sign_in(&self, login_id: &str, password: &str, address: Option<&str>) -> (u16, Value) {
        let mut body = json!({"login_id": login_id, "password": password});
        if let Some(a) = address {
            body["address"] = json!(a);
        }
        self.post("/v1/sign-in", None, "ja", body).await
    }

    /// Records events as an operator would have.
    async fn record(&self, kinds: Vec<EventKind>) {
        let port = self.d.port.clone();
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

    /// Runs `f` on an engine over the server's own port (mail queued as the server queues it).
    async fn engine<T: Send + 'static>(&self, f: impl FnOnce(&Engine) -> T + Send + 'static) -> T {
        let port = self.d.port.clone();
        tokio::task::spawn_blocking(move || {
            let e = Engine::new(port, "test", Default::default()).unwrap();
            f(&e)
        })
        .await
        .unwrap()
    }

    async fn db(&self) -> tokio_postgres::Client {
        let (client, conn) = tokio_postgres::connect(&self.d.url, tokio_postgres::NoTls)
            .await
            .unwrap();
        tokio::spawn(conn);
        client
    }

    /// The outbox rows to `to`: (kind, state, attempts, last error).
    async fn outbox(&self, to: &str) -> Vec<(String, String, i32, Option<String>)> {
        self.db()
            .await
            .query(
                "SELECT kind, state, attempts, last_error FROM mail_outbox \
                 WHERE lower(recipient) = lower($1) ORDER BY id",
                &[&to],
            )
            .await
            .unwrap()
            .iter()
            .map(|r| (r.get(0), r.get(1), r.get(2), r.get(3)))
            .collect()
    }

    /// Waits until the outbox rows to `to` satisfy `ok` (at most `secs`).
    async fn wait_outbox(
        &self,
        to: &str,
        secs: u64,
        ok: impl Fn(&[(String, String, i32, Option<String>)]) -> bool,
    ) -> Vec<(String, String, i32, Option<String>)> {
        let deadline = std::time::Instant::now() + Duration::from_secs(secs);
        loop {
            let rows = self.outbox(to).await;
            if ok(&rows) || std::time::Instant::now() > deadline {
                return rows;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    /// The kinds of the entries of `chain` (the customer's contract number).
    async fn entry_kinds(&self, chain: &str) -> Vec<String> {
        self.db()
            .await
            .query(
                "SELECT kind FROM events WHERE chain = lower($1) ORDER BY seq",
                &[&chain],
            )
            .await
            .unwrap()
            .iter()
            .map(|r| r.get(0))
            .collect()
    }

    /// Sets a fault knob for this test's sender only (`None` removes it).
    fn knob(&self, name: &str, value: Option<&str>) {
        let dir = self.mail.control.join(&self.mail.from);
        std::fs::create_dir_all(&dir).unwrap();
        match value {
            Some(v) => {
                let tmp = dir.join(format!(".{name}.tmp"));
                std::fs::write(&tmp, v).unwrap();
                std::fs::rename(tmp, dir.join(name)).unwrap();
            }
            None => {
                let _ = std::fs::remove_file(dir.join(name));
            }
        }
    }
}

fn address(login_id: &str, address: &str, purposes: &[Purpose]) -> EventKind {
    EventKind::AddressAdded {
        login_id: login_id.into(),
        address: address.into(),
        purposes: purposes.to_vec(),
    }
}

fn assert_signed(c: &Captured, mail: &TestMail) {
    let (ok, why) = c.verify(&mail.smime);
    assert!(
        ok,
        "openssl cms -verify: {why}\n{}",
        String::from_utf8_lossy(&c.raw)
    );
}

/// Seed 000 【パスワードをお忘れになった場合】: 「ユーザID、登録されているメールアドレスを入力」;
/// 「正しいユーザIDで、且つ、メールアドレスがそのアカウント内に登録されている…いずれかと一致した場合、
/// ご指定のメールアドレスにパスワード変更案内メール…を送信します」; the URL is 「ワンタイム(1回限り)で、
/// 一定時間経過後に無効となります」; 「パスワードの変更(リセット)をおこないますと、以前のパスワードは無効
/// となります」; and while locked 「この状態ではパスワードのリセット機能は利用できません」. The answer
/// never says whether the ID or the address exists.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_password_is_reset_through_the_mailed_link_once_and_never_while_locked() {
    let mail = TestMail::new();
    let toml = mail.toml(false);
    let s = start(mail, toml).await;
    let to = "iroha-fwd@example.co.jp";
    s.record(vec![address(IROHA, to, &[Purpose::Forwarding])])
        .await;

    let ask = |id: &'static str, a: &'static str| {
        let s = &s;
        async move {
            s.post(
                "/v1/password-reset",
                None,
                "ja",
                json!({"login_id": id, "address": a}),
            )
            .await
        }
    };
    let unknown_id = ask("nobody-here", to).await;
    let wrong_address = ask(IROHA, "someone-else@example.co.jp").await;
    let right = ask(IROHA, "IROHA-FWD@example.co.jp").await;
    assert_eq!(right.0, 202, "{:?}", right.1);
    // Asked again at once: the same answer, and no second link (the cooldown).
    assert_eq!(ask(IROHA, to).await, right);
    assert_eq!(unknown_id, right, "the same answer for an unknown ID");
    assert_eq!(
        wrong_address, right,
        "the same answer for an address not registered"
    );

    let mails = s
        .mail
        .wait_for(to, 1, 20, |c| {
            c.subject().ends_with("パスワード変更案内メール")
        })
        .await;
    assert_eq!(mails.len(), 1);
    let m = &mails[0];
    assert_signed(m, &s.mail);
    assert_eq!(m.mode, "starttls");
    assert_eq!(
        m.login,
        std::env::var("KAGIYA_TEST_SMTP_USER").unwrap(),
        "AUTH was used"
    );
    let mid = m.header("Message-ID").unwrap();
    assert!(
        mid.starts_with('<') && mid.ends_with(".kagiya@bank.example>"),
        "{mid}"
    );
    assert!(m.text().contains("ワンタイム(1回限り)"), "{}", m.text());
    // Nothing went anywhere for the two requests that did not match, and one mail for two asks.
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_eq!(s.outbox("someone-else@example.co.jp").await.len(), 0);
    assert_eq!(s.outbox(to).await.len(), 1);

    let link = m.link().unwrap();
    assert!(
        link.starts_with("https://kagiya.test/password-reset?token="),
        "{link}"
    );
    let token = m.token().unwrap();
    // A password the policy refuses changes nothing, and the link still works.
    let (status, v) = s
        .post(
            "/v1/password-reset/complete",
            None,
            "en",
            json!({"token": token, "password": "short"}),
        )
        .await;
    assert_eq!(status, 422, "{v}");
    let new = "Kaigi2027ab";
    let (status, v) = s
        .post(
            "/v1/password-reset/complete",
            None,
            "ja",
            json!({"token": token, "password": new}),
        )
        .await;
    assert_eq!((status, &v["done"]), (200, &json!(true)), "{v}");
    assert_eq!(
        s.sign_in(IROHA, LOGIN_PASSWORD, None).await.0,
        401,
        "the old password no longer works"
    );
    assert_eq!(s.sign_in(IROHA, new, None).await.0, 200);
    // Used once: the same link, or one changed by a character, is refused with a clear message.
    let (status, v) = s
        .post(
            "/v1/password-reset/complete",
            None,
            "ja",
            json!({"token": token, "password": "Other2027ab"}),
        )
        .await;
    assert_eq!(
        (status, v["code"].as_str()),
        (401, Some("auth.one_time_refused")),
        "{v}"
    );
    assert!(
        v["message"]
            .as_str()
            .unwrap()
            .contains("有効期限が切れています"),
        "{v}"
    );
    let mut tampered = token.clone().into_bytes();
    tampered[5] = if tampered[5] == b'A' { b'B' } else { b'A' };
    let (status, _) = s
        .post(
            "/v1/password-reset/complete",
            None,
            "en",
            json!({"token": String::from_utf8(tampered).unwrap(), "password": "Other2027ab"}),
        )
        .await;
    assert_eq!(status, 401);

    // A new link, used after its time (an engine whose clock is 31 minutes ahead): refused.
    assert_eq!(ask(IROHA, to).await, right);
    let mails = s
        .mail
        .wait_for(to, 2, 20, |c| {
            c.subject().ends_with("パスワード変更案内メール")
        })
        .await;
    let late_token = mails[1].token().unwrap();
    let port = s.d.port.clone();
    let late = tokio::task::spawn_blocking(move || {
        let clock = Arc::new(kagiya_engine::DriftingClock::new(now() + 31 * 60_000));
        let e = Engine::new(port, "test", Default::default())
            .unwrap()
            .with_clock(clock);
        e.reset_password(
            IROHA,
            "iroha-fwd@example.co.jp",
            &Secret::new(late_token),
            &Secret::new("Later2027ab"),
        )
    })
    .await
    .unwrap();
    assert!(
        matches!(late, Err(kagiya_core::Error::OneTimeRefused)),
        "{late:?}"
    );

    // Locked by wrong passwords (seed 000: 3回以上で1時間ロック): the account's address is told, and
    // a reset request gets the same answer while the mail says reset is not available.
    for _ in 0..3 {
        assert_eq!(s.sign_in(IROHA, "Wrong2027ab", None).await.0, 401);
    }
    let own = "iroha-master@example.co.jp";
    let lock = s
        .mail
        .wait_for(own, 1, 20, |c| c.subject().contains("利用停止"))
        .await;
    assert_eq!(lock.len(), 1, "the lock notice");
    assert_signed(&lock[0], &s.mail);
    assert_eq!(ask(IROHA, to).await, right);
    let refused = s
        .mail
        .wait_for(to, 1, 20, |c| c.subject().contains("ご利用いただけません"))
        .await;
    assert_eq!(refused.len(), 1);
    assert!(refused[0]
        .text()
        .contains("この状態ではパスワードのリセット機能は利用できません"));
    assert!(refused[0].link().is_none(), "no link while locked");
}

/// Seeds 002/003: the code of a sign-in with 2FA is mailed to the one-time-password address; a
/// resend makes a new code and never gives more tries; the sign-in ends with the code and only
/// then is the login notice sent — 「お客様ご自身のメールアドレス宛にのみ送信されます」 — to the
/// user's own address, not to the one-time-password address.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_resent_code_keeps_the_tries_spent_and_the_sign_in_notice_follows_the_code() {
    let mail = TestMail::new();
    let toml = mail.toml(false);
    let s = start(mail, toml).await;
    let (id, otp) = ("minato-sato", "sato-otp@example.co.jp");
    s.record(vec![
        address(id, otp, &[Purpose::Otp]),
        EventKind::MfaEnrolled {
            login_id: id.into(),
            address: otp.into(),
        },
    ])
    .await;
    let (status, v) = s.sign_in(id, LOGIN_PASSWORD, None).await;
    assert_eq!((status, v["stage"].as_str()), (200, Some("code")), "{v}");
    let pending = v["token"].as_str().unwrap().to_owned();
    let first = s.mail.wait_for(otp, 1, 20, |c| c.code().is_some()).await;
    assert_eq!(first.len(), 1);
    assert!(first[0].subject().ends_with("ワンタイムパスワード通知"));
    let code1 = first[0].code().unwrap();
    let wrong = if code1 == "000000" {
        "111111"
    } else {
        "000000"
    };
    for _ in 0..2 {
        let (status, _) = s
            .post(
                "/v1/sign-in/code",
                Some(&pending),
                "ja",
                json!({"code": wrong}),
            )
            .await;
        assert_eq!(status, 401);
    }
    let (status, v) = s
        .post("/v1/sign-in/code/resend", Some(&pending), "ja", json!({}))
        .await;
    assert_eq!(status, 202, "{v}");
    let both = s.mail.wait_for(otp, 2, 20, |c| c.code().is_some()).await;
    assert_eq!(both.len(), 2);
    let code2 = both[1].code().unwrap();
    // The tries spent on the first code stay spent on the second.
    let port = s.d.port.clone();
    let attempts = tokio::task::spawn_blocking(move || {
        let mut n = None;
        port.read(&mut |r| {
            let list = r.addresses(id)?;
            n = list[0]
                .one_time
                .iter()
                .find(|o| o.purpose == kagiya_core::directory::OneTimePurpose::SignIn)
                .map(|o| o.attempts);
            Ok(())
        })
        .unwrap();
        n
    })
    .await
    .unwrap();
    assert_eq!(attempts, Some(2), "a resend never resets the tries");
    // No login notice yet: the sign-in is not complete.
    let own = "minato-sato@example.co.jp";
    assert!(s.outbox(own).await.is_empty());
    let (status, v) = s
        .post(
            "/v1/sign-in/code",
            Some(&pending),
            "ja",
            json!({"code": code2}),
        )
        .await;
    assert_eq!((status, v["stage"].as_str()), (200, Some("full")), "{v}");
    let notice = s
        .mail
        .wait_for(own, 1, 20, |c| c.subject().ends_with("ログイン通知メール"))
        .await;
    assert_eq!(notice.len(), 1);
    assert_signed(&notice[0], &s.mail);
    assert!(
        notice[0].text().contains("127.0.0.1"),
        "the source: {}",
        notice[0].text()
    );
    assert!(notice[0]
        .text()
        .contains("お客様ご自身のメールアドレス宛にのみ送信されます"));
    tokio::time::sleep(Duration::from_millis(300)).await;
    let to_otp: Vec<_> = s.outbox(otp).await.into_iter().map(|r| r.0).collect();
    assert_eq!(
        to_otp,
        ["sign_in_code", "sign_in_code"],
        "no notice to the one-time-password address"
    );
}

/// Seed 002 「メールアドレス追加・変更・削除」: an added address gets 「パスワード設定依頼メール」 and sets
/// its own password through the URL; a change sends 「メールアドレス変更依頼受付」 to the *old*
/// address and takes effect only through its URL; a deleted address is told
/// (「削除されたメールアドレス宛にはメール通知が届きます」).
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn address_mails_carry_the_setup_link_the_change_confirmation_and_the_deletion_notice() {
    let mail = TestMail::new();
    let toml = mail.toml(false);
    let s = start(mail, toml).await;
    let id = "aoba-ito";
    let (added, changed) = ("ito-two@example.co.jp", "ito-three@example.co.jp");
    s.engine(move |e| {
        let me = ActorRef::User(id.into());
        // The Web member site confirms with the login password (it has no confirmation one).
        e.add_address(
            &me,
            &Secret::new(LOGIN_PASSWORD),
            id,
            added,
            &[Purpose::Notifications],
        )
    })
    .await
    .unwrap();
    let setup = s.mail.wait_for(added, 1, 20, |c| c.link().is_some()).await;
    assert_eq!(setup.len(), 1);
    assert!(setup[0].subject().ends_with("パスワード設定依頼メール"));
    assert_signed(&setup[0], &s.mail);
    assert!(setup[0]
        .link()
        .unwrap()
        .starts_with("https://kagiya.test/address-setup?token="));
    let password = "Aoba2027site";
    let (status, v) = s
        .post(
            "/v1/address-setup/complete",
            None,
            "ja",
            json!({"token": setup[0].token().unwrap(), "password": password}),
        )
        .await;
    assert_eq!(status, 200, "{v}");
    // The site user signs in with login ID, address and their own password; the notice goes to
    // that address alone.
    let (status, v) = s.sign_in(id, password, Some(added)).await;
    assert_eq!(status, 200, "{v}");
    let notice = s
        .mail
        .wait_for(added, 1, 20, |c| {
            c.subject().ends_with("ログイン通知メール")
        })
        .await;
    assert_eq!(notice.len(), 1);
    assert!(
        s.outbox("aoba-ito@example.co.jp").await.is_empty(),
        "not to the account's own address"
    );

    s.engine(move |e| {
        let me = ActorRef::User(id.into());
        e.request_address_change(&me, &Secret::new(LOGIN_PASSWORD), id, added, changed)
    })
    .await
    .unwrap();
    let confirm = s
        .mail
        .wait_for(added, 1, 20, |c| {
            c.subject().ends_with("メールアドレス変更依頼受付")
        })
        .await;
    assert_eq!(confirm.len(), 1, "to the old address");
    assert!(confirm[0].text().contains(changed), "{}", confirm[0].text());
    assert!(
        s.outbox(changed).await.is_empty(),
        "nothing to the new address before the change"
    );
    let listed = |s: &S| {
        let port = s.d.port.clone();
        async move {
            tokio::task::spawn_blocking(move || {
                let mut out = Vec::new();
                port.read(&mut |r| {
                    out = r.addresses(id)?.into_iter().map(|a| a.address).collect();
                    Ok(())
                })
                .unwrap();
                out
            })
            .await
            .unwrap()
        }
    };
    assert_eq!(
        listed(&s).await,
        [added],
        "unchanged until the link is used"
    );
    let (status, v) = s
        .post(
            "/v1/address-change/confirm",
            None,
            "ja",
            json!({"token": confirm[0].token().unwrap()}),
        )
        .await;
    assert_eq!(status, 200, "{v}");
    assert_eq!(listed(&s).await, [changed]);
    let (status, _) = s
        .post(
            "/v1/address-change/confirm",
            None,
            "ja",
            json!({"token": confirm[0].token().unwrap()}),
        )
        .await;
    assert_eq!(status, 401, "the link works once");

    s.engine(move |e| {
        let me = ActorRef::User(id.into());
        e.delete_address(&me, &Secret::new(LOGIN_PASSWORD), id, changed)
    })
    .await
    .unwrap();
    let gone = s
        .mail
        .wait_for(changed, 1, 20, |c| c.subject().contains("削除"))
        .await;
    assert_eq!(gone.len(), 1);
    assert_signed(&gone[0], &s.mail);
}

/// Seed 001 受信メールの暗号化: mail to an address with it on is encrypted to its certificate
/// (`openssl cms -decrypt` with the recipient's key, then `-verify`); with the certificate
/// expired or revoked (on the CA's list) the mail is held, not sent in clear, and the held mail
/// is recorded in the customer's chain for the branch.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn mail_is_encrypted_to_the_addresss_certificate_or_held_when_it_cannot_be_used() {
    let mail = TestMail::new();
    let toml = mail.toml(false);
    let s = start(mail, toml).await;
    let smime = s.mail.smime.clone();
    let mut evs = vec![address(
        "minato-kato",
        "taro@example.co.jp",
        &[Purpose::Notifications],
    )];
    evs.extend(common::encrypting(
        "minato-kato",
        "taro@example.co.jp",
        &smime,
        "taro.pem",
    ));
    evs.push(address(
        "minato-master",
        "hanako@example.co.jp",
        &[Purpose::Notifications],
    ));
    evs.extend(common::encrypting(
        "minato-master",
        "hanako@example.co.jp",
        &smime,
        "hanako.pem",
    ));
    evs.push(address(
        "minato-admin",
        "jiro@example.co.jp",
        &[Purpose::Notifications],
    ));
    evs.extend(common::encrypting(
        "minato-admin",
        "jiro@example.co.jp",
        &smime,
        "jiro.pem",
    ));
    s.record(evs).await;
    for id in ["minato-kato", "minato-master"] {
        assert_eq!(s.sign_in(id, LOGIN_PASSWORD, None).await.0, 200);
    }
    // minato-admin must change the password first; the sign-in is still a sign-in.
    assert_eq!(s.sign_in("minato-admin", LOGIN_PASSWORD, None).await.0, 200);

    let enc = s.mail.wait_for("taro@example.co.jp", 1, 20, |_| true).await;
    assert_eq!(enc.len(), 1);
    let raw = String::from_utf8_lossy(&enc[0].raw).into_owned();
    assert!(
        raw.contains("application/pkcs7-mime; smime-type=enveloped-data"),
        "{raw}"
    );
    assert!(
        !raw.contains("127.0.0.1"),
        "nothing readable without the key"
    );
    assert!(
        enc[0].decrypt(&smime, "hanako").is_none(),
        "another key opens nothing"
    );
    let inner = enc[0].decrypt(&smime, "taro").expect("taro's key opens it");
    assert_signed(&inner, &s.mail);
    assert!(
        inner.text().contains("ログインがありました"),
        "{}",
        inner.text()
    );
    // The same sign-in's notice to the contact address (no certificate) is signed only.
    let plain = s
        .mail
        .wait_for("minato-kato@example.co.jp", 1, 20, |_| true)
        .await;
    assert_signed(&plain[0], &s.mail);
    // Deleted, the address still gets its notice encrypted: encryption belongs to the address
    // (seed 001), even when it is gone by the time the notice goes.
    s.record(vec![EventKind::AddressDeleted {
        login_id: "minato-kato".into(),
        address: "taro@example.co.jp".into(),
    }])
    .await;
    let both = s.mail.wait_for("taro@example.co.jp", 2, 20, |_| true).await;
    assert_eq!(both.len(), 2);
    let raw = String::from_utf8_lossy(&both[1].raw).into_owned();
    assert!(raw.contains("smime-type=enveloped-data"), "{raw}");
    let inner = both[1].decrypt(&smime, "taro").expect("encrypted to taro");
    assert_signed(&inner, &s.mail);
    assert!(inner.text().contains("削除されました"), "{}", inner.text());

    for held in ["hanako@example.co.jp", "jiro@example.co.jp"] {
        let rows = s
            .wait_outbox(held, 20, |r| r.iter().any(|x| x.1 == "held"))
            .await;
        assert_eq!(rows.len(), 1, "{held}: {rows:?}");
        assert_eq!(rows[0].1, "held", "{held}: {rows:?}");
        let why = rows[0].3.clone().unwrap_or_default();
        assert!(
            why.contains(if held.starts_with("hanako") {
                "Expired"
            } else {
                "Revoked"
            }),
            "{held}: {why}"
        );
        assert!(
            s.mail
                .sent()
                .iter()
                .all(|c| !c.to.iter().any(|t| t == held)),
            "never in clear"
        );
    }
    // The row is settled first, the entry recorded right after.
    let mut kinds = s.entry_kinds("K-1001").await;
    for _ in 0..100 {
        if kinds.iter().filter(|k| *k == "mail_undelivered").count() >= 2 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
        kinds = s.entry_kinds("K-1001").await;
    }
    assert_eq!(
        kinds.iter().filter(|k| *k == "mail_undelivered").count(),
        2,
        "both held mails are in the customer's chain for the branch: {kinds:?}"
    );
}

/// `openssl cms -sign` of a short mail from `from`, signed by `who` (taro.pem/taro.key), to the
/// registration address, with CRLF line ends; `extra` adds options (`-noattr`: no signing time).
fn signed_mail(smime: &std::path::Path, who: &str, from: &str, extra: &[&str]) -> Vec<u8> {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("body.txt"),
        "証明書の登録をお願いします。\n",
    )
    .unwrap();
    let out = std::process::Command::new("openssl")
        .args(["cms", "-sign", "-text", "-in", "body.txt", "-from", from])
        .args([
            "-to",
            "digitalid@bank.example",
            "-subject",
            "Registration",
            "-signer",
        ])
        .arg(smime.join(format!("{who}.pem")))
        .arg("-inkey")
        .arg(smime.join(format!("{who}.key")))
        .args(extra)
        .current_dir(dir.path())
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let text = String::from_utf8(out.stdout).unwrap();
    text.replace("\r\n", "\n")
        .replace('\n', "\r\n")
        .into_bytes()
}

/// Hands `raw` to the registration listener (as the organisation's mail server would).
async fn deliver_to_registration(
    at: std::net::SocketAddr,
    from: &str,
    to: &str,
    raw: &[u8],
) -> Result<(), String> {
    let smtp = kagiya_mail::Smtp::new(&kagiya_mail::SmtpSettings {
        host: "127.0.0.1".into(),
        port: at.port(),
        security: kagiya_mail::Security::None,
        user: None,
        password: None,
        ca_file: None,
        timeout: Duration::from_secs(10),
    })
    .unwrap();
    smtp.send(from, to, raw).await.map_err(|e| format!("{e:?}"))
}

/// Seed 001: 「証明書をインストールしたメールクライアントソフトから電子署名付メールを digitalid@… へ
/// 送信します」; then 「「電子署名」および「受信メールの暗号化」チェクボックスがオンの状態となり、
/// 「デジタルIDステータス」が「アップロードされました」となります」. A mail signed under a stranger's CA
/// registers nothing and its sender is told why (once an hour at most); a mail changed after
/// signing, or whose From: is not the signer's, registers nothing and is not answered (a forged
/// sender gets nothing bounced to them); neither is a sender who is no registered address.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_signed_mail_to_the_registration_address_registers_the_certificate_and_turns_both_flags_on(
) {
    let mail = TestMail::new();
    let toml = mail.toml(true);
    let s = start(mail, toml).await;
    let smime = s.mail.smime.clone();
    let taro = "taro@example.co.jp";
    let ca = openssl::x509::X509::from_pem(&std::fs::read(smime.join("ca.pem")).unwrap()).unwrap();
    let ca_der = ca.to_der().unwrap();
    let ca_info = kagiya_core::certs::inspect(&ca_der).unwrap();
    s.record(vec![
        address("minato-admin", taro, &[Purpose::Notifications]),
        EventKind::TrustedRootAdded {
            sha256: ca_info.sha256.clone(),
            subject: ca_info.subject.clone(),
            der: base64::engine::general_purpose::STANDARD.encode(&ca_der),
        },
    ])
    .await;
    let reg = s.d.registration.expect("the registration listener runs");
    // The listener takes mail for the registration address only.
    let e = deliver_to_registration(
        reg,
        taro,
        "someone@bank.example",
        b"Subject: x\r\n\r\nx\r\n",
    )
    .await;
    assert!(
        e.unwrap_err().contains("550"),
        "other recipients are refused"
    );

    // A stranger's CA: refused, and taro is told why.
    let foreign = signed_mail(&smime, "foreign-taro", taro, &[]);
    deliver_to_registration(reg, taro, "digitalid@bank.example", &foreign)
        .await
        .unwrap();
    let told = s
        .mail
        .wait_for(taro, 1, 20, |c| {
            c.subject().contains("証明書を登録できませんでした")
        })
        .await;
    assert_eq!(told.len(), 1);
    assert_signed(&told[0], &s.mail);
    assert!(
        told[0].text().contains("cert.untrusted_chain"),
        "{}",
        told[0].text()
    );
    // Changed after signing: the signature is not the certificate's any more; nobody is told.
    let good = signed_mail(&smime, "taro", taro, &[]);
    let text = String::from_utf8(good.clone()).unwrap();
    let changed = text.replacen(
        "Content-Type: text/plain\r\n\r\n",
        "Content-Type: text/plain\r\n\r\nX",
        1,
    );
    assert_ne!(changed, text, "the signed part was found");
    deliver_to_registration(reg, taro, "digitalid@bank.example", changed.as_bytes())
        .await
        .unwrap();
    // No signing time (an old mail's replay cannot be told from it): refused; the answer to
    // taro is not repeated within the hour.
    let untimed = signed_mail(&smime, "taro", taro, &["-noattr"]);
    deliver_to_registration(reg, taro, "digitalid@bank.example", &untimed)
        .await
        .unwrap();
    tokio::time::sleep(Duration::from_millis(500)).await;
    let refusals: Vec<_> = s
        .outbox(taro)
        .await
        .into_iter()
        .filter(|r| r.0 == "certificate_refused")
        .collect();
    assert_eq!(refusals.len(), 1, "{refusals:?}");
    let kinds = s.entry_kinds("K-1001").await;
    assert!(
        !kinds.iter().any(|k| k == "certificate_imported"),
        "nothing registered: {kinds:?}"
    );
    // Why, as the engine decided it (the listener hands it the same bytes).
    let why = s
        .engine(move |e| {
            let tampered = e.register_certificate_by_mail(
                changed.as_bytes(),
                kagiya_core::Lang::Ja,
                true,
                &|_| false,
            );
            let untimed =
                e.register_certificate_by_mail(&untimed, kagiya_core::Lang::Ja, true, &|_| false);
            (tampered, untimed)
        })
        .await;
    let codes =
        |r: &Result<kagiya_engine::certificates::MailRegistration, kagiya_core::Error>| match r {
            Ok(kagiya_engine::certificates::MailRegistration::Refused {
                codes, answered, ..
            }) => (codes.clone(), *answered),
            other => panic!("{other:?}"),
        };
    let (tampered, answered) = codes(&why.0);
    assert!(
        tampered.contains(&"cert.possession_not_proven") && !answered,
        "{tampered:?}"
    );
    let (untimed, answered) = codes(&why.1);
    assert_eq!(untimed, ["cert.stale_signature"]);
    assert!(answered, "a signature of the certificate's own is answered");

    // The real one.
    deliver_to_registration(reg, taro, "digitalid@bank.example", &good)
        .await
        .unwrap();
    let kinds = s.entry_kinds("K-1001").await;
    assert!(
        kinds.ends_with(&["certificate_imported".into(), "address_flags_set".into()]),
        "{kinds:?}"
    );
    let port = s.d.port.clone();
    let flags = tokio::task::spawn_blocking(move || {
        let mut f = None;
        port.read(&mut |r| {
            let a = r.addresses("minato-admin")?.remove(0);
            f = Some((a.sign, a.encrypt, a.certificate.map(|c| c.subject)));
            Ok(())
        })
        .unwrap();
        f.unwrap()
    })
    .await
    .unwrap();
    assert_eq!(
        (flags.0, flags.1),
        (true, true),
        "電子署名 and 受信メールの暗号化 are on"
    );
    assert!(flags.2.unwrap().contains("Taro Test"));
    // The answer goes encrypted now that encryption is on.
    let answer = s
        .mail
        .wait_for(taro, 3, 20, |c| {
            !c.subject().contains("証明書を登録できませんでした")
        })
        .await
        .into_iter()
        .last()
        .expect("the answer");
    let inner = answer.decrypt(&smime, "taro").expect("encrypted to taro");
    assert_signed(&inner, &s.mail);
    assert!(
        inner.text().contains("アップロードされました"),
        "{}",
        inner.text()
    );

    // An older certificate of the same address, or a revoked one, is not registered.
    let older = signed_mail(&smime, "taro-old", taro, &[]);
    let why = s
        .engine(move |e| {
            let older =
                e.register_certificate_by_mail(&older, kagiya_core::Lang::En, false, &|_| false);
            let revoked =
                e.register_certificate_by_mail(&good, kagiya_core::Lang::En, false, &|_| true);
            (older, revoked)
        })
        .await;
    assert!(
        codes(&why.0).0.contains(&"cert.older_than_registered"),
        "{:?}",
        why.0
    );
    assert!(codes(&why.1).0.contains(&"cert.revoked"), "{:?}", why.1);

    // From an address nobody registered: decided, and no answer to anyone.
    let stranger = signed_mail(&smime, "taro", "nobody@example.co.jp", &[]);
    deliver_to_registration(
        reg,
        "nobody@example.co.jp",
        "digitalid@bank.example",
        &stranger,
    )
    .await
    .unwrap();
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert!(
        s.outbox("nobody@example.co.jp").await.is_empty(),
        "no backscatter"
    );
}

/// The mail server's faults: a temporary refusal (451) is tried again later until it passes; a
/// permanent one (550) ends the mail as dead, recorded for the branch; a server slower than the
/// time limit gets the mail again, with the same Message-ID (should it have kept the first try,
/// the one case besides a crash where a mail can arrive twice).
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn refusals_slowness_and_a_mail_server_that_is_down_lose_nothing() {
    let mail = TestMail::new();
    let port = std::env::var("KAGIYA_TEST_SMTP_STARTTLS_PORT").unwrap();
    let toml = mail.toml_with(
        "starttls",
        &port,
        false,
        "retry_ms = 200\nmax_attempts = 6\n",
    );
    let s = start(mail, toml).await;
    let own = "minato-kato@example.co.jp";

    s.knob("refuse", Some("451 4.3.0 try later"));
    assert_eq!(s.sign_in("minato-kato", LOGIN_PASSWORD, None).await.0, 200);
    let rows = s
        .wait_outbox(own, 20, |r| r.first().is_some_and(|x| x.2 >= 2))
        .await;
    assert_eq!(rows[0].1, "queued", "{rows:?}");
    assert!(
        rows[0].3.as_deref().unwrap_or("").contains("451"),
        "{rows:?}"
    );
    s.knob("refuse", None);
    let got = s.mail.wait_for(own, 1, 20, |_| true).await;
    assert_eq!(got.len(), 1);
    assert_eq!(
        s.wait_outbox(own, 5, |r| r[0].1 == "sent").await[0].1,
        "sent"
    );

    s.knob("refuse", Some("550 5.1.1 no such user"));
    assert_eq!(s.sign_in("minato-kato", LOGIN_PASSWORD, None).await.0, 200);
    let rows = s
        .wait_outbox(own, 20, |r| r.len() == 2 && r[1].1 == "dead")
        .await;
    assert_eq!(rows[1].1, "dead", "{rows:?}");
    assert_eq!(rows[1].2, 1, "a permanent refusal is not tried again");
    s.knob("refuse", None);
    // Settled, then recorded for the branch, then marked as reported.
    let mut dead = Vec::new();
    for _ in 0..200 {
        dead = kagiya_server::mail::list(&s.d.state.pool, "dead", 10)
            .await
            .unwrap();
        if dead.first().is_some_and(|d| d.reported) {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert_eq!(dead.len(), 1);
    assert!(dead[0].reported && dead[0].last_error.as_deref().unwrap().contains("550"));
    let kinds = s.entry_kinds("K-1001").await;
    assert_eq!(
        kinds.last().map(String::as_str),
        Some("mail_undelivered"),
        "{kinds:?}"
    );
    // The operator puts it back once the mail server is mended: it goes out.
    kagiya_server::mail::retry(&s.d.state.pool, dead[0].id, now())
        .await
        .unwrap();
    let rows = s.wait_outbox(own, 20, |r| r[1].1 == "sent").await;
    assert_eq!(rows[1].1, "sent", "{rows:?}");
    assert!(
        kagiya_server::mail::retry(&s.d.state.pool, dead[0].id, now())
            .await
            .is_err(),
        "only dead or held mails"
    );

    // Slower than the 5 s limit: the client gives up waiting, the server keeps the mail; the
    // next try hands it over again — the same Message-ID both times.
    s.knob("delay_ms", Some("6500"));
    assert_eq!(s.sign_in("minato-kato", LOGIN_PASSWORD, None).await.0, 200);
    let rows = s
        .wait_outbox(own, 30, |r| r.len() == 3 && r[2].2 >= 1 && r[2].3.is_some())
        .await;
    assert!(
        rows[2].3.as_deref().unwrap_or("").contains("time limit"),
        "{rows:?}"
    );
    s.knob("delay_ms", None);
    let rows = s.wait_outbox(own, 30, |r| r[2].1 == "sent").await;
    assert_eq!(rows[2].1, "sent");
    // Whatever the slow server kept of the try it was too slow for, every copy is the one mail
    // (the first two are the first mail and the one put back).
    tokio::time::sleep(Duration::from_secs(7)).await;
    let got = s.mail.wait_for(own, 3, 20, |_| true).await;
    let ids: Vec<String> = got
        .iter()
        .map(|c| c.header("Message-ID").unwrap())
        .collect();
    assert!(got.len() >= 3, "{ids:?}");
    assert!(ids[2..].iter().all(|i| *i == ids[2]), "{ids:?}");
    assert!(ids[0] != ids[2] && ids[1] != ids[2], "{ids:?}");
}

/// A mail server that is down: the mail waits, tried again with the reason kept; nothing is lost.
/// Implicit TLS (port 465 style) is used where the server is up.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn implicit_tls_delivers_and_a_server_that_is_down_keeps_the_mail_queued() {
    let up = TestMail::new();
    let tls = std::env::var("KAGIYA_TEST_SMTP_TLS_PORT").unwrap();
    let toml = up.toml_with("tls", &tls, false, "");
    let s = start(up, toml).await;
    assert_eq!(s.sign_in("minato-kato", LOGIN_PASSWORD, None).await.0, 200);
    let got = s
        .mail
        .wait_for("minato-kato@example.co.jp", 1, 20, |_| true)
        .await;
    assert_eq!(got.len(), 1);
    assert_eq!(got[0].mode, "tls");
    assert_signed(&got[0], &s.mail);

    // A port nobody listens on.
    let closed = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let down = TestMail::new();
    let toml = down.toml_with("starttls", &closed.to_string(), false, "retry_ms = 100\n");
    let s = start(down, toml).await;
    assert_eq!(s.sign_in("minato-kato", LOGIN_PASSWORD, None).await.0, 200);
    let rows = s
        .wait_outbox("minato-kato@example.co.jp", 20, |r| {
            r.first().is_some_and(|x| x.2 >= 2)
        })
        .await;
    assert_eq!(rows[0].1, "queued", "{rows:?}");
    assert!(rows[0].3.is_some(), "the reason is kept: {rows:?}");
}

/// Seed 003 (Biz Mail & Web): 「初回ログイン時に、多要素認証用(ワンタイムパスワード)メールアドレスの
/// 登録が求められます」. The first sign-in says so; the user gives an address and their password, a
/// code is mailed there, and once it comes back 2FA is on: the next sign-in asks for a code.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_biz_mail_user_registers_the_one_time_password_address_at_the_first_sign_in() {
    use kagiya_server::demo::BIZ_MAIL_LOGIN_PASSWORD as BIZ;
    let mail = TestMail::new();
    let toml = mail.toml(false);
    let s = start(mail, toml).await;
    let (id, otp) = ("kitahama-ota", "ota-otp@example.co.jp");
    let (status, v) = s.sign_in(id, BIZ, None).await;
    assert_eq!(status, 200, "{v}");
    assert_eq!(v["otp_address_required"], json!(true), "{v}");
    let token = v["token"].as_str().unwrap().to_owned();
    let (status, v) = s
        .post(
            "/v1/me/otp-address",
            Some(&token),
            "ja",
            json!({"address": otp, "password": "wrong-one"}),
        )
        .await;
    assert_eq!(
        (status, v["code"].as_str()),
        (401, Some("auth.confirmation_failed")),
        "{v}"
    );
    let (status, v) = s
        .post(
            "/v1/me/otp-address",
            Some(&token),
            "ja",
            json!({"address": otp, "password": BIZ}),
        )
        .await;
    assert_eq!(status, 202, "{v}");
    let code = s.mail.wait_for(otp, 1, 20, |c| c.code().is_some()).await;
    assert_eq!(code.len(), 1);
    assert!(
        code[0]
            .subject()
            .ends_with("多要素認証用メールアドレスの確認"),
        "{}",
        code[0].subject()
    );
    assert_signed(&code[0], &s.mail);
    let (status, v) = s
        .post(
            "/v1/me/otp-address/confirm",
            Some(&token),
            "ja",
            json!({"address": otp, "code": code[0].code().unwrap()}),
        )
        .await;
    assert_eq!(status, 200, "{v}");
    assert_eq!(v["otp_address_required"], json!(false), "{v}");
    assert_eq!(v["stage"], "full");
    // From now on a sign-in asks for the code mailed to that address.
    let (status, v) = s.sign_in(id, BIZ, None).await;
    assert_eq!((status, v["stage"].as_str()), (200, Some("code")), "{v}");
    let codes = s.mail.wait_for(otp, 2, 20, |c| c.code().is_some()).await;
    assert_eq!(codes.len(), 2);
    assert!(codes[1].subject().ends_with("ワンタイムパスワード通知"));
}
