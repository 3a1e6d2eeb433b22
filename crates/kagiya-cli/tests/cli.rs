//! The `kagiya` binary as a script would use it: real encrypted database files, the real OS
//! keyring (scripts/test.sh runs this under scripts/with-keyring.sh), secrets on stdin, --json
//! output and exit codes; and a process killed with SIGKILL in the middle of a bulk unlock.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::time::Instant;

use kagiya_core::password::{HashParams, PasswordHasher};
use kagiya_core::secret::Secret;
use kagiya_store::{directory, events, fixtures, KeySource, Store};

const BIN: &str = env!("CARGO_BIN_EXE_kagiya");
const CONF: &str = "Branch-Confirm-2026";
const LOGIN: &str = "Branch-Login-2026";

/// A data folder for one test; `None` (with a note) when no OS keyring is reachable and the
/// test run does not require one.
fn data_dir() -> Option<tempfile::TempDir> {
    let dir = tempfile::tempdir().unwrap();
    let probe = dir.path().join("probe.db");
    match KeySource::OsKeyring.resolve(&probe) {
        Ok(_) => {
            kagiya_store::key::forget(&probe).unwrap();
            Some(dir)
        }
        Err(e) if std::env::var_os("KAGIYA_TEST_KEYRING").is_none() => {
            eprintln!("NOTE: no OS keyring ({e:?}); run under scripts/with-keyring.sh");
            None
        }
        Err(e) => panic!("the OS keyring is required here: {e:?}"),
    }
}

fn kagiya(dir: &Path, args: &[&str], stdin: &str) -> Output {
    kagiya_with_env(dir, args, stdin, &[])
}

/// [`kagiya`] with further environment variables.
fn kagiya_with_env(dir: &Path, args: &[&str], stdin: &str, env: &[(&str, &str)]) -> Output {
    let mut child = Command::new(BIN)
        .args(args)
        .env("KAGIYA_DATA_DIR", dir)
        .env("LANG", "en_US.UTF-8")
        .envs(env.iter().copied())
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    child
        .stdin
        .take()
        .unwrap()
        .write_all(stdin.as_bytes())
        .unwrap();
    child.wait_with_output().unwrap()
}

/// A read as branch staff: `--operator sv001` with the login password on standard input (the CLI's
/// reads follow the window's rule that only a signed-in operator reads the database).
fn read(dir: &Path, args: &[&str]) -> Output {
    let mut all = vec!["--operator", "sv001"];
    all.extend_from_slice(args);
    kagiya(dir, &all, &format!("{LOGIN}\n"))
}

fn json(o: &Output) -> serde_json::Value {
    serde_json::from_slice(&o.stdout).unwrap_or_else(|e| {
        panic!(
            "not JSON ({e}): {}\n{}",
            String::from_utf8_lossy(&o.stdout),
            String::from_utf8_lossy(&o.stderr)
        )
    })
}

fn setup(dir: &Path) {
    let o = kagiya(
        dir,
        &["init", "--operator-id", "sv001", "--name", "山田 花子"],
        &format!("Branch-Login-2026\n{CONF}\n"),
    );
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let o = kagiya(
        dir,
        &[
            "--operator",
            "sv001",
            "tenant",
            "add",
            "--contract-no",
            "C-1001",
            "--name",
            "株式会社テスト",
            "--preset",
            "business_web",
            "--service",
            "user_web",
        ],
        &format!("{LOGIN}\n{CONF}\n"),
    );
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
}

