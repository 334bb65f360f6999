//! Counting failures per key (an email, an IP) in fixed windows, to throttle
//! guessing. Memory is bounded: each shard holds at most a fixed number of
//! keys, and the oldest windows make room for new ones.

use std::collections::HashMap;
use std::hash::{DefaultHasher, Hash, Hasher};
use std::sync::Mutex;

#[derive(Clone, Copy, Debug)]
struct Window {
    start: i64,
    failures: u32,
}

pub struct Limiter {
    shards: Vec<Mutex<HashMap<String, Window>>>,
    per_shard: usize,
    max_failures: u32,
    window_secs: i64,
}

const SHARDS: usize = 16;

impl Limiter {
    /// At most `max_failures` failures per key within `window_secs`; at most
    /// `capacity` keys remembered in all.
    pub fn new(max_failures: u32, window_secs: i64, capacity: usize) -> Self {
        Limiter {
            shards: (0..SHARDS).map(|_| Mutex::new(HashMap::new())).collect(),
            per_shard: (capacity / SHARDS).max(1),
            max_failures,
            window_secs,
        }
    }

    fn shard(&self, key: &str) -> &Mutex<HashMap<String, Window>> {
        let mut h = DefaultHasher::new();
        key.hash(&mut h);
        &self.shards[(h.finish() as usize) % SHARDS]
    }

    /// `Some(seconds to wait)` while `key` has used up its failures.
    pub fn blocked(&self, key: &str, now: i64) -> Option<u64> {
        let shard = self.shard(key).lock().unwrap_or_else(|e| e.into_inner());
        let w = shard.get(key)?;
        let ends = w.start + self.window_secs;
        (w.failures >= self.max_failures && ends > now).then(|| (ends - now) as u64)
    }

    /// Counts a failure for `key`.
    pub fn fail(&self, key: &str, now: i64) {
        let mut shard = self.shard(key).lock().unwrap_or_else(|e| e.into_inner());
        if let Some(w) = shard.get_mut(key) {
            if w.start + self.window_secs <= now {
                *w = Window {
                    start: now,
                    failures: 0,
                };
            }
            w.failures = w.failures.saturating_add(1);
            return;
        }
        if shard.len() >= self.per_shard {
            let window = self.window_secs;
            shard.retain(|_, w| w.start + window > now);
            if shard.len() >= self.per_shard {
                // Still full of live windows: forget the oldest one.
                if let Some(oldest) = shard
                    .iter()
                    .min_by_key(|(_, w)| w.start)
                    .map(|(k, _)| k.clone())
                {
                    shard.remove(&oldest);
                }
            }
        }
        shard.insert(
            key.to_owned(),
            Window {
                start: now,
                failures: 1,
            },
        );
    }

    /// Forgets `key` (after a successful sign-in).
    pub fn clear(&self, key: &str) {
        self.shard(key)
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .remove(key);
    }

    pub fn len(&self) -> usize {
        self.shards
            .iter()
            .map(|s| s.lock().unwrap_or_else(|e| e.into_inner()).len())
            .sum()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn blocks_after_max_failures_until_the_window_ends() {
        let l = Limiter::new(3, 60, 100);
        for _ in 0..2 {
            l.fail("a", 1000);
        }
        assert_eq!(l.blocked("a", 1000), None);
        l.fail("a", 1010);
        assert_eq!(l.blocked("a", 1010), Some(50));
        assert_eq!(l.blocked("b", 1010), None);
        assert_eq!(l.blocked("a", 1060), None);
        l.fail("a", 1060);
        assert_eq!(l.blocked("a", 1060), None, "a new window starts");
        l.clear("a");
        assert_eq!(l.len(), 0);
    }

    #[test]
    fn memory_is_bounded() {
        let l = Limiter::new(3, 60, 160);
        for i in 0..10_000 {
            l.fail(&format!("ip-{i}"), 1000 + i);
        }
        assert!(l.len() <= 160, "{}", l.len());
    }
}
