//! Serving: peer addresses, deadlines, bounds and pipelining.

use super::*;
use axum::routing::get;
use axum::Router;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::time::Instant;

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
