//! Issue 16: the customers' pages over HTTP, as a browser without JavaScript sees them — the
//! security headers, the `__Host-` cookies and their renewal, CSRF tokens and cross-site
//! refusals that change nothing, no answer that tells an ID apart, the seeds' screens (004 §2.4
//! forced change, §2.2 unlock and its result table, 003's one-time-password address at the first
//! sign-in and the IP access restriction's self-lockout guard) on a real PostgreSQL and the real
//! SMTP server. The real browser (Chromium) runs the same flows in `tests/web/`.

mod common;

use std::collections::HashMap;

use common::{Demo, TestMail};
use kagiya_core::directory::{CredentialKind, Service};
use kagiya_core::iprules::IpAction;
use kagiya_engine::Engine;
use kagiya_server::demo::{BIZ_MAIL_LOGIN_PASSWORD, CONFIRMATION_PASSWORD, LOGIN_PASSWORD};

/// A browser without JavaScript: it keeps cookies, follows nothing by itself, and sends what a
/// same-origin form sends.
struct Browser {
    addr: std::net::SocketAddr,
    jar: HashMap<String, String>,
    lang: &'static str,
}

/// One answer.
struct Page {
    status: u16,
    /// The header block as sent.
    head: String,
    body: String,
    /// Raw `Set-Cookie` lines.
    set_cookies: Vec<String>,
}

impl Page {
    fn location(&self) -> Option<String> {
        self.header("location")
    }
    /// The first header `name` (case-insensitive name).
    fn header(&self, name: &str) -> Option<String> {
        self.head.lines().find_map(|l| {
            let (n, v) = l.split_once(':')?;
            n.eq_ignore_ascii_case(name).then(|| v.trim().to_owned())
        })
    }
    /// The value of the hidden `csrf` field.
    fn csrf(&self) -> Option<String> {
        let at = self.body.find("name=\"csrf\" value=\"")? + 19;
        Some(self.body[at..].split('"').next()?.to_owned())
    }
}

impl Browser {
    fn new(addr: std::net::SocketAddr, lang: &'static str) -> Browser {
        Browser {
            addr,
            jar: HashMap::new(),
            lang,
        }
    }

    fn cookie_header(&self) -> String {
        if self.jar.is_empty() {
            return String::new();
        }
        let v: Vec<String> = self.jar.iter().map(|(k, v)| format!("{k}={v}")).collect();
        format!("Cookie: {}\r\n", v.join("; "))
    }

    async fn send(&mut self, method: &str, path: &str, extra: &str, body: &str) -> Page {
        let head = format!(
            "{method} {path} HTTP/1.1\r\nHost: {}\r\nAccept-Language: {}\r\n{}{extra}\
             Content-Length: {}\r\nConnection: close\r\n\r\n",
            self.addr,
            self.lang,
            self.cookie_header(),
            body.len()
        );
        let (status, head, body) = common::request_raw(self.addr, &head, body.as_bytes()).await;
        let set_cookies: Vec<String> = head
            .lines()
            .filter_map(|l| {
                let (n, v) = l.split_once(':')?;
                n.eq_ignore_ascii_case("set-cookie")
                    .then(|| v.trim().to_owned())
            })
            .collect();
        for c in &set_cookies {
            let pair = c.split(';').next().unwrap_or("");
            let (k, v) = pair.split_once('=').unwrap_or((pair, ""));
            let name = k.trim().to_owned();
            if c.contains("Max-Age=0") {
                self.jar.remove(&name);
            } else {
                self.jar.insert(name, v.to_owned());
            }
        }
        Page {
            status,
            head,
            body,
            set_cookies,
        }
    }

    async fn get(&mut self, path: &str) -> Page {
        self.send("GET", path, "Sec-Fetch-Site: none\r\n", "").await
    }

    /// A form posted from one of the site's own pages (the CSRF token of the jar's cookie).
    async fn post(&mut self, path: &str, fields: &[(&str, &str)]) -> Page {
        let csrf = self
            .jar
            .get("__Host-kagiya-csrf")
            .cloned()
            .unwrap_or_default();
        self.post_as(path, fields, &csrf, "Sec-Fetch-Site: same-origin\r\n")
            .await
    }

