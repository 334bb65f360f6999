//! DNS rebinding: a page on an attacker's domain that resolves to this
//! machine may send requests here with its own name in `Host`. Only the
//! addresses the server answers on (and the public URL's host) are served;
//! any other `Host` is refused in the route's format. Store verification
//! routes are exempt: stores reach the service by whatever name it has.

use std::convert::Infallible;
use std::future::Future;
use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};

use axum::extract::Request;
use axum::http::{header, StatusCode};
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

/// The middleware, as a layer: `.layer(allowed)`. A tower service rather
/// than `axum::middleware::from_fn`: an allowed request goes on without a
/// boxed future.
impl<S> tower::Layer<S> for AllowedHosts {
    type Service = HostCheck<S>;
    fn layer(&self, inner: S) -> HostCheck<S> {
        HostCheck {
            allowed: self.clone(),
            inner,
        }
    }
}

#[derive(Clone)]
pub struct HostCheck<S> {
    allowed: AllowedHosts,
    inner: S,
}

impl<S> tower::Service<Request> for HostCheck<S>
where
    S: tower::Service<Request, Response = Response, Error = Infallible>,
{
    type Response = Response;
    type Error = Infallible;
    type Future = Checked<S::Future>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Infallible>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, req: Request) -> Self::Future {
        let host = req
            .headers()
            .get(header::HOST)
            .and_then(|v| v.to_str().ok())
            .unwrap_or("");
        // An absolute-form request (`GET http://other.example/ …`) names its
        // host in the URI too: that one must be allowed as well.
        let allowed = || {
            self.allowed.allows(host)
                && req
                    .uri()
                    .authority()
                    .is_none_or(|a| self.allowed.allows(a.as_str()))
        };
        if exempt(req.uri().path()) || allowed() {
            return Checked::Allowed {
                fut: self.inner.call(req),
            };
        }
        tracing::debug!("refused a request for an unknown host");
        // Plain JSON error for every route: a rebinding page must learn nothing.
        let res = Error::new(
            StatusCode::MISDIRECTED_REQUEST,
            "unknown_host",
            "This server does not answer to this host name.",
        )
        .into_response();
        let id = crate::request_id::of_headers(req.headers());
        Checked::Refused {
            res: Some(crate::error_pages::with_request_id(res, id)),
        }
    }
}

pin_project_lite::pin_project! {
    #[project = CheckedProj]
    pub enum Checked<F> {
        Allowed { #[pin] fut: F },
        Refused { res: Option<Response> },
    }
}

impl<F: Future<Output = Result<Response, Infallible>>> Future for Checked<F> {
    type Output = Result<Response, Infallible>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        match self.project() {
            CheckedProj::Allowed { fut } => fut.poll(cx),
            CheckedProj::Refused { res } => Poll::Ready(Ok(res
                .take()
                .unwrap_or_else(|| StatusCode::MISDIRECTED_REQUEST.into_response()))),
        }
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