#[test]
fn a_users_life_through_the_cli_with_json_and_exit_codes() {
    let Some(tmp) = data_dir() else { return };
    let dir = tmp.path();
    setup(dir);
    // Bulk registration from CSV: temporary passwords come back once.
    let csv = dir.join("users.csv");
    std::fs::write(&csv, "contract_no,login_id,name,role,email\nC-1001,saburodt,データ 三郎,master,saburo@example.co.jp\nC-1001,ichirodt,データ 一郎,general,\n").unwrap();
    let o = kagiya(
        dir,
        &[
            "--json",
            "--operator",
            "sv001",
            "user",
            "import",
            "--csv",
            csv.to_str().unwrap(),
        ],
        &format!("{LOGIN}\n{CONF}\n"),
    );
    assert_eq!(
        o.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&o.stdout)
    );
    let issued = json(&o);
    assert_eq!(issued.as_array().unwrap().len(), 2);
    let pw = issued[1]["login_password"].as_str().unwrap().to_owned();
    // A second import of the same IDs changes nothing: exit 8, no partial registration.
    let o = kagiya(
        dir,
        &[
            "--json",
            "--operator",
            "sv001",
            "user",
            "import",
            "--csv",
            csv.to_str().unwrap(),
        ],
        &format!("{LOGIN}\n{CONF}\n"),
    );
    assert_eq!(o.status.code(), Some(8));
    assert_eq!(json(&o)["error"]["code"], "input.already_exists");

    // The authentication path: right password → 0 and must_change; wrong → 3; locked → 4.
    let o = kagiya(
        dir,
        &["--json", "auth", "verify", "ichirodt"],
        &format!("{pw}\n"),
    );
    assert_eq!(o.status.code(), Some(0));
    assert_eq!(json(&o)["must_change"], true);
    for _ in 0..4 {
        assert_eq!(
            kagiya(
                dir,
                &["auth", "verify", "ichirodt", "--channel", "api"],
                "nope-1234\n"
            )
            .status
            .code(),
            Some(3)
        );
    }
    // The fifth wrong one locks and answers like the others (issue 12, finding 7); only the
    // right password is told "locked" (exit 4).
    let o = kagiya(
        dir,
        &["--json", "auth", "verify", "ichirodt", "--channel", "mail"],
        "nope-1234\n",
    );
    assert_eq!(o.status.code(), Some(3));
    let o = kagiya(
        dir,
        &["--json", "auth", "verify", "ichirodt", "--channel", "mail"],
        &format!("{pw}\n"),
    );
    assert_eq!(o.status.code(), Some(4));
    assert_eq!(json(&o)["error"]["code"], "auth.credential_locked");
    // Unknown IDs look like wrong passwords.
    assert_eq!(
        kagiya(dir, &["auth", "verify", "nobody"], "x\n")
            .status
            .code(),
        Some(3)
    );

    // Reads are branch staff's only, as in the window: without an operator, or with a wrong login
    // password (counted towards the operator's sign-in lock), nothing is shown.
    let o = kagiya(dir, &["--json", "user", "show", "ichirodt"], "");
    assert_eq!(o.status.code(), Some(5));
    assert_eq!(json(&o)["error"]["code"], "session.not_signed_in");
    let o = kagiya(
        dir,
        &["--json", "--operator", "sv001", "user", "show", "ichirodt"],
        "not-the-password\n",
    );
    assert_eq!(o.status.code(), Some(3));
    assert_eq!(json(&o)["error"]["code"], "auth.invalid_credentials");
    let o = read(dir, &["--json", "user", "show", "ichirodt"]);
    let v = json(&o);
    assert_eq!(v["login"]["state"]["state"], "temporarily_stopped");
    assert_eq!(v["service_state"], "login password temporarily locked");

    // Unlock needs the right confirmation password; the wrong one changes nothing (exit 3).
    assert_eq!(
        kagiya(
            dir,
            &["--operator", "sv001", "user", "unlock", "ichirodt"],
            "wrong\n"
        )
        .status
        .code(),
        Some(3)
    );
    let o = kagiya(
        dir,
        &[
            "--json",
            "--operator",
            "sv001",
            "user",
            "unlock",
            "ichirodt",
            "saburodt",
        ],
        &format!("{LOGIN}\n{CONF}\n"),
    );
    assert_eq!(o.status.code(), Some(0));
    let r = json(&o);
    assert_eq!(r["results"][0]["outcome"], "unlocked");
    assert_eq!(r["results"][1]["outcome"], "not_locked");

    // Policy check from stdin against a preset: exit 7 with the failed rules.
    let o = kagiya(
        dir,
        &[
            "--json",
            "policy",
            "check",
            "--preset",
            "web_member",
            "--login-id",
            "ichirodt",
        ],
        "abcdefg1\n",
    );
    assert_eq!(o.status.code(), Some(7));
    let failed: Vec<String> = json(&o)["rules"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|r| r["ok"] == false)
        .map(|r| r["code"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(failed, ["password.upper"]);
    assert_eq!(
        kagiya(
            dir,
            &["policy", "check", "--preset", "web_member"],
            "Abcdefg1\n"
        )
        .status
        .code(),
        Some(0)
    );

    // Bad input: a clear error, nothing changed.
    let o = kagiya(
        dir,
        &[
            "--json",
            "--operator",
            "sv001",
            "tenant",
            "add",
            "--contract-no",
            "C 1",
            "--name",
            "x",
            "--preset",
            "nist",
        ],
        &format!("{LOGIN}\n{CONF}\n"),
    );
    assert_eq!(o.status.code(), Some(7));
    assert_eq!(json(&o)["error"]["code"], "tenant.contract_no_invalid");
    let o = read(dir, &["--json", "user", "show", "nobody"]);
    assert_eq!(o.status.code(), Some(6));

    // The log verifies and folds to the tables; backup and a supervisor's restore.
    let o = read(dir, &["--json", "db", "check"]);
    assert_eq!(o.status.code(), Some(0));
    assert_eq!(json(&o)["fold_matches_tables"], true);
    let backup = dir.join("backup.db");
    let o = read(dir, &["--json", "db", "backup", backup.to_str().unwrap()]);
    assert_eq!(
        o.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&o.stdout)
    );
    kagiya(
        dir,
        &["--operator", "sv001", "user", "suspend", "saburodt"],
        &format!("{LOGIN}\n{CONF}\n"),
    );
    assert_eq!(
        json(&read(dir, &["--json", "user", "show", "saburodt"]))["status"],
        "suspended"
    );
    let o = kagiya(
        dir,
        &[
            "--json",
            "--operator",
            "sv001",
            "db",
            "restore",
            backup.to_str().unwrap(),
        ],
        &format!("{LOGIN}\n{CONF}\n"),
    );
    assert_eq!(
        o.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&o.stdout)
    );
    assert_eq!(
        json(&read(dir, &["--json", "user", "show", "saburodt"]))["status"],
        "active"
    );
    assert_eq!(read(dir, &["db", "check"]).status.code(), Some(0));
}

