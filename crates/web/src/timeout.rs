//! The whole request's deadline: an answer not ready within
//! [`REQUEST_TIMEOUT`] becomes a 408 (reshaped by the error middleware into
//! the route's format).
//!
//! Lazy: the timer is armed only when the route's future is still pending
//! after its first poll. A verification answered from the cache (the hot
//! path) finishes in that poll and never touches the runtime's timer wheel,
//! where a timer per request (register, then cancel) cost about as much as
//! the verification itself. The deadline counts from that first poll, which
//! follows the call at once.

use std::convert::Infallible;
use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::Duration;

use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use tokio::time::Sleep;

/// How long a request may take, headers read to answer ready.
pub const REQUEST_TIMEOUT: Duration = Duration::from_secs(15);

/// The layer: `TimeoutLayer::new(REQUEST_TIMEOUT)`.
#[derive(Clone, Copy, Debug)]
pub struct TimeoutLayer {
    after: Duration,
}

impl TimeoutLayer {
    pub fn new(after: Duration) -> Self {
        TimeoutLayer { after }
    }
}

impl<S> tower::Layer<S> for TimeoutLayer {
    type Service = Timeout<S>;
    fn layer(&self, inner: S) -> Timeout<S> {
        Timeout {
            inner,
            after: self.after,
        }
    }
}

#[derive(Clone, Debug)]
pub struct Timeout<S> {
    inner: S,
    after: Duration,
}

impl<S, R> tower::Service<R> for Timeout<S>
where
    S: tower::Service<R, Response = Response, Error = Infallible>,
{
    type Response = Response;
    type Error = Infallible;
    type Future = Deadline<S::Future>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Infallible>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, req: R) -> Self::Future {
        Deadline::new(self.inner.call(req), self.after)
    }
}

pin_project_lite::pin_project! {
    /// The route's answer, or a 408 when it is not ready in time.
    pub struct Deadline<F> {
        #[pin]
        inner: F,
        #[pin]
        sleep: Option<Sleep>,
        after: Duration,
    }
}

impl<F> Deadline<F> {
    /// `inner`, or a 408 when it is not ready `after` its first poll.
    pub fn new(inner: F, after: Duration) -> Self {
        Deadline {
            inner,
            sleep: None,
            after,
        }
    }
}

/// What a request's answer becomes when it is late: a 408.
pub trait Late {
    fn late() -> Self;
}

impl Late for Result<Response, Infallible> {
    fn late() -> Self {
        Ok(StatusCode::REQUEST_TIMEOUT.into_response())
    }
}

impl<F> Future for Deadline<F>
where
    F: Future<Output: Late>,
{
    type Output = F::Output;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let mut this = self.project();
        if let Poll::Ready(out) = this.inner.poll(cx) {
            return Poll::Ready(out);
        }
        if this.sleep.is_none() {
            this.sleep.set(Some(tokio::time::sleep(*this.after)));
        }
        match this.sleep.as_pin_mut().map(|s| s.poll(cx)) {
            Some(Poll::Ready(())) => Poll::Ready(Late::late()),
            _ => Poll::Pending,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use tower::{Layer, Service, ServiceExt};

    /// A route that answers 200 after `work` (at once when zero).
    fn route(
        work: Duration,
    ) -> Timeout<impl tower::Service<(), Response = Response, Error = Infallible> + Clone> {
        TimeoutLayer::new(REQUEST_TIMEOUT).layer(tower::service_fn(move |()| async move {
            if !work.is_zero() {
                tokio::time::sleep(work).await;
            }
            Ok::<_, Infallible>(StatusCode::OK.into_response())
        }))
    }

    #[tokio::test(start_paused = true)]
    async fn an_answer_in_time_passes_and_a_late_one_becomes_408() {
        let res = route(Duration::from_secs(14)).oneshot(()).await.unwrap();
        assert_eq!(res.status(), StatusCode::OK);

        let started = tokio::time::Instant::now();
        let res = route(Duration::from_secs(60)).oneshot(()).await.unwrap();
        assert_eq!(res.status(), StatusCode::REQUEST_TIMEOUT);
        assert_eq!(started.elapsed(), REQUEST_TIMEOUT);
    }

    #[tokio::test(start_paused = true)]
    async fn the_timer_is_armed_only_for_an_answer_not_ready_at_once() {
        let mut quick = route(Duration::ZERO);
        let mut fut = std::pin::pin!(quick.ready().await.unwrap().call(()));
        let first = std::future::poll_fn(|cx| Poll::Ready(fut.as_mut().poll(cx))).await;
        assert!(matches!(first, Poll::Ready(Ok(ref r)) if r.status() == StatusCode::OK));
        assert!(fut.sleep.is_none(), "a ready answer armed a timer");

        let mut slow = route(Duration::from_secs(1));
        let mut fut = std::pin::pin!(slow.ready().await.unwrap().call(()));
        let first = std::future::poll_fn(|cx| Poll::Ready(fut.as_mut().poll(cx))).await;
        assert!(first.is_pending());
        assert!(fut.sleep.is_some(), "a pending answer has no deadline");
        assert_eq!(fut.await.unwrap().status(), StatusCode::OK);
    }
}
