//! The header read deadline of a connection: its requests counted as they
//! begin and finish ([`Watched`]), and a [`watchdog`] that looks at the
//! counts a few times per deadline (see `web::server`).

use std::future::Future;
use std::pin::Pin;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Duration;

use tokio::time::{Instant, MissedTickBehavior};

/// What one connection's requests have done: begun and finished, counted.
#[derive(Default)]
pub(super) struct Activity {
    begun: AtomicU64,
    finished: AtomicU64,
}

/// A connection's service, counting its requests for the [`watchdog`].
pub(super) struct Watched<C> {
    inner: C,
    activity: Arc<Activity>,
}

impl<C> Watched<C> {
    pub(super) fn new(inner: C, activity: Arc<Activity>) -> Self {
        Watched { inner, activity }
    }
}

impl<C, R> hyper::service::Service<R> for Watched<C>
where
    C: hyper::service::Service<R>,
{
    type Response = C::Response;
    type Error = C::Error;
    type Future = Counted<C::Future>;

    fn call(&self, req: R) -> Self::Future {
        self.activity.begun.fetch_add(1, Ordering::Relaxed);
        Counted {
            fut: self.inner.call(req),
            _finished: Finished(self.activity.clone()),
        }
    }
}

/// Counts its request as finished when dropped: answered, or abandoned.
pub(super) struct Finished(Arc<Activity>);

impl Drop for Finished {
    fn drop(&mut self) {
        self.0.finished.fetch_add(1, Ordering::Relaxed);
    }
}

pin_project_lite::pin_project! {
    /// A request's answer, counted as finished when it is dropped.
    pub(super) struct Counted<F> {
        #[pin]
        fut: F,
        _finished: Finished,
    }
}

impl<F: Future> Future for Counted<F> {
    type Output = F::Output;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<F::Output> {
        self.project().fut.poll(cx)
    }
}

/// Resolves when the connection has been quiet for `deadline`: no request in
/// flight, and none begun or finished. It looks every half deadline, so a
/// quiet connection is cut between one and one and a half deadlines after
/// its last request (or its opening); a request in flight, however long, is
/// never cut by it (the request's own deadline bounds that).
pub(super) async fn watchdog(activity: &Activity, deadline: Duration) {
    let period = deadline / 2;
    let mut tick = tokio::time::interval_at(Instant::now() + period, period);
    tick.set_missed_tick_behavior(MissedTickBehavior::Delay);
    let mut seen = (0, 0);
    let mut quiet = 0;
    loop {
        tick.tick().await;
        let now = (
            activity.begun.load(Ordering::Relaxed),
            activity.finished.load(Ordering::Relaxed),
        );
        if now != seen || now.0 != now.1 {
            seen = now;
            quiet = 0;
        } else {
            quiet += 1;
            if quiet == 2 {
                return;
            }
        }
    }
}
