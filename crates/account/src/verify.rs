//! Key verification: the hot path every store calls.
//!
//! A request costs a checksum, a SHA-256, and a read-locked lookup in an
//! in-process cache. Nothing is written per request: last-use times are kept
//! in memory and flushed in batches. Revocation invalidates the cache entry.

use std::collections::HashMap;
use std::hash::{BuildHasher, Hasher};
use std::sync::atomic::{AtomicI64, Ordering};
use std::sync::{Arc, Mutex, RwLock};

use keys::jwt::PublicKey;
use keys::{ApiKey, Environment, KeyHash};
use web::db::Db;
use web::Clock;

use crate::store;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Status {
    Valid,
    Invalid,
    Expired,
    Revoked,
}

impl Status {
    pub fn as_str(self) -> &'static str {
        match self {
            Status::Valid => "valid",
            Status::Invalid => "invalid",
            Status::Expired => "expired",
            Status::Revoked => "revoked",
        }
    }
}

/// The status of a key at `now`: revocation wins over expiry.
pub fn status_at(state: store::KeyState, now: i64) -> Status {
    if state.revoked_at.is_some_and(|r| r <= now) {
        Status::Revoked
    } else if state.expires_at.is_some_and(|e| e <= now) {
        Status::Expired
    } else {
        Status::Valid
    }
}

#[derive(Clone, Debug)]
pub struct Verdict {
    pub status: Status,
    pub environment: Option<Environment>,
    pub expires_at: Option<i64>,
    /// The key's signing public key, for signed pings.
    pub public_key: Option<Arc<SigningKey>>,
}

/// A registered public key and a hash of its PEM (which names this very key
/// in the cache of verified tokens, so replacing the key forgets them).
#[derive(Debug)]
pub struct SigningKey {
    pub key: PublicKey,
    pub pem_hash: KeyHash,
}

impl Verdict {
    fn invalid() -> Self {
        Verdict {
            status: Status::Invalid,
            environment: None,
            expires_at: None,
            public_key: None,
        }
    }
}

/// The outcome of a signed ping (Services Connector 1.3.x).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum PingOutcome {
    Ok {
        expires_at: Option<i64>,
    },
    /// The key itself is not valid: 401.
    Key(Status),
    /// The signature is missing, malformed, expired or from another key: 403.
    Signature(&'static str),
}

/// How far ahead a signed ping's `exp` may be.
pub const PING_MAX_AHEAD: i64 = 600;

struct Known {
    id: Arc<str>,
    state: store::KeyState,
    public_key: Option<Arc<SigningKey>>,
    last_used: AtomicI64,
    /// Reloaded after this time: a backstop should an invalidation be lost.
    fresh_until: i64,
}

const SHARDS: usize = 32;
/// How long a well-formed unknown key is remembered as unknown.
const NEGATIVE_TTL: i64 = 30;
/// How long a known key is trusted without asking storage again. Revocation
/// does not wait for this: it invalidates at once (and on PostgreSQL, on every node).
const POSITIVE_TTL: i64 = 300;

/// The key hash is already uniformly random: its first bytes are the hash.
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
type UnknownShard = RwLock<HashMap<KeyHash, i64, PrefixHasher>>;

pub struct Verifier {
    db: Db,
    clock: Arc<dyn Clock>,
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
    verified_tokens: Mutex<HashMap<KeyHash, i64, PrefixHasher>>,
}

const VERIFIED_TOKENS_CAPACITY: usize = 50_000;

impl Verifier {
    /// `capacity` bounds the cache of stored keys; unknown keys have a
    /// cache of their own, a quarter of that size.
    pub fn new(db: Db, clock: Arc<dyn Clock>, capacity: usize) -> Self {
        Verifier {
            db,
            clock,
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
        }
    }

    fn shard_of(hash: &KeyHash) -> usize {
        usize::from(hash.0[31]) % SHARDS
    }

    /// Verifies a presented key. Errors only when storage cannot be asked.
    pub async fn verify(&self, presented: &str) -> Result<Verdict, sqlx::Error> {
        // A malformed key or bad checksum never reaches the cache or storage.
        let Ok((environment, hash)) = ApiKey::check(presented) else {
            return Ok(Verdict::invalid());
        };
        let now = self.clock.now();
        let shard = Self::shard_of(&hash);
        let cached = self.shards[shard]
            .read()
            .unwrap_or_else(|e| e.into_inner())
            .get(&hash)
            .cloned();
        let entry = match cached {
            Some(k) if k.fresh_until > now => k,
            _ => {
                let unknown_until = self.unknown[shard]
                    .read()
                    .unwrap_or_else(|e| e.into_inner())
                    .get(&hash)
                    .copied();
                if unknown_until.is_some_and(|until| until > now) {
                    return Ok(Verdict::invalid());
                }
                match self.load(hash, now).await? {
                    Some(k) => k,
                    None => return Ok(Verdict::invalid()),
                }
            }
        };
        let status = status_at(entry.state, now);
        if status == Status::Valid && entry.last_used.swap(now, Ordering::Relaxed) != now {
            self.dirty[shard]
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .insert(entry.id.clone(), now);
        }
        Ok(Verdict {
            status,
            environment: Some(environment),
            expires_at: entry.state.expires_at,
            public_key: entry.public_key.clone(),
        })
    }

