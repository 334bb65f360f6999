//! Request bodies nobody read. hyper reads the next pipelined request only
//! once the previous one's body is read to its end; when a handler drops a
//! body it did not read (a store's check carrying a body it ignores,
//! answered from memory at once), hyper reads once more and, when the body
//! goes on, closes the connection, losing the requests behind it. A body
//! that may go on is wrapped in [`Drained`]: dropped unread, it is read to
//! its end (at most [`MAX_BODY`] bytes, within the request deadline) by a
//! task of its own, so the connection carries on.

use std::pin::Pin;
use std::task::{Context, Poll};

use axum::body::{Body, Bytes};
use hyper::body::{Body as _, Frame, Incoming, SizeHint};

use crate::headers::MAX_BODY;
use crate::timeout::REQUEST_TIMEOUT;

/// A request body that is read to its end when dropped unread.
pub struct Drained {
    inner: Option<Incoming>,
    ended: bool,
}

/// The body of a request as the apps see it: as it is when it is empty,
/// else [`Drained`].
pub fn body(incoming: Incoming) -> Body {
    if incoming.is_end_stream() {
        Body::new(incoming)
    } else {
        Body::new(Drained {
            inner: Some(incoming),
            ended: false,
        })
    }
}

impl hyper::body::Body for Drained {
    type Data = Bytes;
    type Error = hyper::Error;

    fn poll_frame(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, hyper::Error>>> {
        let this = self.get_mut();
        let Some(inner) = this.inner.as_mut() else {
            return Poll::Ready(None);
        };
        let polled = Pin::new(inner).poll_frame(cx);
        if matches!(polled, Poll::Ready(None)) {
            this.ended = true;
        }
        polled
    }

    fn is_end_stream(&self) -> bool {
        self.ended || self.inner.as_ref().is_none_or(Incoming::is_end_stream)
    }

    fn size_hint(&self) -> SizeHint {
        self.inner
            .as_ref()
            .map_or_else(|| SizeHint::with_exact(0), Incoming::size_hint)
    }
}

impl Drop for Drained {
    fn drop(&mut self) {
        let Some(rest) = self.inner.take() else {
            return;
        };
        if self.ended || rest.is_end_stream() {
            return;
        }
        if let Ok(runtime) = tokio::runtime::Handle::try_current() {
            runtime.spawn(async move {
                let read = axum::body::to_bytes(Body::new(rest), MAX_BODY);
                let _ = tokio::time::timeout(REQUEST_TIMEOUT, read).await;
            });
        }
    }
}
