//! The answers of the verification routes, written directly: each is a
//! fixed text or made of fixed words and RFC 3339 times, so nothing needs
//! escaping and the hot path serializes nothing.

use axum::body::Body;
use axum::http::{header, HeaderMap, HeaderValue};
use axum::response::Response;
use serde::Serialize;
use utoipa::ToSchema;

use crate::api::openapi::Environment;
use crate::verify::{Status, Verdict};

/// A key's status. `environment` is left out for an unknown key,
/// `expires_at` for a key that does not expire, `signature_required` for a
/// key without a signing public key.
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
    /// `true` when the key was made with a signing key pair: its calls to the
    /// store routes (and the ping) must carry `x-gw-signature`, an RS256 JWT
    /// signed with the key's private key. Left out otherwise.
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    signature_required: bool,
    /// With `insufficient_scope`: the service asked for (`X-Service`) that
    /// the key may not be used for. Left out otherwise.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(pattern = "^[a-z][a-z0-9_]{0,63}$")]
    service: Option<String>,
}

/// The gateway check's answer when the key is valid: `{"valid": true}`.
#[derive(Serialize, ToSchema)]
pub struct GatewayAnswer {
    valid: bool,
}

/// The gateway's answer, written once (the hot path serializes nothing).
pub(super) const GATEWAY_VALID: &str = r#"{"valid":true}"#;

/// The signed ping's answer: a valid key, and when it expires (`null`: never).
#[derive(Serialize, ToSchema)]
pub struct PingAnswer {
    valid: bool,
    status: Status,
    #[schema(format = DateTime, required = true)]
    expires_at: Option<String>,
}

/// The headers of a JSON answer answered through the router (HEAD): the
/// edge adds the id and the security headers.
pub(super) fn json_headers() -> HeaderMap {
    let mut headers = HeaderMap::with_capacity(8);
    headers.insert(header::CONTENT_TYPE, APPLICATION_JSON);
    headers
}

const APPLICATION_JSON: HeaderValue = HeaderValue::from_static("application/json");

/// A JSON answer with `headers` ([`json_headers`], or the edge's own for a
/// route it answers itself, which then go out as they are).
pub(super) fn json(headers: HeaderMap, body: impl Into<Body>) -> Response {
    let mut res = Response::new(body.into());
    *res.headers_mut() = headers;
    res
}

/// The answers for a valid key that does not expire (most keys), written once.
const VALID_PRODUCTION: &str = r#"{"valid":true,"status":"valid","environment":"production"}"#;
const VALID_SANDBOX: &str = r#"{"valid":true,"status":"valid","environment":"sandbox"}"#;

impl VerifyAnswer {
    /// The answer on a verdict; `service` is the `X-Service` name asked for.
    pub(super) fn of(verdict: &Verdict, service: Option<&str>) -> VerifyAnswer {
        let known = verdict.status != Status::Invalid;
        VerifyAnswer {
            valid: verdict.status == Status::Valid,
            status: verdict.status,
            environment: verdict.environment.filter(|_| known).map(|e| e.as_str()),
            expires_at: verdict.expires_at.map(web::clock::rfc3339),
            signature_required: known && verdict.public_key.is_some(),
            service: service
                .filter(|_| verdict.status == Status::InsufficientScope)
                .map(str::to_owned),
        }
    }

    /// The answer's body: a constant for a valid key without expiry, else
    /// [`VerifyAnswer::to_json`].
    pub(super) fn body(&self) -> Body {
        match (
            self.valid,
            self.environment,
            &self.expires_at,
            self.signature_required,
        ) {
            (true, Some("production"), None, false) => Body::from(VALID_PRODUCTION),
            (true, Some("sandbox"), None, false) => Body::from(VALID_SANDBOX),
            _ => Body::from(self.to_json()),
        }
    }

    /// The hot path's answer, written directly: every part is a fixed word,
    /// an RFC 3339 time or a service name (`a-z`, `0-9`, `_` only), so
    /// nothing needs escaping (and serde is not needed).
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
        let signed = if self.signature_required {
            r#","signature_required":true"#
        } else {
            ""
        };
        let (svc_open, svc, svc_close) = match &self.service {
            Some(name) => (r#","service":""#, name.as_str(), "\""),
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
            signed,
            svc_open,
            svc,
            svc_close,
            "}",
        ]
        .concat()
    }
}

/// The answer to a valid signed ping ([`PingAnswer`]), written directly:
/// a constant for a key that does not expire.
pub(super) fn ping_body(expires_at: Option<i64>) -> Body {
    match expires_at {
        None => Body::from(PING_VALID),
        Some(at) => Body::from(format!(
            r#"{{"valid":true,"status":"valid","expires_at":"{}"}}"#,
            web::clock::rfc3339(at)
        )),
    }
}

const PING_VALID: &str = r#"{"valid":true,"status":"valid","expires_at":null}"#;

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn ping_answers_are_what_serialization_writes() {
        for expires_at in [None, Some(1_800_000_000)] {
            let body = axum::body::to_bytes(ping_body(expires_at), 1024)
                .await
                .unwrap();
            let serialized = serde_json::to_vec(&PingAnswer {
                valid: true,
                status: Status::Valid,
                expires_at: expires_at.map(web::clock::rfc3339),
            })
            .unwrap();
            assert_eq!(body, serialized);
        }
    }

    #[test]
    fn constant_answers_are_what_serialization_writes() {
        for (env, constant) in [("production", VALID_PRODUCTION), ("sandbox", VALID_SANDBOX)] {
            let a = VerifyAnswer {
                valid: true,
                status: Status::Valid,
                environment: Some(env),
                expires_at: None,
                signature_required: false,
                service: None,
            };
            assert_eq!(a.to_json(), constant);
            assert_eq!(serde_json::to_string(&a).unwrap(), constant);
        }
    }

    #[test]
    fn hand_written_json_is_json() {
        for signature_required in [false, true] {
            let a = VerifyAnswer {
                valid: true,
                status: Status::Valid,
                environment: Some("production"),
                expires_at: Some("2027-01-01T00:00:00Z".into()),
                signature_required,
                service: None,
            };
            assert_eq!(a.to_json(), serde_json::to_string(&a).unwrap());
        }
        let a = VerifyAnswer {
            valid: true,
            status: Status::Valid,
            environment: Some("production"),
            expires_at: None,
            signature_required: true,
            service: None,
        };
        let v: serde_json::Value = serde_json::from_str(&a.to_json()).unwrap();
        assert_eq!(v["signature_required"], true);
        assert_eq!(v, serde_json::to_value(&a).unwrap());
        // Exactly its length: the body takes the buffer without a copy.
        assert_eq!(a.to_json().capacity(), a.to_json().len());
        let b = VerifyAnswer {
            valid: false,
            status: Status::Invalid,
            environment: None,
            expires_at: None,
            signature_required: false,
            service: None,
        };
        let v: serde_json::Value = serde_json::from_str(&b.to_json()).unwrap();
        assert_eq!(v, serde_json::to_value(&b).unwrap());
        let c = VerifyAnswer {
            valid: false,
            status: Status::InsufficientScope,
            environment: Some("production"),
            expires_at: None,
            signature_required: false,
            service: Some("amazon_sales_channel".into()),
        };
        let v: serde_json::Value = serde_json::from_str(&c.to_json()).unwrap();
        assert_eq!(v["service"], "amazon_sales_channel");
        assert_eq!(v, serde_json::to_value(&c).unwrap());
        let g = serde_json::to_string(&GatewayAnswer { valid: true }).unwrap();
        assert_eq!(g, GATEWAY_VALID);
    }
}
