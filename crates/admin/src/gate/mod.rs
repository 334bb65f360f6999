//! The Amazon Sales Channel gate: every open asks the account service whether
//! the stored Production key is valid. The page, the JSON route and
//! `commerce channel:amazon:verify` all call [`Gate::check`].
//!
//! A check never touches the stored key, and "could not ask" (`unreachable`)
//! is never reported as `invalid`. Every check is recorded (when, status,
//! reason: [`history`]); a failed write never fails the check.

pub mod history;
pub mod reason;

use std::sync::Arc;
use std::time::Duration;

use axum::http::HeaderValue;
use serde::Deserialize;

use crate::account_api::{AccountApi, Credentials, CredentialsError, TOTAL_TIMEOUT};
use crate::config::ConfigStore;
pub use reason::{KeyPolicy, Reason};

/// The service the gate asks the key for (`X-Service`, SPEC §10): a key its
/// company limited to other services may not open the channel.
pub const SERVICE: &str = "amazon_sales_channel";
const X_SERVICE: &str = "x-service";

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
    pub const ALL: [KeyStatus; 6] = [
        KeyStatus::Valid,
        KeyStatus::Missing,
        KeyStatus::Invalid,
        KeyStatus::Expired,
        KeyStatus::Revoked,
        KeyStatus::Unreachable,
    ];

    /// The status named by `s` (its [`KeyStatus::as_str`]), if any.
    pub fn parse(s: &str) -> Option<KeyStatus> {
        KeyStatus::ALL.into_iter().find(|k| k.as_str() == s)
    }

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

#[derive(Clone, Debug)]
pub struct Check {
    pub status: KeyStatus,
    pub reason: Option<Reason>,
    pub expires_at: Option<i64>,
    /// The hint of the stored key (prefix and last 4), when one is stored.
    pub hint: Option<String>,
    /// When the gate asked (the app's clock, Unix seconds).
    pub at: i64,
    /// Whether the check was recorded in the Admin's database.
    pub recorded: bool,
}

impl Check {
    fn new(status: KeyStatus) -> Self {
        Check {
            status,
            reason: None,
            expires_at: None,
            hint: None,
            at: 0,
            recorded: false,
        }
    }
}

#[derive(Clone)]
pub struct Gate {
    /// The authenticated connection to the account service, shared with the
    /// Amazon stores client.
    api: AccountApi,
    /// When each check was made.
    clock: Arc<dyn web::Clock>,
}

#[derive(Deserialize)]
struct VerifyAnswer {
    status: String,
    expires_at: Option<String>,
    /// The key was made with a key pair: its calls must carry `x-gw-signature`.
    #[serde(default)]
    signature_required: bool,
}

impl Gate {
    pub fn new(account_url: Option<String>, clock: Arc<dyn web::Clock>) -> Self {
        Gate {
            api: AccountApi::new(account_url, clock.clone()),
            clock,
        }
    }

    /// The connection the gate asks through.
    pub fn api(&self) -> &AccountApi {
        &self.api
    }

    /// The account service's base URL: the flag, else the configured gateway URL.
    pub async fn base_url(&self, config: &ConfigStore<'_>) -> String {
        self.api.base_url(config).await
    }

    /// Checks the stored Production key with the account service; the call
    /// carries `request_id` (the Admin request's own) as `x-request-id`. The
    /// check is recorded in `config`'s database ([`history`]).
    pub async fn check(&self, config: &ConfigStore<'_>, request_id: Option<&HeaderValue>) -> Check {
        let at = self.clock.now();
        let mut check = self.check_uncounted(config, request_id).await;
        check.at = at;
        check.recorded = history::record(config.db, &check).await;
        metrics::counter!(
            "commerce_admin_gate_checks_total",
            "status" => check.status.as_str(),
            "reason" => check.reason.map_or("none", Reason::as_str),
        )
        .increment(1);
        check
    }

    async fn check_uncounted(
        &self,
        config: &ConfigStore<'_>,
        request_id: Option<&HeaderValue>,
    ) -> Check {
        let creds = match self.api.credentials(config).await {
            Ok(c) => c,
            Err(e) => return refused(e),
        };
        let hint = Some(creds.hint());
        let asked = async {
            if creds.signed() {
                self.ping(&creds, request_id).await
            } else {
                self.ask(&creds, request_id).await
            }
        };
        // A bound of our own around the whole exchange (connect, answer, body), so
        // no client setting can let a hung account service block the Admin.
        let mut check =
            match tokio::time::timeout(TOTAL_TIMEOUT + Duration::from_millis(250), asked).await {
                Ok(c) => c,
                Err(_) => {
                    tracing::warn!("the account service did not answer in time");
                    Check {
                        reason: Some(Reason::Down),
                        ..Check::new(KeyStatus::Unreachable)
                    }
                }
            };
        check.hint = hint;
        check
    }

