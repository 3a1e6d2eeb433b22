//! Where "now" comes from: the system clock in the product, a settable clock in tests.

use std::sync::atomic::{AtomicI64, Ordering};

use kagiya_core::Millis;

/// A source of the current time.
pub trait Clock: Send + Sync {
    fn now(&self) -> Millis;
}

/// The system's wall clock.
pub struct SystemClock;

impl Clock for SystemClock {
    fn now(&self) -> Millis {
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_millis() as Millis)
            .unwrap_or(0)
    }
}

/// A clock that stands still until moved, for tests of time-based rules.
#[derive(Default)]
pub struct FixedClock(AtomicI64);

impl FixedClock {
    pub fn new(at: Millis) -> Self {
        FixedClock(AtomicI64::new(at))
    }
    pub fn advance(&self, ms: Millis) {
        self.0.fetch_add(ms, Ordering::SeqCst);
    }
    pub fn set(&self, at: Millis) {
        self.0.store(at, Ordering::SeqCst);
    }
}

impl Clock for FixedClock {
    fn now(&self) -> Millis {
        self.0.load(Ordering::SeqCst)
    }
}