    /// A signed ping: the key must be valid, and the token an RS256 JWT that
    /// verifies with the key's public key. A (key, token) pair is verified once.
    pub async fn verify_signed(
        &self,
        presented: &str,
        token: Option<&str>,
    ) -> Result<PingOutcome, sqlx::Error> {
        let verdict = self.verify(presented).await?;
        if verdict.status != Status::Valid {
            return Ok(PingOutcome::Key(verdict.status));
        }
        let Some(token) = token.map(str::trim).filter(|t| !t.is_empty()) else {
            return Ok(PingOutcome::Signature("missing"));
        };
        let Some(public) = verdict.public_key else {
            return Ok(PingOutcome::Signature("no_public_key"));
        };
        let now = self.clock.now();
        let pair = keys::hash_str(&format!(
            "{}\n{presented}\n{token}",
            public.pem_hash.to_hex()
        ));
        let known_exp = self
            .verified_tokens
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .get(&pair)
            .copied();
        let ok = match known_exp {
            Some(exp) if exp > now => Ok(()),
            Some(_) => Err(keys::jwt::JwtError::Expired),
            None => public.key.verify(token, now, PING_MAX_AHEAD),
        };
        match ok {
            Ok(()) => {
                if known_exp.is_none() {
                    let mut cache = self
                        .verified_tokens
                        .lock()
                        .unwrap_or_else(|e| e.into_inner());
                    if cache.len() >= VERIFIED_TOKENS_CAPACITY {
                        cache.retain(|_, exp| *exp > now);
                        if cache.len() >= VERIFIED_TOKENS_CAPACITY {
                            cache.clear();
                        }
                    }
                    cache.insert(pair, token_exp(token).unwrap_or(now));
                }
                Ok(PingOutcome::Ok {
                    expires_at: verdict.expires_at,
                })
            }
            Err(e) => Ok(PingOutcome::Signature(match e {
                keys::jwt::JwtError::Expired => "expired",
                keys::jwt::JwtError::TooFarAhead => "too_far_ahead",
                keys::jwt::JwtError::NotYetValid => "not_yet_valid",
                keys::jwt::JwtError::Critical => "critical",
                keys::jwt::JwtError::Algorithm => "algorithm",
                keys::jwt::JwtError::Signature => "signature",
                _ => "malformed",
            })),
        }
    }

    async fn load(&self, hash: KeyHash, now: i64) -> Result<Option<Arc<Known>>, sqlx::Error> {
        let shard_index = Self::shard_of(&hash);
        let epoch = self.epochs[shard_index].load(Ordering::SeqCst);
        let found = store::key_state(&self.db, &hash.to_hex()).await?;
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

    /// Forgets a key so the next verification reads storage (after revocation).
    pub fn invalidate(&self, hash: &KeyHash) {
        let i = Self::shard_of(hash);
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

    /// Writes the batched last-use times. Called periodically and at shutdown.
    pub async fn flush_last_used(&self) -> Result<usize, sqlx::Error> {
        let mut batch: Vec<(String, i64)> = Vec::new();
        for d in &self.dirty {
            let taken = std::mem::take(&mut *d.lock().unwrap_or_else(|e| e.into_inner()));
            batch.extend(taken.into_iter().map(|(id, at)| (id.to_string(), at)));
        }
        if let Err(e) = store::record_last_used(&self.db, &batch).await {
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
        Ok(batch.len())
    }
}

/// The `exp` claim of a token already verified.
fn token_exp(token: &str) -> Option<i64> {
    use base64::Engine;
    let payload = token.split('.').nth(1)?;
    let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(payload)
        .ok()?;
    serde_json::from_slice::<serde_json::Value>(&bytes)
        .ok()?
        .get("exp")?
        .as_i64()
}

/// Keeps every node's cache honest on PostgreSQL: a trigger announces each
/// change of a key's revocation or expiry, and this task drops that key from
/// the cache. After a lost connection (notifications may have been missed)
/// the whole cache is dropped, then listening resumes.
pub async fn listen_for_changes(verifier: Arc<Verifier>, url: String) {
    use sqlx::postgres::PgListener;
    loop {
        let mut listener = match PgListener::connect(&url).await {
            Ok(l) => l,
            Err(e) => {
                tracing::warn!(error = %e, "cannot listen for key changes; retrying");
                verifier.invalidate_all();
                tokio::time::sleep(std::time::Duration::from_secs(1)).await;
                continue;
            }
        };
        if let Err(e) = listener.listen("commerce_key_changes").await {
            tracing::warn!(error = %e, "cannot listen for key changes; retrying");
            tokio::time::sleep(std::time::Duration::from_secs(1)).await;
            continue;
        }
        // Anything cached before listening began may have missed a change.
        verifier.invalidate_all();
        loop {
            match listener.try_recv().await {
                Ok(Some(n)) => {
                    if let Some(hash) = KeyHash::from_hex(n.payload()) {
                        verifier.invalidate(&hash);
                    }
                }
                Ok(None) | Err(_) => {
                    tracing::warn!("lost the key-change feed; dropping the cache and reconnecting");
                    verifier.invalidate_all();
                    break;
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use store::KeyState;

    #[test]
    fn revocation_wins_over_expiry() {
        let s = KeyState {
            expires_at: Some(10),
            revoked_at: Some(5),
        };
        assert_eq!(status_at(s, 4), Status::Valid);
        assert_eq!(status_at(s, 5), Status::Revoked);
        assert_eq!(status_at(s, 20), Status::Revoked);
        let e = KeyState {
            expires_at: Some(10),
            revoked_at: None,
        };
        assert_eq!(status_at(e, 9), Status::Valid);
        assert_eq!(status_at(e, 10), Status::Expired);
    }
}
