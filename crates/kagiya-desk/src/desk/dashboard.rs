//! The dashboard: what needs the branch's attention today, each count a way into the list behind
//! it, and a chart of lockouts per day over the last 30 days.

use kagiya_core::directory::{CertStatus, ManagersOutlook};
use kagiya_core::operator::Role;
use kagiya_core::{Error, Millis};
use kagiya_store::{directory, operators, reports};
use serde::Serialize;

use super::dates::{iso_date, local_day, DAY};
use crate::console::Console;

/// Passwords expiring within this many days are counted.
pub const PASSWORD_EXPIRY_DAYS: i64 = 14;
/// The chart's length.
pub const CHART_DAYS: i64 = 30;

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
pub struct LockCountsView {
    pub login_temporary: u32,
    pub login_permanent: u32,
    pub confirmation_temporary: u32,
    pub confirmation_permanent: u32,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
pub struct NamedCustomer {
    pub contract_no: String,
    pub name: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
pub struct WaitingCustomer {
    pub contract_no: String,
    pub name: String,
    /// When the first of its masters and admins can act again.
    pub back_at: Millis,
}

/// A member of the branch staff whose sign-in and confirmation are locked now (issue 12): wrong
/// passwords, perhaps someone guessing at an unattended PC.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
pub struct LockedOperator {
    pub operator_id: String,
    pub name: String,
    pub until: Millis,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
pub struct DayCount {
    /// YYYY-MM-DD in the PC's time zone.
    pub day: String,
    pub count: u32,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
pub struct Dashboard {
    pub customers: u32,
    pub users: u32,
    pub locks: LockCountsView,
    /// Customers whose masters and admins are all stopped for good, suspended or deleted (seed
    /// 004's 「すべて利用停止」): each needs a paper initialization request.
    pub customers_needing_request: Vec<NamedCustomer>,
    /// Customers whose masters and admins are all out of action but some only temporarily
    /// (一時利用停止): no request, the first is back by itself at `back_at`.
    pub customers_waiting: Vec<WaitingCustomer>,
    /// Operators locked now — shown to supervisors only (empty for an operator).
    pub locked_operators: Vec<LockedOperator>,
    /// Users with a password expiring within [`PASSWORD_EXPIRY_DAYS`].
    pub passwords_expiring: u32,
    pub certificates_expiring: u32,
    pub certificates_expired: u32,
    /// Initialization requests waiting for a supervisor's approval.
    pub requests_to_approve: u32,
    /// Approved and not yet executed.
    pub requests_to_execute: u32,
    /// Locks of customers' users per day, oldest first, today last.
    pub lockouts_per_day: Vec<DayCount>,
    /// The window of `passwords_expiring`, in days.
    pub password_expiry_days: u32,
    /// The window of `certificates_expiring`, in days: the branch's setting (seed 001's
    /// 「期限切れ予告」), the same one the user detail's certificate status uses.
    pub certificate_expiry_days: u32,
}

fn n(v: i64) -> u32 {
    u32::try_from(v).unwrap_or(u32::MAX)
}

impl Console {
    /// The dashboard at this moment; days are counted in the zone `utc_offset_minutes` east of UTC.
    pub fn dashboard(&mut self, utc_offset_minutes: i32) -> Result<Dashboard, Error> {
        let me = self.active_operator()?;
        if !(-14 * 60..=14 * 60).contains(&utc_offset_minutes) {
            return Err(Error::InvalidValue("utc_offset_minutes"));
        }
        let now = self.engine().now();
        let certificate_days = self.engine().expiring_days();
        self.engine().switch_off_lapsed_encryption()?;
        let out = self.managers_out()?;
        let guard = self.branch.store().conn();
        let conn = &*guard;
        let locks = reports::lock_counts(conn, now)?;
        let tenants = directory::tenants(conn)?;
        let (mut customers_needing_request, mut customers_waiting) = (Vec::new(), Vec::new());
        for t in &tenants {
            match out
                .iter()
                .find(|(c, _)| *c == t.contract_no)
                .map(|(_, o)| *o)
            {
                Some(ManagersOutlook::NeedsRequest) => {
                    customers_needing_request.push(NamedCustomer {
                        contract_no: t.contract_no.clone(),
                        name: t.name.clone(),
                    })
                }
                Some(ManagersOutlook::BackAt { at }) => customers_waiting.push(WaitingCustomer {
                    contract_no: t.contract_no.clone(),
                    name: t.name.clone(),
                    back_at: at,
                }),
                Some(ManagersOutlook::Available) | None => {}
            }
        }
        let (mut certificates_expiring, mut certificates_expired) = (0, 0);
        for (_, _, a) in reports::addresses_with_certificates(conn)? {
            match a.cert_status(now, certificate_days) {
                CertStatus::Expiring { .. } => certificates_expiring += 1,
                CertStatus::Expired => certificates_expired += 1,
                _ => {}
            }
        }
        let locked_operators = if me.role == Role::Supervisor {
            operators::list(conn)?
                .into_iter()
                .filter_map(|o| {
                    o.locked_until(now).map(|until| LockedOperator {
                        operator_id: o.operator_id,
                        name: o.name,
                        until,
                    })
                })
                .collect()
        } else {
            Vec::new()
        };
        let requests = reports::init_request_counts(conn)?;
        let in_state = |s: &str| {
            requests
                .iter()
                .find(|(state, _)| state == s)
                .map_or(0, |(_, c)| n(*c))
        };
        let today = local_day(now, utc_offset_minutes);
        let first = today - (CHART_DAYS - 1);
        let since = first * DAY - i64::from(utc_offset_minutes) * 60_000;
        let mut per_day = vec![0u32; CHART_DAYS as usize];
        for at in reports::lock_times(conn, since)? {
            let d = local_day(at, utc_offset_minutes) - first;
            if let Some(slot) = usize::try_from(d).ok().and_then(|i| per_day.get_mut(i)) {
                *slot += 1;
            }
        }
        Ok(Dashboard {
            customers: n(tenants.len() as i64),
            users: n(directory::user_count(conn)?),
            locks: LockCountsView {
                login_temporary: n(locks.login_temporary),
                login_permanent: n(locks.login_permanent),
                confirmation_temporary: n(locks.confirmation_temporary),
                confirmation_permanent: n(locks.confirmation_permanent),
            },
            customers_needing_request,
            customers_waiting,
            locked_operators,
            passwords_expiring: n(reports::passwords_expiring(
                conn,
                now,
                now + PASSWORD_EXPIRY_DAYS * DAY,
            )?),
            certificates_expiring,
            certificates_expired,
            requests_to_approve: in_state("recorded"),
            requests_to_execute: in_state("approved"),
            lockouts_per_day: per_day
                .into_iter()
                .enumerate()
                .map(|(i, count)| DayCount {
                    day: iso_date(first + i as i64),
                    count,
                })
                .collect(),
            password_expiry_days: PASSWORD_EXPIRY_DAYS as u32,
            certificate_expiry_days: certificate_days,
        })
    }
}
