//! The mail benchmark of issue 15 (figures for the notes, not a timed test), on this machine:
//! queue-to-handoff throughput — mails committed to the outbox until the real SMTP server of
//! `scripts/with-smtp.sh` (aiosmtpd over STARTTLS with AUTH) has taken every one — for signed
//! mails and for signed and encrypted ones; and, apart from any I/O, how fast this process makes
//! each kind (`compose`), which says how much of the first figure is ours.
//!
//! `scripts/with-postgres.sh scripts/with-smtp.sh cargo bench -p kagiya-server --bench mail`
//! (`BENCH_MAILS=2000` changes the count; default 500).

use std::time::{Duration, Instant};

use kagiya_core::directory::Purpose;
use kagiya_core::event::EventKind;
use kagiya_core::mail::MailKind;
use kagiya_core::Lang;
use kagiya_engine::port::{Change, Port};
use kagiya_engine::MailOrder;

#[path = "../tests/common/mod.rs"]
mod common;

fn now() -> kagiya_core::Millis {
    kagiya_engine::Clock::now(&kagiya_engine::SystemClock)
}

fn count() -> usize {
    std::env::var("BENCH_MAILS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(500)
}

fn main() {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    rt.block_on(run());
}

async fn run() {
    let n = count();
    let mail = common::TestMail::new();
    let smime = mail.smime.clone();
    let toml = mail.toml_with(
        "starttls",
        &std::env::var("KAGIYA_TEST_SMTP_STARTTLS_PORT").unwrap(),
        false,
        "",
    );
    let d = common::demo_server_full(&format!(
        "pool_size = 8\n{}",
        toml.replace("poll_ms = 50", "poll_ms = 20")
    ))
    .await;

    // taro@example.co.jp encrypts, to taro.pem.
    let pem = std::fs::read(smime.join("taro.pem")).unwrap();
    let enc = "taro@example.co.jp";
    let mut evs = vec![EventKind::AddressAdded {
        login_id: "minato-kato".into(),
        address: enc.into(),
        purposes: vec![Purpose::Notifications],
    }];
    evs.extend(common::encrypting("minato-kato", enc, &smime, "taro.pem"));
    let port = d.port.clone();
    tokio::task::spawn_blocking(move || {
        let changes: Vec<Change> = evs.into_iter().map(|k| Change::event(None, k)).collect();
        port.write(now(), "bench", &mut |_| Ok(changes.clone()))
    })
    .await
    .unwrap()
    .unwrap();

    println!(
        "mail benchmark: {n} mails each, 2 cores shared by PostgreSQL, the server and aiosmtpd"
    );
    for (label, to) in [("signed", None), ("signed + encrypted", Some(enc))] {
        let db = d.state.pool.get().await.unwrap();
        let before: i64 = db
            .query_one("SELECT count(*) FROM mail_outbox WHERE state = 'sent'", &[])
            .await
            .unwrap()
            .get(0);
        let orders: Vec<Change> = (0..n)
            .map(|i| {
                Change::Mail(MailOrder {
                    kind: MailKind::LockNotice,
                    login_id: "minato-kato".into(),
                    to: to.map_or_else(|| format!("bench-{i}@example.co.jp"), str::to_owned),
                    lang: Some(Lang::Ja),
                    secret: None,
                    expires_at: None,
                    detail: None,
                })
            })
            .collect();
        let port = d.port.clone();
        let start = Instant::now();
        tokio::task::spawn_blocking(move || {
            port.write(now(), "bench", &mut |_| Ok(orders.clone()))
        })
        .await
        .unwrap()
        .unwrap();
        loop {
            let sent: i64 = db
                .query_one("SELECT count(*) FROM mail_outbox WHERE state = 'sent'", &[])
                .await
                .unwrap()
                .get(0);
            if sent - before >= n as i64 {
                break;
            }
            assert!(
                start.elapsed() < Duration::from_secs(1800),
                "stuck at {sent}"
            );
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        let secs = start.elapsed().as_secs_f64();
        println!(
            "  queue to hand-over, {label}: {n} in {secs:.2} s = {:.0} mails/s",
            n as f64 / secs
        );
    }

    // Making the mails alone (render, MIME, CMS), no database or network.
    let signer = kagiya_mail::Signer::from_pem(
        &std::fs::read(smime.join("signer.pem")).unwrap(),
        &std::fs::read(smime.join("signer.key")).unwrap(),
    )
    .unwrap();
    let cert = openssl::x509::X509::from_pem(&pem).unwrap();
    let from: kagiya_mail::Mailbox = "鍵屋 <noreply@bank.example>".parse().unwrap();
    let facts = kagiya_mail::Facts {
        service: "鍵屋",
        login_id: "minato-kato",
        address: enc,
        at: now(),
        ..Default::default()
    };
    let words = kagiya_mail::letter(MailKind::LockNotice, Lang::Ja, &facts);
    for (label, encrypt) in [("signed", false), ("signed + encrypted", true)] {
        let start = Instant::now();
        for i in 0..n {
            let id = format!("<{i}.bench.kagiya@bank.example>");
            let env = kagiya_mail::Envelope {
                from: &from,
                reply_to: None,
                to: enc,
                message_id: &id,
                date: std::time::SystemTime::now(),
            };
            let p = if encrypt {
                kagiya_mail::Protection::SignedAndEncrypted(&signer, &cert)
            } else {
                kagiya_mail::Protection::Signed(&signer)
            };
            std::hint::black_box(kagiya_mail::compose(&env, &words, p).unwrap());
        }
        let secs = start.elapsed().as_secs_f64();
        println!(
            "  compose only, {label}: {n} in {secs:.2} s = {:.0} mails/s (one thread)",
            n as f64 / secs
        );
    }
}