    async fn post_as(
        &mut self,
        path: &str,
        fields: &[(&str, &str)],
        csrf: &str,
        extra: &str,
    ) -> Page {
        let body = form_urlencoded::Serializer::new(String::new())
            .append_pair("csrf", csrf)
            .extend_pairs(fields)
            .finish();
        let extra = format!("{extra}Content-Type: application/x-www-form-urlencoded\r\n");
        self.send("POST", path, &extra, &body).await
    }

    /// Signs in through the page; returns the page it was sent to.
    async fn sign_in(&mut self, id: &str, password: &str) -> String {
        self.get("/sign-in").await;
        let p = self
            .post("/sign-in", &[("login_id", id), ("password", password)])
            .await;
        assert_eq!(p.status, 303, "{id}: {}", p.body);
        p.location().unwrap()
    }
}

async fn start(mail: &TestMail) -> Demo {
    let throttle = "[throttle]\nper_source_per_minute = 100000\nper_login_id_per_minute = 100000\n";
    let toml = mail.toml(false).replace(
        "link_base = \"https://kagiya.test\"",
        "link_base = \"http://127.0.0.1\"",
    );
    common::demo_server_full(&format!("{throttle}\n{toml}")).await
}

async fn engine<T: Send + 'static>(d: &Demo, f: impl FnOnce(&Engine) -> T + Send + 'static) -> T {
    let port = d.port.clone();
    tokio::task::spawn_blocking(move || {
        let e = Engine::new(port, "test", Default::default()).unwrap();
        f(&e)
    })
    .await
    .unwrap()
}

