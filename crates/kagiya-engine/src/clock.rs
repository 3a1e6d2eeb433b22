//! Where "now" comes from: the system clock in the product, a settable clock in tests.

use std::sync::atomic::{AtomicI64, Ordering};

use kagiya_core::Millis;

/// A source of the current time.
pub trait Clock: Send + Sync {
    /// The wall clock: what the audit log records and the rules compare with.
    fn now(&self) -> Millis;

    /// A clock that only moves forward, for measuring how long something lasted (the idle
    /// lock): setting the PC's clock back must not keep an unattended session open. Only
    /// differences between two readings mean anything.
    fn monotonic(&self) -> Millis {
        self.now()
    }
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

    fn monotonic(&self) -> Millis {
        static START: std::sync::OnceLock<std::time::Instant> = std::sync::OnceLock::new();
        let start = *START.get_or_init(std::time::Instant::now);
        Millis::try_from(start.elapsed().as_millis()).unwrap_or(Millis::MAX)
    }
}

/// A clock that stands still until moved, for tests of time-based rules. Its monotonic reading
/// is its wall reading, so tests move both at once (and can set the wall clock back only with
/// `set`, which moves the monotonic reading back too — see `DriftingClock` for the difference).
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

/// A wall clock that can be set back while the monotonic clock runs on: what happens when
/// someone changes the PC's clock. For tests of the idle lock and of the log's times.
#[derive(Default)]
pub struct DriftingClock {
    wall: AtomicI64,
    mono: AtomicI64,
}

impl DriftingClock {
    pub fn new(at: Millis) -> Self {
        DriftingClock {
            wall: AtomicI64::new(at),
            mono: AtomicI64::new(0),
        }
    }
    /// Time passes: both clocks move.
    pub fn advance(&self, ms: Millis) {
        self.wall.fetch_add(ms, Ordering::SeqCst);
        self.mono.fetch_add(ms, Ordering::SeqCst);
    }
    /// Someone sets the wall clock; the monotonic one does not notice.
    pub fn set_wall(&self, at: Millis) {
        self.wall.store(at, Ordering::SeqCst);
    }
}

impl Clock for DriftingClock {
    fn now(&self) -> Millis {
        self.wall.load(Ordering::SeqCst)
    }
    fn monotonic(&self) -> Millis {
        self.mono.load(Ordering::SeqCst)
    }
}
