//! Seed 002's site users and the second factor of seeds 002 and 003, through the engine on a real
//! encrypted SQLite file: setup links and per-address passwords with their own lock, 2FA turned
//! on only by a code that came back, sign-in codes that expire, run out and count towards the
//! lock, and no secret of any of them in the log.

use std::sync::Arc;

use kagiya_core::directory::{
    Channel, CredentialKind, CredentialState, Purpose, Service, UserRole,
};
use kagiya_core::password::{HashParams, Preset};
use kagiya_core::secret::Secret;
use kagiya_core::{Error, Lang, MINUTE};
use kagiya_engine::{ActorRef, ChangeOwn, FixedClock, NewTenant, NewUser, UnlockOutcome};
use kagiya_store::{directory, events, Branch};

use crate::support::{conf, sv, BranchFile, T0};

struct Env {
    _file: BranchFile,
    clock: Arc<FixedClock>,
    e: Branch,
}

/// A customer on `preset` with one admin user `hanakodt` (contact address given); returns the
/// admin's temporary login password.
fn env(preset: Preset) -> (Env, Secret) {
    let clock = Arc::new(FixedClock::new(T0));
    let file = BranchFile::new(9, &clock, HashParams::default());
    let e = file.open(&clock, HashParams::default(), "test");
    e.create_tenant(
        &sv(),
        &conf(),
        NewTenant {
            contract_no: "W-1".into(),
            name: "株式会社ウェブ".into(),
            services: vec![Service::UserWeb, Service::AdminConsole],
            preset,
        },
    )
    .unwrap();
    let issued = e
        .create_user(
            &sv(),
            &conf(),
            NewUser {
                contract_no: "W-1".into(),
                login_id: "hanakodt".into(),
                name: "山田 花子".into(),
                role: UserRole::Admin,
                email: Some("hanako@example.co.jp".into()),
            },
        )
        .unwrap();
    (
        Env {
            _file: file,
            clock,
            e,
        },
        issued.login.unwrap(),
    )
}

fn assert_fold(e: &Branch) {
    assert!(directory::rebuild_matches(&e.store().conn()).unwrap());
    events::verify(&e.store().conn()).unwrap();
}

/// A six-digit code that is not `code`.
fn not_the(code: &Secret) -> Secret {
    Secret::new(if code.expose() == "000000" {
        "111111"
    } else {
        "000000"
    })
}

/// Every stored event body, to prove that no secret reached the log.
fn log_text(e: &Branch) -> String {
    let conn = e.store().conn();
    let mut st = conn.prepare("SELECT body FROM events").unwrap();
    let rows = st.query_map([], |r| r.get::<_, String>(0)).unwrap();
    rows.map(Result::unwrap).collect::<Vec<_>>().join("\n")
}

fn types(e: &Branch) -> Vec<String> {
    let conn = e.store().conn();
    let mut st = conn
        .prepare("SELECT kind FROM events ORDER BY seq")
        .unwrap();
    let rows = st.query_map([], |r| r.get::<_, String>(0)).unwrap();
    rows.map(Result::unwrap).collect()
}

