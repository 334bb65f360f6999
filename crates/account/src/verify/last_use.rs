//! Last-use times: kept in memory per request, written in batches.

use std::sync::Arc;

use super::{Verifier, SHARDS};
use crate::store;

impl Verifier {
    /// Writes the batched last-use times. Called periodically and at shutdown.
    pub async fn flush_last_used(&self) -> Result<usize, sqlx::Error> {
        let mut batch: Vec<(String, i64)> = Vec::new();
        for d in &self.dirty {
            let taken = std::mem::take(&mut *d.lock().unwrap_or_else(|e| e.into_inner()));
            batch.extend(taken.into_iter().map(|(id, at)| (id.to_string(), at)));
        }
        if let Err(e) = store::record_last_used(&self.db, &batch).await {
            self.metrics.last_use_failures.increment(1);
            // Keep them for the next flush rather than lose them.
            for (id, at) in batch {
                let shard = id.len() % SHARDS;
                self.dirty[shard]
                    .lock()
                    .unwrap_or_else(|e| e.into_inner())
                    .entry(Arc::from(id.as_str()))
                    .or_insert(at);
            }
            return Err(e);
        }
        self.metrics.last_use_rows.increment(batch.len() as u64);
        Ok(batch.len())
    }
}
