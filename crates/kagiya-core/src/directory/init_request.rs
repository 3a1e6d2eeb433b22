//! The initialization request (seed 004: ID・パスワード初期化依頼書): when every master and admin of
//! a customer is stopped for good (利用停止), suspended or deleted, the customer brings a paper form to the branch. The branch
//! records it, a supervisor other than the recorder approves it, and then it is executed: the
//! listed users are unlocked and get temporary passwords that must be changed at the next login.

use serde::{Deserialize, Serialize};

use crate::directory::{Tenant, User};
use crate::Millis;

/// Where a customer's masters and admins stand, for seed 004's rule on initialization requests.
#[cfg_attr(feature = "specta", derive(specta::Type))]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", tag = "state")]
pub enum ManagersOutlook {
    /// Some master or admin can act (or the customer has none): nothing for the branch to do.
    Available,
    /// Every master and admin is out of action, but some only temporarily (一時利用停止): the first
    /// of them can act again at `at` by itself, so no paper request is needed.
    BackAt { at: Millis },
    /// Every master and admin is stopped for good (利用停止), suspended or deleted: only an
    /// initialization request helps.
    NeedsRequest,
}

impl ManagersOutlook {
    /// Only an initialization request helps.
    pub fn needs_request(self) -> bool {
        self == ManagersOutlook::NeedsRequest
    }

    /// When the first master or admin is back by itself, if that is the case.
    pub fn back_at(self) -> Option<Millis> {
        match self {
            ManagersOutlook::BackAt { at } => Some(at),
            ManagersOutlook::Available | ManagersOutlook::NeedsRequest => None,
        }
    }
}

/// Seed 004's rule: 「マスターユーザ、および管理者ユーザがすべて利用停止になってしまった」 — 利用停止
/// is the state that 「自動的に解除されることはありません」, unlike 一時利用停止, which
/// 「一定時間が経過すると自動的に解除されます」. `users` are the customer's users (any order; general
/// users are ignored). The dashboard, the customers' list, the request's intake and its execution
/// all ask this one function.
pub fn managers_outlook<'a>(
    tenant: &Tenant,
    users: impl IntoIterator<Item = &'a User>,
    now: Millis,
) -> ManagersOutlook {
    let mut any = false;
    let mut first_back: Option<Millis> = None;
    for u in users.into_iter().filter(|u| u.role.is_manager()) {
        any = true;
        if u.is_stopped_for_good(tenant, now) {
            continue;
        }
        match u.back_at(tenant, now) {
            Some(at) => first_back = Some(first_back.map_or(at, |f| f.min(at))),
            None => return ManagersOutlook::Available,
        }
    }
    match (any, first_back) {
        (false, _) => ManagersOutlook::Available,
        (true, Some(at)) => ManagersOutlook::BackAt { at },
        (true, None) => ManagersOutlook::NeedsRequest,
    }
}

/// Whether the customer needs an initialization request: [`managers_outlook`] says so.
pub fn needs_init_request<'a>(
    tenant: &Tenant,
    users: impl IntoIterator<Item = &'a User>,
    now: Millis,
) -> bool {
    managers_outlook(tenant, users, now).needs_request()
}

#[cfg_attr(feature = "specta", derive(specta::Type))]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum InitRequestState {
    Recorded,
    Approved,
    Rejected,
    Executed,
}

impl InitRequestState {
    pub fn code(self) -> &'static str {
        match self {
            InitRequestState::Recorded => "recorded",
            InitRequestState::Approved => "approved",
            InitRequestState::Rejected => "rejected",
            InitRequestState::Executed => "executed",
        }
    }
}

#[cfg_attr(feature = "specta", derive(specta::Type))]
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct InitRequest {
    /// The number written on the paper form.
    pub request_no: String,
    pub contract_no: String,
    /// The date on the form (YYYY-MM-DD).
    pub received_on: String,
    /// Who brought it (name as on the form).
    pub requester: String,
    /// The identity checks done at the counter (e.g. "seal", "driver_licence").
    pub identity_checks: Vec<String>,
    /// The users to unlock and reissue, as login IDs.
    pub targets: Vec<String>,
    pub recorded_by: String,
    pub recorded_at: Millis,
    pub state: InitRequestState,
    pub approved_by: Option<String>,
    pub decided_at: Option<Millis>,
    pub executed_at: Option<Millis>,
}

