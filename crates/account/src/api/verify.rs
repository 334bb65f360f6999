//! Verification: the JSON route, the Magento-compatible gateway check, and
//! the no-op route benchmarks compare them with.

use std::convert::Infallible;
use std::future::Future;
use std::net::IpAddr;
use std::pin::Pin;

use axum::body::Body;
use axum::extract::{Request, State};
use axum::http::{header, HeaderMap, HeaderName, HeaderValue, Method, StatusCode};
use axum::response::{IntoResponse, Response};
use serde::Serialize;
use utoipa::{IntoParams, ToSchema};
use web::extract::ClientIp;
use web::Error;

use crate::verify::{PingOutcome, Status};
use crate::AppState;

use super::openapi::{Environment, ErrorBody};
use super::throttle::Throttle;

/// A key's status. `environment` is left out for an unknown key,
/// `expires_at` for a key that does not expire.
#[derive(Serialize, ToSchema)]
pub struct VerifyAnswer {
    valid: bool,
    status: Status,
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<Environment>)]
    environment: Option<&'static str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(format = DateTime)]
    expires_at: Option<String>,
}

/// The header `POST /api/v1/keys/verify` reads (read by [`verify`]).
#[derive(IntoParams)]
#[into_params(parameter_in = Header)]
#[allow(dead_code)] // described only
pub struct VerifyHeaders {
    /// The key to verify.
    #[param(rename = "X-Api-Key", value_type = String, required = false)]
    x_api_key: Option<String>,
}

/// The headers the gateway check reads (read by [`verify`]).
#[derive(IntoParams)]
#[into_params(parameter_in = Header)]
#[allow(dead_code)] // described only
pub struct GatewayHeaders {
    /// The key to check (read first).
    #[param(rename = "magento-api-key", value_type = String, required = false)]
    magento_api_key: Option<String>,
    /// The key to check, when `magento-api-key` is not sent.
    #[param(rename = "X-Api-Key", value_type = String, required = false)]
    x_api_key: Option<String>,
}

/// The headers the signed ping reads (read by [`verify`]).
#[derive(IntoParams)]
#[into_params(parameter_in = Header)]
#[allow(dead_code)] // described only
pub struct PingHeaders {
    /// The key to check (read first).
    #[param(rename = "X-Api-Key", value_type = String, required = false)]
    x_api_key: Option<String>,
    /// The key to check, when `X-Api-Key` is not sent.
    #[param(rename = "magento-api-key", value_type = String, required = false)]
    magento_api_key: Option<String>,
    /// An RS256 JWT signed with the key's private key.
    #[param(rename = "x-gw-signature", value_type = String, required = false)]
    x_gw_signature: Option<String>,
}

/// The gateway check's answer when the key is valid: `{"valid": true}`.
#[derive(Serialize, ToSchema)]
pub struct GatewayAnswer {
    valid: bool,
}

/// The gateway's answer, written once (the hot path serializes nothing).
const GATEWAY_VALID: &str = r#"{"valid":true}"#;

/// The signed ping's answer: a valid key, and when it expires (`null`: never).
#[derive(Serialize, ToSchema)]
pub struct PingAnswer {
    valid: bool,
    status: Status,
    #[schema(format = DateTime, required = true)]
    expires_at: Option<String>,
}

// Names as constants: a `&str` name is parsed and checked on every lookup.
const X_API_KEY: HeaderName = HeaderName::from_static("x-api-key");
const MAGENTO_API_KEY: HeaderName = HeaderName::from_static("magento-api-key");
const X_GW_SIGNATURE: HeaderName = HeaderName::from_static("x-gw-signature");

/// A header verification reads, as text (a header that is not text is not sent).
fn header(headers: &HeaderMap, name: HeaderName) -> Option<&str> {
    headers.get(name).and_then(|v| v.to_str().ok())
}

/// The paths of the verification routes (also in their `#[utoipa::path]`).
const VERIFY: &str = "/api/v1/keys/verify";
const GATEWAY: &str = "/gateway/apikeycheck";
const PING: &str = "/merchant-registry/v1/ping";

/// The verification routes, answered by the edge itself before the router
/// (`web::edge::Direct`): stores call them on every Admin page open, and
/// they must cost about what a bare server's answer costs. The router has
/// them too (HEAD, and 405 for other methods); both call the same functions.
#[derive(Clone)]
pub struct VerifyRoutes(pub AppState);

impl web::edge::Direct for VerifyRoutes {
    type Future = Pin<Box<dyn Future<Output = Result<Response, Infallible>> + Send>>;