/// `n` general users, each with its login password locked, written through the store's own
/// recording path in one transaction (the engine would take an argon2 hash per user).
fn many_locked_users(dir: &Path, n: usize) -> Vec<String> {
    let path = dir.join("kagiya.db");
    let key = KeySource::OsKeyring.resolve(&path).unwrap();
    let store = Store::open(&path, &key).unwrap();
    let hasher = PasswordHasher::new(HashParams {
        memory_kib: 8,
        iterations: 1,
        parallelism: 1,
    })
    .unwrap();
    let hash = hasher.hash(&Secret::new("Temp-Pass-0001")).unwrap();
    // Now, so that the temporary locks are still running when the CLI unlocks.
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_millis() as i64;
    fixtures::users(&store, "C-1001", "u", n, &hash, now, true).unwrap()
}

fn unlocked_state(dir: &Path, ids: &[String]) -> (usize, usize) {
    let path = dir.join("kagiya.db");
    let key = KeySource::OsKeyring.resolve(&path).unwrap();
    let store = Store::open(&path, &key).unwrap();
    store.integrity_check().unwrap();
    events::verify(&store.conn()).unwrap();
    assert!(
        directory::rebuild_matches(&store.conn()).unwrap(),
        "tables == fold of the log"
    );
    let unlocked_events = events::of_kind(&store.conn(), "user_unlocked").unwrap();
    let mut unlocked = 0;
    for id in ids {
        let u = directory::user(&store.conn(), id).unwrap().unwrap();
        let is_unlocked = u.login.lockout.admin_unlocked_at.is_some();
        let has_event = unlocked_events
            .iter()
            .any(|e| e.body.contains(&format!("\"login_id\":\"{id}\"")));
        assert_eq!(
            is_unlocked, has_event,
            "{id}: unlocked exactly when its event is in the log"
        );
        unlocked += is_unlocked as usize;
    }
    (unlocked, ids.len() - unlocked)
}

