//! Property: whatever sequence of operations the engine performs, the tables it keeps up to date
//! equal the directory folded from the event log from scratch, and the chain verifies. Argon2 runs
//! with tiny parameters here so that many sequences fit in a test run; the logic is the same.

use std::sync::Arc;

use kagiya_core::directory::{Channel, CredentialKind, CredentialPolicy, Service, UserRole};
use kagiya_core::password::{HashParams, Preset};
use kagiya_core::secret::Secret;
use kagiya_core::Lang;
use kagiya_core::MINUTE;
use kagiya_engine::FixedClock;
use kagiya_engine::{NewPassword, NewTenant, NewUser, SetPasswords};
use kagiya_store::{directory, events, Branch};

use crate::support::{conf, sv, BranchFile, T0};
use proptest::prelude::*;

const FAST: HashParams = HashParams {
    memory_kib: 8,
    iterations: 1,
    parallelism: 1,
};

#[derive(Debug, Clone)]
enum Op {
    Verify {
        user: usize,
        confirmation: bool,
        right: bool,
        channel: u8,
    },
    Advance {
        minutes: i64,
    },
    Unlock {
        users: Vec<usize>,
    },
    Suspend {
        user: usize,
        on: bool,
    },
    Reset {
        user: usize,
        force: bool,
    },
    Policy {
        preset: usize,
        confirmation: bool,
    },
}

fn op() -> impl Strategy<Value = Op> {
    prop_oneof![
        6 => (0..4usize, any::<bool>(), prop::bool::weighted(0.3), 0..3u8)
            .prop_map(|(user, confirmation, right, channel)| Op::Verify { user, confirmation, right, channel }),
        2 => (1..90i64).prop_map(|minutes| Op::Advance { minutes }),
        1 => prop::collection::vec(0..5usize, 1..4).prop_map(|users| Op::Unlock { users }),
        1 => (0..4usize, any::<bool>()).prop_map(|(user, on)| Op::Suspend { user, on }),
        1 => (0..4usize, any::<bool>()).prop_map(|(user, force)| Op::Reset { user, force }),
        1 => (0..5usize, any::<bool>()).prop_map(|(preset, confirmation)| Op::Policy { preset, confirmation }),
    ]
}

const IDS: [&str; 5] = ["saburodt", "hanakodt", "ichirodt", "jirodt", "nobody"];

proptest! {
    #![proptest_config(ProptestConfig { cases: 24, ..ProptestConfig::default() })]

    #[test]
    fn tables_equal_the_fold_of_the_log(ops in prop::collection::vec(op(), 1..40)) {
        let clock = Arc::new(FixedClock::new(T0));
        let file = BranchFile::new(1, &clock, FAST);
        let e = file.open(&clock, FAST, "prop");
        let sv = sv();
        let conf = conf();
        e.create_tenant(&sv, &conf, NewTenant {
            contract_no: "C-1".into(), name: "テスト".into(), services: vec![Service::Api], preset: Preset::BusinessWeb,
        }).unwrap();
        let mut passwords = Vec::new();
        for (i, id) in IDS[..4].iter().enumerate() {
            let issued = e.create_user(&sv, &conf, NewUser {
                contract_no: "C-1".into(), login_id: (*id).into(), name: format!("利用者{i}"),
                role: [UserRole::Master, UserRole::Admin, UserRole::General, UserRole::General][i],
                email: None,
            }).unwrap();
            passwords.push([issued.login.unwrap(), issued.confirmation.unwrap()]);
        }
        for op in ops {
            match op {
                Op::Verify { user, confirmation, right, channel } => {
                    let k = if confirmation { CredentialKind::Confirmation } else { CredentialKind::Login };
                    let pw = if right { Secret::new(passwords[user][confirmation as usize].expose()) } else { Secret::new("wrong-0000") };
                    let ch = [Channel::Web, Channel::Api, Channel::Mail][channel as usize];
                    let _ = e.verify(IDS[user], k, ch, &pw);
                }
                Op::Advance { minutes } => clock.advance(minutes * MINUTE),
                Op::Unlock { users } => {
                    let ids: Vec<String> = users.iter().map(|u| IDS[*u].to_owned()).collect();
                    e.unlock(&sv, &conf, &ids, Lang::Ja).unwrap();
                }
                Op::Suspend { user, on } => {
                    e.set_suspended(&sv, &conf, &[IDS[user].to_owned()], on).unwrap();
                }
                Op::Reset { user, force } => {
                    let issued = e.set_passwords(&sv, &conf, IDS[user], SetPasswords {
                        login: Some(NewPassword::Generate), confirmation: None, force_login_change: force,
                force_confirmation_change: force,
                permanent_reason: None,
                    }).unwrap();
                    passwords[user][0] = issued.login.unwrap();
                }
                Op::Policy { preset, confirmation } => {
                    let k = if confirmation { CredentialKind::Confirmation } else { CredentialKind::Login };
                    e.set_tenant_policy(&sv, &conf, "C-1", k, CredentialPolicy::from_preset(Preset::ALL[preset])).unwrap();
                }
            }
            prop_assert!(directory::rebuild_matches(&e.store().conn()).unwrap(), "after {:?}", op_name(&e));
        }
        events::verify(&e.store().conn()).unwrap();
    }
}

fn op_name(e: &Branch) -> String {
    events::recent(&e.store().conn(), 1).unwrap()[0]
        .kind
        .clone()
}
