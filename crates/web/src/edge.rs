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
//! A few hot routes ([`Direct`]: store verification) are answered by the
//! first layer itself, without the router and the page-oriented layers: they
//! keep the id, the span, the security headers, the deadline, the metrics
//! and JSON errors carrying the id, but skip routing, the error middleware's
//! set-up and the extensions the router adds to every request. Each is also
//! a route of the router, which answers it for other methods (HEAD, 405).
//!
//! One concrete tower stack around the router rather than `Router::layer`
//! calls: axum wraps each route in every such layer separately, and each
//! wrapping costs a boxed clone of the service and a boxed future per
//! request. Here the stack is built once per app, and a routed request
//! calls a clone of it (as hyper's tower adapter did); only the
//! route-template layers (metrics, the span's route) stay inside the
//! router, and only when they are on.

use std::convert::Infallible;
use std::future::Future;
use std::net::{IpAddr, SocketAddr};
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Instant;

use axum::extract::{ConnectInfo, DefaultBodyLimit, Request};
use axum::http::{HeaderMap, HeaderValue, Method};
use axum::response::{IntoResponse, Response};
use axum::Router;
use hyper::body::Incoming;
use tower::util::Oneshot;
use tower::{ServiceBuilder, ServiceExt};
use tracing::Span;

use crate::error_pages::{json_answer, ErrorPages, ErrorPagesLayer};
use crate::extract::ClientIp;
use crate::headers::{self, MAX_BODY};
use crate::hosts::AllowedHosts;
use crate::metrics::{RouteMetrics, RouteTimer};
use crate::request_id;
use crate::server::App;
use crate::timeout::{Deadline, TimeoutLayer, REQUEST_TIMEOUT};

/// Routes the edge answers itself, before the router (see the module's text).
pub trait Direct: Clone + Send + Sync + 'static {
    type Future: Future<Output = Result<Response, Infallible>> + Send + 'static;

    /// Every template [`Direct::matches`] can return.
    fn templates(&self) -> &'static [&'static str];

    /// The route template of a request for one of these routes.
    fn matches(&self, method: &Method, path: &str) -> Option<&'static str>;

    /// The answer to a request [`Direct::matches`] took, from `client`.
    ///
    /// `headers` are the answer's headers, made by the edge: the JSON
    /// content type, the security headers and the request's id. An answer
    /// with these headers is sent as it is. Any other answer (the route's
    /// errors: ours, `web::Error`, or bare statuses) is given the JSON error
    /// format with the request's id and the security headers by the edge.
    fn call(
        &self,
        template: &'static str,
        req: Request,
        client: IpAddr,
        headers: HeaderMap,
    ) -> Self::Future;
}

/// No direct routes.
impl Direct for () {
    type Future = std::future::Ready<Result<Response, Infallible>>;

    fn templates(&self) -> &'static [&'static str] {
        &[]
    }

    fn matches(&self, _: &Method, _: &str) -> Option<&'static str> {
        None
    }

    fn call(&self, _: &'static str, _: Request, _: IpAddr, _: HeaderMap) -> Self::Future {
        std::future::ready(Ok(axum::http::StatusCode::NOT_FOUND.into_response()))
    }
}

/// Wraps the router of the app `name` (its state given) in the edge: `pages`
/// renders its error pages, `hosts` are the host names it answers to, `hsts`
/// when it is served over HTTPS, `direct` the routes answered before the router.
pub fn stack<A: ErrorPages, D: Direct>(
    name: &'static str,
    router: Router,
    pages: A,
    hosts: AllowedHosts,
    hsts: bool,
    direct: D,
) -> impl App {
    // Request counts and latency by route template, when metrics are on.
    let metrics = crate::metrics::installed().then(|| crate::metrics::HttpMetricsLayer::new(name));
    let direct_metrics = metrics.as_ref().map(|layer| {
        direct
            .templates()
            .iter()
            .map(|&t| (t, layer.route(t)))
            .collect()
    });
    let router = match metrics {
        Some(layer) => router.layer(layer),
        None => router,
    };
    ServiceBuilder::new()
        .layer(EdgeLayer {
            hsts,
            direct,
            metrics: direct_metrics,
            direct_headers: headers::json_answer_headers(hsts),
        })
        .layer(hosts)
        .layer(ErrorPagesLayer::new(pages))
        .layer(TimeoutLayer::new(REQUEST_TIMEOUT))
        // Extractors refuse larger bodies with 413 (reshaped by the error middleware).
        .layer(DefaultBodyLimit::max(MAX_BODY))
        .service(request_id::record_routes(router))
}

/// The outermost layer (see the module's text).
#[derive(Clone)]
pub struct EdgeLayer<D> {
    hsts: bool,
    direct: D,
    metrics: DirectMetrics,
    direct_headers: HeaderMap,
}

