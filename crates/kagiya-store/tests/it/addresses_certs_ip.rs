//! Addresses, certificates and IP rules through the engine on a real encrypted file. The
//! certificates, bundles and signed mails are made by the openssl command line, as a customer's
//! mail program or CA would make them (seed 001: register by sending a signed mail).

use std::net::IpAddr;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::Arc;

use kagiya_core::certs::{ChainStatus, Format};
use kagiya_core::directory::{CertStatus, Channel, CredentialKind, Purpose, Service, UserRole};
use kagiya_core::iprules::{DecidedBy, IpAction, RuleSet, RuleWarning};
use kagiya_core::password::{HashParams, Preset};
use kagiya_core::secret::Secret;
use kagiya_core::Error;
use kagiya_core::Lang;
use kagiya_core::MINUTE;
use kagiya_engine::{Clock, FixedClock, SystemClock};
use kagiya_engine::{NewTenant, NewUser};
use kagiya_store::{directory, events, outbox, Branch};

use crate::support::{conf, sv, BranchFile};

const DAY: i64 = 24 * 60 * MINUTE;

fn openssl(dir: &Path, args: &[&str]) {
    let out = Command::new("openssl")
        .current_dir(dir)
        .args(args)
        .output()
        .expect("openssl is installed");
    assert!(
        out.status.success(),
        "openssl {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// A CA and end-entity certificates for hanako@example.co.jp, in every form a customer brings.
struct Pki {
    dir: tempfile::TempDir,
}

impl Pki {
    fn new() -> Pki {
        let dir = tempfile::tempdir().unwrap();
        let d = dir.path();
        openssl(
            d,
            &[
                "req",
                "-x509",
                "-newkey",
                "rsa:2048",
                "-nodes",
                "-keyout",
                "ca.key",
                "-out",
                "ca.pem",
                "-days",
                "3650",
                "-subj",
                "/CN=Kagiya Test CA",
                "-addext",
                "basicConstraints=critical,CA:TRUE",
                "-addext",
                "keyUsage=critical,keyCertSign,cRLSign",
            ],
        );
        let leaf = |name: &str, bits: &str, ext: &str| {
            std::fs::write(d.join(format!("{name}.ext")), ext).unwrap();
            openssl(
                d,
                &[
                    "req",
                    "-newkey",
                    bits,
                    "-nodes",
                    "-keyout",
                    &format!("{name}.key"),
                    "-out",
                    &format!("{name}.csr"),
                    "-subj",
                    &format!("/CN={name}"),
                ],
            );
            openssl(
                d,
                &[
                    "x509",
                    "-req",
                    "-in",
                    &format!("{name}.csr"),
                    "-CA",
                    "ca.pem",
                    "-CAkey",
                    "ca.key",
                    "-CAcreateserial",
                    "-out",
                    &format!("{name}.pem"),
                    "-days",
                    "365",
                    "-extfile",
                    &format!("{name}.ext"),
                ],
            );
        };
        let good = "subjectAltName=email:hanako@example.co.jp\nkeyUsage=critical,digitalSignature,keyEncipherment\nextendedKeyUsage=emailProtection\nbasicConstraints=CA:FALSE\n";
        leaf("hanako", "rsa:2048", good);
        leaf("hanako2", "rsa:2048", good);
        leaf("other", "rsa:2048", &good.replace("hanako@", "someone@"));
        leaf("weak", "rsa:1024", good);
        leaf(
            "server",
            "rsa:2048",
            &good.replace("emailProtection", "serverAuth"),
        );
        openssl(
            d,
            &[
                "x509",
                "-in",
                "hanako.pem",
                "-outform",
                "DER",
                "-out",
                "hanako.der",
            ],
        );
        openssl(
            d,
            &[
                "crl2pkcs7",
                "-nocrl",
                "-certfile",
                "hanako.pem",
                "-certfile",
                "ca.pem",
                "-out",
                "bundle.p7b",
            ],
        );
        openssl(
            d,
            &[
                "crl2pkcs7",
                "-nocrl",
                "-certfile",
                "hanako.pem",
                "-certfile",
                "ca.pem",
                "-outform",
                "DER",
                "-out",
                "bundle-der.p7c",
            ],
        );
        std::fs::write(d.join("msg.txt"), "InterFAX registration\r\n").unwrap();
        openssl(
            d,
            &[
                "smime",
                "-sign",
                "-in",
                "msg.txt",
                "-signer",
                "hanako.pem",
                "-inkey",
                "hanako.key",
                "-certfile",
                "ca.pem",
                "-outform",
                "DER",
                "-binary",
                "-out",
                "signed.p7s",
            ],
        );
        openssl(
            d,
            &[
                "smime",
                "-sign",
                "-nodetach",
                "-in",
                "msg.txt",
                "-signer",
                "hanako.pem",
                "-inkey",
                "hanako.key",
                "-outform",
                "DER",
                "-out",
                "opaque.p7m",
            ],
        );
        openssl(
            d,
            &[
                "smime",
                "-sign",
                "-in",
                "msg.txt",
                "-text",
                "-signer",
                "hanako.pem",
                "-inkey",
                "hanako.key",
                "-from",
                "hanako@example.co.jp",
                "-to",
                "digitalid@example.jp",
                "-subject",
                "register",
                "-out",
                "signed.eml",
            ],
        );
        openssl(
            d,
            &[
                "smime",
                "-encrypt",
                "-aes256",
                "-in",
                "msg.txt",
                "-from",
                "hanako@example.co.jp",
                "-to",
                "digitalid@example.jp",
                "-subject",
                "register",
                "-out",
                "encrypted.eml",
                "hanako.pem",
            ],
        );
        Pki { dir }
    }

    fn path(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }

    fn bytes(&self, name: &str) -> Vec<u8> {
        std::fs::read(self.path(name)).unwrap()
    }
}

struct Env {
    _file: BranchFile,
    clock: Arc<FixedClock>,
    e: Branch,
}

impl Env {
    /// Hanako's notification address, with the certificate in `file` registered for it.
    fn hanako_registers(&self, pki: &Pki, file: &str) {
        self.e
            .add_address(
                &sv(),
                &conf(),
                "hanako",
                "hanako@example.co.jp",
                &[Purpose::Notifications],
            )
            .unwrap();
        self.e
            .import_certificate(
                &sv(),
                &conf(),
                "hanako",
                "hanako@example.co.jp",
                &pki.bytes(file),
                Lang::Ja,
            )
            .unwrap();
    }
}

fn env() -> Env {
    // Real time: the certificates openssl makes are valid from now.
    let clock = Arc::new(FixedClock::new(SystemClock.now()));
    let file = BranchFile::new(4, &clock, HashParams::default());
    let e = file.open(&clock, HashParams::default(), "test");
    e.create_tenant(
        &sv(),
        &conf(),
        NewTenant {
            contract_no: "C-1".into(),
            name: "株式会社テスト".into(),
            services: vec![
                Service::AdminConsole,
                Service::UserWeb,
                Service::MailSubmission,
            ],
            preset: Preset::Interfax,
        },
    )
    .unwrap();
    for (id, role) in [("hanako", UserRole::Admin), ("taro", UserRole::General)] {
        e.create_user(
            &sv(),
            &conf(),
            NewUser {
                contract_no: "C-1".into(),
                login_id: id.into(),
                name: id.into(),
                role,
                email: None,
            },
        )
        .unwrap();
    }
    Env {
        _file: file,
        clock,
        e,
    }
}

#[test]
fn every_format_a_customer_brings_is_read_and_explained() {
    let pki = Pki::new();
    let t = env();
    for (file, format) in [
        ("hanako.pem", Format::Pem),
        ("hanako.der", Format::Der),
        ("bundle.p7b", Format::Pem),
        ("bundle-der.p7c", Format::Pkcs7),
        ("signed.p7s", Format::Pkcs7),
        ("opaque.p7m", Format::Pkcs7),
        ("signed.eml", Format::Email),
    ] {
        let r =
            t.e.certificate_report("hanako@example.co.jp", &pki.bytes(file), Lang::Ja)
                .unwrap_or_else(|e| panic!("{file}: {e:?}"));
        assert_eq!(r.format, format, "{file}");
        assert_eq!(r.certificate.subject, "CN=hanako", "{file}");
        assert!(r.acceptable, "{file}: {:?}", r.findings);
        assert!(matches!(r.chain, ChainStatus::Untrusted { .. }), "{file}");
    }
    // Once the CA is trusted, the chain is: from the bundle, or from the stored root alone.
    t.e.add_trusted_root(&sv(), &conf(), &pki.bytes("ca.pem"))
        .unwrap();
    for file in ["hanako.pem", "signed.eml", "bundle.p7b"] {
        let r =
            t.e.certificate_report("hanako@example.co.jp", &pki.bytes(file), Lang::Ja)
                .unwrap();
        assert_eq!(
            r.chain,
            ChainStatus::Trusted {
                root: "CN=Kagiya Test CA".into()
            },
            "{file}"
        );
    }
    // An end-entity certificate is not a root.
    assert_eq!(
        t.e.add_trusted_root(&sv(), &conf(), &pki.bytes("hanako.pem"))
            .unwrap_err(),
        Error::CertificateRejected(vec!["cert.not_a_root"])
    );
}

#[test]
fn unfit_certificates_are_refused_with_the_reason_and_nothing_changes() {
    let pki = Pki::new();
    let t = env();
    t.e.add_address(
        &sv(),
        &conf(),
        "hanako",
        "hanako@example.co.jp",
        &[Purpose::Otp],
    )
    .unwrap();
    let import = |t: &Env, file: &str| {
        t.e.import_certificate(
            &sv(),
            &conf(),
            "hanako",
            "hanako@example.co.jp",
            &pki.bytes(file),
            Lang::Ja,
        )
    };
    assert_eq!(
        import(&t, "other.pem").unwrap_err(),
        Error::CertificateRejected(vec!["cert.address_mismatch"])
    );
    assert_eq!(
        import(&t, "weak.pem").unwrap_err(),
        Error::CertificateRejected(vec!["cert.weak_key"])
    );
    assert_eq!(
        import(&t, "server.pem").unwrap_err(),
        Error::CertificateRejected(vec!["cert.no_email_protection"])
    );
    assert_eq!(
        import(&t, "encrypted.eml").unwrap_err(),
        Error::CertificateUnreadable("encrypted")
    );
    assert_eq!(
        import(&t, "msg.txt").unwrap_err(),
        Error::CertificateUnreadable("unknown_format")
    );
    assert!(t.e.address_views("hanako").unwrap()[0].certificate == CertStatus::None);
    // A year and a day later the good one has expired.
    t.clock.advance(366 * DAY);
    assert_eq!(
        import(&t, "hanako.pem").unwrap_err(),
        Error::CertificateRejected(vec!["cert.expired"])
    );
}

#[test]
fn registering_replacing_expiring_and_the_encryption_flag() {
    let pki = Pki::new();
    let t = env();
    t.e.add_address(
        &sv(),
        &conf(),
        "hanako",
        "Hanako@Example.co.jp",
        &[Purpose::Otp, Purpose::Forwarding],
    )
    .unwrap();
    // Encryption needs a certificate (seed 001).
    assert_eq!(
        t.e.set_address_flags(&sv(), &conf(), "hanako", "hanako@example.co.jp", true, true)
            .unwrap_err(),
        Error::AddressRule("encrypt_needs_certificate")
    );
    // Registered by the signed mail, as seed 001's customers do.
    let r =
        t.e.import_certificate(
            &sv(),
            &conf(),
            "hanako",
            "hanako@example.co.jp",
            &pki.bytes("signed.eml"),
            Lang::Ja,
        )
        .unwrap();
    assert_eq!(r.format, Format::Email);
    t.e.set_address_flags(&sv(), &conf(), "hanako", "hanako@example.co.jp", true, true)
        .unwrap();
    let v = &t.e.address_views("hanako").unwrap()[0];
    assert_eq!(
        (v.sign, v.encrypt, v.certificate),
        (true, true, CertStatus::Registered)
    );
    // Re-importing replaces and keeps the history.
    t.e.import_certificate(
        &sv(),
        &conf(),
        "hanako",
        "hanako@example.co.jp",
        &pki.bytes("hanako2.pem"),
        Lang::Ja,
    )
    .unwrap();
    let v = &t.e.address_views("hanako").unwrap()[0];
    assert_eq!(
        (v.replaced_certificates, v.certificate_subject.as_deref()),
        (1, Some("CN=hanako2"))
    );
    // 20 days before its end it is expiring (30-day window); after it, expired.
    let not_after = v.certificate_not_after.unwrap();
    t.clock.advance(not_after - 20 * DAY - t.clock.now());
    assert!(matches!(
        t.e.address_views("hanako").unwrap()[0].certificate,
        CertStatus::Expiring { days_left: 20 }
    ));
    t.clock.advance(21 * DAY);
    assert_eq!(
        t.e.address_views("hanako").unwrap()[0].certificate,
        CertStatus::Expired
    );
    assert!(directory::rebuild_matches(&t.e.store().conn()).unwrap());
}

#[test]
fn addresses_follow_seed_002_and_queue_their_mails() {
    let t = env();
    for i in 0..10 {
        t.e.add_address(
            &sv(),
            &conf(),
            "taro",
            &format!("taro{i}@example.jp"),
            &[Purpose::Notifications],
        )
        .unwrap();
    }
    assert_eq!(
        t.e.add_address(&sv(), &conf(), "taro", "taro10@example.jp", &[])
            .unwrap_err(),
        Error::AddressRule("limit")
    );
    assert_eq!(
        t.e.add_address(&sv(), &conf(), "hanako", "not an address", &[])
            .unwrap_err(),
        Error::InvalidValue("email")
    );
    t.e.add_address(
        &sv(),
        &conf(),
        "hanako",
        "h@example.jp",
        &[Purpose::Otp, Purpose::Reset],
    )
    .unwrap();
    assert_eq!(
        t.e.add_address(&sv(), &conf(), "hanako", "H@EXAMPLE.JP", &[])
            .unwrap_err(),
        Error::AlreadyExists("email")
    );
    // Hanako turns 2FA on with that address (the code sent there comes back)...
    let code =
        t.e.start_mfa_enrollment(&sv(), &conf(), "hanako", "h@example.jp")
            .unwrap();
    t.e.confirm_mfa_enrollment("hanako", "h@example.jp", &code.secret)
        .unwrap();
    // ...and signs in with one-time passwords to that address: it cannot go.
    assert_eq!(
        t.e.delete_address(&sv(), &conf(), "hanako", "h@example.jp")
            .unwrap_err(),
        Error::AddressRule("last_otp")
    );
    // A change is confirmed through the old address; the deleted address gets a notice.
    t.e.request_address_change(
        &sv(),
        &conf(),
        "hanako",
        "h@example.jp",
        "hanako@example.jp",
    )
    .unwrap();
    t.e.confirm_address_change(&sv(), &conf(), "hanako", "h@example.jp")
        .unwrap();
    assert_eq!(
        t.e.address_views("hanako").unwrap()[0].address,
        "hanako@example.jp"
    );
    t.e.delete_address(&sv(), &conf(), "taro", "taro3@example.jp")
        .unwrap();
    let queued: Vec<(String, String)> = outbox::pending(&t.e.store().conn())
        .unwrap()
        .into_iter()
        .map(|r| (r.kind, r.recipient))
        .collect();
    assert_eq!(
        queued
            .iter()
            .filter(|q| q.0 == "password_setup_request")
            .count(),
        11
    );
    assert!(queued.contains(&("address_change_request".into(), "h@example.jp".into())));
    assert!(queued.contains(&("address_deleted_notice".into(), "taro3@example.jp".into())));
    assert!(directory::rebuild_matches(&t.e.store().conn()).unwrap());
}

#[test]
fn ip_rules_decide_warn_and_can_be_released_for_a_while() {
    let t = env();
    // Hanako (an admin) has signed in from the office before.
    let pw =
        t.e.set_passwords(
            &sv(),
            &conf(),
            "hanako",
            kagiya_engine::SetPasswords {
                login: Some(kagiya_engine::NewPassword::Given(Secret::new("Office2026"))),
                confirmation: None,
                force_login_change: false,
                force_confirmation_change: false,
                permanent_reason: Some("the office's fixed test account".into()),
            },
        )
        .unwrap();
    assert!(pw.login.is_none());
    t.e.verify_from(
        "hanako",
        CredentialKind::Login,
        Channel::Web,
        &Secret::new("Office2026"),
        Some("192.0.2.44".parse().unwrap()),
    )
    .unwrap();
    assert_eq!(
        t.e.admin_addresses("C-1").unwrap(),
        vec!["192.0.2.44".parse::<std::net::IpAddr>().unwrap()]
    );
    let rules = |lines: &[&str], countries: Option<Vec<String>>| RuleSet {
        rules: lines
            .iter()
            .map(|l| RuleSet::parse_rule(l).unwrap())
            .collect(),
        default: IpAction::Deny,
        allowed_countries: countries,
    };
    // A set that would shut the admin out says so (and is saved: the supervisor decided).
    let w =
        t.e.set_ip_rules(
            &sv(),
            &conf(),
            "C-1",
            Service::AdminConsole,
            rules(&["allow 198.51.100.0/24"], None),
        )
        .unwrap();
    assert_eq!(
        w,
        vec![RuleWarning::LocksOutAdministrators {
            addresses: vec!["192.0.2.44".into()]
        }]
    );
    let w =
        t.e.set_ip_rules(
            &sv(),
            &conf(),
            "C-1",
            Service::AdminConsole,
            rules(&["allow 192.0.2.0/24", "deny 192.0.2.44/32"], None),
        )
        .unwrap();
    assert_eq!(
        w,
        vec![RuleWarning::Shadowed {
            index: 1,
            by: 0,
            same_action: false
        }]
    );
    let d =
        t.e.check_ip("C-1", Service::AdminConsole, "192.0.2.44".parse().unwrap())
            .unwrap();
    assert_eq!(
        (d.action, d.by),
        (
            IpAction::Allow,
            DecidedBy::Rule {
                index: 0,
                net: "192.0.2.0/24".into()
            }
        )
    );
    // Services the customer does not use are refused.
    assert_eq!(
        t.e.set_ip_rules(&sv(), &conf(), "C-1", Service::Api, RuleSet::default())
            .unwrap_err(),
        Error::InvalidValue("service")
    );
    // Seed 003's default: overseas addresses denied, by the imported country table.
    let n =
        t.e.import_countries(
            &sv(),
            &conf(),
            include_str!("../../../kagiya-core/data/countries-sample.csv"),
        )
        .unwrap();
    assert_eq!(n, 6);
    t.e.set_ip_rules(
        &sv(),
        &conf(),
        "C-1",
        Service::UserWeb,
        RuleSet {
            default: IpAction::Allow,
            ..rules(&[], Some(vec!["JP".into()]))
        },
    )
    .unwrap();
    assert_eq!(
        t.e.check_ip("C-1", Service::UserWeb, "198.51.100.9".parse().unwrap())
            .unwrap()
            .by,
        DecidedBy::Country {
            country: Some("US".into())
        }
    );
    assert_eq!(
        t.e.check_ip("C-1", Service::UserWeb, "192.0.2.9".parse().unwrap())
            .unwrap()
            .action,
        IpAction::Allow
    );
    // A supervisor's forced release lets everyone in for 30 minutes, then ends by itself.
    let until =
        t.e.release_ip_restrictions(&sv(), &conf(), "C-1", 30, "管理者がロックアウトされたため")
            .unwrap();
    assert_eq!(
        t.e.check_ip("C-1", Service::AdminConsole, "203.0.113.1".parse().unwrap())
            .unwrap()
            .by,
        DecidedBy::Released { until }
    );
    t.clock.advance(30 * MINUTE);
    assert_eq!(
        t.e.check_ip("C-1", Service::AdminConsole, "203.0.113.1".parse().unwrap())
            .unwrap()
            .action,
        IpAction::Deny
    );
    assert_eq!(
        t.e.release_ip_restrictions(&sv(), &conf(), "C-1", 24 * 60 + 1, "x")
            .unwrap_err(),
        Error::InvalidValue("minutes")
    );
    assert!(directory::rebuild_matches(&t.e.store().conn()).unwrap());
}

/// Seed 003's defaults and their enforcement. A Biz Mail customer starts with 「コントロール
/// パネルおよび各サービスポートすべて、海外IPアドレスからのアクセスを拒否する設定」 and the database
/// 「国内外すべて拒否」; 「利用しない機能/ポートに対して、国内外を問わずアクセスを拒否」; and the rules
/// hold on the authentication path: a refused address is refused and recorded before any password
/// is checked, so it cannot lock anyone.
#[test]
fn biz_mail_starts_japan_only_unused_services_are_denied_and_logins_obey_the_rules() {
    let t = env();
    t.e.import_countries(
        &sv(),
        &conf(),
        include_str!("../../../kagiya-core/data/countries-sample.csv"),
    )
    .unwrap();
    t.e.create_tenant(
        &sv(),
        &conf(),
        NewTenant {
            contract_no: "B-1".into(),
            name: "ビズメール商事".into(),
            services: vec![
                Service::AdminConsole,
                Service::MailSubmission,
                Service::Database,
            ],
            preset: Preset::BizMail,
        },
    )
    .unwrap();
    let (home, abroad): (IpAddr, IpAddr) = (
        "192.0.2.10".parse().unwrap(),
        "198.51.100.10".parse().unwrap(),
    );
    let allowed = |service, ip| {
        t.e.check_ip("B-1", service, ip).unwrap().action == kagiya_core::iprules::IpAction::Allow
    };
    for service in [Service::AdminConsole, Service::MailSubmission] {
        assert!(allowed(service, home), "{service:?} from Japan");
        assert!(!allowed(service, abroad), "{service:?} from abroad");
    }
    assert!(
        !allowed(Service::Database, home),
        "the database, even from Japan"
    );
    // Not used by this customer: denied at home and abroad.
    assert!(!allowed(Service::UserWeb, home));
    assert!(!allowed(Service::Api, home));
    // Other presets start without rules (their seeds give none); their unused services are
    // denied all the same.
    assert!(
        t.e.check_ip("C-1", Service::UserWeb, abroad)
            .unwrap()
            .action
            == kagiya_core::iprules::IpAction::Allow,
        "the InterFAX customer C-1 has no rules"
    );
    assert!(
        t.e.check_ip("C-1", Service::Api, home).unwrap().action
            == kagiya_core::iprules::IpAction::Deny
    );

    // The authentication path: an admin of B-1 from abroad is refused before the password is
    // looked at — even the right one — and as often as tried, without a lock.
    let issued =
        t.e.create_user(
            &sv(),
            &conf(),
            NewUser {
                contract_no: "B-1".into(),
                login_id: "bizadmin".into(),
                name: "管理 太郎".into(),
                role: UserRole::Admin,
                email: None,
            },
        )
        .unwrap();
    let right = issued.login.unwrap();
    for _ in 0..15 {
        assert_eq!(
            t.e.verify_from(
                "bizadmin",
                CredentialKind::Login,
                Channel::Web,
                &right,
                Some(abroad)
            )
            .unwrap_err(),
            Error::InvalidUserCredentials
        );
    }
    let conn = t.e.store().conn();
    let refused = events::of_kind(&conn, "credential_refused").unwrap();
    assert_eq!(refused.len(), 15);
    assert!(refused.iter().all(|e| e.body.contains("address_denied")));
    assert!(
        events::of_kind(&conn, "credential_failed")
            .unwrap()
            .is_empty(),
        "nothing counted"
    );
    drop(conn);
    // From Japan the same password works (the admin's web is the control panel here).
    assert!(
        t.e.verify_from(
            "bizadmin",
            CredentialKind::Login,
            Channel::Web,
            &right,
            Some(home)
        )
        .unwrap()
        .must_change
    );
    // Mail submission from abroad is refused too; the API is not used by B-1 at all.
    assert!(t
        .e
        .verify_from(
            "bizadmin",
            CredentialKind::Login,
            Channel::Api,
            &right,
            Some(home)
        )
        .is_err());
}

/// Seed 001 registers a certificate from the customer's signed mail, and then 「電子署名」 and
/// 「受信メールの暗号化」 are on (「チェクボックスがオンの状態」). The mail must prove the key: its
/// signature verifies with the very certificate registered, and it comes from the address.
#[test]
fn a_signed_mail_proves_the_key_and_switches_signing_and_encryption_on() {
    let pki = Pki::new();
    let d = pki.dir.path();
    let sign = |signer: &str, from: &str, extra: &[&str], out: &str| {
        let mut args = vec![
            "smime", "-sign", "-in", "msg.txt", "-text", "-signer", signer, "-inkey",
        ];
        let key = signer.replace(".pem", ".key");
        args.push(&key);
        args.extend_from_slice(extra);
        args.extend_from_slice(&[
            "-from",
            from,
            "-to",
            "digitalid@example.jp",
            "-subject",
            "register",
            "-out",
            out,
        ]);
        openssl(d, &args);
    };
    // Signed with another key that carries hanako's certificate along: the attack.
    sign(
        "other.pem",
        "hanako@example.co.jp",
        &["-certfile", "hanako.pem"],
        "forged.eml",
    );
    // Hanako's own key, but sent from another address.
    sign("hanako.pem", "someone@example.co.jp", &[], "elsewhere.eml");
    // Hanako's mail with one character of the body changed after signing.
    let tampered = String::from_utf8(pki.bytes("signed.eml"))
        .unwrap()
        .replacen("InterFAX registration", "InterFAX registrati0n", 1);
    std::fs::write(d.join("tampered.eml"), tampered).unwrap();

    let t = env();
    let report = |file: &str| {
        t.e.certificate_report("hanako@example.co.jp", &pki.bytes(file), Lang::En)
            .unwrap_or_else(|e| panic!("{file}: {e:?}"))
    };
    let errors = |file: &str| -> Vec<&'static str> {
        report(file)
            .findings
            .iter()
            .filter(|f| f.severity == kagiya_core::certs::Severity::Error)
            .map(|f| f.code)
            .collect()
    };
    assert!(report("signed.eml").possession_proven);
    assert_eq!(errors("forged.eml"), ["cert.signature_invalid"]);
    assert_eq!(errors("tampered.eml"), ["cert.signature_invalid"]);
    assert_eq!(errors("elsewhere.eml"), ["cert.sender_mismatch"]);
    // A bare certificate or a detached signature proves nothing: registrable, flags untouched.
    assert!(!report("hanako.pem").possession_proven);
    let p7s = report("signed.p7s");
    assert!(p7s.acceptable && !p7s.possession_proven);
    assert!(p7s
        .findings
        .iter()
        .any(|f| f.code == "cert.signature_unchecked"));
    // An opaque signed message verifies, but names no sender: nothing switched on.
    let p7m = report("opaque.p7m");
    assert!(
        p7m.acceptable && !p7m.possession_proven,
        "{:?}",
        p7m.findings
    );

    t.e.add_address(
        &sv(),
        &conf(),
        "hanako",
        "hanako@example.co.jp",
        &[Purpose::Notifications],
    )
    .unwrap();
    for file in ["forged.eml", "tampered.eml", "elsewhere.eml"] {
        assert!(
            matches!(
                t.e.import_certificate(
                    &sv(),
                    &conf(),
                    "hanako",
                    "hanako@example.co.jp",
                    &pki.bytes(file),
                    Lang::Ja
                ),
                Err(Error::CertificateRejected(_))
            ),
            "{file}"
        );
    }
    let v = &t.e.address_views("hanako").unwrap()[0];
    assert_eq!(
        (v.sign, v.encrypt, v.certificate),
        (false, false, CertStatus::None)
    );
    t.e.import_certificate(
        &sv(),
        &conf(),
        "hanako",
        "hanako@example.co.jp",
        &pki.bytes("signed.eml"),
        Lang::Ja,
    )
    .unwrap();
    let v = &t.e.address_views("hanako").unwrap()[0];
    assert_eq!(
        (v.sign, v.encrypt, v.certificate),
        (true, true, CertStatus::Registered)
    );
    assert!(directory::rebuild_matches(&t.e.store().conn()).unwrap());
}

/// Issue 11's chain rule: trust is re-evaluated when shown, not frozen at import. A certificate
/// registered before its CA was trusted becomes trusted once the root is added, with no
/// re-import; the intermediates of the file it came in are kept for that.
#[test]
fn trust_is_evaluated_when_shown_against_todays_roots() {
    let pki = Pki::new();
    let t = env();
    t.hanako_registers(&pki, "bundle-der.p7c");
    let stored = || {
        directory::addresses(&t.e.store().conn(), "hanako").unwrap()[0]
            .certificate
            .clone()
            .unwrap()
    };
    assert!(!stored().trusted, "untrusted at import");
    assert!(!stored().chain.is_empty(), "the CA from the bundle is kept");
    assert!(matches!(
        t.e.certificate_trust([&stored()]).unwrap()[0],
        ChainStatus::Untrusted {
            reason: "self_signed",
            ..
        }
    ));
    t.e.add_trusted_root(&sv(), &conf(), &pki.bytes("ca.pem"))
        .unwrap();
    assert!(matches!(
        t.e.certificate_trust([&stored()]).unwrap()[0],
        ChainStatus::Trusted { .. }
    ));
    assert!(!stored().trusted, "the record of the import is unchanged");
}

/// An expired certificate turns encryption off, recorded, instead of staying on.
#[test]
fn an_expired_certificate_switches_encryption_off_and_says_so() {
    let pki = Pki::new();
    let t = env();
    t.hanako_registers(&pki, "signed.eml");
    assert!(
        t.e.switch_off_lapsed_encryption().unwrap().is_empty(),
        "valid: stays on"
    );
    let v = &t.e.address_views("hanako").unwrap()[0];
    assert!(v.encrypt);
    t.clock
        .advance(v.certificate_not_after.unwrap() - t.clock.now() + 1);
    assert_eq!(
        t.e.switch_off_lapsed_encryption().unwrap(),
        [("hanako".to_owned(), "hanako@example.co.jp".to_owned())]
    );
    let v = &t.e.address_views("hanako").unwrap()[0];
    assert_eq!(
        (v.sign, v.encrypt, v.certificate),
        (true, false, CertStatus::Expired)
    );
    let conn = t.e.store().conn();
    let flags = events::of_kind(&conn, "address_flags_set").unwrap();
    let last = flags.last().unwrap();
    assert_eq!(last.actor, None, "the system's change");
    assert!(last.body.contains("\"encrypt\":false"), "{}", last.body);
    drop(conn);
    assert!(
        t.e.switch_off_lapsed_encryption().unwrap().is_empty(),
        "once"
    );
    assert!(directory::rebuild_matches(&t.e.store().conn()).unwrap());
}
