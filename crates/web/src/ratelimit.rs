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
        let _ = self.count(key, now, false);
    }

    /// Takes one attempt for `key` before the work it guards is done, in one
    /// step under the lock: `Err(seconds to wait)` when its attempts are used
    /// up, so parallel requests can never run more than the limit. The
    /// attempt counts as a failure until `refund` gives it back.
    pub fn reserve(&self, key: &str, now: i64) -> Result<(), u64> {
        self.count(key, now, true)
    }

    /// Gives back an attempt taken by `reserve` (it succeeded).
    pub fn refund(&self, key: &str) {
        let mut shard = self.shard(key).lock().unwrap_or_else(|e| e.into_inner());
        if let Some(w) = shard.get_mut(key) {
            w.failures = w.failures.saturating_sub(1);
        }
    }

    fn count(&self, key: &str, now: i64, check: bool) -> Result<(), u64> {
        let mut shard = self.shard(key).lock().unwrap_or_else(|e| e.into_inner());
        if let Some(w) = shard.get_mut(key) {
            if w.start + self.window_secs <= now {
                *w = Window {
                    start: now,
                    failures: 0,
                };
            }
            if check && w.failures >= self.max_failures {
                return Err((w.start + self.window_secs - now).max(1) as u64);
            }
            w.failures = w.failures.saturating_add(1);
            return Ok(());
        }
        if check && self.max_failures == 0 {
            return Err(self.window_secs.max(1) as u64);
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
        Ok(())
    }

    /// Forgets `key` (after a successful sign-in).
    pub fn clear(&self, key: &str) {
        self.shard(key)
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .remove(key);
    }

    /// Takes one attempt from each `(limiter, key)` in turn, or from none:
    /// `Err(seconds to wait)` of the first that is used up.
    pub fn reserve_all<'a>(
        steps: &[(&'a Limiter, &'a str)],
        now: i64,
    ) -> Result<Reserved<'a>, u64> {
        for (i, (limiter, key)) in steps.iter().enumerate() {
            if let Err(wait) = limiter.reserve(key, now) {
                for (l, k) in &steps[..i] {
                    l.refund(k);
                }
                return Err(wait);
            }
        }
        Ok(Reserved {
            steps: steps.to_vec(),
        })
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

/// Attempts taken by `Limiter::reserve_all`; `refund` gives them back (the
/// attempt succeeded), dropping keeps them counted.
pub struct Reserved<'a> {
    steps: Vec<(&'a Limiter, &'a str)>,
}

impl Reserved<'_> {
    pub fn refund(self) {
        for (l, k) in self.steps {
            l.refund(k);
        }
    }
}

/// Sign-in attempts of one app, taken before a password is checked: per
/// client IP, per name (an email, a username) from that IP, and, when asked,
/// per name from anywhere (guessing spread over many addresses). Both apps'
/// sign-ins use it, each with its own limits.
pub struct LoginLimiter {
    by_ip: Limiter,
    by_name_from_ip: Limiter,
    by_name: Option<Limiter>,
}

/// How many sign-in attempts a [`LoginLimiter`] allows in its window.
#[derive(Clone, Copy, Debug)]
pub struct LoginLimits {
    pub per_ip: u32,
    pub per_name_from_ip: u32,
    /// `None`: names are not counted across addresses.
    pub per_name: Option<u32>,
    pub window_secs: i64,
    /// Keys remembered per throttle.
    pub capacity: usize,
}

impl LoginLimiter {
    pub fn new(l: LoginLimits) -> Self {
        LoginLimiter {
            by_ip: Limiter::new(l.per_ip, l.window_secs, l.capacity),
            by_name_from_ip: Limiter::new(l.per_name_from_ip, l.window_secs, l.capacity),
            by_name: l
                .per_name
                .map(|n| Limiter::new(n, l.window_secs, l.capacity)),
        }
    }