/// The metrics of each direct route, by template, when metrics are on.
type DirectMetrics = Option<Arc<[(&'static str, RouteMetrics)]>>;

impl<S, D: Clone> tower::Layer<S> for EdgeLayer<D> {
    type Service = Edge<S, D>;
    fn layer(&self, inner: S) -> Edge<S, D> {
        Edge {
            inner,
            hsts: self.hsts,
            direct: self.direct.clone(),
            metrics: self.metrics.clone(),
            direct_headers: self.direct_headers.clone(),
        }
    }
}

#[derive(Clone)]
pub struct Edge<S, D> {
    inner: S,
    hsts: bool,
    direct: D,
    metrics: DirectMetrics,
    /// A direct route's answer headers, but for the id ([`Direct::call`]).
    direct_headers: HeaderMap,
}

impl<S, D> Edge<S, D>
where
    S: tower::Service<Request, Response = Response, Error = Infallible> + Clone,
    D: Direct,
{
    /// The answer to `req`, from `peer` when served (else its `ConnectInfo`, if any).
    fn answer(
        &self,
        mut req: Request,
        peer: Option<SocketAddr>,
    ) -> Answer<Oneshot<S, Request>, D::Future> {
        let direct = self.direct.matches(req.method(), req.uri().path());
        // A direct route reads no id from the request: it is not written there.
        let id = match direct {
            Some(_) => request_id::sent(req.headers()).unwrap_or_else(request_id::fresh),
            None => request_id::assign(&mut req),
        };
        let span = request_id::span(req.method(), &id);
        // The answer's line needs the start only when it is written.
        let started = (!span.is_disabled() && request_id::finished_enabled()).then(Instant::now);
        let (inner, timer) = match direct {
            None => {
                if let Some(peer) = peer {
                    req.extensions_mut().insert(ConnectInfo(peer));
                }
                let fut = span.in_scope(|| self.inner.clone().oneshot(req));
                (Inner::Routed { fut }, None)
            }
            Some(template) => {
                if !span.is_disabled() {
                    span.record("route", template);
                }
                let timer = self.metrics.as_ref().and_then(|routes| {
                    let (_, route) = routes.iter().find(|(t, _)| *t == template)?;
                    Some(route.timer())
                });
                let client = peer.map_or_else(|| ClientIp::of(req.extensions()), |p| p.ip());
                let mut headers = self.direct_headers.clone();
                headers.insert(request_id::HEADER, id.clone());
                let fut = span.in_scope(|| self.direct.call(template, req, client, headers));
                let fut = Deadline::new(fut, REQUEST_TIMEOUT);
                (Inner::Direct { fut }, timer)
            }
        };
        Answer {
            inner,
            span,
            id,
            hsts: self.hsts,
            started,
            timer,
        }
    }
}

impl<S, D> tower::Service<Request> for Edge<S, D>
where
    S: tower::Service<Request, Response = Response, Error = Infallible> + Clone,
    D: Direct,
{
    type Response = Response;
    type Error = Infallible;
    type Future = Answer<Oneshot<S, Request>, D::Future>;

    fn poll_ready(&mut self, _: &mut Context<'_>) -> Poll<Result<(), Infallible>> {
        // Each routed request calls its own clone of the stack when it is ready.
        Poll::Ready(Ok(()))
    }

    fn call(&mut self, req: Request) -> Self::Future {
        self.answer(req, None)
    }
}

impl<S, D> App for Edge<S, D>
where
    S: tower::Service<Request, Response = Response, Error = Infallible, Future: Send + 'static>
        + Clone
        + Send
        + Sync
        + 'static,
    D: Direct,
{
    type Connection = EdgeConnection<S, D>;

    fn connection(&self, peer: SocketAddr) -> EdgeConnection<S, D> {
        EdgeConnection {
            edge: self.clone(),
            peer,
        }
    }
}

/// The edge serving one connection: hyper calls it by reference, so a
/// direct route clones nothing of the stack, and the peer's address needs
/// no extension on the request.
pub struct EdgeConnection<S, D> {
    edge: Edge<S, D>,
    peer: SocketAddr,
}

impl<S, D> hyper::service::Service<hyper::Request<Incoming>> for EdgeConnection<S, D>
where
    S: tower::Service<Request, Response = Response, Error = Infallible> + Clone,
    D: Direct,
{
    type Response = Response;
    type Error = Infallible;
    type Future = Answer<Oneshot<S, Request>, D::Future>;

    fn call(&self, req: hyper::Request<Incoming>) -> Self::Future {
        // A body that may go on is read to its end even when no one reads it
        // (`web::drain`): pipelined requests behind it are answered.
        self.edge
            .answer(req.map(crate::drain::body), Some(self.peer))
    }
}

pin_project_lite::pin_project! {
    /// The route's answer, in the request's span, given its id and the
    /// security headers.
    pub struct Answer<F, G> {
        #[pin]
        inner: Inner<F, G>,
        span: Span,
        id: HeaderValue,
        hsts: bool,
        started: Option<Instant>,
        timer: Option<RouteTimer>,
    }
}

pin_project_lite::pin_project! {
    #[project = InnerProj]
    enum Inner<F, G> {
        Routed { #[pin] fut: F },
        Direct { #[pin] fut: Deadline<G> },
    }
}

impl<F, G> Future for Answer<F, G>
where
    F: Future<Output = Result<Response, Infallible>>,
    G: Future<Output = Result<Response, Infallible>>,
{
    type Output = Result<Response, Infallible>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let this = self.project();
        let _entered = this.span.enter();
        let res = match this.inner.project() {
            InnerProj::Routed { fut } => {
                let Ok(res) = std::task::ready!(fut.poll(cx));
                secured(res, this.id, *this.hsts)
            }
            InnerProj::Direct { fut } => {
                let Ok(res) = std::task::ready!(fut.poll(cx));
                // Sent as it is when made with the headers the edge gave.
                if res.headers().contains_key(request_id::HEADER) {
                    res
                } else {
                    secured(json_answer(res, Some(this.id)), this.id, *this.hsts)
                }
            }
        };
        if let Some(timer) = this.timer {
            timer.done(res.status().as_u16());
        }
        if let Some(started) = this.started {
            request_id::finished(res.status().as_u16(), *started);
        }
        Poll::Ready(Ok(res))
    }
}

/// `res` with the request's id (unless it has one) and the security headers.
fn secured(mut res: Response, id: &HeaderValue, hsts: bool) -> Response {
    let h = res.headers_mut();
    h.entry(request_id::HEADER).or_insert_with(|| id.clone());
    headers::secure(h, hsts);
    res
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
        stack("unit", router, Pages, hosts, true, ())
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

    /// A direct route: `GET /direct` answers 200 for `?ok`, else our 401.
    #[derive(Clone)]
    struct TestDirect;

    impl Direct for TestDirect {
        type Future = std::future::Ready<Result<Response, Infallible>>;

        fn templates(&self) -> &'static [&'static str] {
            &["/direct"]
        }

        fn matches(&self, method: &Method, path: &str) -> Option<&'static str> {
            (*method == Method::GET && path == "/direct").then_some("/direct")
        }

        fn call(
            &self,
            _: &'static str,
            req: Request,
            client: IpAddr,
            headers: HeaderMap,
        ) -> Self::Future {
            let res = if req.uri().query() == Some("ok") {
                let mut res = Response::new(axum::body::Body::from(client.to_string()));
                *res.headers_mut() = headers;
                res
            } else {
                crate::Error::unauthorized("nope", "Not here.").into_response()
            };
            std::future::ready(Ok(res))
        }
    }

    #[tokio::test]
    async fn direct_routes_skip_the_router_and_keep_the_edge() {
        let router = Router::new().route("/ok", get(|| async { "ok" }));
        let hosts = AllowedHosts::new("127.0.0.1:8080".parse().expect("addr"), None);
        let app = stack("unit", router, Pages, hosts, false, TestDirect);

        // Not a route of the router, yet answered, with the edge's headers.
        let res = app.clone().oneshot(get_req("/direct?ok")).await.unwrap();
        assert_eq!(res.status(), StatusCode::OK);
        assert_eq!(res.headers()["content-security-policy"], headers::API_CSP);
        assert_eq!(res.headers()["x-frame-options"], "DENY");
        assert!(request_id::is_valid(
            res.headers()["x-request-id"].as_bytes()
        ));
        // Made on the edge's headers: exactly what a routed JSON answer gets.
        let mut routed = HeaderMap::new();
        routed.insert(
            header::CONTENT_TYPE,
            HeaderValue::from_static("application/json"),
        );
        routed.insert(request_id::HEADER, res.headers()["x-request-id"].clone());
        headers::secure(&mut routed, false);
        assert_eq!(res.headers(), &routed);
        let mut req = get_req("/direct?ok");
        req.headers_mut()
            .insert(request_id::HEADER, HeaderValue::from_static("direct-0"));
        let res = app.clone().oneshot(req).await.unwrap();
        assert_eq!(res.headers()["x-request-id"], "direct-0");

        // Its errors are JSON with the client's id; other methods go to the router.
        let mut req = get_req("/direct");
        req.headers_mut()
            .insert(request_id::HEADER, HeaderValue::from_static("direct-1"));
        let res = app.clone().oneshot(req).await.unwrap();
        assert_eq!(res.status(), StatusCode::UNAUTHORIZED);
        assert_eq!(res.headers()["x-request-id"], "direct-1");
        assert_eq!(res.headers()["content-security-policy"], headers::API_CSP);
        assert_eq!(res.headers()["x-frame-options"], "DENY");
        let body = axum::body::to_bytes(res.into_body(), 1 << 16)
            .await
            .unwrap();
        let body: serde_json::Value = serde_json::from_slice(&body).unwrap();
        assert_eq!(body["error"]["request_id"], "direct-1", "{body}");
        let mut req = get_req("/direct");
        *req.method_mut() = Method::POST;
        let res = app.oneshot(req).await.unwrap();
        assert_eq!(res.status(), StatusCode::NOT_FOUND);
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
