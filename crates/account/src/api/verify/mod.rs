//! Verification: the JSON route, the Magento-compatible gateway check, the
//! signed ping, and the no-op route benchmarks compare them with.

mod answer;

pub use answer::{GatewayAnswer, PingAnswer, VerifyAnswer};

use std::future::Future;
use std::net::IpAddr;
use std::pin::Pin;

use axum::body::Body;
use axum::extract::{Request, State};
use axum::http::{HeaderMap, HeaderName, Method, StatusCode};
use axum::response::{IntoResponse, Response};
use futures_util::future::Either;
use utoipa::IntoParams;
use web::edge::DirectAnswer;
use web::extract::ClientIp;
use web::Error;

use crate::error::KeyRefusal;
use crate::key_policy::{is_service_name, ServiceMask};
use crate::verify::{Caller, Outcome, PingOutcome, Status};
use crate::AppState;

use super::openapi::ErrorBody;
use super::throttle::Throttle;
use answer::{json, json_headers, ping_body, GATEWAY_VALID};

/// The header `POST /api/v1/keys/verify` reads (read by [`verify`]).
#[derive(IntoParams)]
#[into_params(parameter_in = Header)]
#[allow(dead_code)] // described only
pub struct VerifyHeaders {
    /// The key to verify.
    #[param(rename = "X-Api-Key", value_type = String, required = false)]
    x_api_key: Option<String>,
    /// The service the key is to be used for: a key limited to other
    /// services answers `insufficient_scope`. Not sent: any service.
    #[param(rename = "X-Service", value_type = String, required = false, pattern = "^[a-z][a-z0-9_]{0,63}$")]
    x_service: Option<String>,
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
    /// The service the key is to be used for (401 when it may not be).
    #[param(rename = "X-Service", value_type = String, required = false)]
    x_service: Option<String>,
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
    /// The service the key is to be used for (401 when it may not be).
    #[param(rename = "X-Service", value_type = String, required = false)]
    x_service: Option<String>,
}

// Names as constants: a `&str` name is parsed and checked on every lookup.
const X_API_KEY: HeaderName = HeaderName::from_static("x-api-key");
const MAGENTO_API_KEY: HeaderName = HeaderName::from_static("magento-api-key");
const X_GW_SIGNATURE: HeaderName = HeaderName::from_static("x-gw-signature");
const X_SERVICE: HeaderName = HeaderName::from_static("x-service");

/// The service a request names in `X-Service`: `Ok(None)` when it names
/// none; a service the operator does not run is an empty mask (no key
/// allows it); `Err` when the header is not a service name at all.
fn asked_service<'h>(
    state: &AppState,
    headers: &'h HeaderMap,
) -> Result<Option<(ServiceMask, &'h str)>, KeyRefusal> {
    let Some(value) = headers.get(X_SERVICE) else {
        return Ok(None);
    };
    match value.to_str() {
        Ok(name) if is_service_name(name) => Ok(Some((state.cfg.services.bit(name), name))),
        _ => Err(KeyRefusal::BadService),
    }
}

/// Who asks: the client's address and the service it names.
pub(crate) fn caller(ip: IpAddr, service: Option<(ServiceMask, &str)>) -> Caller {
    Caller {
        ip,
        service: service.map(|(mask, _)| mask),
    }
}

/// A header verification reads, as text (a header that is not text is not sent).
fn header(headers: &HeaderMap, name: HeaderName) -> Option<&str> {
    headers.get(name).and_then(|v| v.to_str().ok())
}

/// The key a request to the verification route `template` presents: verify
/// reads `X-Api-Key`; the gateway `magento-api-key` first, the ping
/// `X-Api-Key` first, each then the other.
fn presented_key<'h>(template: &str, headers: &'h HeaderMap) -> Option<&'h str> {
    let (first, then) = match template {
        VERIFY => return header(headers, X_API_KEY),
        GATEWAY => (MAGENTO_API_KEY, X_API_KEY),
        _ => (X_API_KEY, MAGENTO_API_KEY),
    };
    header(headers, first).or_else(|| header(headers, then))
}

/// The paths of the verification routes (also in their `#[utoipa::path]`).
const VERIFY: &str = "/api/v1/keys/verify";
const GATEWAY: &str = "/gateway/apikeycheck";
const PING: &str = "/merchant-registry/v1/ping";
const TEMPLATES: [&str; 3] = [VERIFY, GATEWAY, PING];

