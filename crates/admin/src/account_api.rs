//! The Admin's authenticated connection to the account service: where it is
//! (`--account-url`, else the configured gateway URL), which credentials go
//! along (the stored Production key as `x-api-key`, and an RS256
//! `x-gw-signature` when a Production Private key is configured), and the
//! Admin request's id. The gate and the Amazon stores client both build
//! their requests here, so the two can never authenticate differently.

use std::fmt;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::http::HeaderValue;
use keys::jwt::PrivateKey;
use keys::{ApiKey, Environment, KeyHash};

use crate::config::{
    ConfigStore, ScopeRef, GATEWAY_URL, PRODUCTION_API_KEY, PRODUCTION_PRIVATE_KEY,
};

/// Connect and total timeouts: a slow or hung account service never blocks
/// the Admin for longer than this.
pub const CONNECT_TIMEOUT: Duration = Duration::from_secs(2);
pub const TOTAL_TIMEOUT: Duration = Duration::from_secs(3);

/// A signature is used again while it has at least this long to live, so a
/// page that asks twice signs once.
const SIGNATURE_REUSE_MARGIN_SECS: i64 = 60;

/// The last private key parsed (by a hash of its PEM) and its last signature.
struct CachedSigner {
    fingerprint: KeyHash,
    key: Arc<PrivateKey>,
    /// The last signed token and its `exp`.
    token: Option<(String, i64)>,
}

#[derive(Clone)]
pub struct AccountApi {
    http: reqwest::Client,
    /// `--account-url`, which wins over the configured gateway URL.
    account_url: Option<String>,
    signer: Arc<Mutex<Option<CachedSigner>>>,
    /// The app's clock, for the signature's claims.
    clock: Arc<dyn web::Clock>,
}

/// What a request to the account service is sent with. The key is never
/// shown by `Debug`.
pub struct Credentials {
    /// The account service's checked base URL, without a trailing slash.
    pub base: String,
    key: ApiKey,
    /// The private key's fingerprint and the key, when one is configured.
    signer: Option<(KeyHash, Arc<PrivateKey>)>,
}

impl fmt::Debug for Credentials {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Credentials")
            .field("base", &self.base)
            .field("key", &self.key.hint())
            .field("signed", &self.signer.is_some())
            .finish()
    }
}

impl Credentials {
    /// The stored key's hint (prefix and last 4).
    pub fn hint(&self) -> String {
        self.key.hint()
    }

    /// Whether requests carry an `x-gw-signature`.
    pub fn signed(&self) -> bool {
        self.signer.is_some()
    }
}

/// Why no request can be made with the stored configuration.
#[derive(Debug, thiserror::Error)]
pub enum CredentialsError {
    #[error("the stored configuration cannot be read: {0}")]
    Storage(#[from] sqlx::Error),
    #[error("no Production API key is stored")]
    Missing,
    #[error("the stored Production API key is not a key")]
    Malformed,
    #[error("the stored Production API key is a Sandbox key")]
    SandboxKey { hint: String },
    #[error("the account service's URL is refused: {error}")]
    GatewayUrl {
        hint: String,
        error: crate::outbound::UrlError,
    },
    #[error("the Production Private key cannot sign")]
    PrivateKey { hint: String },
}

impl AccountApi {
    pub fn new(account_url: Option<String>, clock: Arc<dyn web::Clock>) -> Self {
        AccountApi {
            http: crate::outbound::client(CONNECT_TIMEOUT, TOTAL_TIMEOUT),
            account_url: account_url.map(|u| u.trim_end_matches('/').to_owned()),
            signer: Arc::new(Mutex::new(None)),
            clock,
        }
    }

    /// The account service's base URL: the flag, else the configured gateway URL.
    pub async fn base_url(&self, config: &ConfigStore<'_>) -> String {
        if let Some(u) = &self.account_url {
            return u.clone();
        }
        config
            .get(GATEWAY_URL, ScopeRef::DEFAULT)
            .await
            .ok()
            .flatten()
            .unwrap_or_else(|| crate::config::DEFAULT_GATEWAY_URL.to_owned())
    }