#[test]
fn sigkill_in_the_middle_of_a_bulk_unlock_leaves_each_user_whole() {
    const N: usize = 3000;
    let mut outcomes = Vec::new();
    // First an uninterrupted run to learn how long the bulk unlock takes here.
    let Some(tmp) = data_dir() else { return };
    setup(tmp.path());
    let ids = many_locked_users(tmp.path(), N);
    let csv: PathBuf = tmp.path().join("ids.csv");
    std::fs::write(&csv, format!("login_id\n{}\n", ids.join("\n"))).unwrap();
    let t = Instant::now();
    let o = kagiya(
        tmp.path(),
        &[
            "--operator",
            "sv001",
            "user",
            "unlock",
            "--csv",
            csv.to_str().unwrap(),
        ],
        &format!("{LOGIN}\n{CONF}\n"),
    );
    let full = t.elapsed();
    assert!(o.status.success());
    assert_eq!(unlocked_state(tmp.path(), &ids), (N, 0));
    eprintln!(
        "bulk unlock of {N} users through the CLI: {full:?} (incl. process start and one argon2)"
    );

    // Then kills at several points of that duration.
    for fraction in [0.3, 0.6, 0.85, 0.95] {
        let Some(tmp) = data_dir() else { return };
        setup(tmp.path());
        let ids = many_locked_users(tmp.path(), N);
        let csv = tmp.path().join("ids.csv");
        std::fs::write(&csv, format!("login_id\n{}\n", ids.join("\n"))).unwrap();
        let mut child = Command::new(BIN)
            .args([
                "--operator",
                "sv001",
                "user",
                "unlock",
                "--csv",
                csv.to_str().unwrap(),
            ])
            .env("KAGIYA_DATA_DIR", tmp.path())
            .stdin(Stdio::piped())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        child
            .stdin
            .take()
            .unwrap()
            .write_all(format!("{LOGIN}\n{CONF}\n").as_bytes())
            .unwrap();
        std::thread::sleep(full.mul_f64(fraction));
        child.kill().unwrap(); // SIGKILL on Unix
        let status = child.wait().unwrap();
        let state = unlocked_state(tmp.path(), &ids);
        assert!(
            state == (N, 0) || state == (0, N),
            "all or nothing, got {state:?}"
        );
        outcomes.push((fraction, status.code(), state.0));
        // The unlock can simply be run again afterwards.
        let o = kagiya(
            tmp.path(),
            &[
                "--operator",
                "sv001",
                "user",
                "unlock",
                "--csv",
                csv.to_str().unwrap(),
            ],
            &format!("{LOGIN}\n{CONF}\n"),
        );
        assert!(o.status.success());
        assert_eq!(unlocked_state(tmp.path(), &ids), (N, 0));
    }
    eprintln!("SIGKILL at fraction → (exit code, users unlocked): {outcomes:?}");
}

