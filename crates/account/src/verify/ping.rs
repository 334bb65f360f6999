//! Signed pings (Services Connector 1.3.x): an RS256 token checked with the
//! key's registered public key; a (key, token) pair is verified once.

use std::sync::Arc;

use super::{Caller, Lookup, Status, Verifier};

const VERIFIED_TOKENS_CAPACITY: usize = 50_000;

/// The outcome of a signed ping (Services Connector 1.3.x).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum PingOutcome {
    Ok {
        expires_at: Option<i64>,
    },
    /// The key itself is not valid: 401.
    Key(Status),
    /// The signature is missing, malformed, expired or from another key: 403.
    Signature(SignatureRefusal),
}

/// Why a signed ping's signature is not acceptable.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SignatureRefusal {
    /// No `x-gw-signature` was sent.
    Missing,
    /// The key has no signing public key registered.
    NoPublicKey,
    Expired,
    /// Its `exp` is further ahead than [`PING_MAX_AHEAD`].
    TooFarAhead,
    /// Its `nbf` is ahead.
    NotYetValid,
    /// It names critical header extensions.
    Critical,
    /// Not RS256.
    Algorithm,
    /// It does not verify with the key's public key.
    Signature,
    /// Not a well-formed JWT.
    Malformed,
}

impl From<keys::jwt::JwtError> for SignatureRefusal {
    fn from(e: keys::jwt::JwtError) -> Self {
        use keys::jwt::JwtError as J;
        match e {
            J::Expired => SignatureRefusal::Expired,
            J::TooFarAhead => SignatureRefusal::TooFarAhead,
            J::NotYetValid => SignatureRefusal::NotYetValid,
            J::Critical => SignatureRefusal::Critical,
            J::Algorithm => SignatureRefusal::Algorithm,
            J::Signature => SignatureRefusal::Signature,
            J::Malformed | J::BadKey | J::KeyTooSmall => SignatureRefusal::Malformed,
        }
    }
}

/// How far ahead a signed ping's `exp` may be.
pub const PING_MAX_AHEAD: i64 = 600;

impl Verifier {
    /// A signed ping answered from memory, without waiting: a valid key in
    /// the cache with a (key, token) pair verified before and not expired
    /// (most pings). `None` for anything else: [`Verifier::verify_signed`]
    /// answers it.
    pub fn signed_from_memory(
        &self,
        presented: &str,
        token: Option<&str>,
        now: i64,
        caller: Caller,
    ) -> Option<(PingOutcome, Arc<str>)> {
        let Lookup::Answered(verdict) = self.lookup(presented, now, caller) else {
            return None;
        };
        if verdict.status != Status::Valid {
            return None;
        }
        let token = sent_token(token)?;
        let public = verdict.public_key.as_ref()?;
        let exp = self.remembered(&token_pair(&public.pem_hash, presented, token))?;
        if exp <= now {
            return None;
        }
        self.metrics.verified(verdict.status);
        let outcome = PingOutcome::Ok {
            expires_at: verdict.expires_at,
        };
        Some((outcome, verdict.key_id?))
    }

    /// A signed ping: the key must be valid, and the token an RS256 JWT that
    /// verifies with the key's public key. A (key, token) pair is verified
    /// once. With the outcome, the stored key's id (`None`: unknown key).
    pub async fn verify_signed(
        &self,
        presented: &str,
        token: Option<&str>,
        caller: Caller,
    ) -> Result<(PingOutcome, Option<Arc<str>>), sqlx::Error> {
        let verdict = self.verify(presented, caller).await?;
        let key_id = verdict.key_id.clone();
        Ok((self.check_signature(verdict, presented, token), key_id))
    }

    /// The signed ping's outcome for a key's verdict.
    fn check_signature(
        &self,
        verdict: super::Verdict,
        presented: &str,
        token: Option<&str>,
    ) -> PingOutcome {
        if verdict.status != Status::Valid {
            return PingOutcome::Key(verdict.status);
        }
        let Some(token) = sent_token(token) else {
            return PingOutcome::Signature(SignatureRefusal::Missing);
        };
        let Some(public) = verdict.public_key else {
            return PingOutcome::Signature(SignatureRefusal::NoPublicKey);
        };
        let now = self.clock.now();
        let pair = token_pair(&public.pem_hash, presented, token);
        let known_exp = self.remembered(&pair);
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
                PingOutcome::Ok {
                    expires_at: verdict.expires_at,
                }
            }
            Err(e) => PingOutcome::Signature(e.into()),
        }
    }
}

impl Verifier {
    /// The `exp` of a (key, token) pair verified before.
    fn remembered(&self, pair: &keys::KeyHash) -> Option<i64> {
        self.verified_tokens
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .get(pair)
            .copied()
    }
}

/// The signature header's token, when one was sent.
fn sent_token(token: Option<&str>) -> Option<&str> {
    token.map(str::trim).filter(|t| !t.is_empty())
}

/// What a verified (key, token) pair is remembered by: the key's public key,
/// the key and the token, hashed together.
fn token_pair(pem_hash: &keys::KeyHash, presented: &str, token: &str) -> keys::KeyHash {
    keys::hash_parts(&[&pem_hash.0, presented.as_bytes(), token.as_bytes()])
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
