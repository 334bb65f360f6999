//! Key verification: the hot path every store calls.
//!
//! A request costs a checksum, a SHA-256, and a read-locked lookup in an
//! in-process cache. Nothing is written per request: last-use times are kept
//! in memory and flushed in batches. Revocation invalidates the cache entry.

mod last_use;
mod listener;
mod loader;
mod metrics;
mod ping;
mod status;
mod usage;

pub use listener::listen_for_changes;
pub use ping::{PingOutcome, SignatureRefusal, PING_MAX_AHEAD};
pub use status::{status_at, Caller, SigningKey, Status, Verdict};
pub use usage::Outcome;

use std::collections::HashMap;
use std::hash::{BuildHasher, Hasher, RandomState};
use std::sync::atomic::{AtomicI64, Ordering};
use std::sync::{Arc, Mutex, RwLock};

use keys::jwt::PublicKey;
use keys::{ApiKey, Environment, KeyHash};
use web::db::Db;
use web::Clock;

use crate::key_policy::{self, ServiceCatalog, ServiceMask};
use crate::store;

struct Known {
    id: Arc<str>,
    state: store::KeyState,
    public_key: Option<Arc<SigningKey>>,
    /// The key's allowed addresses (`None`: any).
    allowed: Option<Box<key_policy::AllowedNets>>,
    /// The services the key may be used for.
    services: ServiceMask,
    last_used: AtomicI64,
    /// Reloaded after this time: a backstop should an invalidation be lost.
    fresh_until: i64,
}

/// What memory knows of a presented key ([`Verifier::lookup`]).
enum Lookup {
    Answered(Verdict),
    /// Not in memory: storage must be asked.
    Load {
        environment: Environment,
        hash: KeyHash,
        shard: usize,
        now: i64,
    },
}

const SHARDS: usize = 32;
/// How long a well-formed unknown key is remembered as unknown.
const NEGATIVE_TTL: i64 = 30;
/// How long a known key is trusted without asking storage again. Revocation
/// does not wait for this: it invalidates at once (and on PostgreSQL, on every node).
const POSITIVE_TTL: i64 = 300;

/// The key hash is already uniformly random: its first bytes are the hash.
/// Only for stored keys, which the service generates. Keys a client makes up
/// (the unknown keys, the tokens of signed pings) could be ground until their
/// unpeppered SHA-256 prefixes collide and every lookup walks one long probe
/// chain: those maps use a hasher keyed per process (`RandomState`).
#[derive(Clone, Copy, Default)]
struct PrefixHasher(u64);

impl Hasher for PrefixHasher {
    fn finish(&self) -> u64 {
        self.0
    }
    fn write(&mut self, bytes: &[u8]) {
        for &b in bytes.iter().take(8) {
            self.0 = (self.0 << 8) | u64::from(b);
        }
    }
}

impl BuildHasher for PrefixHasher {
    type Hasher = PrefixHasher;
    fn build_hasher(&self) -> PrefixHasher {
        PrefixHasher(0)
    }
}

/// Stored keys.
type Shard = RwLock<HashMap<KeyHash, Arc<Known>, PrefixHasher>>;
/// Well-formed keys that are not stored, each remembered until a time: a
/// cache of its own, so a flood of forged keys evicts only forged keys.
type UnknownShard = RwLock<HashMap<KeyHash, i64, RandomState>>;

pub struct Verifier {
    db: Db,
    clock: Arc<dyn Clock>,
    /// The operator's services: a key's stored names become a mask at load.
    catalog: ServiceCatalog,
    shards: Vec<Shard>,
    unknown: Vec<UnknownShard>,
    per_shard_unknown: usize,
    /// Bumped by every invalidation of a shard: a load that began before an
    /// invalidation must not put its (possibly stale) answer into the cache.
    epochs: Vec<std::sync::atomic::AtomicU64>,
    per_shard_capacity: usize,
    /// Last-use times not yet written: key id → time.
    dirty: Vec<Mutex<HashMap<Arc<str>, i64>>>,
    /// Signed pings already verified: SHA-256 of (key hash, token) → the token's `exp`.
    verified_tokens: Mutex<HashMap<KeyHash, i64, RandomState>>,
    metrics: metrics::VerifyMetrics,
    /// Usage counts not yet written.
    tallies: usage::Tallies,
    /// Reads the keys memory does not hold, in batches.
    loader: loader::Loader,
}