    /// The credentials the stored configuration gives, or why there are none.
    /// A malformed or Sandbox key is refused here without a round trip; the
    /// base URL is checked again whatever was stored before, so a URL with
    /// userinfo, a query or another scheme is never sent the key.
    pub async fn credentials(
        &self,
        config: &ConfigStore<'_>,
    ) -> Result<Credentials, CredentialsError> {
        let stored = config.get(PRODUCTION_API_KEY, ScopeRef::DEFAULT).await?;
        let Some(stored) = stored.filter(|s| !s.trim().is_empty()) else {
            return Err(CredentialsError::Missing);
        };
        let key = ApiKey::parse(&stored).map_err(|_| CredentialsError::Malformed)?;
        let hint = key.hint();
        if key.environment() == Environment::Sandbox {
            return Err(CredentialsError::SandboxKey { hint });
        }
        let private = match config.get(PRODUCTION_PRIVATE_KEY, ScopeRef::DEFAULT).await {
            Ok(p) => p.filter(|p| !p.trim().is_empty()),
            Err(_) => None,
        };
        let base = match crate::outbound::check_base_url(&self.base_url(config).await) {
            Ok(b) => b,
            Err(error) => return Err(CredentialsError::GatewayUrl { hint, error }),
        };
        let signer = match private {
            None => None,
            Some(pem) => match self.parse_signer(&pem) {
                Some(s) => Some(s),
                None => return Err(CredentialsError::PrivateKey { hint }),
            },
        };
        Ok(Credentials { base, key, signer })
    }

    /// The parsed private key, kept while the configured PEM stays the same.
    fn parse_signer(&self, pem: &str) -> Option<(KeyHash, Arc<PrivateKey>)> {
        let fingerprint = keys::hash_str(pem);
        let mut cached = self.signer.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(c) = cached.as_ref() {
            if c.fingerprint == fingerprint {
                return Some((fingerprint, c.key.clone()));
            }
        }
        let key = Arc::new(PrivateKey::from_pem(pem).ok()?);
        *cached = Some(CachedSigner {
            fingerprint,
            key: key.clone(),
            token: None,
        });
        Some((fingerprint, key))
    }

    /// A Services Connector signature (`x-gw-signature`): the last one while
    /// it lives on, else a fresh one.
    fn signature(&self, fingerprint: &KeyHash, key: &PrivateKey) -> String {
        let now = self.clock.now();
        let mut cached = self.signer.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(c) = cached.as_mut().filter(|c| c.fingerprint == *fingerprint) {
            if let Some((token, exp)) = &c.token {
                if *exp - SIGNATURE_REUSE_MARGIN_SECS > now {
                    return token.clone();
                }
            }
            let claims = keys::jwt::connector_claims(now);
            let exp = claims["exp"].as_i64().unwrap_or(now);
            let token = key.sign(&claims);
            c.token = Some((token.clone(), exp));
            return token;
        }
        key.sign(&keys::jwt::connector_claims(now))
    }

    /// A request to `{base}{path}` carrying the key (`x-api-key`), the
    /// signature when a private key is configured, and the Admin request's
    /// id (`x-request-id`), so both apps' logs name the same request.
    pub fn request(
        &self,
        method: reqwest::Method,
        creds: &Credentials,
        path: &str,
        request_id: Option<&HeaderValue>,
    ) -> reqwest::RequestBuilder {
        let mut req = self
            .http
            .request(method, format!("{}{path}", creds.base))
            .header("x-api-key", creds.key.expose());
        if let Some((fingerprint, key)) = &creds.signer {
            req = req.header("x-gw-signature", self.signature(fingerprint, key));
        }
        match request_id {
            Some(id) => req.header(web::request_id::HEADER, id.clone()),
            None => req,
        }
    }

    /// The stored key, for the Services Connector's `magento-api-key` header.
    pub fn expose_key<'a>(&self, creds: &'a Credentials) -> &'a str {
        creds.key.expose()
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)] // a failed unwrap is a failed test

    use super::*;
    use web::Clock;

    /// A page that asks twice signs once; a signature near its end, or of
    /// another private key, is made afresh.
    #[test]
    fn signatures_are_reused_while_they_live() {
        let clock = web::ManualClock::new(1_800_000_000);
        let api = AccountApi::new(None, Arc::new(clock.clone()));
        let pem = PrivateKey::generate().unwrap().to_pem();
        let (fingerprint, key) = api.parse_signer(&pem).unwrap();
        let first = api.signature(&fingerprint, &key);
        clock.advance(200);
        assert_eq!(api.signature(&fingerprint, &key), first, "reused");
        clock.advance(50);
        let second = api.signature(&fingerprint, &key);
        assert_ne!(second, first, "within a minute of its end: a new one");
        let public = key.public_key();
        assert_eq!(public.verify(&second, clock.now(), 600), Ok(()));

        let other_pem = PrivateKey::generate().unwrap().to_pem();
        let (other_fp, other) = api.parse_signer(&other_pem).unwrap();
        let third = api.signature(&other_fp, &other);
        assert!(other.public_key().verify(&third, clock.now(), 600).is_ok());
        assert!(public.verify(&third, clock.now(), 600).is_err());
        assert!(api.parse_signer("not a pem").is_none());
    }
}