/// The template of a verification route the edge answers itself.
fn direct_route(method: &Method, path: &str) -> Option<&'static str> {
    let (template, wanted) = match path {
        VERIFY => (VERIFY, Method::POST),
        GATEWAY => (GATEWAY, Method::GET),
        PING => (PING, Method::GET),
        _ => return None,
    };
    (*method == wanted).then_some(template)
}

/// The verification routes, answered by the edge itself before the router
/// (`web::edge::Direct`): stores call them on every Admin page open, and
/// they must cost about what a bare server's answer costs. The router has
/// them too (HEAD, and 405 for other methods); both call the same functions.
#[derive(Clone)]
pub struct VerifyRoutes(pub AppState);

impl web::edge::Direct for VerifyRoutes {
    /// Ready at once for a valid key answered from memory (most requests);
    /// else boxed, as it may wait for storage or the throttle.
    type Future = Either<
        std::future::Ready<DirectAnswer>,
        Pin<Box<dyn Future<Output = DirectAnswer> + Send>>,
    >;

    fn templates(&self) -> &'static [&'static str] {
        &TEMPLATES
    }

    fn matches(&self, method: &Method, path: &str) -> Option<&'static str> {
        direct_route(method, path)
    }

    fn call(
        &self,
        template: &'static str,
        req: Request,
        ip: IpAddr,
        out: HeaderMap,
    ) -> Self::Future {
        if let Some(body) = valid_from_memory(&self.0, template, ip, req.headers()) {
            return Either::Left(std::future::ready(DirectAnswer::Ready(json(out, body))));
        }
        let state = self.0.clone();
        Either::Right(Box::pin(async move {
            let headers = req.headers();
            let res = match template {
                VERIFY => verify(&state, ip, headers, out).await,
                GATEWAY => gateway(&state, ip, headers, out).await,
                _ => ping(&state, ip, headers, out).await,
            };
            res.map_or_else(
                |e| DirectAnswer::Unfinished(e.into_response()),
                DirectAnswer::Ready,
            )
        }))
    }
}

/// The answer's body for a valid key the verifier holds in memory, made
/// without waiting (most requests): the same answer as the async path's, as
/// a valid key is never counted by the throttle. `None` for anything else (a
/// blocked client, a key to look up, a key that is not valid, a signature
/// not seen before), which the async path answers.
fn valid_from_memory(
    state: &AppState,
    template: &str,
    ip: IpAddr,
    headers: &HeaderMap,
) -> Option<Body> {
    let presented = presented_key(template, headers)?;
    let service = asked_service(state, headers).ok()?;
    let caller = caller(ip, service);
    // A refusal is counted by the async path, which answers it.
    let throttle = Throttle::check(state, ip, None).ok()?;
    let now = throttle.now();
    let (body, key_id) = match template {
        VERIFY => {
            let verdict = state.verifier.verify_valid_cached(presented, now, caller)?;
            (VerifyAnswer::of(&verdict, None).body(), verdict.key_id)
        }
        GATEWAY => {
            let verdict = state.verifier.verify_valid_cached(presented, now, caller)?;
            (Body::from(GATEWAY_VALID), verdict.key_id)
        }
        _ => {
            let token = header(headers, X_GW_SIGNATURE);
            match state
                .verifier
                .signed_from_memory(presented, token, now, caller)?
            {
                (PingOutcome::Ok { expires_at }, id) => (ping_body(expires_at), Some(id)),
                _ => return None,
            }
        }
    };
    if let Some(id) = &key_id {
        state.verifier.count(id, Outcome::of(Status::Valid), now);
    }
    Some(body)
}

/// Verifies the key in `X-Api-Key`: its status, environment and expiry.
#[utoipa::path(
    post,
    path = "/api/v1/keys/verify",
    operation_id = "verify_key",
    tag = "verify",
    params(VerifyHeaders),
    responses(
        (status = 200, description = "The key's status.", body = VerifyAnswer),
        (status = 400, description = "No X-Api-Key header, or an X-Service that is not a service name (`invalid_service`).", body = ErrorBody),
        (status = 429, description = "Too many failed verifications from this client.", body = ErrorBody),
    )
)]
pub async fn verify_key(
    State(state): State<AppState>,
    ClientIp(ip): ClientIp,
    req: Request,
) -> Result<Response, Error> {
    verify(&state, ip, req.headers(), json_headers()).await
}