/// The 6-digit code in the newest mail to `to` whose subject ends with `subject`.
async fn code_to(mail: &TestMail, to: &str, n: usize) -> String {
    let got = mail.wait_for(to, n, 20, |c| c.code().is_some()).await;
    assert!(got.len() >= n, "no code mail to {to}");
    got[n - 1].code().unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn every_page_carries_the_security_headers_cookies_and_the_browsers_language() {
    let mail = TestMail::new();
    let d = start(&mail).await;
    let mut en = Browser::new(d.addr, "en-GB,en;q=0.9");
    let p = en.get("/sign-in").await;
    assert_eq!(p.status, 200);
    assert!(p.body.contains("<html lang=\"en\">"), "{}", p.body);
    assert!(p.body.contains("Sign in"));
    assert_eq!(
        p.header("content-security-policy").as_deref(),
        Some(kagiya_server::pages::CSP)
    );
    assert!(kagiya_server::pages::CSP.contains("frame-ancestors 'none'"));
    assert!(kagiya_server::pages::CSP.contains("script-src 'self'"));
    assert!(!kagiya_server::pages::CSP.contains("unsafe"));
    assert_eq!(p.header("referrer-policy").as_deref(), Some("no-referrer"));
    assert_eq!(p.header("x-frame-options").as_deref(), Some("DENY"));
    assert_eq!(
        p.header("x-content-type-options").as_deref(),
        Some("nosniff")
    );
    assert_eq!(p.header("cache-control").as_deref(), Some("no-store"));
    let csrf = p
        .set_cookies
        .iter()
        .find(|c| c.starts_with("__Host-kagiya-csrf="))
        .expect("a CSRF cookie");
    for attr in ["HttpOnly", "Secure", "SameSite=Strict", "Path=/"] {
        assert!(csrf.contains(attr), "{csrf} lacks {attr}");
    }
    assert!(!csrf.contains("Domain="), "a __Host- cookie has no Domain");

    // Japanese from the browser, and the switch remembered in a cookie.
    let mut ja = Browser::new(d.addr, "ja,en;q=0.8");
    let p = ja.get("/sign-in").await;
    assert!(p.body.contains("<html lang=\"ja\">"));
    assert!(p
        .body
        .contains("ログインIDとパスワードを入力してください。"));
    let p = ja.get("/sign-in?lang=en").await;
    assert!(p.body.contains("<html lang=\"en\">"));
    assert!(p
        .set_cookies
        .iter()
        .any(|c| c.starts_with("__Host-kagiya-lang=en")));
    let p = ja.get("/password-reset").await;
    assert!(p.body.contains("<html lang=\"en\">"), "the choice stays");

    // What was typed comes back escaped.
    let mut b = Browser::new(d.addr, "ja");
    b.get("/sign-in").await;
    let p = b
        .post(
            "/sign-in",
            &[("login_id", "<script>alert(1)</script>"), ("password", "x")],
        )
        .await;
    assert_eq!(p.status, 401);
    assert!(!p.body.contains("<script>alert(1)"));
    assert!(p.body.contains("&#60;script&#62;alert(1)"), "{}", p.body);

    // The assets are this server's, and the API keeps its JSON.
    let css = b.get("/assets/site.css").await;
    assert_eq!(css.status, 200);
    assert!(css.header("content-type").unwrap().starts_with("text/css"));
    let api = b.get("/v1/me").await;
    assert_eq!(api.status, 401);
    assert!(api.body.contains("\"code\":\"auth.no_session\""));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn forms_from_elsewhere_or_without_the_token_change_nothing() {
    let mail = TestMail::new();
    let d = start(&mail).await;
    let mut b = Browser::new(d.addr, "ja");
    b.get("/sign-in").await;
    let token = b.jar.get("__Host-kagiya-csrf").cloned().unwrap();
    let wrong = [
        ("login_id", "minato-sato"),
        ("password", "wrong-password-1"),
    ];
    // Fetch Metadata says another site sent it; an old browser's Origin says so; no token; a
    // token that is not this browser's.
    let refused = [
        b.post_as("/sign-in", &wrong, &token, "Sec-Fetch-Site: cross-site\r\n")
            .await,
        b.post_as(
            "/sign-in",
            &wrong,
            &token,
            "Origin: https://evil.example\r\n",
        )
        .await,
        b.post_as("/sign-in", &wrong, "", "Sec-Fetch-Site: same-origin\r\n")
            .await,
        b.post_as(
            "/sign-in",
            &wrong,
            "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA",
            "Sec-Fetch-Site: same-origin\r\n",
        )
        .await,
    ];
    for p in &refused {
        assert_eq!(p.status, 403, "{}", p.body);
    }
    assert!(refused[0].body.contains("別のサイトから送信"));
    let failures = engine(&d, |e| {
        e.user_view("minato-sato", kagiya_core::Lang::Ja)
            .unwrap()
            .login
            .failures
    })
    .await;
    assert_eq!(failures, 0, "no refused form counted a wrong password");
    // The same form from the site itself is read (and the wrong password counted).
    let p = b.post("/sign-in", &wrong).await;
    assert_eq!(p.status, 401);
    let failures = engine(&d, |e| {
        e.user_view("minato-sato", kagiya_core::Lang::Ja)
            .unwrap()
            .login
            .failures
    })
    .await;
    assert_eq!(failures, 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn an_unknown_id_and_a_wrong_password_get_the_same_page() {
    let mail = TestMail::new();
    let d = start(&mail).await;
    let mut b = Browser::new(d.addr, "ja");
    b.get("/sign-in").await;
    let strip = |p: &Page| {
        let csrf = p.csrf().unwrap_or_default();
        p.body
            .replace(&csrf, "")
            .replace("nobody-here", "ID")
            .replace("minato-kato", "ID")
    };
    let unknown = b
        .post(
            "/sign-in",
            &[("login_id", "nobody-here"), ("password", "Wrong2026xx")],
        )
        .await;
    let wrong = b
        .post(
            "/sign-in",
            &[("login_id", "minato-kato"), ("password", "Wrong2026xx")],
        )
        .await;
    assert_eq!(unknown.status, 401);
    assert_eq!(wrong.status, unknown.status);
    assert_eq!(strip(&wrong), strip(&unknown));
    // Seed 000's reset request: one answer whatever matched.
    b.get("/password-reset").await;
    let a = b
        .post(
            "/password-reset",
            &[("login_id", "nobody-here"), ("address", "x@example.co.jp")],
        )
        .await;
    let c = b
        .post(
            "/password-reset",
            &[("login_id", "minato-kato"), ("address", "x@example.co.jp")],
        )
        .await;
    assert_eq!((a.status, c.status), (200, 200));
    assert_eq!(a.body, c.body);
    assert!(a.body.contains("パスワード変更案内メールを送信しました"));
}

/// Seed 004 §2.4: 「マスターユーザ、または管理者ユーザにパスワードを変更された状態でログインすると、
/// 「パスワード強制変更」画面に変更対象のパスワードが表示されます」; the session is renewed at each
/// step and ends with sign-out.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_forced_change_shows_only_the_owed_password_and_renews_the_session() {
    let mail = TestMail::new();
    let d = start(&mail).await;
    let mut b = Browser::new(d.addr, "ja");
    b.get("/sign-in").await;
    let before_csrf = b.jar.get("__Host-kagiya-csrf").cloned().unwrap();
    let to = b
        .sign_in(kagiya_server::demo::MUST_CHANGE, LOGIN_PASSWORD)
        .await;
    assert_eq!(to, "/password/change");
    let first_session = b.jar.get("__Host-kagiya-session").cloned().unwrap();
    assert_ne!(
        b.jar.get("__Host-kagiya-csrf").unwrap(),
        &before_csrf,
        "a new CSRF token with the session"
    );
    // The token a page held before the sign-in is worth nothing after it.
    let stale = b
        .post_as(
            "/password/change",
            &[("login_current", LOGIN_PASSWORD)],
            &before_csrf,
            "Sec-Fetch-Site: same-origin\r\n",
        )
        .await;
    assert_eq!(stale.status, 403);

    let p = b.get("/password/change").await;
    assert_eq!(p.status, 200);
    assert!(p.body.contains("パスワード強制変更"));
    assert!(p.body.contains(
        "マスターユーザ、または管理者ユーザから連絡されたパスワードを入力してください。"
    ));
    assert!(p.body.contains("name=\"login_new\""));
    assert!(
        !p.body.contains("name=\"confirmation_new\""),
        "only the password that must change is shown"
    );
    assert!(p.body.contains("パスワード入力の注意事項"));
    // Other pages wait for the change.
    let p = b.get("/me").await;
    assert_eq!(
        (p.status, p.location().as_deref()),
        (303, Some("/password/change"))
    );

    // The new one twice: a difference is said at the field, and nothing changes.
    let p = b
        .post(
            "/password/change",
            &[
                ("login_current", LOGIN_PASSWORD),
                ("login_new", "Hamamatsu27Q"),
                ("login_new2", "Hamamatsu27R"),
            ],
        )
        .await;
    assert_eq!(p.status, 422);
    assert!(p.body.contains("id=\"login_new2-error\""), "{}", p.body);
    assert!(p
        .body
        .contains("aria-invalid=\"true\" aria-describedby=\"login_new2-error\""));
    // A password the rules refuse: the rule is named in words at the field, and the list shows
    // which rules the typed one meets — without JavaScript.
    let p = b
        .post(
            "/password/change",
            &[
                ("login_current", LOGIN_PASSWORD),
                ("login_new", "Hamamatsu2027Q"),
                ("login_new2", "Hamamatsu2027Q"),
            ],
        )
        .await;
    assert_eq!(p.status, 422, "{}", p.body);
    assert!(
        p.body
            .contains("新しいログインパスワードが次の条件を満たしていません"),
        "{}",
        p.body
    );
    assert!(!p.body.contains("password.length）"), "no codes for people");
    assert!(p.body.contains("class=\"ng\""));
    let p = b
        .post(
            "/password/change",
            &[
                ("login_current", LOGIN_PASSWORD),
                ("login_new", "Hamamatsu27Q"),
                ("login_new2", "Hamamatsu27Q"),
            ],
        )
        .await;
    assert_eq!(p.status, 303, "{}", p.body);
    assert_eq!(p.location().as_deref(), Some("/me?changed=1"));
    let second_session = b.jar.get("__Host-kagiya-session").cloned().unwrap();
    assert_ne!(
        second_session, first_session,
        "a new session after the change"
    );
    let p = b.get("/me?changed=1").await;
    assert_eq!(p.status, 200);
    assert!(p.body.contains("ご自身のパスワードが変更されました。"));

    // The first session's cookie opens nothing any more.
    let mut old = Browser::new(d.addr, "ja");
    old.jar
        .insert("__Host-kagiya-session".into(), first_session.clone());
    let p = old.get("/me").await;
    assert_eq!(p.status, 303);
    assert!(p.location().unwrap().starts_with("/sign-in"));

    // Sign-out ends the session on the server, not only in the browser.
    let p = b.post("/sign-out", &[]).await;
    assert_eq!(p.status, 303);
    assert!(p
        .set_cookies
        .iter()
        .any(|c| c.starts_with("__Host-kagiya-session=") && c.contains("Max-Age=0")));
    let mut replay = Browser::new(d.addr, "ja");
    replay
        .jar
        .insert("__Host-kagiya-session".into(), second_session);
    let p = replay.get("/me").await;
    assert_eq!(p.status, 303);
}

/// Seed 004 §2.2: several users released at once with the acting user's own 確認用パスワード, and
/// 利用者停止・解除結果 — 「以下の利用者のサービスを停止解除しました。」 with ログインID・利用者名・
/// 利用者区分・サービス状態.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_master_releases_several_users_with_their_own_confirmation_password() {
    let mail = TestMail::new();
    let d = start(&mail).await;
    // Five wrong login passwords lock each (seed 004's preset: 5 within 30 minutes).
    let mut stranger = Browser::new(d.addr, "ja");
    stranger.get("/sign-in").await;
    for id in ["minato-sato", "minato-kato"] {
        for _ in 0..5 {
            stranger
                .post("/sign-in", &[("login_id", id), ("password", "Wrong2026zz")])
                .await;
        }
    }
    // A general user has no users list.
    let mut general = Browser::new(d.addr, "ja");
    general.sign_in("minato-admin", LOGIN_PASSWORD).await;
    let mut master = Browser::new(d.addr, "ja");
    assert_eq!(master.sign_in("minato-master", LOGIN_PASSWORD).await, "/me");
    let list = master.get("/admin/users").await;
    assert_eq!(list.status, 200);
    assert!(
        list.body.contains("ログインパスワード一時利用停止"),
        "{}",
        list.body
    );
    assert!(
        !list.body.contains("value=\"minato-master\""),
        "the master's own row has no box: 「ご自身を除く」"
    );
    // A wrong confirmation password releases nobody.
    let p = master
        .post(
            "/admin/unlock",
            &[
                ("login_id", "minato-sato"),
                ("login_id", "minato-kato"),
                ("confirmation", "Wrong2026zz"),
            ],
        )
        .await;
    assert_eq!(p.status, 401, "{}", p.body);
    assert!(p.body.contains("id=\"confirmation-error\""));
    assert!(p.body.contains("value=\"minato-sato\" id=\"u-"));
    let p = master
        .post(
            "/admin/unlock",
            &[
                ("login_id", "minato-sato"),
                ("login_id", "minato-kato"),
                ("confirmation", CONFIRMATION_PASSWORD),
            ],
        )
        .await;
    assert_eq!(p.status, 200, "{}", p.body);
    assert!(p.body.contains("利用者停止・解除結果"));
    assert!(p
        .body
        .contains("以下の利用者のサービスを停止解除しました。"));
    for h in ["ログインID", "利用者名", "利用者区分", "サービス状態"] {
        assert!(p.body.contains(&format!(">{h}</th>")), "{h}");
    }
    assert!(p.body.contains("佐藤 次郎") && p.body.contains("加藤 三郎"));
    let locked = engine(&d, |e| {
        ["minato-sato", "minato-kato"].map(|id| {
            let (u, t) = e.user_and_tenant(id).unwrap();
            u.credential_state(&t, CredentialKind::Login, e.now())
                .is_locked()
        })
    })
    .await;
    assert_eq!(locked, [false, false]);
}

/// Seed 003: 「初回ログイン時に、多要素認証用(ワンタイムパスワード)メールアドレスの登録が求められます」,
/// then IPアクセス制限 from the administrator's own control panel — rules that would shut out the
/// address they work from are refused and nothing is saved.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_biz_mail_administrator_registers_the_otp_address_and_cannot_lock_themselves_out() {
    let mail = TestMail::new();
    let d = start(&mail).await;
    let mut b = Browser::new(d.addr, "ja");
    let to = b.sign_in("kitahama-master", BIZ_MAIL_LOGIN_PASSWORD).await;
    assert_eq!(to, "/me/otp-address");
    let p = b.get("/admin/ip-rules").await;
    assert_eq!(
        p.location().as_deref(),
        Some("/me/otp-address"),
        "first the address"
    );
    let p = b.get("/me/otp-address").await;
    assert!(p.body.contains(
        "初回ログイン時に、多要素認証用(ワンタイムパスワード)メールアドレスの登録が求められます。"
    ));
    let address = "kitahama-otp@example.co.jp";
    let p = b
        .post(
            "/me/otp-address",
            &[("address", address), ("password", BIZ_MAIL_LOGIN_PASSWORD)],
        )
        .await;
    assert_eq!(p.status, 200, "{}", p.body);
    let code = code_to(&mail, address, 1).await;
    let session = b.jar.get("__Host-kagiya-session").cloned();
    let p = b
        .post(
            "/me/otp-address/confirm",
            &[("address", address), ("code", &code)],
        )
        .await;
    assert_eq!(p.status, 303, "{}", p.body);
    assert_ne!(
        b.jar.get("__Host-kagiya-session").cloned(),
        session,
        "renewed"
    );

    let p = b.get("/admin/ip-rules?service=user_web").await;
    assert_eq!(p.status, 200, "{}", p.body);
    assert!(p.body.contains("127.0.0.1"), "the address in use is shown");
    let shut_out = b
        .post(
            "/admin/ip-rules",
            &[
                ("service", "user_web"),
                ("rules", "allow 203.0.113.0/24 本社"),
                ("default", "deny"),
                ("password", BIZ_MAIL_LOGIN_PASSWORD),
            ],
        )
        .await;
    assert_eq!(shut_out.status, 422, "{}", shut_out.body);
    assert!(shut_out.body.contains("ログインできなくなります"));
    let saved = engine(&d, |e| e.ip_rules("K-1002", Service::UserWeb).unwrap()).await;
    assert!(
        saved.rules.is_empty() && saved.default == IpAction::Allow,
        "nothing saved"
    );

    let ok = b
        .post(
            "/admin/ip-rules",
            &[
                ("service", "user_web"),
                (
                    "rules",
                    "allow 127.0.0.1/32 この端末\nallow 203.0.113.0/24 本社",
                ),
                ("default", "deny"),
                ("password", BIZ_MAIL_LOGIN_PASSWORD),
            ],
        )
        .await;
    assert_eq!(ok.status, 303, "{}", ok.body);
    let saved = engine(&d, |e| e.ip_rules("K-1002", Service::UserWeb).unwrap()).await;
    assert_eq!(saved.rules.len(), 2);
    assert_eq!(saved.default, IpAction::Deny);
    // A general user of the same customer has no such page.
    let mut general = Browser::new(d.addr, "ja");
    general
        .sign_in("kitahama-ota", BIZ_MAIL_LOGIN_PASSWORD)
        .await;
    let p = general.get("/admin/ip-rules").await;
    assert_ne!(p.status, 200);
}

/// Seed 000: the link is 「ワンタイム(1回限り)で、一定時間経過後に無効となります」 — its page shows its
/// form only while it is good, and a used, replaced or made-up link shows nothing of its user
/// (a browser's history, a forwarded mail).
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_used_or_unknown_link_opens_nothing_of_its_user() {
    let mail = TestMail::new();
    let d = start(&mail).await;
    let to = "iroha-reset-page@example.co.jp";
    let port = d.port.clone();
    tokio::task::spawn_blocking(move || {
        use kagiya_engine::port::{Change, Port};
        let added = kagiya_core::event::EventKind::AddressAdded {
            login_id: "iroha-master".into(),
            address: to.into(),
            purposes: vec![kagiya_core::directory::Purpose::Reset],
        };
        let now = kagiya_engine::Clock::now(&kagiya_engine::SystemClock);
        port.write(now, "test", &mut |_| {
            Ok(vec![Change::event(Some("op:test"), added.clone())])
        })
    })
    .await
    .unwrap()
    .unwrap();
    let mut b = Browser::new(d.addr, "ja");
    b.get("/password-reset").await;
    let p = b
        .post(
            "/password-reset",
            &[("login_id", "iroha-master"), ("address", to)],
        )
        .await;
    assert_eq!(p.status, 200);
    let m = mail.wait_for(to, 1, 20, |c| c.token().is_some()).await;
    let token = m[0].token().expect("a link");
    let page = format!("/password-reset?token={token}");
    let open = b.get(&page).await;
    assert_eq!(open.status, 200);
    assert!(
        open.body.contains("value=\"iroha-master\""),
        "whose password"
    );
    assert!(open.body.contains("新しいパスワードを保存"));
    // The switch keeps the link's form.
    assert!(open
        .body
        .contains(&format!("/password-reset?token={token}&#38;lang=en")));
    let done = b
        .post(
            "/password-reset",
            &[
                ("token", token.as_str()),
                ("password", "Iroha2027pg"),
                ("password2", "Iroha2027pg"),
            ],
        )
        .await;
    assert_eq!(done.status, 303, "{}", done.body);
    assert_eq!(done.location().as_deref(), Some("/sign-in?changed=1"));
    for dead in [
        page.clone(),
        "/password-reset?token=made-up-token".to_owned(),
    ] {
        let p = b.get(&dead).await;
        assert_eq!(p.status, 401, "{dead}");
        assert!(
            !p.body.contains("iroha-master"),
            "{dead}: nothing of its user"
        );
        assert!(!p.body.contains("name=\"password\""), "{dead}: no form");
    }
    // The rules a dead link's page would tick are not answered either.
    let p = b
        .post(
            "/password/rules",
            &[
                ("token", token.as_str()),
                ("link", "reset"),
                ("password", "x"),
            ],
        )
        .await;
    assert_eq!(p.status, 401);
}

/// Records `kinds` as the branch would (through the server's own port).
async fn record(d: &Demo, kinds: Vec<kagiya_core::event::EventKind>) {
    let port = d.port.clone();
    tokio::task::spawn_blocking(move || {
        use kagiya_engine::port::{Change, Port};
        let changes: Vec<Change> = kinds
            .into_iter()
            .map(|k| Change::event(Some("op:test"), k))
            .collect();
        let now = kagiya_engine::Clock::now(&kagiya_engine::SystemClock);
        port.write(now, "test", &mut |_| Ok(changes.clone()))
    })
    .await
    .unwrap()
    .unwrap();
}

/// Seed 004 §2.5: 「パスワードの有効期限が切れた状態で、ログインすると「パスワード期限切れ」画面に
/// 変更対象のパスワードが表示されます」, with 「変更要否」 for the password that has not expired.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn an_expired_password_opens_the_expired_page_with_a_choice_for_the_other() {
    let mail = TestMail::new();
    let d = start(&mail).await;
    let hash = kagiya_core::password::PasswordHasher::new(Default::default())
        .unwrap()
        .hash(&kagiya_core::secret::Secret::new(LOGIN_PASSWORD))
        .unwrap();
    let day = 24 * 60 * kagiya_core::MINUTE;
    let now = kagiya_engine::Clock::now(&kagiya_engine::SystemClock);
    record(
        &d,
        vec![kagiya_core::event::EventKind::PasswordSet {
            login_id: "minato-kato".into(),
            credential: CredentialKind::Login,
            hash,
            reason: kagiya_core::event::PasswordSetReason::Initial,
            must_change: false,
            temporary: false,
            expires_at: Some(now - day),
            exception: None,
        }],
    )
    .await;
    let mut b = Browser::new(d.addr, "ja");
    assert_eq!(
        b.sign_in("minato-kato", LOGIN_PASSWORD).await,
        "/password/change"
    );
    let p = b.get("/password/change").await;
    assert!(p.body.contains("<h1>パスワード期限切れ</h1>"), "{}", p.body);
    assert!(
        !p.body.contains("連絡されたパスワード"),
        "not the forced page"
    );
    assert!(p.body.contains("name=\"login_new\""));
    // The confirmation password has not expired: 変更要否, 変更しない chosen.
    assert!(p
        .body
        .contains("name=\"confirmation_change\" value=\"no\" checked"));
    let p = b
        .post(
            "/password/change",
            &[
                ("login_current", LOGIN_PASSWORD),
                ("login_new", "Kato2027new"),
                ("login_new2", "Kato2027new"),
                ("confirmation_change", "no"),
            ],
        )
        .await;
    assert_eq!(p.status, 303, "{}", p.body);
    let p = b.get("/me?changed=1").await;
    assert!(p.body.contains("パスワードの有効期限を確認してください"));
}

