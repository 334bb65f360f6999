//! The verifier's metrics (SPEC §7). Handles are made once, with the
//! verifier, so the hot path only increments an atomic; without
//! `--metrics-addr` they are no-ops.

use metrics::Counter;

use super::Status;

pub(super) struct VerifyMetrics {
    /// `commerce_verifications_total{status}`, indexed by `Status as usize`.
    by_status: [Counter; 7],
    pub misses: Counter,
    pub invalidations: Counter,
    pub last_use_rows: Counter,
    pub last_use_failures: Counter,
}

impl VerifyMetrics {
    pub fn new() -> Self {
        let by_status = Status::ALL
            .map(|s| metrics::counter!("commerce_verifications_total", "status" => s.as_str()));
        VerifyMetrics {
            by_status,
            misses: metrics::counter!("commerce_verify_cache_misses_total"),
            invalidations: metrics::counter!("commerce_verify_cache_invalidations_total"),
            last_use_rows: metrics::counter!("commerce_last_use_flushed_rows_total"),
            last_use_failures: metrics::counter!("commerce_last_use_flush_failures_total"),
        }
    }

    pub fn verified(&self, status: Status) {
        self.by_status[status as usize].increment(1);
    }
}
