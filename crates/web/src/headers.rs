//! Security headers and request limits, applied to every route of both apps.

use axum::http::{header, HeaderMap, HeaderName, HeaderValue};

/// Largest request body either app accepts.
pub const MAX_BODY: usize = 64 * 1024;

/// No inline script or style anywhere, so the policy can be strict.
pub const CSP: &str = "default-src 'self'; script-src 'self'; style-src 'self'; \
img-src 'self' data:; form-action 'self'; frame-ancestors 'none'; base-uri 'none'; object-src 'none'";

/// The policy of a JSON answer, which loads nothing and is never framed
/// (shorter and stricter than a page's, as OWASP's REST advice has it).
pub const API_CSP: &str = "default-src 'none'; frame-ancestors 'none'";

/// HSTS for sites served over HTTPS (`--secure-cookies`): a year.
pub const HSTS: &str = "max-age=31536000; includeSubDomains";

// The names and values as constants: made at compile time, not parsed and
// checked again on every answer.
const CSP_VALUE: HeaderValue = HeaderValue::from_static(CSP);
const API_CSP_VALUE: HeaderValue = HeaderValue::from_static(API_CSP);
const HSTS_VALUE: HeaderValue = HeaderValue::from_static(HSTS);
const NOSNIFF: HeaderValue = HeaderValue::from_static("nosniff");
const DENY: HeaderValue = HeaderValue::from_static("DENY");
const SAME_ORIGIN: HeaderValue = HeaderValue::from_static("same-origin");
const COOP: HeaderName = HeaderName::from_static("cross-origin-opener-policy");
const COOP_VALUE: HeaderValue = HeaderValue::from_static("same-origin-allow-popups");

/// The headers of a JSON answer as sent: the content type, the security
/// headers and a placeholder for the request id (so that setting the id
/// replaces it and a clone of this map never grows). Made once per app, for
/// the routes the edge answers itself (`web::edge::Direct`).
pub fn json_answer_headers(hsts: bool) -> HeaderMap {
    let mut h = HeaderMap::with_capacity(9);
    h.insert(header::CONTENT_TYPE, APPLICATION_JSON);
    h.insert(crate::request_id::HEADER, HeaderValue::from_static("-"));
    secure(&mut h, hsts);
    h
}

const APPLICATION_JSON: HeaderValue = HeaderValue::from_static("application/json");

/// Sets the security headers of an answer; `hsts` when served over HTTPS.
/// A JSON answer gets [`API_CSP`], any other [`CSP`]. The CSP and the Referrer-Policy only when the answer has none of its own
/// (a route may ask for a stricter one: the Amazon callback's no-referrer);
/// the others always.
pub fn secure(h: &mut HeaderMap, hsts: bool) {
    // One probe per header (the entry API), not a look and then an insert.
    let json = h
        .get(header::CONTENT_TYPE)
        .is_some_and(|v| v.as_bytes().starts_with(b"application/json"));
    h.entry(header::CONTENT_SECURITY_POLICY).or_insert(if json {
        API_CSP_VALUE
    } else {
        CSP_VALUE
    });
    h.insert(header::X_CONTENT_TYPE_OPTIONS, NOSNIFF);
    h.insert(header::X_FRAME_OPTIONS, DENY);
    h.entry(header::REFERRER_POLICY).or_insert(SAME_ORIGIN);
    h.insert(COOP, COOP_VALUE);
    if hsts {
        h.insert(header::STRICT_TRANSPORT_SECURITY, HSTS_VALUE);
    }
}
