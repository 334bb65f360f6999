//! Request ids (SPEC §7): every request gets an `x-request-id`, kept when the
//! client sent a valid one (1–64 characters of `[A-Za-z0-9._-]`), else a
//! fresh random one; it is returned on the answer, recorded on the request's
//! log span (so every log line of the request carries it), written into JSON
//! errors by the error middleware, and forwarded by the Admin to the account
//! service.
//!
//! One `Router::layer` call of tower-http's layers, outermost on each app.

use std::convert::Infallible;

use axum::extract::{FromRequestParts, MatchedPath};
use axum::http::request::Parts;
use axum::http::{HeaderMap, HeaderName, HeaderValue, Request};
use axum::Router;
use tower::ServiceBuilder;
use tower_http::request_id::{
    MakeRequestId, PropagateRequestIdLayer, RequestId, SetRequestIdLayer,
};
use tower_http::trace::{DefaultOnResponse, TraceLayer};
use tracing::{Level, Span};

/// The header, on requests and answers.
pub const HEADER: HeaderName = HeaderName::from_static("x-request-id");

/// The longest id kept from a client.
pub const MAX_LEN: usize = 64;

/// The length of a fresh id (base62: about 131 bits).
pub const FRESH_LEN: usize = 22;

/// Whether a client's id is kept: 1–64 characters of `[A-Za-z0-9._-]`.
pub fn is_valid(id: &[u8]) -> bool {
    (1..=MAX_LEN).contains(&id.len())
        && id
            .iter()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'_' | b'-'))
}

/// Makes a fresh random id when the request carries no valid one.
#[derive(Clone, Copy, Debug, Default)]
pub struct MakeId;

impl MakeRequestId for MakeId {
    fn make_request_id<B>(&mut self, _req: &Request<B>) -> Option<RequestId> {
        Some(RequestId::new(fresh()))
    }
}

/// A fresh id: 22 base62 characters. An id must be unique, not secret, so it
/// comes from a per-thread generator (fastrand's wyrand) rather than a
/// `getrandom` system call per request, which was 4 % of a request's CPU.
pub fn fresh() -> HeaderValue {
    let mut id = [0u8; FRESH_LEN];
    for b in &mut id {
        // ASCII letters and digits: one byte each.
        *b = fastrand::alphanumeric() as u8;
    }
    HeaderValue::from_bytes(&id).unwrap_or_else(|_| HeaderValue::from_static("request"))
}

/// Drops a client's `x-request-id` that is not valid (or is sent twice), so
/// that a fresh one replaces it; hostile bytes are never echoed or logged.
fn drop_invalid<B>(mut req: Request<B>) -> Request<B> {
    let headers = req.headers_mut();
    let mut sent = headers.get_all(&HEADER).iter();
    let keep = match (sent.next(), sent.next()) {
        (None, _) => return req,
        (Some(v), None) => is_valid(v.as_bytes()),
        (Some(_), Some(_)) => false,
    };
    if !keep {
        headers.remove(&HEADER);
    }
    req
}

/// The request's span: method, matched route template (never the raw path)
/// and request id.
fn span<B>(req: &Request<B>) -> Span {
    let route = req
        .extensions()
        .get::<MatchedPath>()
        .map_or("-", MatchedPath::as_str);
    let id = req
        .extensions()
        .get::<RequestId>()
        .and_then(|id| id.header_value().to_str().ok())
        .unwrap_or("-");
    tracing::info_span!("request", method = %req.method(), route = %route, request_id = %id)
}

/// Sets, logs and returns the request id of every route of `router` (its
/// fallback included). Apply it last, so that it wraps every other layer.
pub fn layer(router: Router) -> Router {
    router.layer(
        ServiceBuilder::new()
            .map_request(drop_invalid)
            .layer(SetRequestIdLayer::new(HEADER, MakeId))
            .layer(PropagateRequestIdLayer::new(HEADER))
            .layer(
                TraceLayer::new_for_http()
                    .make_span_with(span)
                    .on_request(())
                    .on_response(DefaultOnResponse::new().level(Level::DEBUG))
                    .on_failure(()),
            ),
    )
}

/// The current request's id (none outside the layer), for handlers that pass
/// it on (the Admin's calls to the account service).
#[derive(Clone, Debug, Default)]
pub struct ReqId(pub Option<HeaderValue>);

impl ReqId {
    pub fn get(&self) -> Option<&HeaderValue> {
        self.0.as_ref()
    }
}

impl<S: Send + Sync> FromRequestParts<S> for ReqId {
    type Rejection = Infallible;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, Infallible> {
        Ok(ReqId(of_extensions(&parts.extensions).cloned()))
    }
}

/// The id the layer gave a request.
pub fn of_extensions(ext: &axum::http::Extensions) -> Option<&HeaderValue> {
    ext.get::<RequestId>().map(RequestId::header_value)
}

/// The id of a request from its headers (set by the layer), when valid.
pub fn of_headers(headers: &HeaderMap) -> Option<&HeaderValue> {
    headers.get(&HEADER).filter(|v| is_valid(v.as_bytes()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn valid_ids() {
        assert!(is_valid(b"abc-DEF_1.2"));
        assert!(is_valid(&[b'a'; 64]));
        assert!(!is_valid(&[b'a'; 65]));
        assert!(!is_valid(b""));
        for bad in [&b"a b"[..], b"a\"b", b"<script>", b"a/b", b"\xff", b"a\tb"] {
            assert!(!is_valid(bad), "{bad:?}");
        }
    }

    #[test]
    fn fresh_ids_are_valid_base62_and_distinct() {
        let ids: std::collections::HashSet<HeaderValue> = (0..10_000).map(|_| fresh()).collect();
        assert_eq!(ids.len(), 10_000);
        for id in &ids {
            assert_eq!(id.len(), FRESH_LEN);
            assert!(
                id.as_bytes().iter().all(u8::is_ascii_alphanumeric),
                "{id:?}"
            );
        }
        // From other threads too (each has a generator of its own).
        let other: Vec<HeaderValue> = (0..4)
            .map(|_| std::thread::spawn(fresh))
            .map(|t| t.join().unwrap())
            .collect();
        assert!(other.iter().all(|id| !ids.contains(id)));
        assert_eq!(
            other.iter().collect::<std::collections::HashSet<_>>().len(),
            4
        );
    }

    #[test]
    fn invalid_or_repeated_ids_are_dropped() {
        let req = |vals: &[&str]| {
            let mut r = Request::new(());
            for v in vals {
                r.headers_mut()
                    .append(HEADER, HeaderValue::from_str(v).unwrap());
            }
            drop_invalid(r).headers().get_all(HEADER).iter().count()
        };
        assert_eq!(req(&["ok-1"]), 1);
        assert_eq!(req(&["not ok"]), 0);
        assert_eq!(req(&["a", "b"]), 0);
        assert_eq!(req(&[]), 0);
        let fresh = MakeId.make_request_id(&Request::new(())).unwrap();
        assert!(is_valid(fresh.header_value().as_bytes()));
        assert_eq!(fresh.header_value().len(), FRESH_LEN);
    }
}
