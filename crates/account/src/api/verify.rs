//! Verification: the JSON route, the Magento-compatible gateway check, and
//! the no-op route benchmarks compare them with.

use axum::extract::FromRequestParts;
use axum::extract::State;
use axum::http::request::Parts;
use axum::http::{header, HeaderName, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde::Serialize;
use utoipa::{IntoParams, ToSchema};
use web::extract::ClientIp;
use web::Error;

use crate::verify::{PingOutcome, Status};
use crate::AppState;

use super::openapi::{Environment, ErrorBody};

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

/// The header `POST /api/v1/keys/verify` reads (through [`KeyHeaders`]).
#[derive(IntoParams)]
#[into_params(parameter_in = Header)]
#[allow(dead_code)] // described only
pub struct VerifyHeaders {
    /// The key to verify.
    #[param(rename = "X-Api-Key", value_type = String, required = false)]
    x_api_key: Option<String>,
}

/// The headers the gateway check reads (through [`KeyHeaders`]).
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

/// The headers the signed ping reads (through [`KeyHeaders`]).
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

fn header<'a>(headers: &'a KeyHeaders, name: &str) -> Option<&'a str> {
    let v = match name {
        "x-api-key" => headers.x_api_key.as_ref(),
        "magento-api-key" => headers.magento_api_key.as_ref(),
        _ => headers.x_gw_signature.as_ref(),
    };
    v.and_then(|v| v.to_str().ok())
}

/// The three headers verification reads, taken without cloning the whole
/// header map (the `HeaderMap` extractor would, on every request of the hot path).
pub struct KeyHeaders {
    x_api_key: Option<HeaderValue>,
    magento_api_key: Option<HeaderValue>,
    x_gw_signature: Option<HeaderValue>,
}

// Names as constants: a `&str` name is parsed and checked on every lookup.
const X_API_KEY: HeaderName = HeaderName::from_static("x-api-key");
const MAGENTO_API_KEY: HeaderName = HeaderName::from_static("magento-api-key");
const X_GW_SIGNATURE: HeaderName = HeaderName::from_static("x-gw-signature");

impl<S: Send + Sync> FromRequestParts<S> for KeyHeaders {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Self::Rejection> {
        Ok(KeyHeaders {
            x_api_key: parts.headers.get(X_API_KEY).cloned(),
            magento_api_key: parts.headers.get(MAGENTO_API_KEY).cloned(),
            x_gw_signature: parts.headers.get(X_GW_SIGNATURE).cloned(),
        })
    }
}

/// The failed-verification throttle of one client. A blocked client is
/// answered 429 before any lookup, whatever the key (so the throttle is no
/// yes/no oracle and spares storage); a valid key is never counted.
pub(super) struct Throttle {
    /// The client IP as text, formatted on the stack (the hot path allocates nothing here).
    key: [u8; 48],
    len: usize,
    now: i64,
}

impl Throttle {
    pub(super) fn check(state: &AppState, ip: std::net::IpAddr) -> Result<Throttle, Error> {
        let mut key = [0u8; 48];
        let len = ip_text(ip, &mut key);
        let t = Throttle {
            key,
            len,
            now: state.clock.now(),
        };
        match state.limits.verify_by_ip.blocked(t.key(), t.now) {
            Some(wait) => Err(Error::too_many_requests(wait)),
            None => Ok(t),
        }
    }

    fn key(&self) -> &str {
        std::str::from_utf8(&self.key[..self.len]).unwrap_or("")
    }

    pub(super) async fn count(&self, state: &AppState, valid: bool) {
        if !valid {
            state.limits.verify_by_ip.fail(self.key(), self.now).await;
        }
    }
}