#[test]
fn addresses_certificates_and_ip_rules_from_the_command_line() {
    let Some(tmp) = data_dir() else { return };
    let dir = tmp.path();
    setup(dir);
    let o = kagiya(
        dir,
        &[
            "--operator",
            "sv001",
            "user",
            "add",
            "--tenant",
            "C-1001",
            "--login-id",
            "hanakodt",
            "--name",
            "データ 花子",
            "--role",
            "admin",
        ],
        &format!("{LOGIN}\n{CONF}\n"),
    );
    assert!(o.status.success());
    let o = kagiya(
        dir,
        &[
            "--json",
            "--operator",
            "sv001",
            "address",
            "add",
            "hanakodt",
            "hanako@example.co.jp",
            "--purpose",
            "reset",
        ],
        &format!("{LOGIN}\n{CONF}\n"),
    );
    assert_eq!(
        o.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&o.stdout)
    );
    // A self-signed S/MIME certificate made by openssl.
    let cert = dir.join("hanako.pem");
    let st = Command::new("openssl")
        .current_dir(dir)
        .args([
            "req",
            "-x509",
            "-newkey",
            "rsa:2048",
            "-nodes",
            "-keyout",
            "hanako.key",
            "-out",
            "hanako.pem",
            "-days",
            "90",
            "-subj",
            "/CN=hanako",
            "-addext",
            "subjectAltName=email:hanako@example.co.jp",
            "-addext",
            "extendedKeyUsage=emailProtection",
            "-addext",
            "keyUsage=digitalSignature,keyEncipherment",
            "-addext",
            "basicConstraints=CA:FALSE",
        ])
        .output()
        .unwrap();
    assert!(
        st.status.success(),
        "{}",
        String::from_utf8_lossy(&st.stderr)
    );
    let o = read(
        dir,
        &[
            "--json",
            "cert",
            "check",
            cert.to_str().unwrap(),
            "--address",
            "hanako@example.co.jp",
        ],
    );
    let r = json(&o);
    assert_eq!(
        (
            r["acceptable"].as_bool(),
            r["format"].as_str(),
            r["chain"]["status"].as_str()
        ),
        (Some(true), Some("pem"), Some("untrusted"))
    );
    let o = read(
        dir,
        &[
            "--json",
            "cert",
            "check",
            cert.to_str().unwrap(),
            "--address",
            "someone@example.co.jp",
        ],
    );
    assert_eq!(json(&o)["acceptable"], false);
    let o = kagiya(
        dir,
        &[
            "--json",
            "--operator",
            "sv001",
            "cert",
            "import",
            "hanakodt",
            "hanako@example.co.jp",
            cert.to_str().unwrap(),
        ],
        &format!("{LOGIN}\n{CONF}\n"),
    );
    assert_eq!(
        o.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&o.stdout)
    );
    let list = json(&read(dir, &["--json", "address", "list", "hanakodt"]));
    assert_eq!(list[0]["certificate"]["status"], "registered");
    // A broken file: exit 7 and the reason.
    std::fs::write(dir.join("junk.p7s"), b"\x30\x80garbage").unwrap();
    let o = kagiya(
        dir,
        &[
            "--json",
            "--operator",
            "sv001",
            "cert",
            "import",
            "hanakodt",
            "hanako@example.co.jp",
            dir.join("junk.p7s").to_str().unwrap(),
        ],
        &format!("{LOGIN}\n{CONF}\n"),
    );
    assert_eq!(o.status.code(), Some(7));
    assert_eq!(json(&o)["error"]["code"], "cert.unreadable");

    // IP rules: warnings on save, and the decision as the exit code.
    let o = kagiya(
        dir,
        &[
            "--json",
            "--operator",
            "sv001",
            "ip",
            "set",
            "--tenant",
            "C-1001",
            "--service",
            "user_web",
            "--default",
            "deny",
            "--rule",
            "allow 192.0.2.0/24 本社",
            "--rule",
            "deny 192.0.2.8/29",
        ],
        &format!("{LOGIN}\n{CONF}\n"),
    );
    assert_eq!(
        o.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&o.stdout)
    );
    assert_eq!(json(&o)["warnings"][0]["warning"], "shadowed");
    assert_eq!(
        read(
            dir,
            &[
                "ip",
                "check",
                "192.0.2.9",
                "--tenant",
                "C-1001",
                "--service",
                "user_web"
            ],
        )
        .status
        .code(),
        Some(0)
    );
    assert_eq!(
        read(
            dir,
            &[
                "ip",
                "check",
                "198.51.100.1",
                "--tenant",
                "C-1001",
                "--service",
                "user_web"
            ],
        )
        .status
        .code(),
        Some(5)
    );
    let o = kagiya(
        dir,
        &[
            "--json",
            "--operator",
            "sv001",
            "ip",
            "set",
            "--tenant",
            "C-1001",
            "--service",
            "user_web",
            "--rule",
            "allow 192.0.2.1/24",
        ],
        &format!("{LOGIN}\n{CONF}\n"),
    );
    assert_eq!(o.status.code(), Some(7), "host bits set are refused");

    // The mail owed to the new address is in the outbox.
    let out = json(&read(dir, &["--json", "outbox", "list"]));
    assert_eq!(out[0]["kind"], "password_setup_request");
    assert_eq!(out[0]["recipient"], "hanako@example.co.jp");
    assert_eq!(read(dir, &["db", "check"]).status.code(), Some(0));
}