/// Checks a date written as YYYY-MM-DD (the calendar is checked, not just the shape).
pub fn valid_date(s: &str) -> bool {
    let b = s.as_bytes();
    if b.len() != 10 || b[4] != b'-' || b[7] != b'-' {
        return false;
    }
    let num = |r: std::ops::Range<usize>| s.get(r).and_then(|x| x.parse::<u32>().ok());
    let (Some(y), Some(m), Some(d)) = (num(0..4), num(5..7), num(8..10)) else {
        return false;
    };
    let leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
    let days = match m {
        1 | 3 | 5 | 7 | 8 | 10 | 12 => 31,
        4 | 6 | 9 | 11 => 30,
        2 if leap => 29,
        2 => 28,
        _ => return false,
    };
    (2000..=2999).contains(&y) && (1..=days).contains(&d)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::directory::{CredentialPolicy, UserRole, UserStatus};
    use crate::password::Preset;
    use crate::MINUTE;

    const NOW: Millis = 1_800_000_000_000;

    fn business_web() -> Tenant {
        let p = CredentialPolicy::from_preset(Preset::BusinessWeb);
        Tenant {
            contract_no: "C1".into(),
            name: "C1".into(),
            services: Vec::new(),
            preset: Preset::BusinessWeb,
            login: p.clone(),
            confirmation: p,
            created_at: 0,
        }
    }

    fn user(id: &str, role: UserRole) -> User {
        crate::directory::test_support::user(id, "C1", role)
    }

    /// 一時利用停止 until `until`.
    fn stopped_for_a_while(mut u: User, until: Millis) -> User {
        u.login.lockout.locked_until = Some(until);
        u.login.lockout.temp_locks = 1;
        u
    }

    /// 利用停止 (on the confirmation password, to show that either credential counts).
    fn stopped_for_good(mut u: User) -> User {
        u.confirmation.lockout.permanent_at = Some(NOW - MINUTE);
        u
    }

    /// Seed 004: 「マスターユーザ、および管理者ユーザがすべて利用停止になってしまった」 calls for the
    /// paper request; 一時利用停止 「一定時間が経過すると自動的に解除されます」 does not.
    #[test]
    fn only_managers_stopped_for_good_call_for_a_request() {
        let t = business_web();
        let master = user("master1", UserRole::Master);
        let admin = user("admin1", UserRole::Admin);
        let general = user("gen1", UserRole::General);
        let outlook = |users: &[User]| managers_outlook(&t, users, NOW);

        assert_eq!(outlook(&[]), ManagersOutlook::Available, "no managers");
        assert_eq!(
            outlook(&[
                master.clone(),
                admin.clone(),
                stopped_for_good(general.clone())
            ]),
            ManagersOutlook::Available
        );
        // Every manager only temporarily stopped: the first to clear is named, no request.
        let soon = NOW + 10 * MINUTE;
        let later = NOW + 25 * MINUTE;
        let both_waiting = [
            stopped_for_a_while(master.clone(), later),
            stopped_for_a_while(admin.clone(), soon),
        ];
        assert_eq!(outlook(&both_waiting), ManagersOutlook::BackAt { at: soon });
        assert!(!needs_init_request(&t, &both_waiting, NOW));
        // One stopped for good and one waiting: still no request, the waiting one comes back.
        let mixed = [
            stopped_for_good(master.clone()),
            stopped_for_a_while(admin.clone(), later),
        ];
        assert_eq!(outlook(&mixed), ManagersOutlook::BackAt { at: later });
        // A manager locked for a while on login and for good on confirmation is out for good.
        let both_kinds = stopped_for_good(stopped_for_a_while(admin.clone(), later));
        assert_eq!(both_kinds.back_at(&t, NOW), None);
        // Every manager stopped for good, suspended or deleted: the paper request.
        let mut suspended = admin.clone();
        suspended.status = UserStatus::Suspended;
        let mut deleted = user("admin2", UserRole::Admin);
        deleted.status = UserStatus::Deleted;
        let all_out = [
            stopped_for_good(master.clone()),
            suspended,
            deleted,
            general,
        ];
        assert_eq!(outlook(&all_out), ManagersOutlook::NeedsRequest);
        assert!(needs_init_request(&t, &all_out, NOW));
        // Once the temporary stop has run out, that manager is simply available again.
        assert_eq!(
            managers_outlook(&t, &mixed, later + 1),
            ManagersOutlook::Available
        );
    }

    #[test]
    fn dates() {
        assert!(super::valid_date("2026-11-23"));
        assert!(super::valid_date("2028-02-29"));
        assert!(!super::valid_date("2026-02-29"));
        assert!(!super::valid_date("2026-13-01"));
        assert!(!super::valid_date("26-11-23"));
        assert!(!super::valid_date("2026/11/23"));
    }
}
