//! Misbehaving HTTP peers: a raw server that answers however the test likes.

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

/// A raw HTTP server on 127.0.0.1:0 for misbehaving peers: for every
/// connection it reads the request head, then hands the socket to `answer`.
/// Returns the server's base URL and its task.
pub async fn raw_server<F, Fut>(answer: F) -> (String, tokio::task::JoinHandle<()>)
where
    F: Fn(TcpStream) -> Fut + Send + Sync + 'static,
    Fut: std::future::Future<Output = ()> + Send + 'static,
{
    let listener = TcpListener::bind("127.0.0.1:0").await.expect("test setup");
    let url = format!("http://{}", listener.local_addr().expect("test setup"));
    let task = tokio::spawn(async move {
        while let Ok((mut socket, _)) = listener.accept().await {
            let mut buf = vec![0u8; 8192];
            let mut seen = Vec::new();
            let answered = answer_after_head(&mut socket, &mut buf, &mut seen).await;
            if answered {
                tokio::spawn(answer(socket));
            }
        }
    });
    (url, task)
}

async fn answer_after_head(socket: &mut TcpStream, buf: &mut [u8], seen: &mut Vec<u8>) -> bool {
    while !seen.windows(4).any(|w| w == b"\r\n\r\n") {
        match socket.read(buf).await {
            Ok(0) | Err(_) => return false,
            Ok(n) => seen.extend_from_slice(&buf[..n]),
        }
    }
    true
}

/// Answers 200 with a chunked JSON body of `chunk`-sized chunks of `fill`
/// that never ends (until the peer hangs up).
pub async fn write_endless_chunks(socket: &mut TcpStream, chunk: usize, fill: u8) {
    let head =
        "HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ntransfer-encoding: chunked\r\n\r\n";
    if socket.write_all(head.as_bytes()).await.is_err() {
        return;
    }
    let mut bytes = format!("{chunk:x}\r\n").into_bytes();
    bytes.extend(std::iter::repeat_n(fill, chunk));
    bytes.extend_from_slice(b"\r\n");
    while socket.write_all(&bytes).await.is_ok() {}
}