/// `policy check --preset` and `policy show` need no database and no keyring: a help-desk PC can
/// check a password against a preset before any branch database exists (issue 10).
#[test]
fn policy_against_a_preset_needs_no_database_or_keyring() {
    let dir = tempfile::tempdir().unwrap();
    // No Secret Service to reach: opening the database would fail with key_unavailable.
    let no_keyring = [("DBUS_SESSION_BUS_ADDRESS", "unix:path=/nonexistent")];
    let run = |args: &[&str], stdin: &str| kagiya_with_env(dir.path(), args, stdin, &no_keyring);
    let o = run(
        &[
            "--json",
            "policy",
            "check",
            "--preset",
            "interfax",
            "--login-id",
            "yamada",
        ],
        "abc-123\n",
    );
    let v = json(&o);
    assert_eq!(v["ok"], false, "{v}");
    assert_eq!(o.status.code(), Some(7));
    let failed: Vec<&str> = v["rules"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|r| r["ok"] == false)
        .map(|r| r["code"].as_str().unwrap())
        .collect();
    assert_eq!(failed, ["password.allowed_chars"]);
    let o = run(&["policy", "show", "nist"], "");
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    // A customer's policy does need the database, and says so.
    let o = run(
        &[
            "--json",
            "policy",
            "check",
            "--tenant",
            "C-1",
            "--login-id",
            "x",
        ],
        "pw\n",
    );
    assert_eq!(json(&o)["error"]["code"], "storage.key_unavailable");
    assert_eq!(o.status.code(), Some(10));
    assert!(
        !dir.path().join("kagiya.db").exists(),
        "nothing was created for the preset checks"
    );
}

/// Issue 12, finding 4: the log keeps password hashes (the fold and sync need them) but nothing
/// printed does — `audit list --json` showed argon2 PHC strings anyone at the PC could try offline.
#[test]
fn audit_list_never_prints_a_password_hash() {
    let Some(tmp) = data_dir() else { return };
    let dir = tmp.path();
    setup(dir);
    let o = kagiya(
        dir,
        &[
            "--operator",
            "sv001",
            "user",
            "add",
            "--tenant",
            "C-1001",
            "--login-id",
            "hanakodt",
            "--name",
            "データ 花子",
            "--role",
            "admin",
        ],
        &format!("{LOGIN}\n{CONF}\n"),
    );
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let o = read(dir, &["--json", "audit", "list", "--limit", "100"]);
    assert_eq!(
        o.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&o.stderr)
    );
    let text = String::from_utf8_lossy(&o.stdout);
    assert!(!text.contains("$argon2"), "{text}");
    let shown = json(&o);
    let set = shown
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["kind"] == "password_set")
        .expect("the new user's passwords were recorded");
    assert_eq!(set["body"]["hash"], "[redacted]", "{set}");
    // The chain's own hashes stay: they are what `audit verify` checks.
    assert_eq!(set["hash"].as_str().unwrap().len(), 64);
}