impl Verifier {
    /// `capacity` bounds the cache of stored keys; unknown keys have a
    /// cache of their own, a quarter of that size.
    pub fn new(db: Db, clock: Arc<dyn Clock>, capacity: usize, catalog: ServiceCatalog) -> Self {
        Verifier {
            db,
            clock,
            catalog,
            shards: (0..SHARDS)
                .map(|_| RwLock::new(HashMap::default()))
                .collect(),
            unknown: (0..SHARDS)
                .map(|_| RwLock::new(HashMap::default()))
                .collect(),
            per_shard_unknown: (capacity / 4 / SHARDS).max(16),
            epochs: (0..SHARDS)
                .map(|_| std::sync::atomic::AtomicU64::new(0))
                .collect(),
            per_shard_capacity: (capacity / SHARDS).max(16),
            dirty: (0..SHARDS).map(|_| Mutex::new(HashMap::new())).collect(),
            verified_tokens: Mutex::new(HashMap::default()),
            metrics: metrics::VerifyMetrics::new(),
            tallies: usage::Tallies::new(),
            loader: loader::Loader::new(),
        }
    }

    fn shard_of(hash: &KeyHash) -> usize {
        usize::from(hash.0[31]) % SHARDS
    }

    /// Verifies a presented key for a caller. Errors only when storage
    /// cannot be asked.
    pub async fn verify(&self, presented: &str, caller: Caller) -> Result<Verdict, sqlx::Error> {
        let verdict = match self.lookup(presented, self.clock.now(), caller) {
            Lookup::Answered(verdict) => verdict,
            Lookup::Load {
                environment,
                hash,
                shard,
                now,
            } => {
                self.metrics.misses.increment(1);
                match self.load(hash, now).await? {
                    Some(entry) => self.answer(&entry, environment, shard, now, caller),
                    None => Verdict::invalid(),
                }
            }
        };
        self.metrics.verified(verdict.status);
        Ok(verdict)
    }

    /// The verdict on a presented key when it is valid and answered from
    /// memory, without waiting (most requests); `None` when storage must be
    /// asked or the key is not valid (then [`Verifier::verify`] answers).
    /// `now` is the clock's time, read by the caller.
    pub fn verify_valid_cached(
        &self,
        presented: &str,
        now: i64,
        caller: Caller,
    ) -> Option<Verdict> {
        match self.lookup(presented, now, caller) {
            Lookup::Answered(verdict) if verdict.status == Status::Valid => {
                self.metrics.verified(verdict.status);
                Some(verdict)
            }
            _ => None,
        }
    }

    /// The id of a presented key memory holds, without asking storage.
    pub fn cached_id(&self, presented: &str) -> Option<Arc<str>> {
        let (_, hash) = ApiKey::check(presented).ok()?;
        let shard = self.shards[Self::shard_of(&hash)]
            .read()
            .unwrap_or_else(|e| e.into_inner());
        shard.get(&hash).map(|entry| entry.id.clone())
    }

    /// What memory knows of a presented key at `now`: its verdict, or that
    /// storage must be asked.
    fn lookup(&self, presented: &str, now: i64, caller: Caller) -> Lookup {
        // A malformed key or bad checksum never reaches the cache or storage.
        let Ok((environment, hash)) = ApiKey::check(presented) else {
            return Lookup::Answered(Verdict::invalid());
        };
        let shard = Self::shard_of(&hash);
        let cached = self.shards[shard]
            .read()
            .unwrap_or_else(|e| e.into_inner())
            .get(&hash)
            .cloned();
        match cached {
            Some(entry) if entry.fresh_until > now => {
                Lookup::Answered(self.answer(&entry, environment, shard, now, caller))
            }
            _ => {
                let unknown_until = self.unknown[shard]
                    .read()
                    .unwrap_or_else(|e| e.into_inner())
                    .get(&hash)
                    .copied();
                if unknown_until.is_some_and(|until| until > now) {
                    return Lookup::Answered(Verdict::invalid());
                }
                Lookup::Load {
                    environment,
                    hash,
                    shard,
                    now,
                }
            }
        }
    }

