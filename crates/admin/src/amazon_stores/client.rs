//! The account service's Amazon stores API (`/amazon/v1/stores`, SPEC §5),
//! asked with the Admin's credentials through [`AccountApi`]: bounded in
//! time and size, following no redirect, every answer sorted into a typed
//! outcome.

use std::time::Duration;

use axum::http::HeaderValue;
use reqwest::{Method, StatusCode};
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};

use crate::account_api::{AccountApi, Credentials, TOTAL_TIMEOUT};
use crate::error::RemoteError;
use crate::gate::KeyPolicy;
use crate::store::AmazonStatus;

/// Proving a refresh token (`…/check`) waits on Amazon's token endpoint
/// (10 s at most on the account service): the one call allowed longer.
const CHECK_TIMEOUT: Duration = Duration::from_secs(12);

/// A store as the account service reports it.
#[derive(Clone, Debug, Deserialize)]
pub struct RemoteStore {
    pub id: String,
    pub status: String,
    #[serde(default)]
    pub reason: Option<String>,
    #[serde(default)]
    pub seller_id: Option<String>,
    #[serde(default)]
    pub website_url: Option<String>,
    #[serde(default)]
    pub authorized_at: Option<String>,
    #[serde(default)]
    pub authorization_expires_at: Option<String>,
}

/// The statuses of SPEC §5; anything else is an answer not understood.
pub const STATUSES: [&str; 5] = [
    "authorization_pending",
    "active",
    "inactive",
    "authorization_failed",
    "reauthorization_required",
];

impl RemoteStore {
    /// What the Admin keeps of it; `None` when the answer is not one the
    /// account service gives (an unknown status, an id unfit for a path).
    pub fn status(&self) -> Option<AmazonStatus> {
        if !STATUSES.contains(&self.status.as_str()) || !valid_id(&self.id) {
            return None;
        }
        let short = |s: &Option<String>| {
            s.as_deref()
                .filter(|v| v.len() <= 100 && !v.chars().any(char::is_control))
                .map(str::to_owned)
        };
        Some(AmazonStatus {
            status: self.status.clone(),
            reason: short(&self.reason),
            seller_id: short(&self.seller_id),
            authorized_at: self
                .authorized_at
                .as_deref()
                .and_then(web::clock::parse_rfc3339),
            authorization_expires_at: self
                .authorization_expires_at
                .as_deref()
                .and_then(web::clock::parse_rfc3339),
        })
    }
}

/// An id the account service gave, fit to put in a path as it is.
pub fn valid_id(id: &str) -> bool {
    !id.is_empty()
        && id.len() <= 100
        && id
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-')
}

#[derive(Serialize)]
pub struct NewRemoteStore<'a> {
    pub name: &'a str,
    pub email: &'a str,
    pub country: &'a str,
    pub website_url: &'a str,
}

#[derive(Deserialize)]
struct StoreList {
    stores: Vec<RemoteStore>,
}

#[derive(Deserialize)]
pub struct ConnectLink {
    pub url: String,
}

/// One Admin request's calls to the stores API.
pub struct StoresClient<'a> {
    pub api: &'a AccountApi,
    pub creds: Credentials,
    pub request_id: Option<&'a HeaderValue>,
}

impl StoresClient<'_> {
    pub async fn list(&self) -> Result<Vec<RemoteStore>, RemoteError> {
        let list: StoreList = self.json(Method::GET, "/amazon/v1/stores", None).await?;
        Ok(list.stores)
    }

    pub async fn create(&self, store: &NewRemoteStore<'_>) -> Result<RemoteStore, RemoteError> {
        let body = serde_json::to_value(store).map_err(|_| RemoteError::Unreachable)?;
        self.json(Method::POST, "/amazon/v1/stores", Some(body))
            .await
    }

    pub async fn connect_link(&self, id: &str) -> Result<ConnectLink, RemoteError> {
        let link: ConnectLink = self
            .json(Method::POST, &path(id, "/connect-links")?, None)
            .await?;
        // Only a web address is ever handed to the browser.
        match crate::outbound::check_link(&link.url) {
            true => Ok(link),
            false => {
                tracing::warn!("the account service's connect link is not an http(s) URL");
                Err(RemoteError::Unreachable)
            }
        }
    }

    pub async fn check(&self, id: &str) -> Result<RemoteStore, RemoteError> {
        let req = self
            .request(Method::POST, &path(id, "/check")?, None)
            .timeout(CHECK_TIMEOUT);
        decode(send(req, CHECK_TIMEOUT, self.creds.signed()).await?)
    }

    pub async fn set_active(&self, id: &str, active: bool) -> Result<RemoteStore, RemoteError> {
        self.json(
            Method::PATCH,
            &path(id, "")?,
            Some(serde_json::json!({ "active": active })),
        )
        .await
    }

    /// Deletes the registration; one the account service no longer knows is gone already.
    pub async fn delete(&self, id: &str) -> Result<(), RemoteError> {
        let req = self.request(Method::DELETE, &path(id, "")?, None);
        match send(req, TOTAL_TIMEOUT, self.creds.signed()).await {
            Ok(_) | Err(RemoteError::NotFound) => Ok(()),
            Err(e) => Err(e),
        }
    }

    fn request(
        &self,
        method: Method,
        path: &str,
        body: Option<serde_json::Value>,
    ) -> reqwest::RequestBuilder {
        let req = self.api.request(method, &self.creds, path, self.request_id);
        match body {
            Some(b) => req.json(&b),
            None => req,
        }
    }

    async fn json<T: DeserializeOwned>(
        &self,
        method: Method,
        path: &str,
        body: Option<serde_json::Value>,
    ) -> Result<T, RemoteError> {
        let req = self.request(method, path, body);
        decode(send(req, TOTAL_TIMEOUT, self.creds.signed()).await?)
    }
}

