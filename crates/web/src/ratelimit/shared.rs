//! Throttle counters in Redis (`--redis-url`), shared by every node.
//!
//! A count lives at `{prefix}:rl:{throttle}:{window}:{hmac(key)}`: the
//! window is the fixed window of the app's clock the attempt falls in, the
//! key (an email, an IP) is an HMAC-SHA256 under the app's server secret
//! ([`SharedCounters::keyed`]), so Redis holds no personal data and whoever
//! reads it cannot test guesses of an email or an address against it; the
//! entry expires with its window. Each step is one Lua script, so parallel
//! attempts on any node are counted exactly.
//!
//! Redis is asked with a short deadline. When it fails, the throttle counts
//! in this process instead (and carries those counts into Redis with the
//! key's next step once Redis answers again, so an outage forgets nothing) (a warning at most once a minute, and
//! `commerce_ratelimit_redis_fallbacks_total`), and Redis is not asked again
//! for a few seconds, so an outage costs one deadline per pause, never a
//! refusal of every request.

use std::sync::atomic::{AtomicI64, Ordering};
use std::time::{Duration, Instant};

use hmac::{Hmac, Mac};
use redis::aio::{ConnectionManager, ConnectionManagerConfig};
use redis::Script;
use sha2::Sha256;

/// How long one step may take before the throttle counts locally.
pub const DEADLINE: Duration = Duration::from_millis(250);
/// How long Redis is left alone after it failed.
const PAUSE: Duration = Duration::from_secs(5);
/// At most one warning about Redis per this many seconds.
const WARN_EVERY: u64 = 60;

/// Adds ARGV[4] (attempts counted here while Redis was away) and one to
/// the count; with ARGV[3] = 1, refuses (and takes the one back) past
/// ARGV[1]. Returns the count, or -1 when refused.
const TAKE: &str = r"
local carried = tonumber(ARGV[4])
local n = redis.call('INCRBY', KEYS[1], carried + 1)
if redis.call('TTL', KEYS[1]) < 0 then redis.call('EXPIRE', KEYS[1], ARGV[2]) end
if ARGV[3] == '1' and n > tonumber(ARGV[1]) then
  redis.call('DECR', KEYS[1])
  return -1
end
return n
";

/// Takes one back, never below zero (an expired count stays gone).
const GIVE_BACK: &str = r"
local n = tonumber(redis.call('GET', KEYS[1]) or '0')
if n > 0 then redis.call('DECR', KEYS[1]) end
return 0
";

#[derive(Debug, thiserror::Error)]
pub enum SharedError {
    #[error("not a Redis URL (redis://HOST[:PORT][/DB]): {0}")]
    Url(redis::RedisError),
    #[error(
        "the key prefix must be 1 to 64 letters, digits, '-', '_' or '.' (a trailing ':' is fine)"
    )]
    Prefix,
}

pub struct SharedCounters {
    manager: ConnectionManager,
    prefix: String,
    /// The key of the HMAC that names each count: the app's server secret
    /// (`keyed`), the same on every node of a deployment.
    secret: [u8; 32],
    take: Script,
    give_back: Script,
    started: Instant,
    /// Milliseconds since `started` before which Redis is not asked.
    paused_until: AtomicI64,
    /// How long Redis is left alone after it failed, in milliseconds.
    pause_ms: i64,
    /// Seconds since `started` of the last warning, or -1.
    warned_at: AtomicI64,
    fallbacks: metrics::Counter,
}

impl std::fmt::Debug for SharedCounters {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // The URL may hold a password: never shown.
        f.debug_struct("SharedCounters")
            .field("prefix", &self.prefix)
            .finish_non_exhaustive()
    }
}

