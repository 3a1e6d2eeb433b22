//! Every mail Kagiya writes, read back by OpenSSL's own command line as the peer: signed mails
//! verify against the test CA, encrypted ones decrypt with the recipient's key and then verify,
//! and the Japanese in headers and bodies survives. Run under `scripts/with-smtp.sh`, which makes
//! the certificates (`KAGIYA_TEST_SMIME_DIR`).

use std::path::{Path, PathBuf};
use std::process::Command;

use kagiya_core::mail::MailKind;
use kagiya_core::Lang;
use kagiya_mail::{
    compose, letter, recipient, Envelope, Facts, Protection, Revocations, Signer, Unusable,
};
use openssl::x509::X509;

fn smime_dir() -> PathBuf {
    PathBuf::from(std::env::var("KAGIYA_TEST_SMIME_DIR").expect(
        "KAGIYA_TEST_SMIME_DIR is not set: run the tests under scripts/with-smtp.sh (the README's test command does)",
    ))
}

fn read(name: &str) -> Vec<u8> {
    std::fs::read(smime_dir().join(name)).unwrap()
}

fn signer() -> Signer {
    Signer::from_pem(&read("signer.pem"), &read("signer.key")).unwrap()
}

fn facts() -> Facts<'static> {
    Facts {
        service: "鍵屋",
        login_id: "taro01",
        name: Some("山田 太郎"),
        address: "taro@example.co.jp",
        code: Some("482913"),
        link: Some("https://kagiya.example/l/abc"),
        expires_at: Some(1_764_489_600_000),
        at: 1_764_489_000_000,
        ..Facts::default()
    }
}

fn mail(kind: MailKind, lang: Lang, protection: Protection<'_>) -> Vec<u8> {
    let from = "鍵屋 <noreply@bank.example>".parse().unwrap();
    let env = Envelope {
        from: &from,
        reply_to: None,
        to: "taro@example.co.jp",
        message_id: "<42.1764489000000.kagiya@bank.example>",
        date: std::time::SystemTime::UNIX_EPOCH + std::time::Duration::from_secs(1_764_489_000),
    };
    compose(&env, &letter(kind, lang, &facts()), protection).unwrap()
}

/// Runs openssl; returns (success, stdout+stderr).
fn openssl(args: &[&str], dir: &Path) -> (bool, String) {
    let out = Command::new("openssl")
        .args(args)
        .current_dir(dir)
        .output()
        .unwrap();
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    (out.status.success(), text)
}

fn verify(eml: &[u8]) -> (bool, String, Vec<u8>) {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("m.eml"), eml).unwrap();
    let ca = smime_dir().join("ca.pem");
    let (ok, text) = openssl(
        &[
            "cms",
            "-verify",
            "-in",
            "m.eml",
            "-CAfile",
            ca.to_str().unwrap(),
            "-out",
            "content",
        ],
        dir.path(),
    );
    let content = std::fs::read(dir.path().join("content")).unwrap_or_default();
    (ok, text, content)
}

fn text_part(content: &[u8]) -> String {
    let msg = mail_parser::MessageParser::default()
        .parse(content)
        .unwrap();
    msg.body_text(0).unwrap().into_owned()
}

#[test]
fn every_signed_mail_verifies_with_openssl_against_the_test_ca() {
    let s = signer();
    for kind in MailKind::ALL {
        for lang in [Lang::Ja, Lang::En] {
            let eml = mail(kind, lang, Protection::Signed(&s));
            let (ok, why, content) = verify(&eml);
            assert!(
                ok,
                "{kind:?} {lang:?}: {why}\n{}",
                String::from_utf8_lossy(&eml)
            );
            // What was signed is the readable mail itself.
            let words = letter(kind, lang, &facts());
            assert!(
                text_part(&content).contains(&words.paragraphs[0]),
                "{kind:?} {lang:?}"
            );
        }
    }
}

#[test]
fn headers_carry_japanese_encoded_and_the_stable_message_id() {
    let s = signer();
    let eml = mail(MailKind::PasswordReset, Lang::Ja, Protection::Signed(&s));
    let head =
        String::from_utf8_lossy(&eml[..eml.windows(4).position(|w| w == b"\r\n\r\n").unwrap()])
            .into_owned();
    assert!(head.is_ascii(), "headers are 7-bit: {head}");
    assert!(head.contains("Subject: =?utf-8?"), "{head}");
    assert!(
        head.contains("Message-ID: <42.1764489000000.kagiya@bank.example>"),
        "{head}"
    );
    assert!(head.contains("Auto-Submitted: auto-generated"), "{head}");
    assert!(
        head.contains("protocol=\"application/pkcs7-signature\""),
        "{head}"
    );
    assert!(head.contains("micalg=\"sha-256\""), "{head}");
    let parsed = mail_parser::MessageParser::default().parse(&eml).unwrap();
    assert_eq!(parsed.subject(), Some("【鍵屋】パスワード変更案内メール"));
    assert_eq!(parsed.from().unwrap().first().unwrap().name(), Some("鍵屋"));
}