async fn verify(
    state: &AppState,
    ip: IpAddr,
    headers: &HeaderMap,
    out: HeaderMap,
) -> Result<Response, Error> {
    let Some(presented) = presented_key(VERIFY, headers) else {
        return Err(KeyRefusal::MissingToVerify.into());
    };
    let service = asked_service(state, headers)?;
    let throttle = Throttle::check(state, ip, Some(presented))?;
    let verdict = state
        .verifier
        .verify(presented, caller(ip, service))
        .await?;
    throttle
        .count(state, verdict.key_id.as_ref(), verdict.status)
        .await;
    let answer = VerifyAnswer::of(&verdict, service.map(|(_, name)| name));
    Ok(json(out, answer.body()))
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
    gateway(&state, ip, req.headers(), json_headers()).await
}

async fn gateway(
    state: &AppState,
    ip: IpAddr,
    headers: &HeaderMap,
    out: HeaderMap,
) -> Result<Response, Error> {
    let presented = presented_key(GATEWAY, headers);
    let throttle = Throttle::check(state, ip, presented)?;
    let (key_id, status) = match (presented, asked_service(state, headers)) {
        (Some(k), Ok(service)) => {
            let verdict = state.verifier.verify(k, caller(ip, service)).await?;
            (verdict.key_id, verdict.status)
        }
        (Some(k), Err(_)) => (state.verifier.cached_id(k), Status::InsufficientScope),
        (None, _) => (None, Status::Invalid),
    };
    throttle.count(state, key_id.as_ref(), status).await;
    let valid = status == Status::Valid;
    if valid {
        Ok(json(out, GATEWAY_VALID))
    } else {
        Err(KeyRefusal::GatewayNotValid.into())
    }
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
    ping(&state, ip, req.headers(), json_headers()).await
}

async fn ping(
    state: &AppState,
    ip: IpAddr,
    headers: &HeaderMap,
    out: HeaderMap,
) -> Result<Response, Error> {
    let presented = presented_key(PING, headers);
    let throttle = Throttle::check(state, ip, presented)?;
    let Some(presented) = presented else {
        throttle.count(state, None, Status::Invalid).await;
        return Err(KeyRefusal::MissingToPing.into());
    };
    let Ok(service) = asked_service(state, headers) else {
        let id = state.verifier.cached_id(presented);
        throttle
            .count(state, id.as_ref(), Status::InsufficientScope)
            .await;
        return Err(KeyRefusal::NotValid(Status::InsufficientScope).into());
    };
    let token = header(headers, X_GW_SIGNATURE);
    let caller = caller(ip, service);
    let (outcome, key_id) = state
        .verifier
        .verify_signed(presented, token, caller)
        .await?;
    throttle
        .count(state, key_id.as_ref(), ping_status(&outcome))
        .await;
    match outcome {
        PingOutcome::Ok { expires_at } => Ok(json(out, ping_body(expires_at))),
        PingOutcome::Key(status) => Err(KeyRefusal::NotValid(status).into()),
        PingOutcome::Signature(why) => Err(KeyRefusal::Signature(why).into()),
    }
}

/// What usage and the throttle count of a signed ping: a refused signature
/// is an `invalid` call of a known key.
pub(crate) fn ping_status(outcome: &PingOutcome) -> Status {
    match outcome {
        PingOutcome::Ok { .. } => Status::Valid,
        PingOutcome::Key(status) => *status,
        PingOutcome::Signature(_) => Status::Invalid,
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
    use super::{direct_route, Method, GATEWAY, TEMPLATES};

    /// The edge's list of verification routes and the router's (the
    /// `#[utoipa::path]` attributes, as the OpenAPI document shows them) are
    /// the same: a path changed in one place only would be caught here.
    #[test]
    fn direct_routes_are_the_documented_verification_routes() {
        let doc: serde_json::Value =
            serde_json::from_slice(crate::api::openapi::document()).unwrap();
        let ops = [
            "verify_key",
            "gateway_apikeycheck",
            "merchant_registry_ping",
        ];
        let mut found = Vec::new();
        for (path, item) in doc["paths"].as_object().unwrap() {
            for (method, op) in item.as_object().unwrap() {
                if ops.contains(&op["operationId"].as_str().unwrap_or("")) {
                    let method = Method::from_bytes(method.to_uppercase().as_bytes()).unwrap();
                    assert_eq!(direct_route(&method, path), Some(path.as_str()));
                    found.push(path.clone());
                }
            }
        }
        found.sort();
        let mut templates = TEMPLATES.map(String::from).to_vec();
        templates.sort();
        assert_eq!(found, templates);
        assert_eq!(direct_route(&Method::HEAD, GATEWAY), None);
    }
}