impl SharedCounters {
    /// Counters at `url` under `prefix` (nodes of one deployment share it).
    /// Connects lazily: a Redis that is down at start-up is a degraded
    /// throttle, not a failed start. Call within a Tokio runtime.
    pub fn new(url: &str, prefix: &str) -> Result<Self, SharedError> {
        // The usual Redis spelling `app:` means the prefix `app`.
        let prefix = prefix.strip_suffix(':').unwrap_or(prefix);
        let prefix_ok = (1..=64).contains(&prefix.len())
            && prefix
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b"-_.".contains(&b));
        if !prefix_ok {
            return Err(SharedError::Prefix);
        }
        let client = redis::Client::open(url).map_err(SharedError::Url)?;
        let config = ConnectionManagerConfig::new()
            .set_connection_timeout(Some(DEADLINE))
            .set_response_timeout(Some(DEADLINE))
            .set_number_of_retries(1);
        let manager =
            ConnectionManager::new_lazy_with_config(client, config).map_err(SharedError::Url)?;
        // Until an app keys it with its server secret: one of this process.
        let secret = crate::device::derive_key(keys::random_base62(43).as_bytes(), "process");
        Ok(SharedCounters {
            manager,
            prefix: prefix.to_owned(),
            secret,
            take: Script::new(TAKE),
            give_back: Script::new(GIVE_BACK),
            started: Instant::now(),
            paused_until: AtomicI64::new(0),
            pause_ms: i64::try_from(PAUSE.as_millis()).unwrap_or(i64::MAX),
            warned_at: AtomicI64::new(-1),
            fallbacks: metrics::counter!("commerce_ratelimit_redis_fallbacks_total"),
        })
    }

    /// Leaves Redis alone for `pause` (not the default 5 s) after it failed
    /// (tests that bring it back at once).
    pub fn pausing(mut self, pause: Duration) -> SharedCounters {
        self.pause_ms = i64::try_from(pause.as_millis()).unwrap_or(i64::MAX);
        self
    }

    /// The same Redis, with its counts named under `secret` (an app's server
    /// secret, shared by the nodes of a deployment). Without it, names are
    /// keyed by a secret of this process alone.
    pub fn keyed(&self, secret: [u8; 32]) -> SharedCounters {
        SharedCounters {
            manager: self.manager.clone(),
            prefix: self.prefix.clone(),
            secret,
            take: self.take.clone(),
            give_back: self.give_back.clone(),
            started: self.started,
            paused_until: AtomicI64::new(self.paused_until.load(Ordering::Relaxed)),
            pause_ms: self.pause_ms,
            warned_at: AtomicI64::new(self.warned_at.load(Ordering::Relaxed)),
            fallbacks: self.fallbacks.clone(),
        }
    }

    /// Whether Redis answers `PING` within the deadline (for `/readyz`).
    pub async fn ping(&self) -> bool {
        let mut conn = self.manager.clone();
        let cmd = redis::cmd("PING");
        let ping = cmd.query_async::<String>(&mut conn);
        matches!(tokio::time::timeout(DEADLINE, ping).await, Ok(Ok(_)))
    }

    /// The Redis key of `key`'s count: named by an HMAC, never the key itself.
    pub fn key(&self, throttle: &str, key: &str, window: i64) -> String {
        let mut mac = <Hmac<Sha256> as Mac>::new_from_slice(&self.secret)
            .unwrap_or_else(|_| unreachable!("HMAC takes a key of any length"));
        mac.update(throttle.as_bytes());
        mac.update(b"\n");
        mac.update(key.as_bytes());
        let digest = mac.finalize().into_bytes();
        let mut hex = String::with_capacity(32);
        for b in &digest[..16] {
            hex.push_str(&format!("{b:02x}"));
        }
        format!("{}:rl:{throttle}:{window}:{hex}", self.prefix)
    }

    fn millis(&self) -> i64 {
        i64::try_from(self.started.elapsed().as_millis()).unwrap_or(i64::MAX)
    }

    /// Runs one script, or `None` (count locally) when Redis is paused,
    /// fails or is late.
    async fn run(&self, script: &Script, key: String, args: &[i64]) -> Option<i64> {
        if self.millis() < self.paused_until.load(Ordering::Relaxed) {
            self.fallbacks.increment(1);
            return None;
        }
        let mut conn = self.manager.clone();
        let mut invocation = script.key(key);
        for a in args {
            invocation.arg(*a);
        }
        let answer =
            tokio::time::timeout(DEADLINE, invocation.invoke_async::<i64>(&mut conn)).await;
        match answer {
            Ok(Ok(n)) => Some(n),
            failed => {
                self.paused_until.store(
                    self.millis().saturating_add(self.pause_ms),
                    Ordering::Relaxed,
                );
                self.fallbacks.increment(1);
                let now = self.started.elapsed().as_secs() as i64;
                let last = self.warned_at.load(Ordering::Relaxed);
                if (last < 0 || now - last >= WARN_EVERY as i64)
                    && self
                        .warned_at
                        .compare_exchange(last, now, Ordering::Relaxed, Ordering::Relaxed)
                        .is_ok()
                {
                    let error = match failed {
                        Ok(Err(e)) => e.to_string(),
                        _ => format!("no answer within {} ms", DEADLINE.as_millis()),
                    };
                    tracing::warn!(
                        %error,
                        "Redis does not answer: throttles count in this process until it does"
                    );
                }
                None
            }
        }
    }

    /// Takes one attempt unless `max` are taken: `Some(taken)`, or `None`
    /// when Redis could not be asked.
    /// `carried`: attempts counted in this process while Redis was away,
    /// added to the count first.
    pub(super) async fn take(
        &self,
        throttle: &str,
        key: &str,
        window: i64,
        window_secs: i64,
        max: u32,
        carried: u32,
    ) -> Option<bool> {
        let key = self.key(throttle, key, window);
        let args = [i64::from(max), window_secs + 60, 1, i64::from(carried)];
        let n = self.run(&self.take, key, &args).await?;
        Some(n >= 0)
    }

    /// Adds one failure (and `carried`): `Some(count)` in the window, or `None`.
    pub(super) async fn add(
        &self,
        throttle: &str,
        key: &str,
        window: i64,
        window_secs: i64,
        carried: u32,
    ) -> Option<i64> {
        let key = self.key(throttle, key, window);
        let args = [0, window_secs + 60, 0, i64::from(carried)];
        self.run(&self.take, key, &args).await
    }

    /// Gives one attempt back: whether Redis took it.
    pub(super) async fn give_back(&self, throttle: &str, key: &str, window: i64) -> bool {
        let key = self.key(throttle, key, window);
        self.run(&self.give_back, key, &[]).await.is_some()
    }
}