    fn matches(&self, method: &Method, path: &str) -> Option<&'static str> {
        let (template, wanted) = match path {
            VERIFY => (VERIFY, Method::POST),
            GATEWAY => (GATEWAY, Method::GET),
            PING => (PING, Method::GET),
            _ => return None,
        };
        (*method == wanted).then_some(template)
    }

    fn call(&self, template: &'static str, req: Request, ip: IpAddr) -> Self::Future {
        let state = self.0.clone();
        Box::pin(async move {
            let headers = req.headers();
            let res = match template {
                VERIFY => verify(&state, ip, headers).await,
                GATEWAY => gateway(&state, ip, headers).await,
                _ => ping(&state, ip, headers).await,
            };
            Ok(res.unwrap_or_else(IntoResponse::into_response))
        })
    }
}

/// A JSON answer, its header map sized for what the edge adds (the id and
/// the security headers), so that it never grows.
fn json(body: impl Into<Body>) -> Response {
    let mut headers = HeaderMap::with_capacity(12);
    headers.insert(header::CONTENT_TYPE, APPLICATION_JSON);
    let mut res = Response::new(body.into());
    *res.headers_mut() = headers;
    res
}

const APPLICATION_JSON: HeaderValue = HeaderValue::from_static("application/json");

/// Verifies the key in `X-Api-Key`: its status, environment and expiry.
#[utoipa::path(
    post,
    path = "/api/v1/keys/verify",
    operation_id = "verify_key",
    tag = "verify",
    params(VerifyHeaders),
    responses(
        (status = 200, description = "The key's status.", body = VerifyAnswer),
        (status = 400, description = "No X-Api-Key header.", body = ErrorBody),
        (status = 429, description = "Too many failed verifications from this client.", body = ErrorBody),
    )
)]
pub async fn verify_key(
    State(state): State<AppState>,
    ClientIp(ip): ClientIp,
    req: Request,
) -> Result<Response, Error> {
    verify(&state, ip, req.headers()).await
}

async fn verify(state: &AppState, ip: IpAddr, headers: &HeaderMap) -> Result<Response, Error> {
    let Some(presented) = header(headers, X_API_KEY) else {
        return Err(Error::bad_request(
            "missing_api_key",
            "Send the key in the X-Api-Key header.",
        ));
    };
    let throttle = Throttle::check(state, ip)?;
    let verdict = state.verifier.verify(presented).await?;
    throttle.count(state, verdict.status == Status::Valid).await;
    let known = verdict.status != Status::Invalid;
    let answer = VerifyAnswer {
        valid: verdict.status == Status::Valid,
        status: verdict.status,
        environment: verdict.environment.filter(|_| known).map(|e| e.as_str()),
        expires_at: verdict.expires_at.map(web::clock::rfc3339),
    };
    Ok(json(answer.to_json()))
}

impl VerifyAnswer {
    /// The hot path's answer, written directly: every part is a fixed word or
    /// an RFC 3339 time, so nothing needs escaping (and serde is not needed).
    /// One allocation of exactly its length (a body then takes it as it is).
    fn to_json(&self) -> String {
        let head = if self.valid {
            r#"{"valid":true,"status":""#
        } else {
            r#"{"valid":false,"status":""#
        };
        let (env_open, env, env_close) = match self.environment {
            Some(env) => (r#","environment":""#, env, "\""),
            None => ("", "", ""),
        };
        let (exp_open, exp, exp_close) = match &self.expires_at {
            Some(exp) => (r#","expires_at":""#, exp.as_str(), "\""),
            None => ("", "", ""),
        };
        [
            head,
            self.status.as_str(),
            "\"",
            env_open,
            env,
            env_close,
            exp_open,
            exp,
            exp_close,
            "}",
        ]
        .concat()
    }
}

/// Magento Services Connector's key check: exactly 200 when valid, 401 otherwise.
#[utoipa::path(
    get,
    path = "/gateway/apikeycheck",
    operation_id = "gateway_apikeycheck",
    tag = "verify",
    params(GatewayHeaders),
    responses(
        (status = 200, description = "Valid.", body = GatewayAnswer),
        (status = 401, description = "Not valid, or no key.", body = ErrorBody),
        (status = 429, description = "Too many failed verifications from this client.", body = ErrorBody),
    )
)]
pub async fn gateway_apikeycheck(
    State(state): State<AppState>,
    ClientIp(ip): ClientIp,
    req: Request,
) -> Result<Response, Error> {
    gateway(&state, ip, req.headers()).await
}

