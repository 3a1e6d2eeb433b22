//! The demo branch's customers (only with `--demo`, only into an empty database): three companies
//! on three presets, written through the engine's own operations at past times, so that the
//! first look shows what a branch sees on a busy day — one customer whose master and admin are
//! stopped for good after repeated temporary stops (seed 004's 「すべて利用停止」: it needs an
//! initialization request, already taken at the counter), one whose master and admin are only
//! temporarily stopped (no request: they clear by themselves), a suspended user, passwords about
//! to expire, and a month of lockouts for the chart.

use std::sync::Arc;

use kagiya_core::directory::{CredentialKind, Service, UserRole};
use kagiya_core::password::Preset;
use kagiya_core::secret::Secret;
use kagiya_core::{Error, Millis, MINUTE};
use kagiya_engine::{ActorRef, FixedClock, InitRequestForm, NewTenant, NewUser};
use kagiya_store::{directory, Branch};

use crate::desk::dates::{iso_date, local_day};

const DAY: Millis = 24 * 60 * MINUTE;
const SUPERVISOR: (&str, &str) = ("sv001", "Kakunin-Demo-2026");
const OPERATOR: (&str, &str) = ("op101", "Sato-Kakunin-0101");

/// (contract no., name, preset, services, registered days ago, users: (login ID, name, role)).
type Company = (
    &'static str,
    &'static str,
    Preset,
    &'static [Service],
    i64,
    &'static [(&'static str, &'static str, UserRole)],
);

const COMPANIES: [Company; 3] = [
    (
        "K-1001",
        "株式会社みなと商事",
        Preset::BusinessWeb,
        &[Service::AdminConsole, Service::UserWeb],
        85,
        &[
            ("minato-master", "港 一郎", UserRole::Master),
            ("minato-admin", "港 花子", UserRole::Admin),
            ("minato-sato", "佐藤 次郎", UserRole::General),
            ("minato-kato", "加藤 三郎", UserRole::General),
        ],
    ),
    (
        "K-1002",
        "北浜精機株式会社",
        Preset::BizMail,
        &[Service::UserWeb, Service::MailSubmission, Service::Api],
        40,
        &[
            ("kitahama-master", "北浜 優子", UserRole::Master),
            ("kitahama-admin", "北浜 健", UserRole::Admin),
            ("kitahama-ota", "太田 真理", UserRole::General),
            ("kitahama-mori", "森 大輔", UserRole::General),
        ],
    ),
    (
        "K-1003",
        "青葉物流合同会社",
        Preset::WebMember,
        &[Service::UserWeb],
        10,
        &[
            ("aoba-master", "青葉 誠", UserRole::Master),
            ("aoba-ito", "伊藤 恵", UserRole::General),
            ("aoba-kimura", "木村 翔", UserRole::General),
        ],
    ),
];

/// Past lockouts for the chart: (days ago, login ID). The three temporary locks of minato-kato,
/// minato-master and minato-admin make the ones written now permanent (Business Web, seed 004:
/// 「「ログインパスワード一時利用停止」が一定回数繰り返されると、利用停止の状態になります」).
const HISTORY: [(i64, &str); 14] = [
    (27, "kitahama-ota"),
    (24, "minato-master"),
    (22, "minato-admin"),
    (20, "minato-kato"),
    (17, "minato-master"),
    (16, "aoba-kimura"),
    (13, "minato-admin"),
    (12, "minato-kato"),
    (9, "kitahama-mori"),
    (8, "minato-master"),
    (6, "minato-kato"),
    (4, "minato-admin"),
    (3, "aoba-kimura"),
    (1, "kitahama-ota"),
];

fn operator(who: (&str, &str)) -> (ActorRef, Secret) {
    (ActorRef::Operator(who.0.into()), Secret::new(who.1))
}

/// Locks one credential of `id` at the engine's current time, as wrong passwords would.
fn lock(b: &Branch, id: &str, kind: CredentialKind) -> Result<(), Error> {
    let now = b.engine().now();
    b.store().write(|tx| {
        let u = directory::user(tx, id)?.ok_or(Error::UnknownUser)?;
        let t = directory::tenant(tx, &u.contract_no)?.ok_or(Error::UnknownTenant)?;
        let policy = t.policy(kind).lockout;
        directory::fail_until_locked(tx, id, kind, &policy, now, "demo")
    })
}

/// Writes the demo customers; the engine's clock is moved through the past and put back.
pub fn seed(b: &mut Branch, now: Millis) -> Result<(), Error> {
    let clock = Arc::new(FixedClock::new(now));
    let previous = b.engine_mut().set_clock(clock.clone());
    let result = seed_at(b, &clock, now);
    b.engine_mut().set_clock(previous);
    result
}

fn seed_at(b: &Branch, clock: &FixedClock, now: Millis) -> Result<(), Error> {
    let e = b.engine();
    let (sv, sv_conf) = operator(SUPERVISOR);
    for (contract_no, name, preset, services, days_ago, users) in COMPANIES {
        // Registered at 10:00 JST that day.
        clock.set(now - days_ago * DAY + 10 * 60 * MINUTE - 9 * 60 * MINUTE);
        e.create_tenant(
            &sv,
            &sv_conf,
            NewTenant {
                contract_no: contract_no.into(),
                name: name.into(),
                services: services.to_vec(),
                preset,
            },
        )?;
        let forms = users
            .iter()
            .map(|(id, name, role)| NewUser {
                contract_no: contract_no.into(),
                login_id: (*id).into(),
                name: (*name).into(),
                role: *role,
                email: Some(format!("{id}@example.co.jp")),
            })
            .collect();
        e.create_users(&sv, &sv_conf, forms)?;
    }
    for (days_ago, id) in HISTORY {
        clock.set(now - days_ago * DAY + 2 * 60 * MINUTE);
        lock(b, id, CredentialKind::Login)?;
    }
    clock.set(now - 20 * MINUTE);
    e.set_suspended(&sv, &sv_conf, &["aoba-ito".into()], true)?;
    lock(b, "minato-kato", CredentialKind::Login)?;
    clock.set(now - 6 * MINUTE);
    lock(b, "minato-sato", CredentialKind::Confirmation)?;
    lock(b, "minato-master", CredentialKind::Login)?;
    lock(b, "minato-admin", CredentialKind::Login)?;
    // Kitahama's master and admin mistyped too, but Biz Mail's stops clear by themselves.
    lock(b, "kitahama-master", CredentialKind::Login)?;
    lock(b, "kitahama-admin", CredentialKind::Login)?;
    // The customer brought the paper form; it waits for a supervisor's approval.
    clock.set(now - 2 * MINUTE);
    let (op, op_conf) = operator(OPERATOR);
    e.record_init_request(
        &op,
        &op_conf,
        InitRequestForm {
            request_no: "R-2026-0042".into(),
            contract_no: "K-1001".into(),
            received_on: iso_date(local_day(now, 9 * 60)),
            requester: "港 一郎".into(),
            identity_checks: vec!["seal".into(), "id_card".into()],
            targets: Vec::new(),
        },
    )?;
    Ok(())
}
