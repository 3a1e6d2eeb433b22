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

/// What an attempt is for: each has allowances of its own, so that a stranger hammering a user's
/// sign-in does not also stop that user, already signed in, from confirming a transaction.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Kind {
    /// A sign-in and its one-time code.
    SignIn,
    /// A signed-in user's own passwords: the confirmation before a transaction, a change.
    Account,
    /// The API channel (seed 000): the password with every request of an integration.
    Api,
}

/// The limiters.
pub struct Throttle {
    web_source: DefaultKeyedRateLimiter<(Kind, IpAddr)>,
    web_id: DefaultKeyedRateLimiter<(Kind, String)>,
    api_source: DefaultKeyedRateLimiter<IpAddr>,
    api_id: DefaultKeyedRateLimiter<String>,
}

/// A limit of `n` per minute that allows a burst of `n`.
fn quota(n: u32) -> Quota {
    let n = NonZeroU32::new(n).unwrap_or(NonZeroU32::MIN);
    Quota::per_minute(n)
}

/// The key of a source: an IPv6 address by its /64 (one subscriber's network; counting each of
/// its 2^64 addresses apart would give one stranger unlimited allowances), IPv4 by itself.
fn source_key(ip: IpAddr) -> IpAddr {
    match ip.to_canonical() {
        IpAddr::V6(v6) => {
            let mut seg = v6.segments();
            seg[4..].fill(0);
            IpAddr::V6(std::net::Ipv6Addr::from(seg))
        }
        v4 => v4,
    }
}

impl Throttle {
    pub fn new(c: &ThrottleConfig) -> Throttle {
        Throttle {
            web_source: RateLimiter::keyed(quota(c.per_source_per_minute)),
            web_id: RateLimiter::keyed(quota(c.per_login_id_per_minute)),
            api_source: RateLimiter::keyed(quota(c.api_per_source_per_minute)),
            api_id: RateLimiter::keyed(quota(c.api_per_login_id_per_minute)),
        }
    }

    /// Takes one `kind` attempt from `source`'s and `login_id`'s allowances; `Err(wait)` when
    /// either is spent. The ID is folded (and cut to what a login ID can be) so that case and
    /// padding do not make new allowances.
    pub fn attempt(&self, kind: Kind, source: IpAddr, login_id: &str) -> Result<(), Duration> {
        let clock = DefaultClock::default();
        let wait = |not_until: governor::NotUntil<_>| not_until.wait_time_from(clock.now());
        let source = source_key(source);
        let id: String = kagiya_core::directory::ids::fold(login_id)
            .chars()
            .take(64)
            .collect();
        match kind {
            Kind::Api => {
                self.api_source.check_key(&source).map_err(wait)?;
                self.api_id.check_key(&id).map_err(wait)?;
            }
            Kind::SignIn | Kind::Account => {
                self.web_source.check_key(&(kind, source)).map_err(wait)?;
                self.web_id.check_key(&(kind, id)).map_err(wait)?;
            }
        }
        Ok(())
    }

    /// Takes one `kind` attempt from `source`'s allowance only: for what names no user (a mailed
    /// link's token), where a shared per-ID key would let one stranger stop everyone.
    pub fn attempt_source(&self, kind: Kind, source: IpAddr) -> Result<(), Duration> {
        let clock = DefaultClock::default();
        self.web_source
            .check_key(&(kind, source_key(source)))
            .map_err(|n| n.wait_time_from(clock.now()))
    }

    /// Forgets keys whose allowance is full again (run now and then, so memory stays bounded).
    pub fn forget_idle(&self) {
        self.web_source.retain_recent();
        self.web_id.retain_recent();
        self.api_source.retain_recent();
        self.api_id.retain_recent();
        self.web_source.shrink_to_fit();
        self.web_id.shrink_to_fit();
        self.api_source.shrink_to_fit();
        self.api_id.shrink_to_fit();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn config(source: u32, id: u32) -> ThrottleConfig {
        ThrottleConfig {
            per_source_per_minute: source,
            per_login_id_per_minute: id,
            api_per_source_per_minute: 1000,
            api_per_login_id_per_minute: 1000,
        }
    }

    #[test]
    fn each_key_has_its_own_allowance_and_case_does_not_make_a_new_one() {
        let t = Throttle::new(&config(100, 2));
        let a: IpAddr = "192.0.2.1".parse().unwrap();
        assert!(t.attempt(Kind::SignIn, a, "Tanaka").is_ok());
        assert!(t.attempt(Kind::SignIn, a, " tanaka").is_ok());
        let wait = t.attempt(Kind::SignIn, a, "TANAKA").unwrap_err();
        assert!(
            wait > Duration::ZERO && wait <= Duration::from_secs(30),
            "{wait:?}"
        );
        assert!(t.attempt(Kind::SignIn, a, "suzuki").is_ok());
        // The signed-in owner's confirmations and the API have allowances of their own.
        assert!(t.attempt(Kind::Account, a, "tanaka").is_ok());
        assert!(t.attempt(Kind::Api, a, "tanaka").is_ok());
        let t = Throttle::new(&config(1, 100));
        assert!(t.attempt(Kind::SignIn, a, "x").is_ok());
        assert!(t.attempt(Kind::SignIn, a, "y").is_err());
        assert!(t
            .attempt(Kind::SignIn, "192.0.2.2".parse().unwrap(), "x")
            .is_ok());
    }

    #[test]
    fn an_ipv6_network_is_one_source() {
        let t = Throttle::new(&config(1, 100));
        let a: IpAddr = "2001:db8:1:2::1".parse().unwrap();
        let b: IpAddr = "2001:db8:1:2:ffff::9".parse().unwrap();
        assert!(t.attempt(Kind::SignIn, a, "x").is_ok());
        assert!(t.attempt(Kind::SignIn, b, "y").is_err(), "the same /64");
        assert!(t
            .attempt(Kind::SignIn, "2001:db8:1:3::1".parse().unwrap(), "y")
            .is_ok());
    }
}
