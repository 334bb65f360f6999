//! The edge's answer to one request: the route's, in the request's span,
//! with its id and the security headers ([`Answer`]).

use std::convert::Infallible;
use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::Instant;

use axum::http::HeaderValue;
use axum::response::Response;
use tracing::Span;

use super::DirectAnswer;
use crate::error_format::json_answer;
use crate::headers;
use crate::metrics::RouteTimer;
use crate::request_id;
use crate::timeout::Deadline;

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
    pub(super) enum Inner<F, G> {
        Routed { #[pin] fut: F },
        Direct { #[pin] fut: Deadline<G> },
    }
}

/// When the request began, if its answer's line will be written (the line
/// needs the start only then).
pub(super) fn started(span: &Span) -> Option<Instant> {
    (!span.is_disabled() && request_id::finished_enabled()).then(Instant::now)
}

impl<F, G> Answer<F, G> {
    pub(super) fn new(
        inner: Inner<F, G>,
        span: Span,
        id: HeaderValue,
        hsts: bool,
        started: Option<Instant>,
        timer: Option<RouteTimer>,
    ) -> Self {
        Answer {
            inner,
            span,
            id,
            hsts,
            started,
            timer,
        }
    }
}

impl<F, G> Future for Answer<F, G>
where
    F: Future<Output = Result<Response, Infallible>>,
    G: Future<Output = DirectAnswer>,
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
            InnerProj::Direct { fut } => match std::task::ready!(fut.poll(cx)) {
                DirectAnswer::Ready(res) => res,
                DirectAnswer::Unfinished(res) => {
                    secured(json_answer(res, Some(this.id)), this.id, *this.hsts)
                }
            },
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
