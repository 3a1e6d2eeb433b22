//! The initialization request (seed 004: ID・パスワード初期化依頼書): when every master and admin of
//! a customer is locked or suspended, the customer brings a paper form to the branch. The branch
//! records it, a supervisor other than the recorder approves it, and then it is executed: the
//! listed users are unlocked and get temporary passwords that must be changed at the next login.

use serde::{Deserialize, Serialize};

use crate::directory::{Tenant, User};
use crate::Millis;

/// The seed 004 rule: 「マスターユーザ、および管理者ユーザがすべて利用停止になってしまった」 — the
/// customer has masters or admins and none of them can act at `now` (each is locked, suspended or
/// deleted), so only a paper initialization request helps. `users` are the customer's users (any
/// order; general users are ignored). The dashboard, the customers' list, the request's intake
/// and its execution all ask this one function; the store's report SQL is its index-backed twin,
/// kept equal by an agreement test.
pub fn needs_init_request<'a>(
    tenant: &Tenant,
    users: impl IntoIterator<Item = &'a User>,
    now: Millis,
) -> bool {
    let mut managers = users.into_iter().filter(|u| u.role.is_manager()).peekable();
    managers.peek().is_some() && managers.all(|u| u.is_unavailable(tenant, now))
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
