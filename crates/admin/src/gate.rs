//! The Amazon Sales Channel gate: every open asks the account service whether
//! the stored Production key is valid. The page, the JSON route and
//! `commerce channel:amazon:verify` all call [`Gate::check`].
//!
//! A check never touches the stored key, and "could not ask" (`unreachable`)
//! is never reported as `invalid`.

use std::time::Duration;

use keys::{ApiKey, Environment};
use serde::Deserialize;

use crate::config::{ConfigStore, ScopeRef, GATEWAY_URL, PRODUCTION_API_KEY};

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum KeyStatus {
    Valid,
    Missing,
    Invalid,
    Expired,
    Revoked,
    Unreachable,
}

impl KeyStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            KeyStatus::Valid => "valid",
            KeyStatus::Missing => "missing",
            KeyStatus::Invalid => "invalid",
            KeyStatus::Expired => "expired",
            KeyStatus::Revoked => "revoked",
            KeyStatus::Unreachable => "unreachable",
        }
    }
}

/// Why a key is `invalid` or `unreachable`, when we can say more.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Reason {
    /// A Sandbox key was pasted into *Production Api key*.
    SandboxKey,
    /// Not in the key format at all (mistyped, truncated, or not a key).
    Malformed,
    /// The account service answered, but not as expected.
    BadAnswer,
    /// The account service could not be reached or timed out.
    Down,
}

impl Reason {
    pub fn as_str(self) -> &'static str {
        match self {
            Reason::SandboxKey => "sandbox_key",
            Reason::Malformed => "malformed",
            Reason::BadAnswer => "bad_answer",
            Reason::Down => "down",
        }
    }
}

#[derive(Clone, Debug)]
pub struct Check {
    pub status: KeyStatus,
    pub reason: Option<Reason>,
    pub expires_at: Option<i64>,
    /// The hint of the stored key (prefix and last 4), when one is stored.
    pub hint: Option<String>,
}

impl Check {
    fn new(status: KeyStatus) -> Self {
        Check {
            status,
            reason: None,
            expires_at: None,
            hint: None,
        }
    }
}

/// Connect and total timeouts: a slow or hung account service never blocks
/// the Admin for longer than this.
pub const CONNECT_TIMEOUT: Duration = Duration::from_secs(2);
pub const TOTAL_TIMEOUT: Duration = Duration::from_secs(3);

#[derive(Clone)]
pub struct Gate {
    http: reqwest::Client,
    /// `--account-url`, which wins over the configured gateway URL.
    account_url: Option<String>,
}

#[derive(Deserialize)]
struct VerifyAnswer {
    status: String,
    expires_at: Option<String>,
}

impl Gate {
    pub fn new(account_url: Option<String>) -> Self {
        let http = reqwest::Client::builder()
            .connect_timeout(CONNECT_TIMEOUT)
            .timeout(TOTAL_TIMEOUT)
            .pool_idle_timeout(Duration::from_secs(30))
            .user_agent(concat!("commerce-admin/", env!("CARGO_PKG_VERSION")))
            .build()
            .unwrap_or_default();
        Gate {
            http,
            account_url: account_url.map(|u| u.trim_end_matches('/').to_owned()),
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

    /// Checks the stored Production key with the account service.
    pub async fn check(&self, config: &ConfigStore<'_>) -> Check {
        let stored = match config.get(PRODUCTION_API_KEY, ScopeRef::DEFAULT).await {
            Ok(v) => v,
            Err(e) => {
                tracing::error!(error = %e, "cannot read the stored API key");
                return Check {
                    reason: Some(Reason::BadAnswer),
                    ..Check::new(KeyStatus::Unreachable)
                };
            }
        };
        let Some(stored) = stored.filter(|s| !s.trim().is_empty()) else {
            return Check::new(KeyStatus::Missing);
        };
        // A malformed key is rejected here, as the service would, without a round trip.
        let key = match ApiKey::parse(&stored) {
            Ok(k) => k,
            Err(_) => {
                return Check {
                    reason: Some(Reason::Malformed),
                    ..Check::new(KeyStatus::Invalid)
                }
            }
        };
        let hint = Some(key.hint());
        if key.environment() == Environment::Sandbox {
            return Check {
                reason: Some(Reason::SandboxKey),
                hint,
                ..Check::new(KeyStatus::Invalid)
            };
        }
        let base = self.base_url(config).await;
        let mut check = self.ask(&base, &key).await;
        check.hint = hint;
        check
    }

    async fn ask(&self, base: &str, key: &ApiKey) -> Check {
        let unreachable = |reason| Check {
            reason: Some(reason),
            ..Check::new(KeyStatus::Unreachable)
        };
        let res = match self
            .http
            .post(format!("{base}/api/v1/keys/verify"))
            .header("x-api-key", key.expose())
            .send()
            .await
        {
            Ok(r) => r,
            Err(e) => {
                // reqwest errors carry the URL, never the header holding the key.
                tracing::warn!(error = %e, "the account service could not be asked");
                return unreachable(Reason::Down);
            }
        };
        if !res.status().is_success() {
            tracing::warn!(status = %res.status(), "the account service answered with an error");
            return unreachable(if res.status().is_server_error() {
                Reason::Down
            } else {
                Reason::BadAnswer
            });
        }
        let answer: VerifyAnswer = match res.json().await {
            Ok(a) => a,
            Err(e) => {
                tracing::warn!(error = %e, "the account service's answer was not understood");
                return unreachable(Reason::BadAnswer);
            }
        };
        let status = match answer.status.as_str() {
            "valid" => KeyStatus::Valid,
            "expired" => KeyStatus::Expired,
            "revoked" => KeyStatus::Revoked,
            "invalid" => KeyStatus::Invalid,
            _ => return unreachable(Reason::BadAnswer),
        };
        Check {
            expires_at: answer
                .expires_at
                .as_deref()
                .and_then(web::clock::parse_rfc3339),
            ..Check::new(status)
        }
    }
}
