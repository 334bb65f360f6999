//! The Login with Amazon token endpoint client: form-encoded `POST`s with
//! the client id and secret in the body (client_secret_post), short
//! timeouts, no redirects, a bounded answer. Codes, tokens and the secret
//! never reach a log line or an error message.

use std::time::Duration;

use web::Secret;

use super::config::AmazonConfig;
use super::Reason;

/// The largest answer read from the token endpoint.
const MAX_ANSWER: usize = 64 * 1024;
const CONNECT_TIMEOUT: Duration = Duration::from_secs(5);

/// What the token endpoint is asked.
pub enum Grant<'a> {
    /// The callback's `spapi_oauth_code`, with the redirect URI it was sent with.
    AuthorizationCode {
        code: &'a str,
        redirect_uri: &'a str,
    },
    /// A stored refresh token, proven by exchanging it.
    RefreshToken(&'a Secret),
}

/// Why an exchange did not give what was asked.
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
pub enum LwaError {
    /// The code or refresh token is not (or no longer) valid.
    #[error("the token endpoint refused the grant (invalid_grant)")]
    InvalidGrant,
    /// Our client id or secret is not accepted (an operator's problem).
    #[error("the token endpoint refused the client (invalid_client)")]
    InvalidClient,
    #[error("the token endpoint does not support the grant type")]
    UnsupportedGrantType,
    /// Down, slow, a 5xx, or an answer that is not the documented one.
    #[error("the token endpoint could not be reached or answered unexpectedly")]
    Unreachable,
    /// The client secret file cannot be read (logged where it happens).
    #[error("the LWA client secret file cannot be read")]
    SecretUnreadable,
}

impl LwaError {
    /// The reason a store shows for it.
    pub fn reason(self) -> Reason {
        match self {
            LwaError::InvalidGrant => Reason::InvalidGrant,
            LwaError::InvalidClient | LwaError::SecretUnreadable => Reason::InvalidClient,
            LwaError::UnsupportedGrantType => Reason::UnsupportedGrantType,
            LwaError::Unreachable => Reason::TokenEndpointUnreachable,
        }
    }
}

/// The client, built once per service.
#[derive(Clone, Debug)]
pub struct Lwa {
    http: reqwest::Client,
}

impl Lwa {
    pub fn new(cfg: &AmazonConfig) -> Lwa {
        let http = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .connect_timeout(CONNECT_TIMEOUT.min(cfg.token_timeout))
            .timeout(cfg.token_timeout)
            .build()
            .unwrap_or_default();
        Lwa { http }
    }

    /// Exchanges a grant; on success the refresh token (for a code: the new
    /// one; for a refresh: the one the endpoint names, if any).
    pub async fn exchange(
        &self,
        cfg: &AmazonConfig,
        grant: Grant<'_>,
    ) -> Result<Option<Secret>, LwaError> {
        let secret = cfg.client_secret.get().map_err(|e| {
            tracing::error!(error = %e, "cannot read the LWA client secret");
            LwaError::SecretUnreadable
        })?;
        let mut form: Vec<(&str, &str)> = Vec::with_capacity(5);
        match &grant {
            Grant::AuthorizationCode { code, redirect_uri } => {
                form.push(("grant_type", "authorization_code"));
                form.push(("code", code));
                form.push(("redirect_uri", redirect_uri));
            }
            Grant::RefreshToken(token) => {
                form.push(("grant_type", "refresh_token"));
                form.push(("refresh_token", token.expose()));
            }
        }
        form.push(("client_id", &cfg.client_id));
        form.push(("client_secret", secret.expose()));
        let res = self
            .http
            .post(&cfg.token_url)
            .header(reqwest::header::ACCEPT, "application/json")
            .form(&form)
            .send()
            .await
            .map_err(|e| {
                // reqwest's error names the URL, never the body.
                tracing::warn!(error = %e.without_url(), "the LWA token endpoint is unreachable");
                LwaError::Unreachable
            })?;
        let status = res.status();
        let body = read_bounded(res).await.ok_or(LwaError::Unreachable)?;
        let json: serde_json::Value =
            serde_json::from_slice(&body).map_err(|_| LwaError::Unreachable)?;
        if status.is_success() {
            if json.get("access_token").and_then(|v| v.as_str()).is_none() {
                return Err(LwaError::Unreachable);
            }
            let refresh = json
                .get("refresh_token")
                .and_then(|v| v.as_str())
                .filter(|t| !t.is_empty() && t.len() <= 4096)
                .map(Secret::new);
            if matches!(grant, Grant::AuthorizationCode { .. }) && refresh.is_none() {
                return Err(LwaError::Unreachable);
            }
            return Ok(refresh);
        }
        if status.is_server_error() {
            tracing::warn!(%status, "the LWA token endpoint failed");
            return Err(LwaError::Unreachable);
        }
        let code = json.get("error").and_then(|v| v.as_str()).unwrap_or("");
        tracing::info!(%status, error = code, "the LWA token endpoint refused an exchange");
        Err(match code {
            "invalid_client" | "unauthorized_client" => LwaError::InvalidClient,
            "unsupported_grant_type" => LwaError::UnsupportedGrantType,
            "invalid_grant" | "invalid_request" | "invalid_scope" => LwaError::InvalidGrant,
            _ if status == reqwest::StatusCode::UNAUTHORIZED => LwaError::InvalidClient,
            _ if status.is_client_error() => LwaError::InvalidGrant,
            _ => LwaError::Unreachable,
        })
    }
}

/// The answer's body, or `None` when it is larger than [`MAX_ANSWER`] or breaks off.
async fn read_bounded(mut res: reqwest::Response) -> Option<Vec<u8>> {
    let mut out = Vec::new();
    loop {
        match res.chunk().await {
            Ok(Some(chunk)) => {
                if out.len() + chunk.len() > MAX_ANSWER {
                    return None;
                }
                out.extend_from_slice(&chunk);
            }
            Ok(None) => return Some(out),
            Err(_) => return None,
        }
    }
}