/// Seed 002: 「ログイン時にはログインID、メールアドレス、パスワードの3種類入力が必要」;
/// 「サイト利用者のメールアドレスは、1ログインIDにつき10個まで」; 「追加したメールアドレス宛には
/// 「パスワード設定依頼メール」が届くため、メール本文に記載のURLから、新しくパスワードを設定してください」.
#[test]
fn seed_002_added_addresses_set_their_own_password_through_a_one_time_link_and_lock_on_their_own() {
    let (t, initial) = env(Preset::WebMember);
    let e = &t.e;
    // The login takes the address: without one it is refused (and recorded, nothing counted).
    assert_eq!(
        e.verify("hanakodt", CredentialKind::Login, Channel::Web, &initial)
            .unwrap_err(),
        Error::InvalidUserCredentials
    );
    assert_eq!(types(e).last().unwrap(), "credential_refused");
    e.verify_with_address(
        "hanakodt",
        "Hanako@Example.co.jp",
        Channel::Web,
        &initial,
        None,
    )
    .unwrap();
    // A Web member user needs an address to sign in at all.
    let no_address = e.create_user(
        &sv(),
        &conf(),
        NewUser {
            contract_no: "W-1".into(),
            login_id: "noaddrdt".into(),
            name: "宛先 なし".into(),
            role: UserRole::General,
            email: None,
        },
    );
    assert_eq!(
        no_address.unwrap_err(),
        Error::AddressRule("web_member_needs_address")
    );

    // A site user's address is added; the mail it is owed carries a setup link.
    e.add_address(&sv(), &conf(), "hanakodt", "sales@example.co.jp", &[])
        .unwrap();
    let first = e
        .issue_address_setup("hanakodt", "sales@example.co.jp")
        .unwrap();
    let link = e
        .issue_address_setup("hanakodt", "sales@example.co.jp")
        .unwrap();
    assert_ne!(first.secret.expose(), link.secret.expose());
    assert_eq!(link.expires_at, T0 + 24 * 60 * MINUTE);
    // The own contact address has the login password and gets no link.
    assert_eq!(
        e.issue_address_setup("hanakodt", "hanako@example.co.jp")
            .unwrap_err(),
        Error::AddressRule("own_address")
    );
    let good = Secret::new("Sales2026ab");
    // A new link voids the one before.
    assert_eq!(
        e.set_address_password("hanakodt", "sales@example.co.jp", &first.secret, &good)
            .unwrap_err(),
        Error::OneTimeRefused
    );
    // A password the policy refuses changes nothing and leaves the link usable.
    assert!(matches!(
        e.set_address_password(
            "hanakodt",
            "sales@example.co.jp",
            &link.secret,
            &Secret::new("short")
        ),
        Err(Error::PasswordPolicy(_))
    ));
    // Before the password is set, the address cannot sign in (same answer as a wrong password).
    assert_eq!(
        e.verify_with_address("hanakodt", "sales@example.co.jp", Channel::Web, &good, None)
            .unwrap_err(),
        Error::InvalidUserCredentials
    );
    e.set_address_password("hanakodt", "sales@example.co.jp", &link.secret, &good)
        .unwrap();
    // Single use.
    assert_eq!(
        e.set_address_password("hanakodt", "sales@example.co.jp", &link.secret, &good)
            .unwrap_err(),
        Error::OneTimeRefused
    );
    let v = e
        .verify_with_address("hanakodt", "SALES@example.co.jp", Channel::Web, &good, None)
        .unwrap();
    assert!(!v.must_change);
    // The address's password is its own: it is not the login password, nor the other way round.
    assert_eq!(
        e.verify_with_address(
            "hanakodt",
            "sales@example.co.jp",
            Channel::Web,
            &initial,
            None
        )
        .unwrap_err(),
        Error::InvalidUserCredentials
    );
    assert_eq!(
        e.verify_with_address(
            "hanakodt",
            "hanako@example.co.jp",
            Channel::Web,
            &good,
            None
        )
        .unwrap_err(),
        Error::InvalidUserCredentials
    );
    // An address the user does not have: refused, nothing counted anywhere.
    assert_eq!(
        e.verify_with_address("hanakodt", "other@example.co.jp", Channel::Web, &good, None)
            .unwrap_err(),
        Error::InvalidUserCredentials
    );

    // Ten wrong passwords lock that address (the preset's 10 in 15 minutes) and only that one.
    let wrong = Secret::new("Wrong2026xx");
    let mut last = Ok(());
    for _ in 0..10 {
        last = e
            .verify_with_address(
                "hanakodt",
                "sales@example.co.jp",
                Channel::Web,
                &wrong,
                None,
            )
            .map(|_| ());
    }
    // The tenth locks and answers like any wrong password; the right one then says "locked".
    assert_eq!(last.unwrap_err(), Error::InvalidUserCredentials);
    assert_eq!(
        e.verify_with_address("hanakodt", "sales@example.co.jp", Channel::Web, &good, None)
            .unwrap_err(),
        Error::CredentialLocked {
            until: Some(T0 + 15 * MINUTE)
        }
    );
    let list = e.read(|r| r.addresses("hanakodt")).unwrap();
    let sales = list
        .iter()
        .find(|a| a.address == "sales@example.co.jp")
        .unwrap();
    let tenant = e.tenant("W-1").unwrap();
    let p = tenant.policy(CredentialKind::Login);
    assert!(matches!(
        sales.credential.as_ref().unwrap().state(&p.lockout, 0, T0),
        CredentialState::TemporarilyStopped { .. }
    ));
    // The user's own login is not locked by it.
    e.verify_with_address(
        "hanakodt",
        "hanako@example.co.jp",
        Channel::Web,
        &initial,
        None,
    )
    .unwrap();
    // The branch's unlock of the user's login password unlocks the addresses too.
    let (_, rows) = e
        .unlock(&sv(), &conf(), &["hanakodt".to_owned()], Lang::Ja)
        .unwrap();
    assert_eq!(rows[0].outcome, UnlockOutcome::Unlocked);
    let v = e
        .verify_with_address("hanakodt", "sales@example.co.jp", Channel::Web, &good, None)
        .unwrap();
    assert!(v.second_factor.is_none(), "no 2FA yet: signed in");
    // With 2FA on, the added address's right password earns a code too, never a sign-in of its
    // own (the account's second factor is not skipped by signing in through another address).
    e.add_address(
        &sv(),
        &conf(),
        "hanakodt",
        "otp@example.co.jp",
        &[kagiya_core::directory::Purpose::Otp],
    )
    .unwrap();
    let enrol = e
        .start_mfa_enrollment(&sv(), &conf(), "hanakodt", "otp@example.co.jp")
        .unwrap();
    e.confirm_mfa_enrollment("hanakodt", "otp@example.co.jp", &enrol.secret)
        .unwrap();
    let v = e
        .verify_with_address("hanakodt", "sales@example.co.jp", Channel::Web, &good, None)
        .unwrap();
    let code = v.second_factor.expect("a code is owed");
    assert_eq!(code.address, "otp@example.co.jp");

    // A link expires after a day.
    e.add_address(&sv(), &conf(), "hanakodt", "late@example.co.jp", &[])
        .unwrap();
    let late = e
        .issue_address_setup("hanakodt", "late@example.co.jp")
        .unwrap();
    t.clock.advance(24 * 60 * MINUTE);
    assert_eq!(
        e.set_address_password("hanakodt", "late@example.co.jp", &late.secret, &good)
            .unwrap_err(),
        Error::OneTimeRefused
    );

    // No link, no password: only their argon2id hashes are in the log.
    let log = log_text(e);
    for s in [&first.secret, &link.secret, &late.secret, &good] {
        assert!(!log.contains(s.expose()));
    }
    assert!(log.contains("\"type\":\"address_password_set\""));
    assert_fold(e);
}

