//! The edge of both apps: what every request passes through around its
//! route, in this order:
//!
//! 1. the request id and the log span, and on the way out the id and the
//!    security headers on the answer ([`Edge`]);
//! 2. the allowed-hosts check (DNS rebinding, `web::hosts`);
//! 3. the error middleware, which writes every error in the route's format
//!    (`web::error_pages`);
//! 4. the request's deadline (`web::timeout`) and the body limit;
//! 5. the router.
//!
//! One concrete tower stack around the router rather than `Router::layer`
//! calls: axum wraps each route in every such layer separately, and each
//! wrapping costs a boxed clone of the service and a boxed future per
//! request. Here the stack is built once per app and cloned once per
//! connection; only the route-template layers (metrics, the span's route)
//! stay inside the router, and only when they are on.

use std::convert::Infallible;
use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::Instant;

use axum::extract::{DefaultBodyLimit, Request};
use axum::http::HeaderValue;
use axum::response::Response;
use axum::Router;
use tower::ServiceBuilder;
use tracing::Span;

use crate::error_pages::{ErrorPages, ErrorPagesLayer};
use crate::headers::{self, MAX_BODY};
use crate::hosts::AllowedHosts;
use crate::request_id;
use crate::timeout::{TimeoutLayer, REQUEST_TIMEOUT};

/// An app as served: its router inside the edge's layers.
pub trait App:
    tower::Service<Request, Response = Response, Error = Infallible, Future: Send + 'static>
    + Clone
    + Send
    + Sync
    + 'static
{
}

impl<T> App for T where
    T: tower::Service<Request, Response = Response, Error = Infallible, Future: Send + 'static>
        + Clone
        + Send
        + Sync
        + 'static
{
}

/// Wraps the router of the app `name` (its state given) in the edge: `pages`
/// renders its error pages, `hosts` are the host names it answers to, `hsts`
/// when it is served over HTTPS.
pub fn stack<A: ErrorPages>(
    name: &'static str,
    router: Router,
    pages: A,
    hosts: AllowedHosts,
    hsts: bool,
) -> impl App {
    // Request counts and latency by route template, when metrics are on.
    let router = if crate::metrics::installed() {
        router.layer(crate::metrics::HttpMetricsLayer::new(name))
    } else {
        router
    };
    ServiceBuilder::new()
        .layer(EdgeLayer { hsts })
        .layer(hosts)
        .layer(ErrorPagesLayer::new(pages))
        .layer(TimeoutLayer::new(REQUEST_TIMEOUT))
        // Extractors refuse larger bodies with 413 (reshaped by the error middleware).
        .layer(DefaultBodyLimit::max(MAX_BODY))
        .service(request_id::record_routes(router))
}

/// The outermost layer (see the module's text).
#[derive(Clone, Copy, Debug)]
pub struct EdgeLayer {
    pub hsts: bool,
}

impl<S> tower::Layer<S> for EdgeLayer {
    type Service = Edge<S>;
    fn layer(&self, inner: S) -> Edge<S> {
        Edge {
            inner,
            hsts: self.hsts,
        }
    }
}

#[derive(Clone, Debug)]
pub struct Edge<S> {
    inner: S,
    hsts: bool,
}

impl<S> tower::Service<Request> for Edge<S>
where
    S: tower::Service<Request, Response = Response, Error = Infallible>,
{
    type Response = Response;
    type Error = Infallible;
    type Future = Answer<S::Future>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Infallible>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, mut req: Request) -> Self::Future {
        let id = request_id::assign(&mut req);
        let span = request_id::span(req.method(), &id);
        // The answer's line needs the start only when it is written.
        let started = (!span.is_disabled() && request_id::finished_enabled()).then(Instant::now);
        let inner = span.in_scope(|| self.inner.call(req));
        Answer {
            inner,
            span,
            id,
            hsts: self.hsts,
            started,
        }
    }
}

pin_project_lite::pin_project! {
    /// The route's answer, in the request's span, given its id and the
    /// security headers.
    pub struct Answer<F> {
        #[pin]
        inner: F,
        span: Span,
        id: HeaderValue,
        hsts: bool,
        started: Option<Instant>,
    }
}

