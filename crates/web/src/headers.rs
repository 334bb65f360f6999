//! Security headers and request limits, applied to every route of both apps.

use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::Duration;

use axum::extract::DefaultBodyLimit;
use axum::http::{header, HeaderName, HeaderValue, Request, Response, StatusCode};
use axum::Router;
use tower_http::timeout::TimeoutLayer;

/// Largest request body either app accepts.
pub const MAX_BODY: usize = 64 * 1024;

/// No inline script or style anywhere, so the policy can be strict.
pub const CSP: &str = "default-src 'self'; script-src 'self'; style-src 'self'; \
img-src 'self' data:; form-action 'self'; frame-ancestors 'none'; base-uri 'none'; object-src 'none'";

/// HSTS for sites served over HTTPS (`--secure-cookies`): a year.
pub const HSTS: &str = "max-age=31536000; includeSubDomains";

/// Request limits: the body size and the whole request's deadline. Applied
/// inside the error middleware, so that their 413 and 408 answers are
/// reshaped into the route's format.
pub fn limit<S: Clone + Send + Sync + 'static>(router: Router<S>) -> Router<S> {
    router
        // Extractors refuse larger bodies with 413 (JSON routes in the JSON error format).
        .layer(DefaultBodyLimit::max(MAX_BODY))
        .layer(TimeoutLayer::with_status_code(
            StatusCode::REQUEST_TIMEOUT,
            Duration::from_secs(15),
        ))
}

/// The security headers of every answer; `hsts` when served over HTTPS.
pub fn secure(router: Router, hsts: bool) -> Router {
    router.layer(SecurityHeadersLayer { hsts })
}

/// Sets the security headers in one step per answer (one layer instead of a
/// layer per header: each layer is a service and a future per request).
/// The CSP is set only when the answer has none of its own; the others
/// always.
#[derive(Clone, Copy)]
pub struct SecurityHeadersLayer {
    pub hsts: bool,
}

impl<S> tower::Layer<S> for SecurityHeadersLayer {
    type Service = SecurityHeaders<S>;
    fn layer(&self, inner: S) -> SecurityHeaders<S> {
        SecurityHeaders {
            inner,
            hsts: self.hsts,
        }
    }
}

#[derive(Clone)]
pub struct SecurityHeaders<S> {
    inner: S,
    hsts: bool,
}

impl<S, B, ResBody> tower::Service<Request<B>> for SecurityHeaders<S>
where
    S: tower::Service<Request<B>, Response = Response<ResBody>>,
{
    type Response = S::Response;
    type Error = S::Error;
    type Future = WithHeaders<S::Future>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, req: Request<B>) -> Self::Future {
        WithHeaders {
            inner: self.inner.call(req),
            hsts: self.hsts,
        }
    }
}

pin_project_lite::pin_project! {
    pub struct WithHeaders<F> {
        #[pin]
        inner: F,
        hsts: bool,
    }
}

impl<F, ResBody, E> Future for WithHeaders<F>
where
    F: Future<Output = Result<Response<ResBody>, E>>,
{
    type Output = F::Output;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let this = self.project();
        let mut out = std::task::ready!(this.inner.poll(cx));
        if let Ok(res) = &mut out {
            let h = res.headers_mut();
            if !h.contains_key(header::CONTENT_SECURITY_POLICY) {
                h.insert(
                    header::CONTENT_SECURITY_POLICY,
                    HeaderValue::from_static(CSP),
                );
            }
            h.insert(
                header::X_CONTENT_TYPE_OPTIONS,
                HeaderValue::from_static("nosniff"),
            );
            h.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
            // A route may ask for a stricter policy (the Amazon callback: no-referrer).
            if !h.contains_key(header::REFERRER_POLICY) {
                h.insert(
                    header::REFERRER_POLICY,
                    HeaderValue::from_static("same-origin"),
                );
            }
            h.insert(
                HeaderName::from_static("cross-origin-opener-policy"),
                HeaderValue::from_static("same-origin-allow-popups"),
            );
            if *this.hsts {
                h.insert(
                    header::STRICT_TRANSPORT_SECURITY,
                    HeaderValue::from_static(HSTS),
                );
            }
        }
        Poll::Ready(out)
    }
}