/// Seed 002: 「多要素認証を「利用する」を選択」, 「ログイン時、登録されたメールアドレス宛にメールを
/// 送信します。メールに記載されたワンタイムパスワードを、有効期限内に画面へ入力してください」; seed 003:
/// 「多要素認証用(ワンタイムパスワード)メールアドレスの登録が求められます」 and 「二要素認証を設定
/// できない場合には…12桁以上に設定することを推奨」 — the 8-character minimum holds only for a user
/// whose second factor is enrolled.
#[test]
fn two_factor_is_on_only_after_a_code_came_back_and_then_every_sign_in_needs_one() {
    let (t, initial) = env(Preset::BizMail);
    let e = &t.e;
    let me = ActorRef::User("hanakodt".into());
    let short = Secret::new("Fz3kq9wpLm"); // 10 characters: below 12, above 8
    let strong = Secret::new("Kagiya-Str0ng-Passw0rd!");
    e.change_own_passwords(
        "hanakodt",
        ChangeOwn {
            login: Some((initial.clone(), strong.clone())),
            confirmation: None,
        },
    )
    .unwrap();
    // Without 2FA the 12-character minimum holds.
    assert!(matches!(
        e.change_own_passwords(
            "hanakodt",
            ChangeOwn {
                login: Some((strong.clone(), short.clone())),
                confirmation: None,
            },
        ),
        Err(Error::PasswordPolicy(_))
    ));
    // Turning it on needs an address of the user's: the code goes there.
    assert_eq!(
        e.start_mfa_enrollment(&me, &strong, "hanakodt", "otp@example.co.jp")
            .unwrap_err(),
        Error::AddressRule("unknown")
    );
    e.add_address(
        &me,
        &strong,
        "hanakodt",
        "otp@example.co.jp",
        &[Purpose::Otp],
    )
    .unwrap();
    let code = e
        .start_mfa_enrollment(&me, &strong, "hanakodt", "otp@example.co.jp")
        .unwrap();
    assert_eq!(code.secret.expose().len(), 6);
    assert!(
        !e.user("hanakodt").unwrap().mfa,
        "not on before the code is back"
    );
    // A wrong code spends a try and turns nothing on.
    let wrong = not_the(&code.secret);
    assert_eq!(
        e.confirm_mfa_enrollment("hanakodt", "otp@example.co.jp", &wrong)
            .unwrap_err(),
        Error::OneTimeRefused
    );
    assert!(!e.user("hanakodt").unwrap().mfa);
    // The code as typed from a Japanese IME (full-width digits, a space) is the code.
    let typed: String = code
        .secret
        .expose()
        .chars()
        .map(|c| char::from_u32(c as u32 - '0' as u32 + '０' as u32).unwrap())
        .collect();
    let typed = format!("{} {}", &typed[..9], &typed[9..]);
    e.confirm_mfa_enrollment("hanakodt", "otp@example.co.jp", &Secret::new(typed))
        .unwrap();
    assert!(e.user("hanakodt").unwrap().mfa);
    let list = e.read(|r| r.addresses("hanakodt")).unwrap();
    assert!(list[0].verified && list[0].purposes.contains(&Purpose::Otp));
    // Used once.
    assert_eq!(
        e.confirm_mfa_enrollment("hanakodt", "otp@example.co.jp", &code.secret)
            .unwrap_err(),
        Error::OneTimeRefused
    );
    // Now the shorter password is accepted (the policy's relaxation for an enrolled factor).
    e.change_own_passwords(
        "hanakodt",
        ChangeOwn {
            login: Some((strong.clone(), short.clone())),
            confirmation: None,
        },
    )
    .unwrap();

    // Sign-in: a right password earns a code to the address, not a sign-in.
    let v = e
        .verify("hanakodt", CredentialKind::Login, Channel::Web, &short)
        .unwrap();
    let sent = v.second_factor.expect("a code is owed");
    assert_eq!(sent.address, "otp@example.co.jp");
    assert_eq!(sent.expires_at, T0 + 10 * MINUTE);
    // Rechecking the password for an act sends nothing.
    let before = types(e).len();
    e.add_address(&me, &short, "hanakodt", "second@example.co.jp", &[])
        .unwrap();
    assert!(!types(e)[before..].iter().any(|k| k == "one_time_issued"));
    // A wrong code is refused and counted towards the login password's lock.
    let wrong = not_the(&sent.secret);
    assert_eq!(
        e.verify_code("hanakodt", &wrong, Channel::Web, None)
            .unwrap_err(),
        Error::OneTimeRefused
    );
    assert_eq!(
        &types(e)[types(e).len() - 2..],
        ["one_time_failed", "credential_failed"]
    );
    assert!(matches!(
        e.user("hanakodt").unwrap().login.lockout.failures,
        1
    ));
    let ok = e
        .verify_code("hanakodt", &sent.secret, Channel::Web, None)
        .unwrap();
    assert_eq!(ok.login_id, "hanakodt");
    // Used once.
    assert_eq!(
        e.verify_code("hanakodt", &sent.secret, Channel::Web, None)
            .unwrap_err(),
        Error::OneTimeRefused
    );
    // Three wrong tries void a code, even the right one after them.
    let sent = e
        .verify("hanakodt", CredentialKind::Login, Channel::Web, &short)
        .unwrap()
        .second_factor
        .unwrap();
    let wrong = not_the(&sent.secret);
    for _ in 0..3 {
        assert!(e
            .verify_code("hanakodt", &wrong, Channel::Web, None)
            .is_err());
    }
    assert_eq!(
        e.verify_code("hanakodt", &sent.secret, Channel::Web, None)
            .unwrap_err(),
        Error::OneTimeRefused
    );
    // A code expires in ten minutes.
    let sent = e
        .verify("hanakodt", CredentialKind::Login, Channel::Web, &short)
        .unwrap()
        .second_factor
        .unwrap();
    t.clock.advance(10 * MINUTE);
    assert_eq!(
        e.verify_code("hanakodt", &sent.secret, Channel::Web, None)
            .unwrap_err(),
        Error::OneTimeRefused
    );
    // An ID that does not exist gets the same answer.
    assert_eq!(
        e.verify_code("nobodydt", &sent.secret, Channel::Web, None)
            .unwrap_err(),
        Error::OneTimeRefused
    );
    // The last one-time-password address stays while 2FA is on.
    assert_eq!(
        e.delete_address(&me, &short, "hanakodt", "otp@example.co.jp")
            .unwrap_err(),
        Error::AddressRule("last_otp")
    );

    // Turning it off (「利用しない」): the 10-character password was allowed only with 2FA, so it
    // must be changed at the next login; the 12-character minimum is back.
    assert!(e.disable_mfa(&me, &short, "hanakodt").unwrap());
    let u = e.user("hanakodt").unwrap();
    assert!(!u.mfa && u.login.must_change);
    assert_eq!(
        e.disable_mfa(&sv(), &conf(), "hanakodt").unwrap_err(),
        Error::MfaRule("already_off")
    );
    let v = e
        .verify("hanakodt", CredentialKind::Login, Channel::Web, &short)
        .unwrap();
    assert!(v.second_factor.is_none() && v.must_change);
    assert!(matches!(
        e.change_own_passwords(
            "hanakodt",
            ChangeOwn {
                login: Some((short.clone(), Secret::new("Gx4mr8tqZn"))),
                confirmation: None,
            },
        ),
        Err(Error::PasswordPolicy(_))
    ));
    // No code is in the log, only hashes.
    let log = log_text(e);
    assert!(!log.contains(&format!("\"{}\"", code.secret.expose())));
    assert!(!log.contains(&format!("\"{}\"", sent.secret.expose())));
    assert_fold(e);
}
