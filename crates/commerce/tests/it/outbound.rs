//! The Admin's outbound calls with the real binary (issue 12, item 6): an
//! account service answering endless bodies keeps the `commerce` process's
//! peak RSS (VmHWM) under a bound, and a URL that is not an absolute http(s)
//! URL without userinfo, query or fragment is refused at once by
//! `serve --account-url`, `channel:amazon:verify --account-url` and
//! `config:set` (exit 2), with one line on stderr.

use std::time::Duration;

use crate::common::{admin_login, cli, serve_admin, Server, KEY_PATH};
use reqwest::header::COOKIE;
use serde_json::Value;

const GATEWAY_PATH: &str = "services_connector/production_gateway_url";
/// The peak resident set the Admin may reach while being fed endless bodies.
const RSS_BOUND_KB: u64 = 300 * 1024;

/// An account service that answers every request with an endless chunked body.
async fn endless_server() -> (String, tokio::task::JoinHandle<()>) {
    testkit::raw_server(|mut socket| async move {
        testkit::write_endless_chunks(&mut socket, 256 * 1024, b'x').await;
    })
    .await
}

/// `VmHWM` (peak resident set, KiB) of a process, from /proc.
fn peak_rss_kb(pid: u32) -> u64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).expect("read /proc status");
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmHWM:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .expect("a VmHWM line")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn endless_answers_keep_the_admin_bounded() {
    let dir = tempfile::tempdir().expect("test setup");
    let data = dir.path();
    let key = keys::ApiKey::generate(keys::Environment::Production);
    let out = cli(data, &["config:set", KEY_PATH, key.expose()]).await;
    assert!(out.ok(), "{out:?}");
    let (url, server) = endless_server().await;
    let admin = Server::start(
        data,
        &serve_admin(&["--account-url", &url]),
        "Commerce Admin: ",
    )
    .await;
    let base = admin.admin_base();
    let password = admin.admin_password().expect("the first admin's password");
    let (_, sid) = admin_login(&base, "admin", &password).await;
    let sid = sid.expect("signed in");
    let http = crate::common::http();
    // Rounds of parallel opens of the channel, each fed an endless body.
    for round in 0..3 {
        let asks = (0..16).map(|_| {
            let req = http
                .get(format!("{base}/admin/api/v1/channels/amazon/key-status"))
                .header(COOKIE, format!("adm_sid={sid}"));
            async move {
                let res = req.send().await.expect("key status");
                let v: Value = res.json().await.expect("JSON");
                v
            }
        });
        for v in futures_join_all(asks).await {
            assert_eq!(v["status"], "unreachable", "round {round}: {v}");
            assert_eq!(v["reason"], "bad_answer", "round {round}: {v}");
        }
    }
    let peak = peak_rss_kb(admin.pid());
    eprintln!("peak RSS of the Admin under endless answers: {peak} kB");
    assert!(
        peak < RSS_BOUND_KB,
        "peak RSS {peak} kB is over the bound of {RSS_BOUND_KB} kB"
    );
    server.abort();
    assert_eq!(admin.terminate().await, Some(0));
}

/// Runs the futures at once (tokio tasks), in order of the results.
async fn futures_join_all<F>(futures: impl Iterator<Item = F>) -> Vec<F::Output>
where
    F: std::future::Future + Send + 'static,
    F::Output: Send + 'static,
{
    let handles: Vec<_> = futures.map(tokio::spawn).collect();
    let mut out = Vec::new();
    for h in handles {
        out.push(
            tokio::time::timeout(Duration::from_secs(20), h)
                .await
                .expect("answered")
                .expect("task"),
        );
    }
    out
}

const BAD_URLS: &[&str] = &[
    "http://user:secret@127.0.0.1:8080",
    "http://127.0.0.1:8080/?x=1",
    "http://127.0.0.1:8080/#f",
    "ftp://127.0.0.1:8080",
    "127.0.0.1:8080",
    "http://",
];

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_urls_are_refused_at_once() {
    let dir = tempfile::tempdir().expect("test setup");
    let data = dir.path().join("var");
    for bad in BAD_URLS {
        let out = cli(&data, &["config:set", GATEWAY_PATH, bad]).await;
        out.assert_clean_error(&format!("config:set {bad}"));
        assert_eq!(out.code, Some(2), "config:set {bad}: exit 2: {out:?}");
        assert!(out.stderr.contains(GATEWAY_PATH), "{bad}: {}", out.stderr);
        assert!(!out.stderr.contains("secret"), "{bad}: {}", out.stderr);

        let out = cli(&data, &["channel:amazon:verify", "--account-url", bad]).await;
        out.assert_clean_error(&format!("channel:amazon:verify --account-url {bad}"));
        assert!(
            out.stderr.contains("--account-url"),
            "{bad}: {}",
            out.stderr
        );
        assert!(
            out.stdout.is_empty(),
            "no status for a refused URL: {out:?}"
        );

        let out = cli(&data, &serve_admin(&["--account-url", bad])).await;
        out.assert_clean_error(&format!("serve --account-url {bad}"));
        assert!(
            out.stderr.contains("--account-url"),
            "{bad}: {}",
            out.stderr
        );
        assert!(!out.stderr.contains("secret"), "{bad}: {}", out.stderr);
    }
    assert!(!data.exists(), "a refused value creates nothing");
    // A good one is stored and shown without the trailing slash.
    let out = cli(
        &data,
        &["config:set", GATEWAY_PATH, "https://keys.example.com/"],
    )
    .await;
    assert!(out.ok(), "{out:?}");
    let out = cli(&data, &["config:show", GATEWAY_PATH]).await;
    assert_eq!(
        out.stdout,
        format!("{GATEWAY_PATH} = https://keys.example.com\n")
    );
}