/// Seed 002 from the command line: the Web member site signs in with login ID, address and
/// password; 2FA is not something a registration can switch on, and turning it off needs it on.
#[test]
fn web_member_sign_in_takes_the_address_and_2fa_is_not_set_at_registration() {
    let Some(tmp) = data_dir() else { return };
    let dir = tmp.path();
    setup(dir);
    let op = |args: &[&str]| {
        let mut v = vec!["--json", "--operator", "sv001"];
        v.extend_from_slice(args);
        kagiya(dir, &v, &format!("{LOGIN}\n{CONF}\n"))
    };
    let o = op(&[
        "tenant",
        "add",
        "--contract-no",
        "W-2001",
        "--name",
        "株式会社ウェブ",
        "--preset",
        "web_member",
        "--service",
        "user_web",
    ]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stdout));
    let o = op(&[
        "user",
        "add",
        "--tenant",
        "W-2001",
        "--login-id",
        "webdt",
        "--name",
        "ウェブ 花子",
        "--email",
        "web@example.co.jp",
    ]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stdout));
    let pw = json(&o)[0]["login_password"].as_str().unwrap().to_owned();
    // Without the address: refused like a wrong password (exit 3).
    let o = kagiya(
        dir,
        &["--json", "auth", "verify", "webdt"],
        &format!("{pw}\n"),
    );
    assert_eq!(o.status.code(), Some(3));
    let o = kagiya(
        dir,
        &[
            "--json",
            "auth",
            "verify",
            "webdt",
            "--address",
            "WEB@example.co.jp",
        ],
        &format!("{pw}\n"),
    );
    assert_eq!(
        o.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&o.stdout)
    );
    assert_eq!(json(&o)["must_change"], true);
    assert_eq!(json(&o)["second_factor_to"], serde_json::Value::Null);
    // Issue 12, finding 1: an operator acts only with the login password first — the
    // confirmation password alone (as before) is taken as a wrong login and nothing happens.
    let o = kagiya(
        dir,
        &["--json", "--operator", "sv001", "user", "suspend", "webdt"],
        &format!("{CONF}\n"),
    );
    assert_eq!(json(&o)["error"]["code"], "auth.invalid_credentials");
    let o = kagiya(
        dir,
        &[
            "--json",
            "auth",
            "verify",
            "webdt",
            "--address",
            "web@example.co.jp",
        ],
        &format!("{pw}\n"),
    );
    assert_eq!(o.status.code(), Some(0), "not suspended");
    // 2FA is off and cannot be turned off again.
    let o = op(&["user", "mfa-off", "webdt"]);
    assert_eq!(json(&o)["error"]["code"], "mfa.refused");
    // A CSV that asks for 2FA at registration is refused whole.
    let csv = dir.join("mfa.csv");
    std::fs::write(
        &csv,
        "contract_no,login_id,name,role,email,mfa\nW-2001,otherdt,別 太郎,general,o@example.co.jp,yes\n",
    )
    .unwrap();
    let o = op(&["user", "import", "--csv", csv.to_str().unwrap()]);
    assert_eq!(json(&o)["error"]["code"], "mfa.refused");
    let o = op(&["user", "show", "otherdt"]);
    assert_ne!(o.status.code(), Some(0));
}

