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
//! Such a route says in its answer's type whether it is ready to send
//! ([`DirectAnswer`]); the edge finishes the others.
//!
//! One concrete tower stack around the router rather than `Router::layer`
//! calls: axum wraps each route in every such layer separately, and each
//! wrapping costs a boxed clone of the service and a boxed future per
//! request. Here the stack is built once per app, and a routed request
//! calls a clone of it (as hyper's tower adapter did); only the
//! route-template layers (metrics, the span's route) stay inside the
//! router, and only when they are on.
//!
//! Hand-written where a direct route passes (this first layer, the
//! deadline: their cost is measured per verification); the host check and
//! the error middleware, which only routed requests pass, are ordinary
//! `axum::middleware::from_fn` middleware.

mod answer;
#[cfg(test)]
mod tests;

use std::convert::Infallible;
use std::future::Future;
use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;
use std::task::{Context, Poll};

use axum::extract::{ConnectInfo, DefaultBodyLimit, Request};
use axum::http::{HeaderMap, Method, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Router;
use hyper::body::Incoming;
use tower::util::Oneshot;
use tower::{ServiceBuilder, ServiceExt};

pub use self::answer::Answer;
use self::answer::{started, Inner};
use crate::error_pages::ErrorPages;
use crate::extract::ClientIp;
use crate::headers::{self, MAX_BODY};
use crate::hosts::AllowedHosts;
use crate::metrics::RouteMetrics;
use crate::proxies::TrustedProxies;
use crate::request_id;
use crate::server::App;
use crate::timeout::{Deadline, Late, TimeoutLayer, REQUEST_TIMEOUT};

/// Routes the edge answers itself, before the router (see the module's text).
pub trait Direct: Clone + Send + Sync + 'static {
    type Future: Future<Output = DirectAnswer> + Send + 'static;

    /// Every template [`Direct::matches`] can return.
    fn templates(&self) -> &'static [&'static str];

    /// The route template of a request for one of these routes.
    fn matches(&self, method: &Method, path: &str) -> Option<&'static str>;

    /// The answer to a request [`Direct::matches`] took, from `client`.
    ///
    /// `headers` are the answer's headers, made by the edge: the JSON
    /// content type, the security headers and the request's id. An answer
    /// made on them is [`DirectAnswer::Ready`].
    fn call(
        &self,
        template: &'static str,
        req: Request,
        client: IpAddr,
        headers: HeaderMap,
    ) -> Self::Future;
}

/// A direct route's answer: ready to send, or to be finished by the edge.
#[derive(Debug)]
pub enum DirectAnswer {
    /// Made on the headers the edge gave ([`Direct::call`]): sent as it is,
    /// without a further look at its headers.
    Ready(Response),
    /// Any other answer (the route's errors: ours, `web::Error`, or bare
    /// statuses): the edge gives it the JSON error format with the request's
    /// id, and the security headers.
    Unfinished(Response),
}

/// A direct route not done within the request's deadline: a 408, finished
/// by the edge like any error.
impl Late for DirectAnswer {
    fn late() -> Self {
        DirectAnswer::Unfinished(StatusCode::REQUEST_TIMEOUT.into_response())
    }
}

/// No direct routes.
impl Direct for () {
    type Future = std::future::Ready<DirectAnswer>;

    fn templates(&self) -> &'static [&'static str] {
        &[]
    }

    fn matches(&self, _: &Method, _: &str) -> Option<&'static str> {
        None
    }

    fn call(&self, _: &'static str, _: Request, _: IpAddr, _: HeaderMap) -> Self::Future {
        std::future::ready(DirectAnswer::Unfinished(
            StatusCode::NOT_FOUND.into_response(),
        ))
    }
}

/// Wraps the router of the app `name` (its state given) in the edge: `pages`
/// renders its error pages, `hosts` are the host names it answers to, `hsts`
/// when it is served over HTTPS, `trusted` the proxies whose
/// `X-Forwarded-For` names the client, `direct` the routes answered before
/// the router.
pub fn stack<A: ErrorPages, D: Direct>(
    name: &'static str,
    router: Router,
    pages: A,
    hosts: AllowedHosts,
    hsts: bool,
    trusted: TrustedProxies,
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
            trusted,
            direct,
            metrics: direct_metrics,
            direct_headers: headers::json_answer_headers(hsts),
        })
        .layer(axum::middleware::from_fn_with_state(
            hosts,
            crate::hosts::check,
        ))
        .layer(axum::middleware::from_fn_with_state(
            pages,
            crate::error_pages::answer_errors::<A>,
        ))
        .layer(TimeoutLayer::new(REQUEST_TIMEOUT))
        // Extractors refuse larger bodies with 413 (reshaped by the error middleware).
        .layer(DefaultBodyLimit::max(MAX_BODY))
        .service(request_id::record_routes(router))
}

/// The outermost layer (see the module's text).
#[derive(Clone)]
pub struct EdgeLayer<D> {
    hsts: bool,
    trusted: TrustedProxies,
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
            trusted: self.trusted.clone(),
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
    /// Whose `X-Forwarded-For` names the client (see `crate::proxies`).
    trusted: TrustedProxies,
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
    /// The answer to `req`, from `peer` when served (else its `ConnectInfo`,
    /// if any). Behind a trusted proxy the client's address stands in for
    /// the peer's from here on: every throttle, allowed-IP check, session
    /// list and audit line reads it.
    fn answer(
        &self,
        req: Request,
        peer: Option<SocketAddr>,
    ) -> Answer<Oneshot<S, Request>, D::Future> {
        let peer = if self.trusted.is_empty() {
            peer
        } else {
            peer.or_else(|| {
                req.extensions()
                    .get::<ConnectInfo<SocketAddr>>()
                    .map(|c| c.0)
            })
            .map(|p| self.trusted.client(p, req.headers()))
        };
        match self.direct.matches(req.method(), req.uri().path()) {
            Some(template) => self.direct(template, req, peer),
            None => self.routed(req, peer),
        }
    }

    /// A request for the router, through every layer.
    fn routed(
        &self,
        mut req: Request,
        peer: Option<SocketAddr>,
    ) -> Answer<Oneshot<S, Request>, D::Future> {
        let id = request_id::assign(&mut req);
        let span = request_id::span(req.method(), &id);
        let started = started(&span);
        if let Some(peer) = peer {
            req.extensions_mut().insert(ConnectInfo(peer));
        }
        let fut = span.in_scope(|| self.inner.clone().oneshot(req));
        Answer::new(Inner::Routed { fut }, span, id, self.hsts, started, None)
    }

    /// A request for the direct route `template`, answered here.
    fn direct(
        &self,
        template: &'static str,
        req: Request,
        peer: Option<SocketAddr>,
    ) -> Answer<Oneshot<S, Request>, D::Future> {
        // A direct route reads no id from the request: it is not written there.
        let id = request_id::sent(req.headers()).unwrap_or_else(request_id::fresh);
        let span = request_id::span(req.method(), &id);
        let started = started(&span);
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
        Answer::new(Inner::Direct { fut }, span, id, self.hsts, started, timer)
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
