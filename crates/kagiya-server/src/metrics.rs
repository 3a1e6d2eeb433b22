//! What `/metrics` reports to Prometheus: requests by route and status, their latency, and the
//! database pool's use. One registry per server (no process-wide state).

use prometheus::{Encoder, HistogramOpts, HistogramVec, IntCounterVec, IntGauge, Opts, Registry};

/// The server's counters.
pub struct Metrics {
    registry: Registry,
    pub requests: IntCounterVec,
    pub latency: HistogramVec,
    pub pool_size: IntGauge,
    pub pool_available: IntGauge,
    /// Authentication outcomes by operation and result code (`ok`, `auth.invalid_credentials`,
    /// `auth.throttled`, …): what an operator watches for a guessing or locking campaign.
    pub outcomes: IntCounterVec,
}

impl Metrics {
    pub fn new() -> Metrics {
        let registry = Registry::new();
        let requests = IntCounterVec::new(
            Opts::new(
                "kagiya_http_requests_total",
                "HTTP requests by route and status",
            ),
            &["route", "status"],
        )
        .expect("valid metric");
        // Buckets from 1 ms to 5 s: a sign-in costs one argon2id hash (tens of milliseconds).
        let latency = HistogramVec::new(
            HistogramOpts::new(
                "kagiya_http_request_seconds",
                "HTTP request latency by route",
            )
            .buckets(vec![
                0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0,
            ]),
            &["route"],
        )
        .expect("valid metric");
        let pool_size = IntGauge::new("kagiya_db_pool_connections", "Open pool connections")
            .expect("valid metric");
        let pool_available = IntGauge::new(
            "kagiya_db_pool_available",
            "Pool connections idle and ready",
        )
        .expect("valid metric");
        let outcomes = IntCounterVec::new(
            Opts::new(
                "kagiya_auth_outcomes_total",
                "Authentication outcomes by operation and result code",
            ),
            &["operation", "outcome"],
        )
        .expect("valid metric");
        for c in [
            Box::new(outcomes.clone()) as Box<dyn prometheus::core::Collector>,
            Box::new(requests.clone()),
            Box::new(latency.clone()),
            Box::new(pool_size.clone()),
            Box::new(pool_available.clone()),
        ] {
            registry.register(c).expect("registered once");
        }
        Metrics {
            registry,
            requests,
            latency,
            pool_size,
            pool_available,
            outcomes,
        }
    }

    /// The text exposition format.
    pub fn render(&self) -> String {
        let mut out = Vec::new();
        // Encoding into a Vec cannot fail for metrics this registry accepted.
        let _ = prometheus::TextEncoder::new().encode(&self.registry.gather(), &mut out);
        String::from_utf8(out).unwrap_or_default()
    }
}

impl Default for Metrics {
    fn default() -> Self {
        Self::new()
    }
}
