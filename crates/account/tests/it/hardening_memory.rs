//! Hardening, round 2 (issue 12, item 1): password hashing cannot exhaust
//! memory. 200 sign-ups and 200 sign-ins at once, each from its own address
//! (so no throttle stops them before the hash), keep the process's peak
//! resident memory under 300 MB: at most one argon2id hash (≈19 MiB) runs per
//! core, a short queue waits, and the rest are answered 503 with Retry-After.
//! nextest runs every test in a process of its own, so the peak is this
//! test's.

#![allow(clippy::unwrap_used)] // a failed unwrap is a failed test

use std::net::{IpAddr, Ipv4Addr};

use crate::common::{unique_email, App, Resp, TestDb, PASSWORD};
use reqwest::header::RETRY_AFTER;
use reqwest::StatusCode;
use serde_json::json;

both_backends!(bursts_of_password_hashes_stay_bounded);

/// The process's peak resident set, in bytes (Linux: VmHWM).
fn peak_rss() -> u64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap();
    let line = status.lines().find(|l| l.starts_with("VmHWM:")).unwrap();
    let kb: u64 = line.split_whitespace().nth(1).unwrap().parse().unwrap();
    kb * 1024
}

/// One request over a plain socket from `ip` (an HTTP client per address
/// would cost more memory than the server under test).
async fn post_from(addr: std::net::SocketAddr, ip: IpAddr, path: String, body: String) -> Resp {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let socket = tokio::net::TcpSocket::new_v4().unwrap();
    socket.bind(std::net::SocketAddr::new(ip, 0)).unwrap();
    let mut stream = socket.connect(addr).await.unwrap();
    let req = format!(
        "POST {path} HTTP/1.1\r\nHost: {addr}\r\nContent-Type: application/json\r\n\
         Content-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    );
    stream.write_all(req.as_bytes()).await.unwrap();
    let mut raw = Vec::new();
    stream.read_to_end(&mut raw).await.unwrap();
    let text = String::from_utf8_lossy(&raw).into_owned();
    let (head, body) = text.split_once("\r\n\r\n").unwrap_or((&text, ""));
    let code: u16 = head
        .split(' ')
        .nth(1)
        .and_then(|c| c.parse().ok())
        .unwrap_or(0);
    let mut headers = reqwest::header::HeaderMap::new();
    for line in head.lines().skip(1) {
        if let Some((k, v)) = line.split_once(':') {
            if let (Ok(k), Ok(v)) = (
                reqwest::header::HeaderName::from_bytes(k.trim().as_bytes()),
                reqwest::header::HeaderValue::from_str(v.trim()),
            ) {
                headers.append(k, v);
            }
        }
    }
    Resp {
        status: StatusCode::from_u16(code).unwrap_or(StatusCode::IM_A_TEAPOT),
        headers,
        text: body.to_owned(),
    }
}

async fn burst(
    app: &App,
    path: &str,
    first_ip: u32,
    body: impl Fn(u32) -> serde_json::Value,
) -> Vec<Resp> {
    let addr = app.running.addr;
    let handles: Vec<_> = (0..200u32)
        .map(|i| {
            let ip = IpAddr::V4(Ipv4Addr::from(0x7f00_0000 + first_ip + i));
            tokio::spawn(post_from(addr, ip, path.to_owned(), body(i).to_string()))
        })
        .collect();
    let mut out = Vec::new();
    for h in handles {
        out.push(h.await.unwrap());
    }
    out
}

fn check(answers: &[Resp], done: StatusCode) {
    let mut finished = 0;
    for r in answers {
        if r.status == done {
            finished += 1;
            continue;
        }
        assert_eq!(r.status, StatusCode::SERVICE_UNAVAILABLE, "{}", r.text);
        assert_eq!(r.json()["error"]["code"], "busy", "{}", r.text);
        assert!(
            r.headers.get(RETRY_AFTER).is_some(),
            "503 says when to retry"
        );
    }
    assert!(finished >= 2, "some requests were hashed: {finished}");
}

async fn bursts_of_password_hashes_stay_bounded(db: &TestDb) {
    let app = App::start(db).await;
    let signups = burst(&app, "/api/v1/signup", 1 << 16, |i| {
        json!({"email": unique_email(&format!("s{i}")), "password": PASSWORD, "name": "N", "company": "C"})
    })
    .await;
    check(&signups, StatusCode::CREATED);
    let logins = burst(
        &app,
        "/api/v1/login",
        2 << 16,
        |i| json!({"email": format!("nobody{i}@example.com"), "password": PASSWORD}),
    )
    .await;
    check(&logins, StatusCode::UNAUTHORIZED);
    let peak = peak_rss();
    assert!(
        peak < 300 * 1024 * 1024,
        "peak resident memory {} MB",
        peak / 1024 / 1024
    );
    app.stop().await;
}