#[test]
fn a_tampered_mail_does_not_verify() {
    let s = signer();
    let eml = mail(MailKind::SignInCode, Lang::En, Protection::Signed(&s));
    let text = String::from_utf8(eml).unwrap();
    // The English text part carries the code as written: one digit changed.
    assert!(text.contains("482913"), "{text}");
    let bytes = text.replacen("482913", "482914", 1).into_bytes();
    let (ok, why, _) = verify(&bytes);
    assert!(!ok, "a changed body must not verify");
    assert!(
        why.contains("content verify error") || why.contains("Verification failure"),
        "{why}"
    );
}

#[test]
fn an_encrypted_mail_decrypts_with_the_recipients_key_and_then_verifies() {
    let s = signer();
    let taro = X509::from_pem(&read("taro.pem")).unwrap();
    let eml = mail(
        MailKind::SignInCode,
        Lang::Ja,
        Protection::SignedAndEncrypted(&s, &taro),
    );
    let as_text = String::from_utf8_lossy(&eml);
    assert!(
        as_text.contains("application/pkcs7-mime; smime-type=enveloped-data"),
        "{as_text}"
    );
    assert!(
        !as_text.contains("482913"),
        "the code is not readable without the key"
    );
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("enc.eml"), &eml).unwrap();
    let sm = smime_dir();
    let (ok, why) = openssl(
        &[
            "cms",
            "-decrypt",
            "-in",
            "enc.eml",
            "-recip",
            sm.join("taro.pem").to_str().unwrap(),
            "-inkey",
            sm.join("taro.key").to_str().unwrap(),
            "-out",
            "inner.eml",
        ],
        dir.path(),
    );
    assert!(ok, "{why}");
    let inner = std::fs::read(dir.path().join("inner.eml")).unwrap();
    let (ok, why, content) = verify(&inner);
    assert!(ok, "{why}");
    assert!(text_part(&content).contains("482913"));
    // Someone else's key opens nothing.
    let (ok, _) = openssl(
        &[
            "cms",
            "-decrypt",
            "-in",
            "enc.eml",
            "-recip",
            sm.join("hanako.pem").to_str().unwrap(),
            "-inkey",
            sm.join("hanako.key").to_str().unwrap(),
            "-out",
            "other.eml",
        ],
        dir.path(),
    );
    assert!(!ok);
}

#[test]
fn the_signer_comes_from_pkcs12_and_a_wrong_password_says_so_without_the_key() {
    let pass = std::fs::read_to_string(smime_dir().join("signer.p12.pass")).unwrap();
    let s = Signer::from_pkcs12(&read("signer.p12"), &pass).unwrap();
    assert!(
        s.subject().contains("Kagiya Bank Notifications"),
        "{}",
        s.subject()
    );
    let (ok, why, _) = verify(&mail(
        MailKind::LockNotice,
        Lang::Ja,
        Protection::Signed(&s),
    ));
    assert!(ok, "{why}");
    let e = Signer::from_pkcs12(&read("signer.p12"), "wrong").unwrap_err();
    assert!(e.to_string().contains("wrong password"), "{e}");
    // A key that is not the certificate's is refused.
    let e = Signer::from_pem(&read("signer.pem"), &read("taro.key")).unwrap_err();
    assert!(e.to_string().contains("does not belong"), "{e}");
    assert!(
        !format!("{s:?}").contains("PRIVATE"),
        "Debug never shows the key"
    );
}

#[test]
fn expired_and_revoked_certificates_are_not_encrypted_to() {
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs() as i64;
    let crls = Revocations::load(&[smime_dir().join("ca.crl")]).unwrap();
    let der = |n: &str| X509::from_pem(&read(n)).unwrap().to_der().unwrap();
    assert!(recipient(Some(&der("taro.pem")), now, &crls).is_ok());
    assert_eq!(
        recipient(Some(&der("hanako.pem")), now, &crls).unwrap_err(),
        Unusable::Expired
    );
    assert_eq!(
        recipient(Some(&der("jiro.pem")), now, &crls).unwrap_err(),
        Unusable::Revoked
    );
    assert_eq!(recipient(None, now, &crls).unwrap_err(), Unusable::Missing);
    // Without the list, jiro's certificate is not known to be revoked.
    assert!(recipient(Some(&der("jiro.pem")), now, &Revocations::default()).is_ok());
}
