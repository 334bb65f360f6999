//! Cookies, sessions ids and CSRF tokens.
//!
//! Both apps run on one host, and browsers do not separate cookies by port, so
//! each app names its cookies with its own prefix.

use axum::http::{header, HeaderMap, HeaderValue};
use subtle::ConstantTimeEq;

/// Reads one cookie from the request headers.
pub fn get<'a>(headers: &'a HeaderMap, name: &str) -> Option<&'a str> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(k, _)| *k == name)
        .map(|(_, v)| v)
}

/// A `Set-Cookie` value: HttpOnly, SameSite=Lax, Path=/, and Secure when asked.
/// `max_age` of `None` makes a browser-session cookie; `Some(0)` deletes.
pub fn set(name: &str, value: &str, max_age: Option<i64>, secure: bool) -> HeaderValue {
    let mut s = format!("{name}={value}; Path=/; HttpOnly; SameSite=Lax");
    if let Some(age) = max_age {
        s.push_str(&format!("; Max-Age={age}"));
    }
    if secure {
        s.push_str("; Secure");
    }
    HeaderValue::from_str(&s).unwrap_or_else(|_| HeaderValue::from_static(""))
}

pub fn clear(name: &str, secure: bool) -> HeaderValue {
    set(name, "", Some(0), secure)
}

/// A new random token for session ids and CSRF (≈190 bits).
pub fn new_token() -> String {
    keys::random_base62(32)
}

/// Compares two tokens in constant time (their length is not secret); an
/// empty token matches nothing.
pub fn tokens_match(a: &str, b: &str) -> bool {
    // `ct_eq` is false for slices of different lengths.
    !a.is_empty() && bool::from(a.as_bytes().ct_eq(b.as_bytes()))
}

/// The name a session or CSRF cookie goes by: with `secure` (HTTPS) the
/// `__Host-` prefix, which browsers accept only from a secure origin, for
/// `Path=/` and without `Domain`, so a sibling subdomain cannot plant it.
pub fn host_only(name: &str, secure: bool) -> std::borrow::Cow<'_, str> {
    if secure {
        std::borrow::Cow::Owned(format!("__Host-{name}"))
    } else {
        std::borrow::Cow::Borrowed(name)
    }
}

/// True when there is no `Origin` header (not a browser, or same-origin GET)
/// or when its host:port equals the `Host` header and its scheme is the
/// site's: `https` when served over HTTPS (`secure`).
pub fn origin_matches_host(headers: &HeaderMap, secure: bool) -> bool {
    let Some(origin) = headers.get(header::ORIGIN).and_then(|v| v.to_str().ok()) else {
        return true;
    };
    let Some(host) = headers.get(header::HOST).and_then(|v| v.to_str().ok()) else {
        return false;
    };
    let origin_host = match origin.strip_prefix("https://") {
        Some(h) => h,
        None if secure => return false,
        None => origin.strip_prefix("http://").unwrap_or(""),
    };
    origin_host.eq_ignore_ascii_case(host)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_named_cookie_among_others() {
        let mut h = HeaderMap::new();
        h.insert(
            header::COOKIE,
            HeaderValue::from_static("a=1; acct_sid=xyz; b=2"),
        );
        assert_eq!(get(&h, "acct_sid"), Some("xyz"));
        assert_eq!(get(&h, "sid"), None);
    }

    #[test]
    fn cookie_attributes() {
        let v = set("acct_sid", "abc", Some(60), true);
        let s = v.to_str().unwrap();
        assert!(s.contains("HttpOnly") && s.contains("SameSite=Lax") && s.contains("Secure"));
        assert!(!set("x", "y", None, false)
            .to_str()
            .unwrap()
            .contains("Secure"));
    }

    #[test]
    fn token_compare() {
        assert!(tokens_match("abc", "abc"));
        assert!(!tokens_match("abc", "abd"));
        assert!(!tokens_match("", ""));
        assert!(!tokens_match("abc", "abcd"));
        assert!(!tokens_match("", "a"));
    }

    #[test]
    fn origin_check() {
        let mut h = HeaderMap::new();
        h.insert(header::HOST, HeaderValue::from_static("127.0.0.1:8080"));
        assert!(origin_matches_host(&h, false));
        h.insert(
            header::ORIGIN,
            HeaderValue::from_static("http://127.0.0.1:8080"),
        );
        assert!(origin_matches_host(&h, false));
        h.insert(
            header::ORIGIN,
            HeaderValue::from_static("http://evil.example"),
        );
        assert!(!origin_matches_host(&h, false));
        // Over HTTPS an http:// origin of the same host is another origin.
        h.insert(
            header::ORIGIN,
            HeaderValue::from_static("http://127.0.0.1:8080"),
        );
        assert!(!origin_matches_host(&h, true));
        h.insert(
            header::ORIGIN,
            HeaderValue::from_static("https://127.0.0.1:8080"),
        );
        assert!(origin_matches_host(&h, true));
        assert_eq!(host_only("acct_sid", true), "__Host-acct_sid");
        assert_eq!(host_only("acct_sid", false), "acct_sid");
    }
}
