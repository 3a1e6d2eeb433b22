//! `kagiya-server demo`: the demo branch's customers on the server, so that the sign-in API can
//! be tried before any branch syncs — four companies on the seeds' services, every user with the
//! same known demo passwords (printed), one admin whose password must change at the next
//! sign-in (seed 004 §2.4). Only into a server that has no customers yet. The entries are the
//! same directory events a branch records, written through the same fold and chains.

use kagiya_core::directory::{CredentialKind, CredentialPolicy, Service, UserRole};
use kagiya_core::event::{EventKind, PasswordSetReason};
use kagiya_core::password::{PasswordHasher, Preset};
use kagiya_core::secret::Secret;
use kagiya_core::{Error, Millis, MINUTE};
use kagiya_engine::port::{Change, Port};

/// The demo's login password: one that meets the preset's policy (checked when the demo is
/// written) — the presets disagree on symbols (seed 000 allows only 「!@#$%」, seed 002 only
/// 「.-_」, Biz Mail requires one), so Biz Mail's users have their own.
pub const LOGIN_PASSWORD: &str = "Minato2026kA";
/// The login password of the Biz Mail customer's users.
pub const BIZ_MAIL_LOGIN_PASSWORD: &str = "Kitahama#2026";
/// The demo's confirmation password (where the service has one).
pub const CONFIRMATION_PASSWORD: &str = "Kakunin2026X";

/// The demo login password of a customer on `preset`.
pub fn login_password(preset: Preset) -> &'static str {
    match preset {
        Preset::BizMail => BIZ_MAIL_LOGIN_PASSWORD,
        _ => LOGIN_PASSWORD,
    }
}
/// The user whose login password must change at the next sign-in.
pub const MUST_CHANGE: &str = "minato-admin";

type Company = (
    &'static str,
    &'static str,
    Preset,
    &'static [Service],
    &'static [(&'static str, &'static str, UserRole)],
);

/// The demo customers: (contract no., name, preset, services, users).
pub const COMPANIES: [Company; 4] = [
    (
        "K-1001",
        "株式会社みなと商事",
        Preset::BusinessWeb,
        &[Service::AdminConsole, Service::UserWeb],
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
        &[
            ("kitahama-master", "北浜 優子", UserRole::Master),
            ("kitahama-ota", "太田 真理", UserRole::General),
        ],
    ),
    (
        "K-1003",
        "青葉物流合同会社",
        Preset::WebMember,
        &[Service::UserWeb],
        &[
            ("aoba-master", "青葉 誠", UserRole::Master),
            ("aoba-ito", "伊藤 恵", UserRole::General),
        ],
    ),
    (
        "K-1004",
        "いろは通信株式会社",
        Preset::Interfax,
        &[Service::UserWeb, Service::Api],
        &[
            ("iroha-master", "伊呂波 光", UserRole::Master),
            ("iroha-api", "伊呂波 API", UserRole::General),
        ],
    ),
];

/// Writes the demo customers at `now`; refuses a server that already has customers.
pub fn seed(port: &dyn Port, hasher: &PasswordHasher, now: Millis) -> Result<(), Error> {
    let mut existing = 0;
    port.read(&mut |r| {
        existing = r.tenants()?.len();
        Ok(())
    })?;
    if existing > 0 {
        return Err(Error::AlreadyExists("contract_no"));
    }
    let confirmation = hasher.hash(&Secret::new(CONFIRMATION_PASSWORD))?;
    let actor = Some("demo".to_owned());
    for (contract_no, name, preset, services, users) in COMPANIES {
        for (login_id, ..) in users {
            // The demo passwords are ones a user could have chosen under the preset.
            let login_pw = login_password(preset);
            let uses_both = preset.credentials().len() == 2;
            let pairs = [
                (login_pw, uses_both.then_some(CONFIRMATION_PASSWORD)),
                (CONFIRMATION_PASSWORD, Some(login_pw)),
            ];
            for (pw, other) in pairs.into_iter().take(if uses_both { 2 } else { 1 }) {
                let ctx = kagiya_core::password::PolicyContext {
                    login_id,
                    email: None,
                    must_differ_from: other,
                    mfa: false,
                    context: &[],
                };
                let broken = preset.password().violations(pw, &ctx);
                if !broken.is_empty() {
                    return Err(Error::PasswordPolicy(broken));
                }
            }
        }
        let login = hasher.hash(&Secret::new(login_password(preset)))?;
        let mut changes = vec![EventKind::TenantCreated {
            contract_no: contract_no.into(),
            name: name.into(),
            services: services.to_vec(),
            preset,
            login: CredentialPolicy::from_preset(preset),
            confirmation: CredentialPolicy::from_preset(preset),
        }];
        for (login_id, user_name, role) in users {
            changes.push(EventKind::UserCreated {
                login_id: (*login_id).into(),
                contract_no: contract_no.into(),
                name: (*user_name).into(),
                role: *role,
                email: Some(format!("{login_id}@example.co.jp")),
            });
            for kind in preset.credentials() {
                let (hash, must_change) = match kind {
                    CredentialKind::Login => (login.clone(), *login_id == MUST_CHANGE),
                    CredentialKind::Confirmation => (confirmation.clone(), false),
                };
                changes.push(EventKind::PasswordSet {
                    login_id: (*login_id).into(),
                    credential: *kind,
                    hash,
                    reason: PasswordSetReason::Initial,
                    must_change,
                    temporary: false,
                    expires_at: preset
                        .password()
                        .expiry_days
                        .map(|d| now + Millis::from(d) * 24 * 60 * MINUTE),
                    exception: None,
                });
            }
        }
        let changes: Vec<Change> = changes
            .into_iter()
            .map(|kind| Change::Event {
                actor: actor.clone(),
                kind,
            })
            .collect();
        port.write(now, "demo", &mut |_| Ok(changes.clone()))?;
    }
    Ok(())
}
