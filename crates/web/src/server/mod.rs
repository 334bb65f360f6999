//! Serving a router: our own accept loop over hyper, so that slow clients are
//! cut off (a header read deadline, which `axum::serve` does not set) and
//! shutdown is graceful (in-flight requests finish, then the loop returns).
//!
//! The header read deadline is a watchdog per connection ([`watchdog`]), not
//! hyper's `header_read_timeout`: hyper's allocates a timer, registers it in
//! the runtime's timer wheel and removes it again for every request, which
//! cost more than the rest of a store's key check. The watchdog counts the
//! requests a connection begins and finishes (two counters) and looks at
//! them a few times per deadline.

#[cfg(test)]
mod tests;
mod watchdog;

use std::convert::Infallible;
use std::future::Future;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use axum::body::Body;
use axum::extract::{ConnectInfo, Request};
use axum::response::Response;
use axum::Router;
use hyper::body::Incoming;
use hyper_util::rt::TokioIo;
use tokio::net::TcpListener;
use tokio::sync::{watch, Semaphore};
use tower::util::Oneshot;
use tower::ServiceExt;

use self::watchdog::{watchdog, Activity, Watched};

/// An app as served ([`serve`]): a tower service (a router, or
/// a router in the edge's layers) that also makes the service of each
/// connection, which knows the client's address.
pub trait App:
    tower::Service<Request, Response = Response, Error = Infallible, Future: Send + 'static>
    + Clone
    + Send
    + Sync
    + 'static
{
    /// hyper's service for one connection.
    type Connection: hyper::service::Service<
            hyper::Request<Incoming>,
            Response = Response,
            Error = Infallible,
            Future: Send + 'static,
        > + Send
        + 'static;

    /// The service of the connection from `peer`.
    fn connection(&self, peer: SocketAddr) -> Self::Connection;
}

/// A plain router (the metrics endpoint, tests): each request gets the
/// peer's address as `ConnectInfo`.
impl App for Router {
    type Connection = PeerRouter;

    fn connection(&self, peer: SocketAddr) -> PeerRouter {
        PeerRouter {
            router: self.clone(),
            peer,
        }
    }
}

/// A router serving one connection.
pub struct PeerRouter {
    router: Router,
    peer: SocketAddr,
}

impl hyper::service::Service<hyper::Request<Incoming>> for PeerRouter {
    type Response = Response;
    type Error = Infallible;
    type Future = Oneshot<Router, Request>;

    fn call(&self, req: hyper::Request<Incoming>) -> Self::Future {
        let mut req = req.map(Body::new);
        req.extensions_mut().insert(ConnectInfo(self.peer));
        self.router.clone().oneshot(req)
    }
}

/// A client must send a request's headers within this time (slowloris): a
/// connection with no request in flight that has not begun or finished one
/// for this long is closed (within half as long again, see [`watchdog`]).
pub const HEADER_READ_TIMEOUT: Duration = Duration::from_secs(10);

/// Binds `addr` (port 0 picks a free port) and reports the address bound.
pub async fn bind(addr: &str) -> std::io::Result<(TcpListener, SocketAddr)> {
    let listener = TcpListener::bind(addr).await?;
    let local = listener.local_addr()?;
    Ok((listener, local))
}

/// The most a request's head (request line and headers) may take: a larger
/// one is answered 431 and the connection closed. Each connection's read
/// buffer grows only to this, so memory per connection is bounded.
pub const MAX_REQUEST_HEAD: usize = 32 * 1024;

/// The most connections one app serves at once; further clients wait in
/// the kernel's accept queue until one ends.
pub const MAX_CONNECTIONS: usize = 4096;

/// Serves `app` (a router, or a router in `web::edge::stack`) until
/// `shutdown` resolves, then lets in-flight requests finish.
pub async fn serve(
    listener: TcpListener,
    app: impl App,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    serve_with(listener, app, shutdown, HEADER_READ_TIMEOUT).await
}

/// `serve` with a chosen header read deadline (tests use a short one).
pub async fn serve_with(
    listener: TcpListener,
    app: impl App,
    shutdown: impl Future<Output = ()> + Send + 'static,
    header_read_timeout: Duration,
) -> std::io::Result<()> {
    serve_limited(
        listener,
        app,
        shutdown,
        header_read_timeout,
        MAX_CONNECTIONS,
    )
    .await
}

/// `serve_with` with a chosen cap on connections at once (tests use a small one).
pub async fn serve_limited(
    listener: TcpListener,
    app: impl App,
    shutdown: impl Future<Output = ()> + Send + 'static,
    header_read_timeout: Duration,
    max_connections: usize,
) -> std::io::Result<()> {
    let (stop_tx, stop_rx) = watch::channel(false);
    // Each connection holds a receiver; when all are dropped, all connections are done.
    let (done_tx, done_rx) = watch::channel(());
    let slots = Arc::new(Semaphore::new(max_connections));
    tokio::pin!(shutdown);
    loop {
        // A free slot first: at the cap, clients wait in the accept queue.
        let slot = tokio::select! {
            slot = slots.clone().acquire_owned() => match slot {
                Ok(s) => s,
                Err(_) => break,
            },
            () = &mut shutdown => break,
        };
        let (stream, peer) = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok(a) => a,
                Err(e) => {
                    // Out of file descriptors and the like: back off instead of spinning.
                    tracing::warn!(error = %e, "accept failed");
                    tokio::time::sleep(Duration::from_millis(50)).await;
                    continue;
                }
            },
            () = &mut shutdown => break,
        };
        let _ = stream.set_nodelay(true);
        let activity = Arc::new(Activity::default());
        let service = Watched::new(app.connection(peer), activity.clone());
        let mut stop = stop_rx.clone();
        let done = done_rx.clone();
        tokio::spawn(async move {
            let conn = hyper::server::conn::http1::Builder::new()
                // hyper's own header read timeout is off (see the module's text).
                .header_read_timeout(None)
                .max_buf_size(MAX_REQUEST_HEAD)
                .serve_connection(TokioIo::new(stream), service);
            tokio::pin!(conn);
            let quiet = watchdog(&activity, header_read_timeout);
            tokio::pin!(quiet);
            tokio::select! {
                _ = conn.as_mut() => {}
                () = quiet.as_mut() => {}
                () = async { let _ = stop.wait_for(|s| *s).await; } => {
                    conn.as_mut().graceful_shutdown();
                    tokio::select! {
                        _ = conn.as_mut() => {}
                        () = quiet.as_mut() => {}
                    }
                }
            }
            drop(done);
            drop(slot);
        });
    }
    drop(listener);
    let _ = stop_tx.send(true);
    drop(done_rx);
    done_tx.closed().await;
    Ok(())
}
