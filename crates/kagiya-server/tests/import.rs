//! A branch's directory reaches the server: `kagiya audit export-directory` (the store's
//! `events::export_directory`) on a real branch file, `kagiya-server import` on the server — the
//! users sign in with the passwords the branch gave them, the chains and fold check out, and a
//! second import of the same file adds nothing.

mod common;

use std::sync::Arc;

use common::fresh_database;
use kagiya_core::directory::{Channel, CredentialKind, CredentialPolicy, UserRole};
use kagiya_core::event::{EventKind, PasswordSetReason};
use kagiya_core::password::{PasswordHasher, Preset};
use kagiya_core::secret::Secret;
use kagiya_server::db;
use kagiya_server::store::PgPort;
use kagiya_store::{directory, events, DbKey, Store};

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_branch_export_imports_once_and_its_users_sign_in() {
    // The branch: a real SQLCipher file with a customer, two users and a lock.
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(&dir.path().join("branch.db"), &DbKey::generate()).unwrap();
    let hasher = PasswordHasher::new(Default::default()).unwrap();
    let hash = hasher.hash(&Secret::new("Branch2026x")).unwrap();
    // A minute ago: the temporary lock (30 minutes) still holds when the server is asked.
    let at = kagiya_engine::Clock::now(&kagiya_engine::SystemClock) - 60_000;
    store
        .write(|tx| {
            let mut evs = vec![EventKind::TenantCreated {
                contract_no: "B-2001".into(),
                name: "株式会社テスト".into(),
                services: vec![kagiya_core::directory::Service::AdminConsole],
                preset: Preset::BusinessWeb,
                login: CredentialPolicy::from_preset(Preset::BusinessWeb),
                confirmation: CredentialPolicy::from_preset(Preset::BusinessWeb),
            }];
            for id in ["test-master", "test-user"] {
                evs.push(EventKind::UserCreated {
                    login_id: id.into(),
                    contract_no: "B-2001".into(),
                    name: id.into(),
                    role: if id == "test-master" {
                        UserRole::Master
                    } else {
                        UserRole::General
                    },
                    email: None,
                });
                for credential in CredentialKind::BOTH {
                    evs.push(EventKind::PasswordSet {
                        login_id: id.into(),
                        credential,
                        hash: hash.clone(),
                        reason: PasswordSetReason::Initial,
                        must_change: false,
                        temporary: false,
                        expires_at: None,
                        exception: None,
                    });
                }
            }
            for ev in evs {
                directory::record(tx, at, Some("op:sv001"), Some("desktop"), ev)?;
            }
            let lock = Preset::BusinessWeb.lockout();
            directory::fail_until_locked(
                tx,
                "test-user",
                CredentialKind::Login,
                &lock,
                at,
                "desktop",
            )?;
            Ok(())
        })
        .unwrap();
    let file = dir.path().join("directory.jsonl");
    let mut out = std::fs::File::create(&file).unwrap();
    let written = events::export_directory(&store.conn(), &mut out).unwrap();
    assert_eq!(
        written,
        1 + 2 * 3 + 5,
        "the customer, two users with two passwords, five failures"
    );

    // The server.
    let url = fresh_database().await;
    let bin = env!("CARGO_BIN_EXE_kagiya-server");
    let run = |args: &[&str]| {
        std::process::Command::new(bin)
            .args(args)
            .env("KAGIYA_SERVER_DATABASE_URL", &url)
            .output()
            .unwrap()
    };
    assert!(run(&["migrate"]).status.success());
    let f = file.to_str().unwrap();
    let first = run(&["import", f]);
    assert!(
        first.status.success(),
        "{}",
        String::from_utf8_lossy(&first.stderr)
    );
    assert!(String::from_utf8_lossy(&first.stdout).contains("12 entries recorded, 0 already there"));
    let again = run(&["import", f]);
    assert!(String::from_utf8_lossy(&again.stdout).contains("0 entries recorded, 12 already there"));

    let pool = db::pool(&url, 4).unwrap();
    let report = kagiya_server::check::run(&pool).await.unwrap();
    assert!(report.ok(), "{report:?}");
    assert_eq!(report.entries, 12);
    // The users sign in with what the branch gave them; the lock came along.
    let port = Arc::new(PgPort::new(pool, tokio::runtime::Handle::current()));
    tokio::task::spawn_blocking(move || {
        let e = kagiya_engine::Engine::new(port, "server", Default::default()).unwrap();
        let pw = Secret::new("Branch2026x");
        e.verify("test-master", CredentialKind::Login, Channel::Web, &pw)
            .unwrap();
        let locked = e.verify("test-user", CredentialKind::Login, Channel::Web, &pw);
        assert!(
            matches!(locked, Err(kagiya_core::Error::CredentialLocked { .. })),
            "{locked:?}"
        );
    })
    .await
    .unwrap();

    // A file that is not an export is refused with its line named, and changes nothing.
    let bad = dir.path().join("bad.jsonl");
    std::fs::write(&bad, "{\"format\": 1, \"source\": \"x\"}\nnot json\n").unwrap();
    let out = run(&["import", bad.to_str().unwrap()]);
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("line 2"));
}
