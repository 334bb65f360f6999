//! Counting attempts per key (an email, an IP) in fixed windows, to throttle
//! guessing. Counted in this process, or, with `--redis-url`, in Redis so
//! that every node shares one count (`shared`); a Redis that does not answer
//! degrades to counting in this process, never to refusing everyone.
//!
//! In-process memory is bounded: each shard holds at most a fixed number of
//! keys, and the oldest windows make room for new ones.

mod login;
mod shared;

pub use login::{LoginAttempt, LoginLimiter, LoginLimits};
pub use shared::{SharedCounters, SharedError};

use std::collections::HashMap;
use std::hash::{DefaultHasher, Hash, Hasher};
use std::sync::{Arc, Mutex};

#[derive(Clone, Copy, Debug)]
struct Window {
    start: i64,
    failures: u32,
    /// Of those, counted here while the shared counters (Redis) could not be
    /// asked: carried into them with this key's next step that reaches them.
    pending: u32,
}

/// One throttle: at most `max_failures` per key within a window.
pub struct Limiter {
    local: Local,
    /// Redis counters and this throttle's name in them (`--redis-url`).
    shared: Option<(Arc<SharedCounters>, String)>,
}

impl Limiter {
    /// At most `max_failures` failures per key within `window_secs`; at most
    /// `capacity` keys remembered in all (in this process).
    pub fn new(max_failures: u32, window_secs: i64, capacity: usize) -> Self {
        Limiter {
            local: Local::new(max_failures, window_secs, capacity),
            shared: None,
        }
    }

    /// Counts in `counters` (Redis) under `name`, shared by every node.
    pub fn shared(mut self, counters: Option<Arc<SharedCounters>>, name: &str) -> Self {
        self.shared = counters.map(|c| (c, name.to_owned()));
        self
    }

    fn window_index(&self, now: i64) -> i64 {
        now.div_euclid(self.local.window_secs.max(1))
    }

    /// `Some(seconds to wait)` while `key` has used up its failures. Answered
    /// in this process, without a round trip (the verification hot path asks
    /// it): with shared counters, `fail` learns here when the shared count
    /// is used up.
    pub fn blocked(&self, key: &str, now: i64) -> Option<u64> {
        self.local.blocked(key, now)
    }

    /// Counts a failure for `key`.
    pub async fn fail(&self, key: &str, now: i64) {
        if let Some((counters, name)) = &self.shared {
            let window = self.window_index(now);
            let carried = self.local.take_pending(key, now);
            if let Some(count) = counters
                .add(name, key, window, self.local.window_secs, carried)
                .await
            {
                if count >= i64::from(self.local.max_failures) {
                    self.local
                        .mark_used_up(key, window * self.local.window_secs);
                }
                return;
            }
            self.local.restore_pending(key, carried);
        }
        let _ = self.local.count(key, now, false);
    }

    /// Takes one attempt for `key` before the work it guards is done, in one
    /// atomic step: `Err(seconds to wait)` when its attempts are used up, so
    /// parallel requests (to any node, when shared) can never run more than
    /// the limit. The attempt counts as a failure until `refund` gives it back.
    pub async fn reserve(&self, key: &str, now: i64) -> Result<(), u64> {
        if let Some((counters, name)) = &self.shared {
            let window = self.window_index(now);
            let secs = self.local.window_secs;
            let carried = self.local.take_pending(key, now);
            if let Some(taken) = counters
                .take(name, key, window, secs, self.local.max_failures, carried)
                .await
            {
                return if taken {
                    Ok(())
                } else {
                    Err(((window + 1) * secs - now).max(1) as u64)
                };
            }
            self.local.restore_pending(key, carried);
        }
        self.local.count(key, now, true)
    }

    /// Gives back an attempt taken by `reserve` at `now` (it succeeded).
    pub async fn refund(&self, key: &str, now: i64) {
        if let Some((counters, name)) = &self.shared {
            if counters.give_back(name, key, self.window_index(now)).await {
                return;
            }
        }
        self.local.refund(key);
    }