impl<F> Future for Answer<F>
where
    F: Future<Output = Result<Response, Infallible>>,
{
    type Output = Result<Response, Infallible>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let this = self.project();
        let _entered = this.span.enter();
        let Ok(mut res) = std::task::ready!(this.inner.poll(cx));
        let h = res.headers_mut();
        if !h.contains_key(request_id::HEADER) {
            h.insert(request_id::HEADER, this.id.clone());
        }
        headers::secure(h, *this.hsts);
        if let Some(started) = this.started {
            request_id::finished(res.status().as_u16(), *started);
        }
        Poll::Ready(Ok(res))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::http::{header, StatusCode};
    use axum::routing::get;
    use tower::ServiceExt;

    #[derive(Clone)]
    struct Pages;

    impl ErrorPages for Pages {
        async fn error_page(
            &self,
            _: axum::http::HeaderMap,
            text: crate::page::ErrorText,
            status: StatusCode,
        ) -> Response {
            use axum::response::IntoResponse;
            (status, format!("page: {}", text.title)).into_response()
        }
    }

    fn app() -> impl App {
        let router = Router::new()
            .route("/ok", get(|| async { "ok" }))
            .route(
                "/own-policy",
                get(|| async { ([(header::REFERRER_POLICY, "no-referrer")], "ok") }),
            )
            .route(
                "/api/v1/echo",
                axum::routing::post(|body: String| async move { body }),
            );
        let hosts = AllowedHosts::new("127.0.0.1:8080".parse().expect("addr"), None);
        stack("unit", router, Pages, hosts, true)
    }

    fn get_req(path: &str) -> Request {
        Request::builder()
            .uri(path)
            .header(header::HOST, "127.0.0.1:8080")
            .body(axum::body::Body::empty())
            .expect("request")
    }

    #[tokio::test]
    async fn every_answer_gets_an_id_and_the_security_headers() {
        let res = app().oneshot(get_req("/ok")).await.unwrap();
        assert_eq!(res.status(), StatusCode::OK);
        let h = res.headers();
        assert_eq!(h["content-security-policy"], headers::CSP);
        assert_eq!(h["x-content-type-options"], "nosniff");
        assert_eq!(h["x-frame-options"], "DENY");
        assert_eq!(h["referrer-policy"], "same-origin");
        assert_eq!(h["strict-transport-security"], headers::HSTS);
        assert!(request_id::is_valid(h["x-request-id"].as_bytes()));

        // A route's own Referrer-Policy stands; a client's valid id comes back.
        let mut req = get_req("/own-policy");
        req.headers_mut()
            .insert(request_id::HEADER, HeaderValue::from_static("client-7"));
        let res = app().oneshot(req).await.unwrap();
        assert_eq!(res.headers()["referrer-policy"], "no-referrer");
        assert_eq!(res.headers()["x-request-id"], "client-7");
    }

    #[tokio::test]
    async fn errors_of_every_layer_are_reshaped_and_carry_the_id() {
        // Unknown route: the page, with the headers.
        let res = app().oneshot(get_req("/missing")).await.unwrap();
        assert_eq!(res.status(), StatusCode::NOT_FOUND);
        assert!(res.headers().contains_key("x-request-id"));
        assert_eq!(res.headers()["x-frame-options"], "DENY");

        // Another host: refused before routing.
        let mut req = get_req("/ok");
        req.headers_mut()
            .insert(header::HOST, HeaderValue::from_static("evil.example"));
        let res = app().oneshot(req).await.unwrap();
        assert_eq!(res.status(), StatusCode::MISDIRECTED_REQUEST);

        // A body over the limit on a JSON route: 413 in the JSON format, with the id.
        let req = Request::builder()
            .method("POST")
            .uri("/api/v1/echo")
            .header(header::HOST, "127.0.0.1:8080")
            .header(request_id::HEADER, "big-1")
            .body(axum::body::Body::from(vec![b'a'; MAX_BODY + 1]))
            .expect("request");
        let res = app().oneshot(req).await.unwrap();
        assert_eq!(res.status(), StatusCode::PAYLOAD_TOO_LARGE);
        let body = axum::body::to_bytes(res.into_body(), 1 << 16)
            .await
            .unwrap();
        let body: serde_json::Value = serde_json::from_slice(&body).unwrap();
        assert_eq!(body["error"]["request_id"], "big-1", "{body}");
    }
}