/// Writes `ip` as text into `out` and returns its length: an IPv4 address
/// digit by digit (the formatter's machinery cost more than the rest of the
/// throttle), an IPv6 address (at most 45 characters) through `Display`.
fn ip_text(ip: std::net::IpAddr, out: &mut [u8; 48]) -> usize {
    match ip {
        std::net::IpAddr::V4(v4) => {
            let mut n = 0;
            for (i, octet) in v4.octets().into_iter().enumerate() {
                if i > 0 {
                    out[n] = b'.';
                    n += 1;
                }
                if octet >= 100 {
                    out[n] = b'0' + octet / 100;
                    n += 1;
                }
                if octet >= 10 {
                    out[n] = b'0' + octet / 10 % 10;
                    n += 1;
                }
                out[n] = b'0' + octet % 10;
                n += 1;
            }
            n
        }
        std::net::IpAddr::V6(v6) => {
            use std::io::Write;
            let mut cursor = std::io::Cursor::new(&mut out[..]);
            let _ = write!(cursor, "{v6}");
            cursor.position() as usize
        }
    }
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
        (status = 400, description = "No X-Api-Key header.", body = ErrorBody),
        (status = 429, description = "Too many failed verifications from this client.", body = ErrorBody),
    )
)]
pub async fn verify_key(
    State(state): State<AppState>,
    ClientIp(ip): ClientIp,
    headers: KeyHeaders,
) -> Result<Response, Error> {
    let Some(presented) = header(&headers, "x-api-key") else {
        return Err(Error::bad_request(
            "missing_api_key",
            "Send the key in the X-Api-Key header.",
        ));
    };
    let throttle = Throttle::check(&state, ip)?;
    let verdict = state.verifier.verify(presented).await?;
    throttle
        .count(&state, verdict.status == Status::Valid)
        .await;
    let known = verdict.status != Status::Invalid;
    let answer = VerifyAnswer {
        valid: verdict.status == Status::Valid,
        status: verdict.status,
        environment: verdict.environment.filter(|_| known).map(|e| e.as_str()),
        expires_at: verdict.expires_at.map(web::clock::rfc3339),
    };
    Ok((
        [(
            header::CONTENT_TYPE,
            HeaderValue::from_static("application/json"),
        )],
        answer.to_json(),
    )
        .into_response())
}

impl VerifyAnswer {
    /// The hot path's answer, written directly: every part is a fixed word or
    /// an RFC 3339 time, so nothing needs escaping (and serde is not needed).
    fn to_json(&self) -> String {
        let mut out = String::with_capacity(112);
        out.push_str(if self.valid {
            r#"{"valid":true,"status":""#
        } else {
            r#"{"valid":false,"status":""#
        });
        out.push_str(self.status.as_str());
        out.push('"');
        if let Some(env) = self.environment {
            out.push_str(r#","environment":""#);
            out.push_str(env);
            out.push('"');
        }
        if let Some(exp) = &self.expires_at {
            out.push_str(r#","expires_at":""#);
            out.push_str(exp);
            out.push('"');
        }
        out.push('}');
        out
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
    headers: KeyHeaders,
) -> Result<Response, Error> {
    let throttle = Throttle::check(&state, ip)?;
    let presented = header(&headers, "magento-api-key").or_else(|| header(&headers, "x-api-key"));
    let valid = match presented {
        Some(k) => state.verifier.verify(k).await?.status == Status::Valid,
        None => false,
    };
    throttle.count(&state, valid).await;
    Ok(if valid {
        (
            [(
                header::CONTENT_TYPE,
                HeaderValue::from_static("application/json"),
            )],
            GATEWAY_VALID,
        )
            .into_response()
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
    headers: KeyHeaders,
) -> Result<Response, Error> {
    let throttle = Throttle::check(&state, ip)?;
    let presented = header(&headers, "x-api-key").or_else(|| header(&headers, "magento-api-key"));
    let Some(presented) = presented else {
        throttle.count(&state, false).await;
        return Err(Error::unauthorized(
            "invalid",
            "Send the key in the x-api-key header.",
        ));
    };
    let token = header(&headers, "x-gw-signature");
    let outcome = state.verifier.verify_signed(presented, token).await?;
    throttle
        .count(&state, matches!(outcome, PingOutcome::Ok { .. }))
        .await;
    match outcome {
        PingOutcome::Ok { expires_at } => Ok(Json(PingAnswer {
            valid: true,
            status: Status::Valid,
            expires_at: expires_at.map(web::clock::rfc3339),
        })
        .into_response()),
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
    use super::{ip_text, GatewayAnswer, Status, VerifyAnswer, GATEWAY_VALID};

    #[test]
    fn ip_text_is_the_address_as_displayed() {
        let mut addrs: Vec<std::net::IpAddr> = vec![
            "0.0.0.0".parse().unwrap(),
            "255.255.255.255".parse().unwrap(),
            "10.0.100.9".parse().unwrap(),
            "::1".parse().unwrap(),
            "ffff:ffff:ffff:ffff:ffff:ffff:255.255.255.255"
                .parse()
                .unwrap(),
            "2001:db8::ff00:42:8329".parse().unwrap(),
        ];
        // Every octet value in every place, and a sweep over the whole range.
        for v in 0..=255u8 {
            addrs.push(std::net::Ipv4Addr::new(v, 255 - v, v / 3, v).into());
        }
        for x in (0..=u32::MAX).step_by(429_497) {
            addrs.push(std::net::Ipv4Addr::from(x).into());
        }
        for ip in addrs {
            let mut out = [0u8; 48];
            let n = ip_text(ip, &mut out);
            assert_eq!(std::str::from_utf8(&out[..n]), Ok(ip.to_string().as_str()));
        }
    }

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