    /// The verdict on a stored key at `now` for a caller; a valid key's use
    /// is noted. The address is checked before the service.
    fn answer(
        &self,
        entry: &Known,
        environment: Environment,
        shard: usize,
        now: i64,
        caller: Caller,
    ) -> Verdict {
        let mut status = status_at(entry.state, now);
        if status == Status::Valid {
            if let Some(nets) = &entry.allowed {
                if !nets.contains(caller.ip) {
                    status = Status::IpNotAllowed;
                }
            }
            if let Some(wanted) = caller.service {
                if status == Status::Valid && !entry.services.allows(wanted) {
                    status = Status::InsufficientScope;
                }
            }
        }
        if status == Status::Valid && entry.last_used.swap(now, Ordering::Relaxed) != now {
            self.dirty[shard]
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .insert(entry.id.clone(), now);
        }
        Verdict {
            status,
            environment: Some(environment),
            expires_at: entry.state.expires_at,
            public_key: entry.public_key.clone(),
            key_id: Some(entry.id.clone()),
        }
    }

    async fn load(&self, hash: KeyHash, now: i64) -> Result<Option<Arc<Known>>, sqlx::Error> {
        let shard_index = Self::shard_of(&hash);
        let epoch = self.epochs[shard_index].load(Ordering::SeqCst);
        let found = self.loader.load(&self.db, hash).await?;
        let Some(stored) = &found else {
            let mut unknown = self.unknown[shard_index]
                .write()
                .unwrap_or_else(|e| e.into_inner());
            if self.epochs[shard_index].load(Ordering::SeqCst) == epoch {
                if unknown.len() >= self.per_shard_unknown {
                    unknown.retain(|_, until| *until > now);
                    if unknown.len() >= self.per_shard_unknown {
                        if let Some(victim) = unknown.keys().next().copied() {
                            unknown.remove(&victim);
                        }
                    }
                }
                unknown.insert(hash, now + NEGATIVE_TTL);
            }
            return Ok(None);
        };
        let entry = {
            Arc::new(Known {
                id: Arc::from(stored.id.as_str()),
                state: stored.state,
                public_key: stored.public_key.as_deref().and_then(|pem| {
                    let key = PublicKey::from_pem(pem).ok()?;
                    Some(Arc::new(SigningKey {
                        key,
                        pem_hash: keys::hash_str(pem),
                    }))
                }),
                allowed: key_policy::stored_nets(stored.allowed_ips.as_deref()).map(Box::new),
                services: self.catalog.mask(stored.services.as_deref()),
                last_used: AtomicI64::new(0),
                fresh_until: now + POSITIVE_TTL,
            })
        };
        let result = Some(entry.clone());
        let mut shard = self.shards[shard_index]
            .write()
            .unwrap_or_else(|e| e.into_inner());
        if self.epochs[shard_index].load(Ordering::SeqCst) != epoch {
            // Invalidated while we read storage: answer, but do not cache.
            return Ok(result);
        }
        if shard.len() >= self.per_shard_capacity {
            // Bounded memory: drop an arbitrary entry; it is reloaded when needed.
            if let Some(victim) = shard.keys().next().copied() {
                shard.remove(&victim);
            }
        }
        shard.insert(hash, entry);
        Ok(result)
    }

    /// Forgets a key whose answer a write has just changed (see `store::KeyChanged`).
    pub fn forget(&self, changed: store::KeyChanged) {
        self.invalidate(changed.hash());
    }

    /// Forgets a key so the next verification reads storage (after revocation).
    pub fn invalidate(&self, hash: &KeyHash) {
        let i = Self::shard_of(hash);
        self.metrics.invalidations.increment(1);
        let mut shard = self.shards[i].write().unwrap_or_else(|e| e.into_inner());
        self.epochs[i].fetch_add(1, Ordering::SeqCst);
        shard.remove(hash);
        self.unknown[i]
            .write()
            .unwrap_or_else(|e| e.into_inner())
            .remove(hash);
    }

    /// Forgets every key (after a lost invalidation feed).
    pub fn invalidate_all(&self) {
        self.metrics.invalidations.increment(1);
        for (shard, epoch) in self.shards.iter().zip(&self.epochs) {
            let mut shard = shard.write().unwrap_or_else(|e| e.into_inner());
            epoch.fetch_add(1, Ordering::SeqCst);
            shard.clear();
        }
        for unknown in &self.unknown {
            unknown.write().unwrap_or_else(|e| e.into_inner()).clear();
        }
    }

    /// Unknown keys remembered (the negative cache).
    pub fn cached_unknown(&self) -> usize {
        self.unknown
            .iter()
            .map(|s| s.read().unwrap_or_else(|e| e.into_inner()).len())
            .sum()
    }

    pub fn cached_entries(&self) -> usize {
        self.shards
            .iter()
            .map(|s| s.read().unwrap_or_else(|e| e.into_inner()).len())
            .sum()
    }
}
