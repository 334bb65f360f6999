//! What the integration tests of every crate share.
//!
//! App-specific starters (the account service, the Admin, the binary) stay in
//! each crate's `tests/common`; this crate knows only `web`.

pub mod amazon;
mod browser;
mod http;

pub use browser::Browser;
pub use http::Resp;

use std::path::{Path, PathBuf};
use std::time::Duration;

use tempfile::TempDir;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

/// The two storage backends every storage test runs on.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

/// A fresh PostgreSQL database, dropped (`WITH (FORCE)`) when this value
/// goes, also when the test panics: a panicking test leaks nothing.
#[derive(Debug)]
pub struct PgDb {
    pub url: String,
}

impl PgDb {
    /// Creates a fresh database on `TEST_POSTGRES_URL`'s server.
    pub async fn fresh() -> PgDb {
        let url = web::db::fresh_postgres_url()
            .await
            .expect("a fresh PostgreSQL database (is PostgreSQL running on 127.0.0.1:5432?)");
        PgDb { url }
    }

    /// The database's name, the last segment of its URL.
    pub fn name(&self) -> &str {
        self.url.rsplit('/').next().unwrap_or_default()
    }
}

impl Drop for PgDb {
    fn drop(&mut self) {
        let url = self.url.clone();
        // Drop cannot await, and the test's runtime may be unwinding: a
        // thread with its own small runtime and its own connection does it.
        let _ = std::thread::spawn(move || {
            if let Ok(rt) = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
            {
                let _ = rt.block_on(web::db::drop_postgres_db(&url));
            }
        })
        .join();
    }
}

/// A fresh, empty database for one test: a SQLite file (named `file`) in a
/// temp dir, or a fresh PostgreSQL database; both go away on drop.
pub struct Scratch {
    pub backend: Backend,
    pub url: String,
    /// Always there: SQLite files, key files, anything else the test writes.
    pub dir: TempDir,
    /// The PostgreSQL database, dropped with this value.
    pub pg: Option<PgDb>,
}

impl Scratch {
    pub fn sqlite(file: &str) -> Scratch {
        let dir = tempfile::tempdir().expect("temp dir");
        let url = format!("sqlite://{}/{file}", dir.path().display());
        Scratch {
            backend: Backend::Sqlite,
            url,
            dir,
            pg: None,
        }
    }

    pub async fn postgres() -> Scratch {
        let pg = PgDb::fresh().await;
        Scratch {
            backend: Backend::Postgres,
            url: pg.url.clone(),
            dir: tempfile::tempdir().expect("temp dir"),
            pg: Some(pg),
        }
    }

    pub fn path(&self) -> &Path {
        self.dir.path()
    }
}

/// An HTTP client that does not follow redirects (tests look at them).
pub fn http_client() -> reqwest::Client {
    reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .expect("http client")
}

/// `http_client` with a whole-request timeout, for talking to a child process.
pub fn http_client_with_timeout(timeout: Duration) -> reqwest::Client {
    reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .timeout(timeout)
        .build()
        .expect("http client")
}

/// The value of cookie `name` among `Set-Cookie` headers.
pub fn set_cookie_value(headers: &reqwest::header::HeaderMap, name: &str) -> Option<String> {
    headers
        .get_all(reqwest::header::SET_COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .filter_map(|l| l.split(';').next())
        .filter_map(|p| p.split_once('='))
        .find(|(k, _)| k.trim() == name)
        .map(|(_, v)| v.trim().to_owned())
}

/// `text` as the pages' templates (askama) write it into HTML: the five
/// characters that need it as numeric character references.
pub fn html_escaped(text: &str) -> String {
    text.replace('&', "&#38;")
        .replace('<', "&#60;")
        .replace('>', "&#62;")
        .replace('"', "&#34;")
        .replace('\'', "&#39;")
}

/// True when `needle` occurs in `haystack`.
pub fn contains_bytes(haystack: &[u8], needle: &[u8]) -> bool {
    !needle.is_empty() && haystack.windows(needle.len()).any(|w| w == needle)
}

/// Every file under `dir`, recursively, with its bytes.
pub fn all_files(dir: &Path) -> Vec<(PathBuf, Vec<u8>)> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for entry in std::fs::read_dir(&d).expect("read dir") {
            let path = entry.expect("dir entry").path();
            if path.is_dir() {
                stack.push(path);
            } else {
                let bytes = std::fs::read(&path).expect("read file");
                out.push((path, bytes));
            }
        }
    }
    out
}

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
