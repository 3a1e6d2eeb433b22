//! Throttling in front of the lockouts: attempts per source address and per login ID, each a
//! GCRA limiter (governor). A throttled attempt is answered "try again later" and never reaches
//! the password check, so it neither counts towards a lock nor tells anything about the ID: the
//! same limit applies to IDs that exist and IDs that do not. The trade-off is written down in
//! docs/server.md: the per-ID limit also slows the real user while a stranger hammers their ID,
//! which is the price of not letting that stranger lock them cheaply.

use std::net::IpAddr;
use std::num::NonZeroU32;
use std::time::Duration;

use governor::clock::{Clock, DefaultClock};
use governor::{DefaultKeyedRateLimiter, Quota, RateLimiter};

use crate::config::ThrottleConfig;

/// The limiters.
pub struct Throttle {
    per_source: DefaultKeyedRateLimiter<IpAddr>,
    per_id: DefaultKeyedRateLimiter<String>,
}

/// A limit of `n` per minute that allows a burst of `n`.
fn quota(n: u32) -> Quota {
    let n = NonZeroU32::new(n).unwrap_or(NonZeroU32::MIN);
    Quota::per_minute(n)
}

impl Throttle {
    pub fn new(c: &ThrottleConfig) -> Throttle {
        Throttle {
            per_source: RateLimiter::keyed(quota(c.per_source_per_minute)),
            per_id: RateLimiter::keyed(quota(c.per_login_id_per_minute)),
        }
    }

    /// Takes one attempt from `source`'s and `login_id`'s allowances; `Err(wait)` when either is
    /// spent. The ID is folded (and cut to what a login ID can be) so that case and padding
    /// do not make new allowances.
    pub fn attempt(&self, source: IpAddr, login_id: Option<&str>) -> Result<(), Duration> {
        let clock = DefaultClock::default();
        if let Err(not_until) = self.per_source.check_key(&source) {
            return Err(not_until.wait_time_from(clock.now()));
        }
        if let Some(id) = login_id {
            let key: String = kagiya_core::directory::ids::fold(id)
                .chars()
                .take(64)
                .collect();
            if let Err(not_until) = self.per_id.check_key(&key) {
                return Err(not_until.wait_time_from(clock.now()));
            }
        }
        Ok(())
    }

    /// Forgets keys whose allowance is full again (run now and then, so memory stays bounded).
    pub fn forget_idle(&self) {
        self.per_source.retain_recent();
        self.per_id.retain_recent();
        self.per_source.shrink_to_fit();
        self.per_id.shrink_to_fit();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_key_has_its_own_allowance_and_case_does_not_make_a_new_one() {
        let t = Throttle::new(&ThrottleConfig {
            per_source_per_minute: 100,
            per_login_id_per_minute: 2,
        });
        let a: IpAddr = "192.0.2.1".parse().unwrap();
        assert!(t.attempt(a, Some("Tanaka")).is_ok());
        assert!(t.attempt(a, Some(" tanaka")).is_ok());
        let wait = t.attempt(a, Some("TANAKA")).unwrap_err();
        assert!(
            wait > Duration::ZERO && wait <= Duration::from_secs(30),
            "{wait:?}"
        );
        assert!(t.attempt(a, Some("suzuki")).is_ok());
        let t = Throttle::new(&ThrottleConfig {
            per_source_per_minute: 1,
            per_login_id_per_minute: 100,
        });
        assert!(t.attempt(a, None).is_ok());
        assert!(t.attempt(a, Some("x")).is_err());
        assert!(t.attempt("192.0.2.2".parse().unwrap(), Some("x")).is_ok());
    }
}
