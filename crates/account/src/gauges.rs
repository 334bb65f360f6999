//! Gauges read at each scrape of `/metrics` (SPEC §7): what is measured by
//! looking rather than by counting.

use std::sync::Arc;
use std::time::Duration;

use crate::{outbox, store, Services};

/// Sets the cache size, the outbox backlog and the pool's use before a scrape.
pub fn collector(state: Arc<Services>) -> web::metrics::Collector {
    Arc::new(move || {
        let state = state.clone();
        Box::pin(async move {
            metrics::gauge!("commerce_verify_cache_entries")
                .set(state.verifier.cached_entries() as f64);
            metrics::gauge!("commerce_verify_cache_unknown_entries")
                .set(state.verifier.cached_unknown() as f64);
            let backlog = tokio::time::timeout(
                Duration::from_secs(2),
                store::backlog(&state.db, outbox::MAX_ATTEMPTS),
            )
            .await;
            match backlog {
                Ok(Ok((pending, failed))) => {
                    metrics::gauge!("commerce_outbox_pending").set(pending as f64);
                    metrics::gauge!("commerce_outbox_failed").set(failed as f64);
                }
                Ok(Err(e)) => tracing::warn!(error = %e, "metrics: cannot count the outbox"),
                Err(_) => tracing::warn!("metrics: counting the outbox timed out"),
            }
            web::metrics::record_pool("account", &state.db);
        })
    })
}
