//! Last-use times: kept in memory per request, written in batches.

use std::collections::HashMap;
use std::sync::Arc;

use super::Verifier;
use crate::store;

impl Verifier {
    /// Writes the batched last-use times. Called periodically and at shutdown.
    pub async fn flush_last_used(&self) -> Result<usize, sqlx::Error> {
        // A key is in one shard, except after a failed flush put it back
        // (below): merged, each id once, with its latest time.
        let mut merged: HashMap<Arc<str>, i64> = HashMap::new();
        for d in &self.dirty {
            let taken = std::mem::take(&mut *d.lock().unwrap_or_else(|e| e.into_inner()));
            for (id, at) in taken {
                let t = merged.entry(id).or_insert(at);
                *t = (*t).max(at);
            }
        }
        let batch: Vec<(Arc<str>, i64)> = merged.into_iter().collect();
        if let Err(e) = store::record_last_used(&self.db, &batch).await {
            self.metrics.last_use_failures.increment(1);
            // Keep them for the next flush rather than lose them (a newer
            // time recorded meanwhile wins).
            let mut first = self.dirty[0].lock().unwrap_or_else(|e| e.into_inner());
            for (id, at) in batch {
                let t = first.entry(id).or_insert(at);
                *t = (*t).max(at);
            }
            return Err(e);
        }
        self.metrics.last_use_rows.increment(batch.len() as u64);
        Ok(batch.len())
    }
}
