//! Usage counting (SPEC §11): every request that checks a company's key is
//! counted in memory per key, hour and outcome, and the counts are written
//! in batches with the last-use times. A failed write keeps them for the
//! next; a crash loses at most one flush interval.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use super::{Status, Verifier};
use crate::store::{self, Counts};

/// What a request came to, as usage counts it: a key's status, or refused
/// by the failed-verification throttle before the key was looked at.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Outcome(usize);

impl Outcome {
    /// Refused by the throttle (429).
    pub const THROTTLED: Outcome = Outcome(7);

    pub fn of(status: Status) -> Outcome {
        Outcome(status as usize)
    }
}

const SHARDS: usize = 16;

/// One shard of the counts not yet written: (key id, hour) → counts.
type Shard = Mutex<HashMap<(Arc<str>, i64), Counts>>;

/// Counts not yet written.
pub(super) struct Tallies(Vec<Shard>);

impl Tallies {
    pub(super) fn new() -> Self {
        Tallies((0..SHARDS).map(|_| Mutex::new(HashMap::new())).collect())
    }
}

impl Verifier {
    /// Counts one request for the stored key `key_id` at `now`.
    pub fn count(&self, key_id: &Arc<str>, outcome: Outcome, now: i64) {
        // Ids end in random characters: the last byte spreads them.
        let shard = usize::from(key_id.as_bytes().last().copied().unwrap_or(0)) % SHARDS;
        let mut tally = self.tallies.0[shard]
            .lock()
            .unwrap_or_else(|e| e.into_inner());
        let hour = now.div_euclid(3600);
        match tally.get_mut(&(key_id.clone(), hour)) {
            Some(counts) => counts[outcome.0] += 1,
            None => {
                let mut counts = [0; 8];
                counts[outcome.0] = 1;
                tally.insert((key_id.clone(), hour), counts);
            }
        }
    }

    /// Counts a request presenting `presented` that the throttle refused,
    /// when memory knows the key (storage is not asked for a refused client).
    pub fn count_throttled(&self, presented: &str, now: i64) {
        if let Some(id) = self.cached_id(presented) {
            self.count(&id, Outcome::THROTTLED, now);
        }
    }

    /// Writes the counts taken so far. Called with the last-use flush and
    /// at shutdown. Returns the rows written.
    pub async fn flush_usage(&self) -> Result<usize, sqlx::Error> {
        let mut merged: HashMap<(Arc<str>, i64), Counts> = HashMap::new();
        for shard in &self.tallies.0 {
            let taken = std::mem::take(&mut *shard.lock().unwrap_or_else(|e| e.into_inner()));
            for (k, counts) in taken {
                add(merged.entry(k).or_insert([0; 8]), &counts);
            }
        }
        let rows: Vec<(Arc<str>, i64, Counts)> = merged
            .into_iter()
            .map(|((id, hour), counts)| (id, hour, counts))
            .collect();
        if let Err(e) = store::add_usage(&self.db, &rows).await {
            // Kept for the next flush rather than lost.
            let mut first = self.tallies.0[0].lock().unwrap_or_else(|e| e.into_inner());
            for (id, hour, counts) in rows {
                add(first.entry((id, hour)).or_insert([0; 8]), &counts);
            }
            return Err(e);
        }
        Ok(rows.len())
    }
}

fn add(sum: &mut Counts, counts: &Counts) {
    for (s, n) in sum.iter_mut().zip(counts) {
        *s += n;
    }
}
