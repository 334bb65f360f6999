//! DNS rebinding: a page on an attacker's domain that resolves to this
//! machine may send requests here with its own name in `Host`. Only the
//! addresses the server answers on (and the public URL's host) are served;
//! any other `Host` is refused in the route's format. Store verification
//! routes are exempt: stores reach the service by whatever name it has.

use std::net::SocketAddr;
use std::sync::Arc;

use axum::extract::{Request, State};
use axum::http::{header, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

use crate::Error;

/// The `Host` values (lower case, with port) a server answers to.
#[derive(Clone, Debug)]
pub struct AllowedHosts {
    names: Arc<Vec<String>>,
    /// Bound to every address (0.0.0.0 or [::]): any IP literal on this port.
    any_ip_port: Option<u16>,
}

impl AllowedHosts {
    /// The hosts of a server bound to `addr`, plus `public_url`'s host.
    pub fn new(addr: SocketAddr, public_url: Option<&str>) -> AllowedHosts {
        let port = addr.port();
        let mut names = Vec::new();
        let ip = addr.ip();
        if ip.is_loopback() || ip.is_unspecified() {
            names.push(format!("localhost:{port}"));
            names.push(format!("127.0.0.1:{port}"));
            names.push(format!("[::1]:{port}"));
        }
        if !ip.is_unspecified() {
            names.push(SocketAddr::new(ip, port).to_string());
        }
        if let Some(host) = public_url.and_then(url_host) {
            names.push(host.to_ascii_lowercase());
        }
        AllowedHosts {
            names: Arc::new(names),
            any_ip_port: ip.is_unspecified().then_some(port),
        }
    }

    pub fn allows(&self, host: &str) -> bool {
        // The names are lower case; compared without a lower-cased copy of
        // the header (no allocation per request).
        let host = host.trim();
        if self.names.iter().any(|n| n.eq_ignore_ascii_case(host)) {
            return true;
        }
        // A public URL's host may come without its default port.
        if self.names.iter().any(|n| {
            n.strip_suffix(":443")
                .or_else(|| n.strip_suffix(":80"))
                .is_some_and(|bare| bare.eq_ignore_ascii_case(host))
        }) {
            return true;
        }
        match self.any_ip_port {
            Some(port) => host.rsplit_once(':').is_some_and(|(ip, p)| {
                // Digits only: Rust's integer parse would also take a leading '+'.
                !p.starts_with('0')
                    && p.bytes().all(|b| b.is_ascii_digit())
                    && p.parse::<u16>() == Ok(port)
                    && ip
                        .trim_matches(|c| c == '[' || c == ']')
                        .parse::<std::net::IpAddr>()
                        .is_ok()
            }),
            None => false,
        }
    }
}

/// `https://accounts.example` → `accounts.example:443`.
fn url_host(url: &str) -> Option<String> {
    let (scheme, rest) = url.split_once("://")?;
    let authority = rest.split(['/', '?', '#']).next()?;
    if authority.is_empty() || authority.contains('@') {
        return None;
    }
    let has_port = authority
        .rsplit_once(':')
        .is_some_and(|(_, p)| p.bytes().all(|b| b.is_ascii_digit()))
        && !authority.ends_with(']');
    Some(if has_port {
        authority.to_owned()
    } else if scheme.eq_ignore_ascii_case("https") {
        format!("{authority}:443")
    } else {
        format!("{authority}:80")
    })
}

/// Routes any host may reach (stores verifying keys, health checks).
fn exempt(path: &str) -> bool {
    path.starts_with("/gateway/")
        || path.starts_with("/merchant-registry/")
        || path == "/api/v1/keys/verify"
        || path == "/healthz"
        || path == "/readyz"
}

/// The middleware: `axum::middleware::from_fn_with_state(allowed, hosts::check)`.
/// A request for another host is refused with a plain JSON error, whatever
/// its route: a rebinding page must learn nothing.
pub async fn check(State(allowed): State<AllowedHosts>, req: Request, next: Next) -> Response {
    if exempt(req.uri().path()) || allowed.allows_request(&req) {
        return next.run(req).await;
    }
    tracing::debug!("refused a request for an unknown host");
    let res = Error::new(
        StatusCode::MISDIRECTED_REQUEST,
        "unknown_host",
        "This server does not answer to this host name.",
    )
    .into_response();
    crate::error_format::with_request_id(res, crate::request_id::of_headers(req.headers()))
}

impl AllowedHosts {
    /// Whether the request's `Host` is allowed, and, for an absolute-form
    /// request (`GET http://other.example/ …`), the host its URI names too.
    fn allows_request(&self, req: &Request) -> bool {
        let host = req
            .headers()
            .get(header::HOST)
            .and_then(|v| v.to_str().ok())
            .unwrap_or("");
        self.allows(host)
            && req
                .uri()
                .authority()
                .is_none_or(|a| self.allows(a.as_str()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hosts() {
        let a = AllowedHosts::new(
            "127.0.0.1:8080".parse().unwrap(),
            Some("https://accounts.example"),
        );
        for ok in [
            "127.0.0.1:8080",
            "localhost:8080",
            "LOCALHOST:8080",
            "accounts.example",
            "accounts.example:443",
        ] {
            assert!(a.allows(ok), "{ok}");
        }
        for bad in ["evil.example:8080", "127.0.0.1:9090", "evil.example", ""] {
            assert!(!a.allows(bad), "{bad}");
        }
        let any = AllowedHosts::new("0.0.0.0:8080".parse().unwrap(), None);
        assert!(any.allows("192.0.2.7:8080"));
        assert!(any.allows("[2001:db8::1]:8080"));
        assert!(!any.allows("rebind.example:8080"));
        assert!(!any.allows("192.0.2.7:81"));
        // The port as written by a client, digits only.
        for bad in ["192.0.2.7:+8080", "192.0.2.7:08080", "192.0.2.7: 8080"] {
            assert!(!any.allows(bad), "{bad}");
        }
    }
}