fn path(id: &str, rest: &str) -> Result<String, RemoteError> {
    if !valid_id(id) {
        return Err(RemoteError::NotFound);
    }
    Ok(format!("/amazon/v1/stores/{id}{rest}"))
}

fn decode<T: DeserializeOwned>(body: Vec<u8>) -> Result<T, RemoteError> {
    serde_json::from_slice(&body).map_err(|e| {
        tracing::warn!(error = %e, "the account service's answer was not understood");
        RemoteError::Unreachable
    })
}

/// Sends, reads the answer (bounded), and sorts it: a 2xx body, or why not.
/// `signed`: the request carries `x-gw-signature` (a 403 then refuses the
/// signature; without one, it asks for one).
async fn send(
    req: reqwest::RequestBuilder,
    total: Duration,
    signed: bool,
) -> Result<Vec<u8>, RemoteError> {
    let exchange = async {
        let res = req.send().await.map_err(|e| {
            // reqwest errors carry the URL, never the header holding the key.
            tracing::warn!(error = %e, "the account service could not be asked");
            RemoteError::Unreachable
        })?;
        let status = res.status();
        if status.is_redirection() {
            tracing::warn!(%status, "the account service answered with a redirect; not followed");
            return Err(RemoteError::Unreachable);
        }
        let body = crate::outbound::read_limited(res, crate::outbound::MAX_ANSWER)
            .await
            .map_err(|e| {
                tracing::warn!(error = %e, "the account service's answer could not be read");
                RemoteError::Unreachable
            })?;
        Ok((status, body))
    };
    // A bound of our own around the whole exchange, as the gate has.
    let (status, body) = tokio::time::timeout(total + Duration::from_millis(250), exchange)
        .await
        .map_err(|_| {
            tracing::warn!("the account service did not answer in time");
            RemoteError::Unreachable
        })??;
    if status.is_success() {
        return Ok(body);
    }
    let code = serde_json::from_slice::<serde_json::Value>(&body)
        .ok()
        .and_then(|v| v["error"]["code"].as_str().map(str::to_owned))
        .unwrap_or_default();
    Err(match status {
        StatusCode::SERVICE_UNAVAILABLE if code == "amazon_not_configured" => {
            RemoteError::NotConfigured
        }
        StatusCode::NOT_FOUND => RemoteError::NotFound,
        StatusCode::UNAUTHORIZED => {
            tracing::warn!(%status, code, "the account service refused the API key");
            match KeyPolicy::of_status(&code) {
                Some(policy) => RemoteError::KeyPolicy(policy),
                None => RemoteError::KeyRefused,
            }
        }
        StatusCode::FORBIDDEN if signed => {
            tracing::warn!(%status, code, "the account service refused the signature");
            RemoteError::SignatureRejected
        }
        StatusCode::FORBIDDEN => {
            tracing::warn!(%status, code, "the account service requires signed calls");
            RemoteError::SignatureRequired
        }
        s if s.is_client_error() => {
            tracing::warn!(%status, code, "the account service refused a request");
            let code = if code.is_empty() || !valid_id(&code) {
                "refused".to_owned()
            } else {
                code
            };
            RemoteError::Rejected(code)
        }
        _ => {
            tracing::warn!(%status, "the account service answered with an error");
            RemoteError::Unreachable
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_fit_for_a_path() {
        for ok in ["ams_1a2B", "a-b_c", "x"] {
            assert!(valid_id(ok), "{ok}");
        }
        for bad in ["", "a/b", "../x", "a?b", "a b", "é", &"x".repeat(101)] {
            assert!(!valid_id(bad), "{bad:?}");
        }
    }

    #[test]
    fn unknown_statuses_are_not_kept() {
        let store = |status: &str| RemoteStore {
            id: "ams_1".into(),
            status: status.into(),
            reason: Some("invalid_grant".into()),
            seller_id: None,
            website_url: None,
            authorized_at: Some("2026-01-02T03:04:05Z".into()),
            authorization_expires_at: None,
        };
        let kept = store("authorization_failed").status().expect("known");
        assert_eq!(kept.reason.as_deref(), Some("invalid_grant"));
        assert!(kept.authorized_at.is_some());
        assert!(store("hacked").status().is_none());
    }
}
