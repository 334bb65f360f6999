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

use std::convert::Infallible;
use std::future::Future;
use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Duration;

use axum::body::Body;
use axum::extract::{ConnectInfo, Request};
use axum::response::Response;
use axum::Router;
use hyper::body::Incoming;
use hyper_util::rt::TokioIo;
use tokio::net::TcpListener;
use tokio::sync::{watch, Semaphore};
use tokio::time::{Instant, MissedTickBehavior};
use tower::util::Oneshot;
use tower::ServiceExt;

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

/// What one connection's requests have done: begun and finished, counted.
#[derive(Default)]
struct Activity {
    begun: AtomicU64,
    finished: AtomicU64,
}

/// A connection's service, counting its requests for the [`watchdog`].
struct Watched<C> {
    inner: C,
    activity: Arc<Activity>,
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
struct Finished(Arc<Activity>);

impl Drop for Finished {
    fn drop(&mut self) {
        self.0.finished.fetch_add(1, Ordering::Relaxed);
    }
}

pin_project_lite::pin_project! {
    /// A request's answer, counted as finished when it is dropped.
    struct Counted<F> {
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
async fn watchdog(activity: &Activity, deadline: Duration) {
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
        let service = Watched {
            inner: app.connection(peer),
            activity: activity.clone(),
        };
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

#[cfg(test)]
mod tests {
    use super::*;
    use axum::routing::get;
    use axum::Router;
    use tokio::io::{AsyncReadExt, AsyncWriteExt};

    async fn start(
        header_timeout: Duration,
    ) -> (
        SocketAddr,
        tokio::sync::oneshot::Sender<()>,
        tokio::task::JoinHandle<std::io::Result<()>>,
    ) {
        let app = Router::new().route(
            "/ip",
            get(|ConnectInfo(peer): ConnectInfo<SocketAddr>| async move { peer.ip().to_string() }),
        );
        let (listener, addr) = bind("127.0.0.1:0").await.unwrap();
        let (tx, rx) = tokio::sync::oneshot::channel::<()>();
        let task = tokio::spawn(serve_with(
            listener,
            app,
            async {
                let _ = rx.await;
            },
            header_timeout,
        ));
        (addr, tx, task)
    }

    #[tokio::test]
    async fn answers_with_the_peer_address_and_stops_gracefully() {
        let (addr, tx, task) = start(Duration::from_secs(5)).await;
        let mut s = tokio::net::TcpStream::connect(addr).await.unwrap();
        s.write_all(b"GET /ip HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
            .await
            .unwrap();
        let mut out = String::new();
        s.read_to_string(&mut out).await.unwrap();
        assert!(out.starts_with("HTTP/1.1 200"), "{out}");
        assert!(out.ends_with("127.0.0.1"), "{out}");
        tx.send(()).unwrap();
        tokio::time::timeout(Duration::from_secs(5), task)
            .await
            .unwrap()
            .unwrap()
            .unwrap();
    }

    /// Serves `/slow` (answers after `slow`) and `/` with a header deadline `deadline`.
    async fn start_slow(deadline: Duration, slow: Duration) -> SocketAddr {
        let app = Router::new().route("/", get(|| async { "ok" })).route(
            "/slow",
            get(move || async move {
                tokio::time::sleep(slow).await;
                "slow"
            }),
        );
        let (listener, addr) = bind("127.0.0.1:0").await.unwrap();
        tokio::spawn(serve_with(listener, app, std::future::pending(), deadline));
        addr
    }

    /// Reads one answer with a body of `len` bytes.
    async fn read_answer(s: &mut tokio::net::TcpStream, body: &str) -> String {
        let mut out = Vec::new();
        let mut buf = [0u8; 1024];
        while !out.ends_with(body.as_bytes()) {
            let n = s.read(&mut buf).await.unwrap();
            assert!(n > 0, "closed early: {}", String::from_utf8_lossy(&out));
            out.extend_from_slice(&buf[..n]);
        }
        String::from_utf8(out).unwrap()
    }

    // The clock is tokio's, paused: it moves on only while every task waits.
    #[tokio::test(start_paused = true)]
    async fn a_request_in_flight_is_never_cut_and_a_quiet_connection_is() {
        let deadline = Duration::from_secs(10);
        let addr = start_slow(deadline, deadline * 5).await;
        let mut s = tokio::net::TcpStream::connect(addr).await.unwrap();
        let started = Instant::now();
        s.write_all(b"GET /slow HTTP/1.1\r\nHost: x\r\n\r\n")
            .await
            .unwrap();
        let out = read_answer(&mut s, "slow").await;
        assert!(out.starts_with("HTTP/1.1 200"), "{out}");
        assert!(started.elapsed() >= deadline * 5);

        // The same connection serves another request, then, quiet, is closed
        // between one and one and a half deadlines after its last answer.
        s.write_all(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n")
            .await
            .unwrap();
        read_answer(&mut s, "ok").await;
        let answered = Instant::now();
        let mut buf = [0u8; 64];
        assert_eq!(s.read(&mut buf).await.unwrap(), 0, "closed");
        let quiet = answered.elapsed();
        assert!(quiet >= deadline && quiet <= deadline * 3 / 2, "{quiet:?}");
    }

    #[tokio::test(start_paused = true)]
    async fn a_connection_that_sends_nothing_is_closed() {
        let deadline = Duration::from_secs(10);
        let addr = start_slow(deadline, deadline).await;
        let mut s = tokio::net::TcpStream::connect(addr).await.unwrap();
        let opened = Instant::now();
        let mut buf = [0u8; 64];
        assert_eq!(s.read(&mut buf).await.unwrap(), 0, "closed");
        let quiet = opened.elapsed();
        assert!(quiet >= deadline && quiet <= deadline * 3 / 2, "{quiet:?}");
    }

    /// A request head up to [`MAX_REQUEST_HEAD`] is served; a larger one is
    /// answered 431 and the connection closed, without reading the rest.
    #[tokio::test]
    async fn a_request_head_is_bounded() {
        let (addr, _tx, _task) = start(Duration::from_secs(5)).await;
        let head = |filler: usize| {
            format!(
                "GET /ip HTTP/1.1\r\nHost: x\r\nX-Filler: {}\r\nConnection: close\r\n\r\n",
                "a".repeat(filler)
            )
        };
        let mut s = tokio::net::TcpStream::connect(addr).await.unwrap();
        s.write_all(head(MAX_REQUEST_HEAD - 1024).as_bytes())
            .await
            .unwrap();
        let mut out = String::new();
        s.read_to_string(&mut out).await.unwrap();
        assert!(out.starts_with("HTTP/1.1 200"), "{out}");

        let mut s = tokio::net::TcpStream::connect(addr).await.unwrap();
        // Far more than the cap, never finished: the server does not wait for it.
        let _ = s.write_all(head(10 * MAX_REQUEST_HEAD).as_bytes()).await;
        let mut out = Vec::new();
        let read = tokio::time::timeout(Duration::from_secs(5), s.read_to_end(&mut out)).await;
        assert!(read.is_ok(), "answered at once");
        let out = String::from_utf8_lossy(&out);
        assert!(out.starts_with("HTTP/1.1 431"), "{out}");
    }

    /// At the cap, a further client waits for a slot: it is served once
    /// another connection ends.
    #[tokio::test]
    async fn connections_at_once_are_capped() {
        let app = Router::new().route("/", get(|| async { "ok" }));
        let (listener, addr) = bind("127.0.0.1:0").await.unwrap();
        tokio::spawn(serve_limited(
            listener,
            app,
            std::future::pending(),
            Duration::from_secs(30),
            2,
        ));
        async fn ask(s: &mut tokio::net::TcpStream) -> String {
            s.write_all(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n")
                .await
                .unwrap();
            let mut buf = [0u8; 256];
            let n = s.read(&mut buf).await.unwrap();
            String::from_utf8_lossy(&buf[..n]).into_owned()
        }
        let mut first = tokio::net::TcpStream::connect(addr).await.unwrap();
        let mut second = tokio::net::TcpStream::connect(addr).await.unwrap();
        assert!(ask(&mut first).await.starts_with("HTTP/1.1 200"));
        assert!(ask(&mut second).await.starts_with("HTTP/1.1 200"));
        // A third: connected by the kernel, but not served while both stay open.
        let mut third = tokio::net::TcpStream::connect(addr).await.unwrap();
        third
            .write_all(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n")
            .await
            .unwrap();
        let mut buf = [0u8; 256];
        let waited = tokio::time::timeout(Duration::from_millis(300), third.read(&mut buf)).await;
        assert!(waited.is_err(), "not served at the cap");
        drop(first);
        let n = tokio::time::timeout(Duration::from_secs(5), third.read(&mut buf))
            .await
            .expect("served once a slot is free")
            .unwrap();
        assert!(String::from_utf8_lossy(&buf[..n]).starts_with("HTTP/1.1 200"));
    }

    /// Pipelined requests (sent before the first answer came), with bodies
    /// of a known length and chunked ones, are each answered, in order.
    #[tokio::test]
    async fn pipelined_requests_are_all_answered() {
        let app = Router::new()
            .route("/", get(|| async { "ok" }))
            .route(
                "/echo",
                axum::routing::post(|body: String| async move { body }),
            )
            .route("/ignore", axum::routing::post(|| async { "ignored" }));
        let (listener, addr) = bind("127.0.0.1:0").await.unwrap();
        tokio::spawn(serve_with(
            listener,
            app,
            std::future::pending(),
            Duration::from_secs(5),
        ));
        let mut s = tokio::net::TcpStream::connect(addr).await.unwrap();
        let mut all = Vec::new();
        for (i, path) in ["/echo", "/ignore", "/echo"].iter().enumerate() {
            all.extend_from_slice(
                format!("POST {path} HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nbody{i}\r\n0\r\n\r\n").as_bytes(),
            );
            all.extend_from_slice(
                format!("POST {path} HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\n\r\nlen-{i}")
                    .as_bytes(),
            );
        }
        all.extend_from_slice(b"GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
        s.write_all(&all).await.unwrap();
        let mut out = String::new();
        tokio::time::timeout(Duration::from_secs(5), s.read_to_string(&mut out))
            .await
            .expect("every answer, then the close")
            .unwrap();
        assert_eq!(out.matches("HTTP/1.1 200").count(), 7, "{out}");
        let order: Vec<usize> = ["body0", "len-0", "ignored", "body2", "len-2", "\r\n\r\nok"]
            .iter()
            .map(|w| out.find(w).unwrap_or_else(|| panic!("{w} in {out}")))
            .collect();
        assert!(order.windows(2).all(|w| w[0] < w[1]), "in order: {out}");
    }

    #[tokio::test]
    async fn a_client_that_never_finishes_its_headers_is_cut_off() {
        let (addr, tx, _task) = start(Duration::from_millis(300)).await;
        let mut s = tokio::net::TcpStream::connect(addr).await.unwrap();
        s.write_all(b"GET /ip HTTP/1.1\r\nHost: x\r\n")
            .await
            .unwrap();
        let mut buf = Vec::new();
        // The server closes the connection (possibly after a 408) well before 5 s.
        let read = tokio::time::timeout(Duration::from_secs(5), s.read_to_end(&mut buf)).await;
        assert!(read.is_ok(), "the slow client was never cut off");
        let _ = tx.send(());
    }
}