    /// Takes one attempt from each `(limiter, key)` in turn, or from none:
    /// `Err(seconds to wait)` of the first that is used up.
    pub async fn reserve_all<'a>(
        steps: &[(&'a Limiter, &'a str)],
        now: i64,
    ) -> Result<Reserved<'a>, u64> {
        for (i, (limiter, key)) in steps.iter().enumerate() {
            if let Err(wait) = limiter.reserve(key, now).await {
                for (l, k) in &steps[..i] {
                    l.refund(k, now).await;
                }
                return Err(wait);
            }
        }
        Ok(Reserved {
            steps: steps.to_vec(),
            now,
        })
    }

    /// Keys remembered in this process.
    pub fn len(&self) -> usize {
        self.local.len()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

/// Attempts taken by `Limiter::reserve_all`; `refund` gives them back (the
/// attempt succeeded), dropping keeps them counted.
pub struct Reserved<'a> {
    steps: Vec<(&'a Limiter, &'a str)>,
    now: i64,
}

impl Reserved<'_> {
    pub async fn refund(self) {
        for (l, k) in self.steps {
            l.refund(k, self.now).await;
        }
    }
}

/// The in-process count: windows that start at a key's first failure.
struct Local {
    shards: Vec<Mutex<HashMap<String, Window>>>,
    per_shard: usize,
    max_failures: u32,
    window_secs: i64,
}

const SHARDS: usize = 16;

impl Local {
    fn new(max_failures: u32, window_secs: i64, capacity: usize) -> Self {
        Local {
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

    fn blocked(&self, key: &str, now: i64) -> Option<u64> {
        let shard = self.shard(key).lock().unwrap_or_else(|e| e.into_inner());
        let w = shard.get(key)?;
        let ends = w.start + self.window_secs;
        (w.failures >= self.max_failures && ends > now).then(|| (ends - now) as u64)
    }

    fn refund(&self, key: &str) {
        let mut shard = self.shard(key).lock().unwrap_or_else(|e| e.into_inner());
        if let Some(w) = shard.get_mut(key) {
            w.failures = w.failures.saturating_sub(1);
            w.pending = w.pending.saturating_sub(1);
        }
    }

    /// The attempts counted here (while the shared counters were away) in
    /// `key`'s live window, taken out to be carried there.
    fn take_pending(&self, key: &str, now: i64) -> u32 {
        let mut shard = self.shard(key).lock().unwrap_or_else(|e| e.into_inner());
        match shard.get_mut(key) {
            Some(w) if w.start + self.window_secs > now => std::mem::take(&mut w.pending),
            _ => 0,
        }
    }

    /// Puts back what [`Local::take_pending`] took: the shared counters did not answer.
    fn restore_pending(&self, key: &str, n: u32) {
        if n == 0 {
            return;
        }
        let mut shard = self.shard(key).lock().unwrap_or_else(|e| e.into_inner());
        if let Some(w) = shard.get_mut(key) {
            w.pending = w.pending.saturating_add(n);
        }
    }

    /// Remembers that `key` used up the window starting at `start` elsewhere.
    fn mark_used_up(&self, key: &str, start: i64) {
        let mut shard = self.shard(key).lock().unwrap_or_else(|e| e.into_inner());
        self.make_room(&mut shard, start);
        shard.insert(
            key.to_owned(),
            Window {
                start,
                failures: self.max_failures,
                pending: 0,
            },
        );
    }

    fn count(&self, key: &str, now: i64, check: bool) -> Result<(), u64> {
        let mut shard = self.shard(key).lock().unwrap_or_else(|e| e.into_inner());
        if let Some(w) = shard.get_mut(key) {
            if w.start + self.window_secs <= now {
                *w = Window {
                    start: now,
                    failures: 0,
                    pending: 0,
                };
            }
            if check && w.failures >= self.max_failures {
                return Err((w.start + self.window_secs - now).max(1) as u64);
            }
            w.failures = w.failures.saturating_add(1);
            w.pending = w.pending.saturating_add(1);
            return Ok(());
        }
        if check && self.max_failures == 0 {
            return Err(self.window_secs.max(1) as u64);
        }
        self.make_room(&mut shard, now);
        shard.insert(
            key.to_owned(),
            Window {
                start: now,
                failures: 1,
                pending: 1,
            },
        );
        Ok(())
    }

    fn make_room(&self, shard: &mut HashMap<String, Window>, now: i64) {
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
    }

    fn len(&self) -> usize {
        self.shards
            .iter()
            .map(|s| s.lock().unwrap_or_else(|e| e.into_inner()).len())
            .sum()
    }
}

#[cfg(test)]
mod tests;