    /// Services Connector 1.3.x: a signed ping. Only 200 means valid; the
    /// error code of a 401 says which case it is.
    async fn ping(&self, creds: &Credentials, request_id: Option<&HeaderValue>) -> Check {
        let req = self
            .api
            .request(
                reqwest::Method::GET,
                creds,
                "/merchant-registry/v1/ping",
                request_id,
            )
            .header("magento-api-key", self.api.expose_key(creds))
            .header(X_SERVICE, SERVICE);
        let res = req.send().await;
        let res = match res {
            Ok(r) => r,
            Err(e) => {
                tracing::warn!(error = %e, "the account service could not be asked");
                return Check {
                    reason: Some(Reason::Down),
                    ..Check::new(KeyStatus::Unreachable)
                };
            }
        };
        let code = res.status();
        if code.is_redirection() {
            return redirected(code);
        }
        let body: serde_json::Value = match read_json(res).await {
            Ok(v) => v,
            Err(e) if code.as_u16() == 200 => {
                tracing::warn!(error = %e, "the account service's answer was not understood");
                return Check {
                    reason: Some(Reason::BadAnswer),
                    ..Check::new(KeyStatus::Unreachable)
                };
            }
            Err(_) => serde_json::Value::Null,
        };
        match code.as_u16() {
            200 => Check {
                expires_at: body["expires_at"]
                    .as_str()
                    .and_then(web::clock::parse_rfc3339),
                ..Check::new(KeyStatus::Valid)
            },
            401 => match body["error"]["code"].as_str() {
                Some("expired") => Check::new(KeyStatus::Expired),
                Some("revoked") => Check::new(KeyStatus::Revoked),
                code => match code.and_then(KeyPolicy::of_status) {
                    Some(policy) => refused_by(policy),
                    None => Check::new(KeyStatus::Invalid),
                },
            },
            403 => Check {
                reason: Some(Reason::Signature),
                ..Check::new(KeyStatus::Invalid)
            },
            _ => {
                tracing::warn!(status = %code, "the account service answered the ping with an error");
                Check {
                    reason: Some(if code.is_server_error() {
                        Reason::Down
                    } else {
                        Reason::BadAnswer
                    }),
                    ..Check::new(KeyStatus::Unreachable)
                }
            }
        }
    }

    async fn ask(&self, creds: &Credentials, request_id: Option<&HeaderValue>) -> Check {
        let unreachable = |reason| Check {
            reason: Some(reason),
            ..Check::new(KeyStatus::Unreachable)
        };
        let req = self
            .api
            .request(
                reqwest::Method::POST,
                creds,
                "/api/v1/keys/verify",
                request_id,
            )
            .header(X_SERVICE, SERVICE);
        let res = match req.send().await {
            Ok(r) => r,
            Err(e) => {
                // reqwest errors carry the URL, never the header holding the key.
                tracing::warn!(error = %e, "the account service could not be asked");
                return unreachable(Reason::Down);
            }
        };
        if res.status().is_redirection() {
            return redirected(res.status());
        }
        if !res.status().is_success() {
            tracing::warn!(status = %res.status(), "the account service answered with an error");
            return unreachable(if res.status().is_server_error() {
                Reason::Down
            } else {
                Reason::BadAnswer
            });
        }
        let answer: VerifyAnswer = match read_json(res).await {
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
            other => match KeyPolicy::of_status(other) {
                Some(policy) => return refused_by(policy),
                None => return unreachable(Reason::BadAnswer),
            },
        };
        // Asked unsigned: no Production Private key is stored. A key that
        // expects signed calls would be refused by every store call, so it is
        // not valid here (as Services Connector 1.3.x judges it).
        if status == KeyStatus::Valid && answer.signature_required {
            return Check {
                reason: Some(Reason::PrivateKeyMissing),
                ..Check::new(KeyStatus::Invalid)
            };
        }
        Check {
            expires_at: answer
                .expires_at
                .as_deref()
                .and_then(web::clock::parse_rfc3339),
            ..Check::new(status)
        }
    }
}

/// The check when no request can be made with the stored configuration.
fn refused(e: CredentialsError) -> Check {
    match e {
        CredentialsError::Storage(e) => {
            tracing::error!(error = %e, "cannot read the stored API key");
            Check {
                reason: Some(Reason::BadAnswer),
                ..Check::new(KeyStatus::Unreachable)
            }
        }
        CredentialsError::Missing => Check::new(KeyStatus::Missing),
        // A malformed key is rejected here, as the service would, without a round trip.
        CredentialsError::Malformed => Check {
            reason: Some(Reason::Malformed),
            ..Check::new(KeyStatus::Invalid)
        },
        CredentialsError::SandboxKey { hint } => Check {
            reason: Some(Reason::SandboxKey),
            hint: Some(hint),
            ..Check::new(KeyStatus::Invalid)
        },
        CredentialsError::GatewayUrl { hint, error } => {
            tracing::warn!(%error, "the account service's URL is refused");
            Check {
                reason: Some(Reason::GatewayUrl),
                hint: Some(hint),
                ..Check::new(KeyStatus::Unreachable)
            }
        }
        CredentialsError::PrivateKey { hint } => Check {
            reason: Some(Reason::PrivateKey),
            hint: Some(hint),
            ..Check::new(KeyStatus::Invalid)
        },
    }
}

/// A key its company's policy keeps from the channel: `invalid`, and why.
fn refused_by(policy: KeyPolicy) -> Check {
    Check {
        reason: Some(policy.reason()),
        ..Check::new(KeyStatus::Invalid)
    }
}

/// A redirect is not followed (the key would go along): a bad answer.
fn redirected(code: reqwest::StatusCode) -> Check {
    tracing::warn!(status = %code, "the account service answered with a redirect; not followed");
    Check {
        reason: Some(Reason::BadAnswer),
        ..Check::new(KeyStatus::Unreachable)
    }
}

/// An answer body as JSON, read up to [`crate::outbound::MAX_ANSWER`] bytes.
async fn read_json<T: serde::de::DeserializeOwned>(res: reqwest::Response) -> anyhow::Result<T> {
    let body = crate::outbound::read_limited(res, crate::outbound::MAX_ANSWER).await?;
    Ok(serde_json::from_slice(&body)?)
}

/// A valid key expiring within this many seconds is named on the page and in the JSON status.
pub const EXPIRY_WARNING_SECS: i64 = 14 * 86400;

pub fn expiring_soon(check: &Check, now: i64) -> bool {
    check.status == KeyStatus::Valid
        && check
            .expires_at
            .is_some_and(|e| e - now <= EXPIRY_WARNING_SECS)
}