/// Issue 12, finding 3 from the command line: a supervisor disables, enables and resets an
/// operator; the operator changes the temporary password and reads again.
#[test]
fn supervisors_manage_operators_from_the_command_line() {
    let Some(tmp) = data_dir() else { return };
    let dir = tmp.path();
    setup(dir);
    let sv = |args: &[&str]| {
        let mut v = vec!["--json", "--operator", "sv001"];
        v.extend_from_slice(args);
        kagiya(dir, &v, &format!("{LOGIN}\n{CONF}\n"))
    };
    let o = kagiya(
        dir,
        &[
            "--json",
            "--operator",
            "sv001",
            "operator",
            "add",
            "--id",
            "op001",
            "--name",
            "窓口 一郎",
        ],
        &format!("{LOGIN}\n{CONF}\nCounter-Login-2026\nCounter-Confirm-2026\n"),
    );
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stdout));
    let op_reads = |pw: &str| {
        kagiya(
            dir,
            &["--json", "--operator", "op001", "tenant", "list"],
            &format!("{pw}\n"),
        )
        .status
        .code()
    };
    assert_eq!(op_reads("Counter-Login-2026"), Some(0));
    assert!(sv(&["operator", "disable", "op001"]).status.success());
    assert_eq!(
        op_reads("Counter-Login-2026"),
        Some(3),
        "disabled: refused like a wrong password"
    );
    let o = kagiya(
        dir,
        &["--json", "--operator", "sv001", "operator", "list"],
        &format!("{LOGIN}\n"),
    );
    let list = json(&o);
    let op = list
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["operator_id"] == "op001")
        .unwrap();
    assert_eq!(op["disabled"], true);
    // Never one's own.
    assert_eq!(
        json(&sv(&["operator", "disable", "sv001"]))["error"]["code"],
        "auth.not_permitted"
    );
    assert!(sv(&["operator", "enable", "op001"]).status.success());
    let o = sv(&["operator", "reset-passwords", "op001"]);
    let issued = json(&o);
    let temp = issued["login_password"].as_str().unwrap().to_owned();
    assert_eq!(
        op_reads("Counter-Login-2026"),
        Some(3),
        "the old password is gone"
    );
    let o = kagiya(
        dir,
        &["--json", "--operator", "op001", "operator", "passwd"],
        &format!("{temp}\nCounter-Login-2027\n\n"),
    );
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stdout));
    assert_eq!(op_reads("Counter-Login-2027"), Some(0));
    // Finding 2: a backup carries a signed checkpoint of the head; the log still fits it later.
    let backup = dir.join("b.db");
    let o = kagiya(
        dir,
        &[
            "--json",
            "--operator",
            "sv001",
            "db",
            "backup",
            backup.to_str().unwrap(),
        ],
        &format!("{LOGIN}\n"),
    );
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stdout));
    let cp = dir.join("b.db.checkpoint.json");
    let o = kagiya(
        dir,
        &[
            "--json",
            "--operator",
            "sv001",
            "db",
            "check",
            "--checkpoint",
            cp.to_str().unwrap(),
        ],
        &format!("{LOGIN}\n"),
    );
    assert_eq!(
        o.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&o.stdout)
    );
    // A checkpoint altered by hand does not verify.
    let text = std::fs::read_to_string(&cp)
        .unwrap()
        .replace("\"seq\": ", "\"seq\": 1");
    std::fs::write(&cp, text).unwrap();
    let o = kagiya(
        dir,
        &[
            "--json",
            "--operator",
            "sv001",
            "db",
            "check",
            "--checkpoint",
            cp.to_str().unwrap(),
        ],
        &format!("{LOGIN}\n"),
    );
    assert_ne!(o.status.code(), Some(0));
}

/// Issue 13: the branch's directory goes to the central server as a file a supervisor exports —
/// the directory's events only (no operator's), owner-only, recorded in the log; a wrong
/// confirmation password writes nothing.
#[test]
fn a_supervisor_exports_the_directory_for_the_central_server() {
    let Some(tmp) = data_dir() else { return };
    let dir = tmp.path();
    setup(dir);
    let file = dir.join("directory.jsonl");
    let path = file.to_str().unwrap();
    let wrong = kagiya(
        dir,
        &["--operator", "sv001", "audit", "export-directory", path],
        &format!("{LOGIN}\nnot-my-confirmation\n"),
    );
    assert!(!wrong.status.success());
    assert!(!file.exists(), "nothing written without the confirmation");
    let o = kagiya(
        dir,
        &["--operator", "sv001", "audit", "export-directory", path],
        &format!("{LOGIN}\n{CONF}\n"),
    );
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let text = std::fs::read_to_string(&file).unwrap();
    let lines: Vec<serde_json::Value> = text
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(lines[0]["format"], 1);
    assert!(lines[0]["source"].as_str().unwrap().len() == 64);
    assert!(
        text.contains("tenant_created") && text.contains("C-1001"),
        "{text}"
    );
    assert!(
        !text.contains("operator_created"),
        "the branch's own events stay: {text}"
    );
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(&file).unwrap().permissions().mode();
        assert_eq!(
            mode & 0o077,
            0,
            "owner-only: the file holds password hashes"
        );
    }
    let o = read(dir, &["--json", "audit", "list", "--limit", "5"]);
    assert!(
        String::from_utf8_lossy(&o.stdout).contains("audit_exported"),
        "the export is recorded"
    );
}
