//! How the account service runs: its settings.

use std::time::Duration;

use crate::{link_key, smtp};

/// The verification cache's default size in keys (`--verify-cache-keys`).
pub const DEFAULT_CACHE_KEYS: u64 = 200_000;

/// How the service runs.
#[derive(Clone, Debug)]
pub struct Config {
    /// Mark cookies `Secure` (when served over HTTPS).
    pub secure_cookies: bool,
    /// How often batched last-use times are written.
    pub last_used_flush: Duration,
    /// Most keys the verification cache holds.
    pub cache_capacity: usize,
    /// Where the outbox's messages are sent; `None` keeps them in the outbox.
    pub smtp: Option<smtp::SmtpConfig>,
    /// How often the outbox worker runs; `None` runs it only when asked
    /// (`outbox::run_once`).
    pub outbox_every: Option<Duration>,
    /// The public keys whose signatures secret-scanning reports must carry
    /// (GitHub's); empty turns the endpoint off.
    pub secret_scanning_keys: Vec<p256::ecdsa::VerifyingKey>,
    /// Signs invitation links; nodes sharing a database share it.
    pub link_key: link_key::LinkKey,
    /// The site's address for links in messages (`https://accounts.example`);
    /// `None` uses the address the inviting request came to.
    pub public_url: Option<String>,
    /// Invitations one company may send in an hour (mail cannot be abused).
    pub invitations_per_hour: i64,
    /// Sign-ups one client IP may make in an hour.
    pub signups_per_ip_hour: u32,
    /// `--redis-url`: sign-in, sign-up and failed-verification throttles
    /// shared by every node; `None` counts in this process.
    pub redis: Option<std::sync::Arc<web::ratelimit::SharedCounters>>,
    /// Connect to Amazon: `None` when the service operator has not set it up
    /// (the routes that need it answer 503 `amazon_not_configured`).
    pub amazon: Option<crate::amazon::AmazonConfig>,
    /// Encrypts Amazon refresh tokens at rest (`--token-key-file`).
    pub token_crypto: std::sync::Arc<web::crypto::Crypto>,
    /// `--trusted-proxy`: the proxies whose `X-Forwarded-For` names the client.
    pub trusted_proxies: web::proxies::TrustedProxies,
    /// `--service`: the services keys may be limited to.
    pub services: crate::key_policy::ServiceCatalog,
}

impl Default for Config {
    fn default() -> Self {
        Config {
            secure_cookies: false,
            last_used_flush: Duration::from_secs(60),
            cache_capacity: DEFAULT_CACHE_KEYS as usize,
            smtp: None,
            outbox_every: Some(Duration::from_secs(60)),
            secret_scanning_keys: Vec::new(),
            link_key: link_key::LinkKey::random(),
            public_url: None,
            invitations_per_hour: 30,
            signups_per_ip_hour: 20,
            redis: None,
            amazon: None,
            token_crypto: std::sync::Arc::new(web::crypto::Crypto::ephemeral()),
            trusted_proxies: web::proxies::TrustedProxies::default(),
            services: crate::key_policy::ServiceCatalog::default(),
        }
    }
}
