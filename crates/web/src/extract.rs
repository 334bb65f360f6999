//! Extractors whose rejections speak the JSON error format.

use axum::extract::{FromRequest, Request};
use axum::http::header;
use serde::de::DeserializeOwned;

use crate::error_text::PageKind;
use crate::Error;

/// Like `axum::Json`, but a bad body is a clear 4xx in our error format:
/// 415 without a JSON content type, 400 for broken JSON, 422 for wrong fields.
pub struct ApiJson<T>(pub T);

impl<S, T> FromRequest<S> for ApiJson<T>
where
    T: DeserializeOwned,
    S: Send + Sync,
{
    type Rejection = Error;

    async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
        let is_json = req
            .headers()
            .get(header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .is_some_and(|ct| {
                let mime = ct.split(';').next().unwrap_or("").trim();
                mime.eq_ignore_ascii_case("application/json")
            });
        if !is_json {
            return Err(Error::new(
                axum::http::StatusCode::UNSUPPORTED_MEDIA_TYPE,
                "unsupported_media_type",
                "Send the request body as JSON with Content-Type: application/json.",
            )
            .with_page(PageKind::BadRequest));
        }
        let bytes = axum::body::Bytes::from_request(req, state)
            .await
            .map_err(body_refusal)?;
        if bytes.is_empty() {
            return Err(Error::bad_request(
                "empty_body",
                "The request body is empty; send a JSON object.",
            ));
        }
        // `\u0000` is valid JSON but no text field may hold a NUL byte
        // (PostgreSQL cannot store one): refused here, for every route.
        if bytes.windows(6).any(|w| w == b"\\u0000") {
            return Err(Error::invalid_text());
        }
        let de = &mut serde_json::Deserializer::from_slice(&bytes);
        serde_path_to_error(de).map(ApiJson)
    }
}

fn serde_path_to_error<T: DeserializeOwned>(
    de: &mut serde_json::Deserializer<serde_json::de::SliceRead<'_>>,
) -> Result<T, Error> {
    match T::deserialize(&mut *de).and_then(|v| de.end().map(|()| v)) {
        Ok(v) => Ok(v),
        Err(e) => {
            use serde_json::error::Category;
            // serde_json quotes offending string values; a key sent in the wrong
            // field must not come back in the error, so quoted text is dropped.
            let msg = redact_quoted(&e.to_string());
            match e.classify() {
                Category::Data => Err(Error::unprocessable("invalid_field", msg)),
                Category::Syntax | Category::Eof | Category::Io => Err(Error::bad_request(
                    "malformed_json",
                    format!("The body is not valid JSON: {msg}"),
                )),
            }
        }
    }
}

fn redact_quoted(msg: &str) -> String {
    // serde names an unknown field in backticks: the name may be a key sent
    // as a field name, so it is dropped too (the expected names stay).
    let msg = match msg.strip_prefix("unknown field `") {
        Some(rest) => match rest.split_once('`') {
            Some((_, after)) => format!("unknown field{after}"),
            None => "unknown field".to_owned(),
        },
        None => msg.to_owned(),
    };
    let msg = msg.as_str();
    let mut out = String::with_capacity(msg.len());
    let mut inside = false;
    for c in msg.chars() {
        if c == '"' {
            if !inside {
                out.push_str("\"…\"");
            }
            inside = !inside;
        } else if !inside {
            out.push(c);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    #[test]
    fn quoted_values_are_dropped() {
        let m = super::redact_quoted(r#"invalid type: string "cmk_live_secret", expected u64"#);
        assert!(!m.contains("secret"));
        assert!(m.contains("expected u64"));
        let m = super::redact_quoted(
            "unknown field `cmk_live_secret`, expected `email` or `password` at line 1 column 20",
        );
        assert!(!m.contains("secret"), "{m}");
        assert!(m.starts_with("unknown field, expected `email`"), "{m}");
    }
}

/// The client's IP address, from the connection (0.0.0.0 when not served
/// with connect info, as in some tests). Proxies are not trusted: behind a
/// load balancer, terminate there and rate-limit there too.
#[derive(Clone, Copy, Debug)]
pub struct ClientIp(pub std::net::IpAddr);

impl<S: Send + Sync> axum::extract::FromRequestParts<S> for ClientIp {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(
        parts: &mut axum::http::request::Parts,
        _: &S,
    ) -> Result<Self, Self::Rejection> {
        Ok(ClientIp(ClientIp::of(&parts.extensions)))
    }
}

impl ClientIp {
    /// The address of a request with these extensions (unspecified when it
    /// has no connect info).
    pub fn of(extensions: &axum::http::Extensions) -> std::net::IpAddr {
        extensions
            .get::<axum::extract::ConnectInfo<std::net::SocketAddr>>()
            .map(|c| c.0.ip())
            .unwrap_or(std::net::IpAddr::V4(std::net::Ipv4Addr::UNSPECIFIED))
    }
}

/// An id in the path (`/api/v1/keys/{id}`): ids are short ASCII words
/// (`key_…`, `acct_…`, `inv_…`, tokens `id.mac`), so anything else (a NUL
/// byte, invalid UTF-8, a megabyte) is simply not found, before any lookup.
pub struct Id(pub String);

/// The longest id or link token a path may carry.
pub const MAX_ID: usize = 128;

pub fn is_id(s: &str) -> bool {
    !s.is_empty()
        && s.len() <= MAX_ID
        && s.bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-' || b == b'.')
}

impl<S: Send + Sync> axum::extract::FromRequestParts<S> for Id {
    type Rejection = Error;

    async fn from_request_parts(
        parts: &mut axum::http::request::Parts,
        state: &S,
    ) -> Result<Self, Self::Rejection> {
        let not_found = || Error::not_found("There is nothing with this id.");
        let axum::extract::Path(id) =
            axum::extract::Path::<String>::from_request_parts(parts, state)
                .await
                .map_err(|_| not_found())?;
        if is_id(&id) {
            Ok(Id(id))
        } else {
            Err(not_found())
        }
    }
}

#[cfg(test)]
mod id_tests {
    #[test]
    fn ids() {
        assert!(super::is_id("key_3kPq9"));
        assert!(super::is_id("inv_abc.DEF-1"));
        for bad in ["", "a\0b", "a/b", "ü", "a b", &"x".repeat(129)] {
            assert!(!super::is_id(bad), "{bad:?}");
        }
    }
}

/// A request body that could not be read: too large (413), or broken off (400).
pub fn body_refusal(e: axum::extract::rejection::BytesRejection) -> Error {
    if e.status() == axum::http::StatusCode::PAYLOAD_TOO_LARGE {
        Error::new(
            e.status(),
            "payload_too_large",
            "The request body is too large.",
        )
        .with_page(PageKind::BadRequest)
    } else {
        Error::bad_request("bad_body", "The request body could not be read.")
    }
}
