//! Request ids (SPEC §7): every request gets an `x-request-id`, kept when the
//! client sent a valid one (1–64 characters of `[A-Za-z0-9._-]`), else a
//! fresh random one; it is returned on the answer, recorded on the request's
//! log span (so every log line of the request carries it), written into JSON
//! errors by the error middleware, and forwarded by the Admin to the account
//! service.
//!
//! Set by the edge of each app (`web::edge`), before anything else runs.

use std::convert::Infallible;

use axum::extract::{FromRequestParts, MatchedPath, Request};
use axum::http::request::Parts;
use axum::http::{HeaderMap, HeaderName, HeaderValue, Method};
use axum::Router;
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

const BASE62: &[u8; 62] = b"0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";

/// A fresh id: 22 base62 characters. An id must be unique, not secret, so it
/// comes from a per-thread generator (fastrand's wyrand) rather than a
/// `getrandom` system call per request, which was 4 % of a request's CPU:
/// four 64-bit draws, each cut into six 10-bit parts mapped onto the
/// alphabet by a multiply-shift (about 5.9 bits of each part survive).
/// Its bytes are shared, not copied, by the header, the error middleware
/// and the answer (one allocation).
pub fn fresh() -> HeaderValue {
    let mut id = [0u8; FRESH_LEN];
    for chunk in id.chunks_mut(6) {
        let mut r = fastrand::u64(..);
        for b in chunk {
            *b = BASE62[(((r & 0x3ff) * 62) >> 10) as usize];
            r >>= 10;
        }
    }
    HeaderValue::from_maybe_shared(bytes::Bytes::from_owner(id))
        .unwrap_or_else(|_| HeaderValue::from_static("request"))
}

/// The client's id, when it sent exactly one and it is valid.
pub fn sent(headers: &HeaderMap) -> Option<HeaderValue> {
    let mut sent = headers.get_all(&HEADER).iter();
    match (sent.next(), sent.next()) {
        (Some(v), None) if is_valid(v.as_bytes()) => Some(v.clone()),
        _ => None,
    }
}

/// The request's id: the client's when it sent exactly one valid id, else a
/// fresh one, which replaces whatever it sent (hostile bytes are never
/// echoed or logged). Sets the header, where the layers and handlers read it
/// ([`of_headers`], [`ReqId`]).
pub fn assign<B>(req: &mut axum::http::Request<B>) -> HeaderValue {
    match sent(req.headers()) {
        Some(id) => id,
        None => {
            let id = fresh();
            req.headers_mut().insert(HEADER, id.clone());
            id
        }
    }
}

/// The request's span: method, request id and (recorded once routed, see
/// [`record_routes`]) the matched route template, never the raw path.
/// Disabled, and free, when the log filter leaves `info` spans out.
pub fn span(method: &Method, id: &HeaderValue) -> Span {
    tracing::info_span!(
        "request",
        method = %method,
        route = tracing::field::Empty,
        request_id = %id.to_str().unwrap_or("-"),
    )
}

/// Whether request spans are on (the log filter, read once when an app is built).
pub fn spans_enabled() -> bool {
    tracing::span_enabled!(Level::INFO)
}

/// Records each request's route template (`-` for the fallback) on its
/// span. Only when spans are on: otherwise the router gets no layer.
pub fn record_routes(router: Router) -> Router {
    if !spans_enabled() {
        return router;
    }
    router.layer(tower::util::MapRequestLayer::new(|req: Request| {
        let route = req
            .extensions()
            .get::<MatchedPath>()
            .map_or("-", MatchedPath::as_str);
        Span::current().record("route", tracing::field::display(route));
        req
    }))
}

/// The answer's log line (`debug`): status and latency.
pub fn finished(status: u16, started: std::time::Instant) {
    tracing::debug!(
        status,
        latency_ms = started.elapsed().as_secs_f64() * 1000.0,
        "finished processing request"
    );
}

/// Whether [`finished`] would write its line.
pub fn finished_enabled() -> bool {
    tracing::enabled!(Level::DEBUG)
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
        Ok(ReqId(of_headers(&parts.headers).cloned()))
    }
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
    fn invalid_or_repeated_ids_are_replaced() {
        let assigned = |vals: &[&str]| {
            let mut r = axum::http::Request::new(());
            for v in vals {
                r.headers_mut()
                    .append(HEADER, HeaderValue::from_str(v).unwrap());
            }
            let id = assign(&mut r);
            let sent: Vec<_> = r.headers().get_all(HEADER).iter().cloned().collect();
            assert_eq!(sent, std::slice::from_ref(&id), "one id on the request");
            assert_eq!(of_headers(r.headers()), Some(&id));
            id
        };
        assert_eq!(assigned(&["ok-1"]), "ok-1");
        for bad in [&["not ok"][..], &["a", "b"], &[]] {
            let id = assigned(bad);
            assert!(is_valid(id.as_bytes()), "{id:?}");
            assert_eq!(id.len(), FRESH_LEN, "{bad:?}");
        }
    }
}
