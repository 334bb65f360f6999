//! Security headers and request limits, applied to every route of both apps.

use axum::http::{header, HeaderMap, HeaderName, HeaderValue};

/// Largest request body either app accepts.
pub const MAX_BODY: usize = 64 * 1024;

/// No inline script or style anywhere, so the policy can be strict.
pub const CSP: &str = "default-src 'self'; script-src 'self'; style-src 'self'; \
img-src 'self' data:; form-action 'self'; frame-ancestors 'none'; base-uri 'none'; object-src 'none'";

/// HSTS for sites served over HTTPS (`--secure-cookies`): a year.
pub const HSTS: &str = "max-age=31536000; includeSubDomains";

// The names and values as constants: made at compile time, not parsed and
// checked again on every answer.
const CSP_VALUE: HeaderValue = HeaderValue::from_static(CSP);
const HSTS_VALUE: HeaderValue = HeaderValue::from_static(HSTS);
const NOSNIFF: HeaderValue = HeaderValue::from_static("nosniff");
const DENY: HeaderValue = HeaderValue::from_static("DENY");
const SAME_ORIGIN: HeaderValue = HeaderValue::from_static("same-origin");
const COOP: HeaderName = HeaderName::from_static("cross-origin-opener-policy");
const COOP_VALUE: HeaderValue = HeaderValue::from_static("same-origin-allow-popups");

/// Sets the security headers of an answer; `hsts` when served over HTTPS.
/// The CSP and the Referrer-Policy only when the answer has none of its own
/// (a route may ask for a stricter one: the Amazon callback's no-referrer);
/// the others always.
pub fn secure(h: &mut HeaderMap, hsts: bool) {
    if !h.contains_key(header::CONTENT_SECURITY_POLICY) {
        h.insert(header::CONTENT_SECURITY_POLICY, CSP_VALUE);
    }
    h.insert(header::X_CONTENT_TYPE_OPTIONS, NOSNIFF);
    h.insert(header::X_FRAME_OPTIONS, DENY);
    if !h.contains_key(header::REFERRER_POLICY) {
        h.insert(header::REFERRER_POLICY, SAME_ORIGIN);
    }
    h.insert(COOP, COOP_VALUE);
    if hsts {
        h.insert(header::STRICT_TRANSPORT_SECURITY, HSTS_VALUE);
    }
}
