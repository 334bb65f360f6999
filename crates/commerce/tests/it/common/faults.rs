//! Helpers of the fault and leak tests: a `commerce` process whose every byte
//! of output is kept and that can be sent any signal, and a raw HTTP/1.1
//! request that can be held half-sent.
//!
//! `common::faults`: used by `faults_signals.rs`, `leaks.rs`, `request_id.rs` and
//! the separate `faults` binary (tests/faults.rs).

#![allow(dead_code)]

use std::path::Path;
use std::process::Stdio;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use tokio::io::{AsyncRead, AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio::process::Child;

const ACCOUNT: &[&str] = &["serve", "account", "--account-addr", "127.0.0.1:0"];
const READY: &str = "Account service: ";

/// `commerce serve account` on a free port, with `extra` arguments.
pub async fn start_account(data: &Path, extra: &[&str]) -> Proc {
    let mut args = ACCOUNT.to_vec();
    args.extend_from_slice(extra);
    Proc::start(data, &args, &[], READY).await
}

/// A running `commerce` whose stdout and stderr are kept byte for byte.
pub struct Proc {
    child: Child,
    pub stdout: Arc<Mutex<Vec<u8>>>,
    pub stderr: Arc<Mutex<Vec<u8>>>,
}

fn pump(mut pipe: impl AsyncRead + Unpin + Send + 'static, into: Arc<Mutex<Vec<u8>>>) {
    tokio::spawn(async move {
        let mut buf = vec![0u8; 8192];
        while let Ok(n) = pipe.read(&mut buf).await {
            if n == 0 {
                break;
            }
            into.lock().expect("lock").extend_from_slice(&buf[..n]);
        }
    });
}

impl Proc {
    /// Starts `commerce --data-dir DIR ARGS...` with `env` set, and waits (at
    /// most 30 s) until it has printed a line starting with `ready`.
    pub async fn start(data_dir: &Path, args: &[&str], env: &[(&str, &str)], ready: &str) -> Proc {
        let mut cmd = super::command(data_dir);
        cmd.args(args).stdout(Stdio::piped()).stderr(Stdio::piped());
        for (k, v) in env {
            cmd.env(k, v);
        }
        let mut child = cmd.spawn().expect("spawn commerce");
        let stdout = Arc::new(Mutex::new(Vec::new()));
        let stderr = Arc::new(Mutex::new(Vec::new()));
        pump(child.stdout.take().expect("stdout"), stdout.clone());
        pump(child.stderr.take().expect("stderr"), stderr.clone());
        let mut proc = Proc {
            child,
            stdout,
            stderr,
        };
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            if proc.lines().iter().any(|l| l.starts_with(ready)) {
                return proc;
            }
            if let Ok(Some(status)) = proc.child.try_wait() {
                tokio::time::sleep(Duration::from_millis(100)).await;
                panic!(
                    "commerce {args:?} ended ({status}) before {ready:?}: stdout {:?}, stderr {}",
                    proc.lines(),
                    proc.stderr()
                );
            }
            assert!(
                Instant::now() < deadline,
                "commerce {args:?} printed no {ready:?} in 30 s; stderr: {}",
                proc.stderr()
            );
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }

    /// Every complete stdout line so far.
    pub fn lines(&self) -> Vec<String> {
        let bytes = self.stdout.lock().expect("lock").clone();
        let text = String::from_utf8_lossy(&bytes);
        let complete = match text.rfind('\n') {
            Some(i) => &text[..i],
            None => "",
        };
        complete.lines().map(str::to_owned).collect()
    }

    pub fn value(&self, prefix: &str) -> Option<String> {
        super::printed_value(&self.lines(), prefix)
    }

    pub fn account_url(&self) -> String {
        super::printed_account_url(&self.lines())
    }

    pub fn admin_base(&self) -> String {
        super::printed_admin_base(&self.lines())
    }

    pub fn stdout_bytes(&self) -> Vec<u8> {
        self.stdout.lock().expect("lock").clone()
    }

    pub fn stderr_bytes(&self) -> Vec<u8> {
        self.stderr.lock().expect("lock").clone()
    }

    pub fn stderr(&self) -> String {
        String::from_utf8_lossy(&self.stderr_bytes()).into_owned()
    }

    pub fn pid(&self) -> u32 {
        self.child.id().expect("still running")
    }

    /// `kill -SIGNAL PID`.
    pub fn signal(&self, signal: &str) {
        let pid = self.pid();
        let status = std::process::Command::new("kill")
            .arg(format!("-{signal}"))
            .arg(pid.to_string())
            .status()
            .expect("run kill");
        assert!(status.success(), "kill -{signal} {pid}");
    }

    /// Waits for the exit (at most `within`); the exit code, `None` when killed by a signal.
    pub async fn wait(&mut self, within: Duration) -> Option<i32> {
        let status = tokio::time::timeout(within, self.child.wait())
            .await
            .unwrap_or_else(|_| panic!("exits within {within:?}; stderr: {}", self.stderr()))
            .expect("wait");
        // Let the pumps read what was left in the pipes.
        tokio::time::sleep(Duration::from_millis(100)).await;
        status.code()
    }
}

/// An HTTP/1.1 request written in two parts, so that the server has it in
/// flight between them.
pub struct HalfSent {
    stream: TcpStream,
    rest: Vec<u8>,
}

impl HalfSent {
    /// Sends the head and the first half of a JSON body to `base` (`http://host:port`).
    pub async fn post_json(base: &str, path: &str, body: &str) -> HalfSent {
        let host = base.strip_prefix("http://").expect("an http:// URL");
        let mut stream = TcpStream::connect(host).await.expect("connect");
        let head = format!(
            "POST {path} HTTP/1.1\r\nHost: {host}\r\nContent-Type: application/json\r\n\
             Content-Length: {}\r\nConnection: close\r\n\r\n",
            body.len()
        );
        let (first, rest) = body.as_bytes().split_at(body.len() / 2);
        stream.write_all(head.as_bytes()).await.expect("send head");
        stream.write_all(first).await.expect("send first half");
        stream.flush().await.expect("flush");
        HalfSent {
            stream,
            rest: rest.to_vec(),
        }
    }

    /// Sends the rest and reads the whole answer: the status and the raw response.
    pub async fn finish(mut self) -> (u16, String) {
        self.stream
            .write_all(&self.rest)
            .await
            .expect("send the rest of the body");
        let mut raw = Vec::new();
        tokio::time::timeout(Duration::from_secs(20), self.stream.read_to_end(&mut raw))
            .await
            .expect("an answer within 20 s")
            .expect("read the answer");
        let text = String::from_utf8_lossy(&raw).into_owned();
        let status = text
            .strip_prefix("HTTP/1.1 ")
            .and_then(|s| s.get(..3))
            .and_then(|s| s.parse().ok())
            .unwrap_or_else(|| panic!("an HTTP/1.1 status line: {text:?}"));
        (status, text)
    }
}