    /// Takes one attempt from each throttle, or from none: `Err(seconds to
    /// wait)` when one is used up. `ip` is the client address as text; `name`
    /// is compared trimmed and lower-cased. A right password gives the
    /// attempts back (`LoginAttempt::refund`).
    pub fn reserve(&self, ip: &str, name: &str, now: i64) -> Result<LoginAttempt<'_>, u64> {
        let name = name.trim().to_lowercase();
        let pair = format!("{ip} {name}");
        let mut steps: Vec<(&Limiter, &str)> =
            vec![(&self.by_ip, ip), (&self.by_name_from_ip, &pair)];
        if let Some(by_name) = &self.by_name {
            steps.push((by_name, &name));
        }
        // Held by key from here on: `LoginAttempt::refund` gives them back.
        Limiter::reserve_all(&steps, now)?;
        Ok(LoginAttempt {
            steps: steps.into_iter().map(|(l, k)| (l, k.to_owned())).collect(),
        })
    }

    /// Keys remembered, in all throttles.
    pub fn len(&self) -> usize {
        self.by_ip.len()
            + self.by_name_from_ip.len()
            + self.by_name.as_ref().map_or(0, Limiter::len)
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

/// Sign-in attempts taken by [`LoginLimiter::reserve`]: `refund` gives them
/// back (the password was right), dropping keeps them counted.
pub struct LoginAttempt<'a> {
    steps: Vec<(&'a Limiter, String)>,
}

impl LoginAttempt<'_> {
    pub fn refund(self) {
        for (l, k) in self.steps {
            l.refund(&k);
        }
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
    fn reserve_takes_attempts_up_to_the_limit_and_refund_gives_one_back() {
        let l = Limiter::new(3, 60, 100);
        assert!(l.reserve("a", 1000).is_ok());
        assert!(l.reserve("a", 1000).is_ok());
        assert!(l.reserve("a", 1000).is_ok());
        assert_eq!(l.reserve("a", 1010), Err(50));
        l.refund("a");
        assert!(l.reserve("a", 1010).is_ok());
        assert_eq!(l.reserve("a", 1010), Err(50));
        assert!(l.reserve("a", 1060).is_ok(), "a new window starts");
    }

    #[test]
    fn parallel_reservations_never_pass_the_limit() {
        let l = std::sync::Arc::new(Limiter::new(10, 900, 100));
        let threads: Vec<_> = (0..8)
            .map(|_| {
                let l = l.clone();
                std::thread::spawn(move || (0..50).filter(|_| l.reserve("k", 5).is_ok()).count())
            })
            .collect();
        let passed: usize = threads.into_iter().map(|t| t.join().unwrap()).sum();
        assert_eq!(passed, 10);
    }

    #[test]
    fn memory_is_bounded() {
        let l = Limiter::new(3, 60, 160);
        for i in 0..10_000 {
            l.fail(&format!("ip-{i}"), 1000 + i);
        }
        assert!(l.len() <= 160, "{}", l.len());
    }

    #[test]
    fn login_attempts_count_per_ip_per_name_and_per_name_anywhere() {
        let l = LoginLimiter::new(LoginLimits {
            per_ip: 5,
            per_name_from_ip: 2,
            per_name: Some(3),
            window_secs: 60,
            capacity: 100,
        });
        assert!(l.reserve("1.1.1.1", " A@x.example", 0).is_ok());
        assert!(l.reserve("1.1.1.1", "a@x.example ", 0).is_ok());
        assert_eq!(l.reserve("1.1.1.1", "A@X.example", 10).err(), Some(50));
        // Another address may still try the name, until it is used up anywhere.
        assert!(l.reserve("2.2.2.2", "a@x.example", 10).is_ok());
        assert!(l.reserve("3.3.3.3", "a@x.example", 10).is_err());
        // A right password gives its attempts back.
        let ok = l
            .reserve("1.1.1.1", "b@x.example", 10)
            .expect("another name");
        ok.refund();
        assert!(l.reserve("1.1.1.1", "b@x.example", 10).is_ok());
        // Without a per-name throttle, names are counted per address only.
        let admin = LoginLimiter::new(LoginLimits {
            per_ip: 50,
            per_name_from_ip: 1,
            per_name: None,
            window_secs: 60,
            capacity: 100,
        });
        assert!(admin.reserve("1.1.1.1", "admin", 0).is_ok());
        assert!(admin.reserve("1.1.1.1", "Admin", 0).is_err());
        assert!(admin.reserve("2.2.2.2", "admin", 0).is_ok());
    }
}
