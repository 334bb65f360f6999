//! `--redis-url` (SPEC §7) with the real binary: two account-service nodes on
//! one PostgreSQL database and the Redis this machine runs share the sign-in
//! throttle, so parallel guesses spread over both nodes get no more tries
//! than one node gives; a Redis that does not answer degrades to counting in
//! each process (with a warning), never to refusing everyone.

use crate::common::{fresh_pg, http, Server, PASSWORD};
use reqwest::StatusCode;
use serde_json::{json, Value};

const REDIS: &str = "redis://127.0.0.1:6379/";
/// Sign-ins one client IP may try for one email in 15 minutes.
const PER_EMAIL_FROM_IP: usize = 10;

/// A node of the deployment: nodes share the database, Redis and the link
/// key (the throttles' names in Redis are HMACs under a key derived from it).
async fn node(dir: &std::path::Path, db: &str, redis: &str, prefix: &str) -> Server {
    // The deployment's link key, beside the nodes' data dirs.
    let shared = dir.parent().expect("a parent dir").join("link.key");
    let link_key = shared.to_str().expect("UTF-8").to_owned();
    let args = [
        "serve",
        "account",
        "--account-addr",
        "127.0.0.1:0",
        "--database-url",
        db,
        "--redis-url",
        redis,
        "--redis-prefix",
        prefix,
        "--link-key-file",
        &link_key,
    ];
    Server::start(dir, &args, "Account service: ").await
}

async fn login(base: &str, email: &str, password: &str) -> StatusCode {
    http()
        .post(format!("{base}/api/v1/login"))
        .json(&json!({"email": email, "password": password}))
        .send()
        .await
        .expect("login")
        .status()
}

async fn readyz(base: &str) -> Value {
    let res = http()
        .get(format!("{base}/readyz"))
        .send()
        .await
        .expect("readyz");
    assert_eq!(res.status(), StatusCode::OK);
    res.json().await.expect("JSON")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_nodes_share_one_sign_in_allowance_through_redis() {
    let pg = fresh_pg().await;
    // Migrate once before two nodes race to do it.
    drop(account::connect(&pg.url).await.expect("migrate"));
    let prefix = format!("test-{}", keys::random_base62(10));
    // One deployment: each node's data dir inside it, the link key beside them.
    let deployment = tempfile::tempdir().expect("dir");
    let (dir_a, dir_b) = (deployment.path().join("a"), deployment.path().join("b"));
    let a = node(&dir_a, &pg.url, REDIS, &prefix).await;
    let b = node(&dir_b, &pg.url, REDIS, &prefix).await;
    let (a_url, b_url) = (a.account_url(), b.account_url());
    assert_eq!(readyz(&a_url).await["redis"], "ok");

    let email = format!(
        "owner-{}@example.com",
        keys::random_base62(8).to_lowercase()
    );
    let signup = http()
        .post(format!("{a_url}/api/v1/signup"))
        .json(&json!({"email": email, "password": PASSWORD, "name": "Owner", "company": "Shop"}))
        .send()
        .await
        .expect("signup");
    assert_eq!(signup.status(), StatusCode::CREATED);

    // 30 wrong passwords at once, alternating between the nodes.
    let guesses: Vec<_> = (0..30)
        .map(|i| {
            let base = if i % 2 == 0 {
                a_url.clone()
            } else {
                b_url.clone()
            };
            let email = email.clone();
            tokio::spawn(async move { login(&base, &email, "wrong password here").await })
        })
        .collect();
    let (mut refused, mut throttled) = (0, 0);
    for g in guesses {
        match g.await.expect("task") {
            StatusCode::UNAUTHORIZED => refused += 1,
            StatusCode::TOO_MANY_REQUESTS => throttled += 1,
            other => panic!("unexpected {other}"),
        }
    }
    assert_eq!(
        refused, PER_EMAIL_FROM_IP,
        "passwords checked across both nodes (each alone allows {PER_EMAIL_FROM_IP})"
    );
    assert_eq!(throttled, 30 - PER_EMAIL_FROM_IP);
    // Used up on both nodes, even for the right password.
    assert_eq!(
        login(&a_url, &email, PASSWORD).await,
        StatusCode::TOO_MANY_REQUESTS
    );
    assert_eq!(
        login(&b_url, &email, PASSWORD).await,
        StatusCode::TOO_MANY_REQUESTS
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_redis_that_does_not_answer_degrades_to_per_process_counting() {
    let pg = fresh_pg().await;
    let deployment = tempfile::tempdir().expect("dir");
    let dir = deployment.path().join("node");
    // Nothing listens on port 1.
    let n = node(&dir, &pg.url, "redis://127.0.0.1:1/", "down").await;
    let base = n.account_url();
    assert_eq!(
        readyz(&base).await,
        json!({"status": "ready", "redis": "down"})
    );

    let email = format!(
        "owner-{}@example.com",
        keys::random_base62(8).to_lowercase()
    );
    let signup = http()
        .post(format!("{base}/api/v1/signup"))
        .json(&json!({"email": email, "password": PASSWORD, "name": "Owner", "company": "Shop"}))
        .send()
        .await
        .expect("signup");
    assert_eq!(signup.status(), StatusCode::CREATED, "sign-up still works");
    assert_eq!(login(&base, &email, PASSWORD).await, StatusCode::OK);
    for _ in 0..PER_EMAIL_FROM_IP {
        assert_eq!(
            login(&base, &email, "wrong password here").await,
            StatusCode::UNAUTHORIZED
        );
    }
    assert_eq!(
        login(&base, &email, "wrong password here").await,
        StatusCode::TOO_MANY_REQUESTS,
        "still throttled, in this process"
    );
    let log = n.stderr();
    assert!(log.contains("Redis does not answer"), "{log}");
    assert_eq!(
        log.matches("Redis does not answer").count(),
        1,
        "one warning, not one per request: {log}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_bad_redis_url_is_one_line_on_stderr() {
    let deployment = tempfile::tempdir().expect("dir");
    let dir = deployment.path().join("node");
    for (url, prefix) in [("http://127.0.0.1:6379", "commerce"), (REDIS, "has space")] {
        let out = crate::common::cli(
            &dir,
            &[
                "serve",
                "account",
                "--account-addr",
                "127.0.0.1:0",
                "--redis-url",
                url,
                "--redis-prefix",
                prefix,
            ],
        )
        .await;
        out.assert_clean_error(url);
        assert!(out.stderr.contains("--redis-url"), "{}", out.stderr);
    }
}