/// Seed 001: 「「電子署名」および「受信メールの暗号化」チェクボックスがオンの状態となり、「デジタルID
/// ステータス」が「アップロードされました」となります」; 「それぞれのチェックボックス(電子署名または
/// 暗号化)をはずすことで機能を停止することができます」 — with the user's own password.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn the_users_page_shows_the_certificate_status_and_saves_the_flags() {
    let mail = TestMail::new();
    let d = start(&mail).await;
    let taro = "taro@example.co.jp";
    let mut evs = vec![kagiya_core::event::EventKind::AddressAdded {
        login_id: "minato-kato".into(),
        address: taro.into(),
        purposes: vec![kagiya_core::directory::Purpose::Notifications],
    }];
    evs.extend(common::encrypting(
        "minato-kato",
        taro,
        &mail.smime,
        "taro.pem",
    ));
    record(&d, evs).await;
    let mut b = Browser::new(d.addr, "ja");
    assert_eq!(b.sign_in("minato-kato", LOGIN_PASSWORD).await, "/me");
    let p = b.get("/me").await;
    assert!(p.body.contains("アップロードされました"), "{}", p.body);
    assert!(p.body.contains("デジタルIDステータス"));
    assert!(p
        .body
        .contains("id=\"sign_0\" name=\"sign_0\" value=\"1\" checked"));
    assert!(p
        .body
        .contains("id=\"encrypt_0\" name=\"encrypt_0\" value=\"1\" checked"));
    let flags = || {
        engine(&d, |e| {
            let v = e.address_views("minato-kato").unwrap();
            let a = v
                .iter()
                .find(|a| a.address == "taro@example.co.jp")
                .unwrap();
            (a.sign, a.encrypt)
        })
    };
    // Both boxes cleared, with a wrong password: said at the password, nothing changed.
    let untick = |pw: &'static str| vec![("action", "save"), ("address", taro), ("password", pw)];
    let p = b.post("/me/addresses", &untick("Wrong2026zz")).await;
    assert_eq!(p.status, 401, "{}", p.body);
    assert!(p.body.contains("id=\"password-error\""));
    assert_eq!(flags().await, (true, true));
    let p = b
        .post("/me/addresses", &untick(CONFIRMATION_PASSWORD))
        .await;
    assert_eq!(p.status, 303, "{}", p.body);
    assert_eq!(p.location().as_deref(), Some("/me?done=saved"));
    assert_eq!(flags().await, (false, false));
}