async fn gateway(state: &AppState, ip: IpAddr, headers: &HeaderMap) -> Result<Response, Error> {
    let throttle = Throttle::check(state, ip)?;
    let presented = header(headers, MAGENTO_API_KEY).or_else(|| header(headers, X_API_KEY));
    let valid = match presented {
        Some(k) => state.verifier.verify(k).await?.status == Status::Valid,
        None => false,
    };
    throttle.count(state, valid).await;
    Ok(if valid {
        json(GATEWAY_VALID)
    } else {
        Error::unauthorized("invalid_api_key", "The API key is not valid.").into_response()
    })
}

/// Services Connector 1.3.x: exactly 200 when the key is valid and
/// `x-gw-signature` is an RS256 JWT signed with the key's private key; 401
/// when the key is not valid, 403 when the signature is not acceptable.
#[utoipa::path(
    get,
    path = "/merchant-registry/v1/ping",
    operation_id = "merchant_registry_ping",
    tag = "verify",
    params(PingHeaders),
    responses(
        (status = 200, description = "Valid and signed.", body = PingAnswer),
        (status = 401, description = "The key is not valid; the code names its status.", body = ErrorBody),
        (status = 403, description = "The signature is missing or not acceptable.", body = ErrorBody),
        (status = 429, description = "Too many failed verifications from this client.", body = ErrorBody),
    )
)]
pub async fn merchant_registry_ping(
    State(state): State<AppState>,
    ClientIp(ip): ClientIp,
    req: Request,
) -> Result<Response, Error> {
    ping(&state, ip, req.headers()).await
}

async fn ping(state: &AppState, ip: IpAddr, headers: &HeaderMap) -> Result<Response, Error> {
    let throttle = Throttle::check(state, ip)?;
    let presented = header(headers, X_API_KEY).or_else(|| header(headers, MAGENTO_API_KEY));
    let Some(presented) = presented else {
        throttle.count(state, false).await;
        return Err(Error::unauthorized(
            "invalid",
            "Send the key in the x-api-key header.",
        ));
    };
    let token = header(headers, X_GW_SIGNATURE);
    let outcome = state.verifier.verify_signed(presented, token).await?;
    throttle
        .count(state, matches!(outcome, PingOutcome::Ok { .. }))
        .await;
    match outcome {
        PingOutcome::Ok { expires_at } => Ok(json(
            serde_json::to_vec(&PingAnswer {
                valid: true,
                status: Status::Valid,
                expires_at: expires_at.map(web::clock::rfc3339),
            })
            .map_err(Error::internal)?,
        )),
        // The code names the status, so our Admin can say which case it is.
        PingOutcome::Key(status) => Err(Error::unauthorized(
            status.as_str(),
            "The API key is not valid.",
        )),
        PingOutcome::Signature(why) => Err(Error::forbidden(
            "invalid_signature",
            match why {
                "missing" => {
                    "Send an RS256 JWT signed with the key's private key in x-gw-signature."
                }
                "no_public_key" => "This API key has no signing public key registered.",
                "expired" => "The signature has expired.",
                "too_far_ahead" => "The signature's expiry is more than 10 minutes ahead.",
                "not_yet_valid" => "The signature is not valid yet (its nbf is ahead).",
                "critical" => {
                    "The signature names critical header extensions that are not supported."
                }
                "algorithm" => "Only RS256 signatures are accepted.",
                "signature" => "The signature does not verify with this key's public key.",
                _ => "The signature is not a well-formed JWT.",
            },
        )),
    }
}

/// Does nothing: the floor that benchmarks compare verification with.
#[utoipa::path(
    get,
    path = "/noop",
    operation_id = "noop",
    tag = "verify",
    responses((status = 200, description = "Nothing."))
)]
pub async fn noop() -> StatusCode {
    StatusCode::OK
}

#[cfg(test)]
mod tests {
    use super::{GatewayAnswer, Status, VerifyAnswer, GATEWAY_VALID};

    #[test]
    fn hand_written_json_is_json() {
        let a = VerifyAnswer {
            valid: true,
            status: Status::Valid,
            environment: Some("production"),
            expires_at: Some("2027-01-01T00:00:00Z".into()),
        };
        let v: serde_json::Value = serde_json::from_str(&a.to_json()).unwrap();
        assert_eq!(v, serde_json::to_value(&a).unwrap());
        // Exactly its length: the body takes the buffer without a copy.
        assert_eq!(a.to_json().capacity(), a.to_json().len());
        let b = VerifyAnswer {
            valid: false,
            status: Status::Invalid,
            environment: None,
            expires_at: None,
        };
        let v: serde_json::Value = serde_json::from_str(&b.to_json()).unwrap();
        assert_eq!(v, serde_json::to_value(&b).unwrap());
        let g = serde_json::to_string(&GatewayAnswer { valid: true }).unwrap();
        assert_eq!(g, GATEWAY_VALID);
    }
}