/// Seed 002: 多要素認証を「利用する」 — the code mailed to the address must come back before it is
/// on; from then every sign-in asks for a one-time password (「ワンタイムパスワード認証」); and
/// 「利用しない」 with the user's own password.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn two_step_sign_in_is_turned_on_and_off_from_the_users_page() {
    let mail = TestMail::new();
    let d = start(&mail).await;
    let otp = "sato-otp@example.co.jp";
    let mut b = Browser::new(d.addr, "ja");
    assert_eq!(b.sign_in("minato-sato", LOGIN_PASSWORD).await, "/me");
    let p = b.get("/me").await;
    assert!(p.body.contains("<strong>利用しない</strong>"));
    b.get("/me/otp-address").await;
    let p = b
        .post(
            "/me/otp-address",
            &[("address", otp), ("password", CONFIRMATION_PASSWORD)],
        )
        .await;
    assert_eq!(p.status, 200, "{}", p.body);
    let code = code_to(&mail, otp, 1).await;
    let p = b
        .post(
            "/me/otp-address/confirm",
            &[("address", otp), ("code", &code)],
        )
        .await;
    assert_eq!(p.location().as_deref(), Some("/me?done=mfa_on"));
    b.post("/sign-out", &[]).await;
    assert_eq!(
        b.sign_in("minato-sato", LOGIN_PASSWORD).await,
        "/sign-in/code"
    );
    // The code page is the only one open: the user's page waits for the code.
    let p = b.get("/me").await;
    assert_eq!(p.location().as_deref(), Some("/sign-in/code"));
    let code = code_to(&mail, otp, 2).await;
    // Typed with full-width digits, as an IME gives them.
    let wide: String = code
        .chars()
        .map(|c| char::from_u32(c as u32 - '0' as u32 + '０' as u32).unwrap())
        .collect();
    let p = b.post("/sign-in/code", &[("code", &wide)]).await;
    assert_eq!(p.location().as_deref(), Some("/me"), "{}", p.body);
    let p = b
        .post("/me/mfa-off", &[("password", CONFIRMATION_PASSWORD)])
        .await;
    assert_eq!(
        p.location().as_deref(),
        Some("/me?done=mfa_off"),
        "{}",
        p.body
    );
    assert!(!engine(&d, |e| e.user("minato-sato").unwrap().mfa).await);
}
