//! `/healthz` and `/readyz` with the real binary (issue 16, item 6): both
//! apps answer `/readyz` 200 `{"status":"ready"}` while their database answers;
//! when the database goes away (PostgreSQL databases dropped under them) they
//! answer 503 with a JSON error within a few seconds, and `/healthz`, the
//! cheap liveness answer, stays 200.

use std::time::{Duration, Instant};

use crate::common::{fresh_pg, http, Server, SERVE_BOTH};
use reqwest::StatusCode;
use serde_json::Value;

async fn get(url: &str) -> (StatusCode, String, Duration) {
    let started = Instant::now();
    let res = http().get(url).send().await.expect("request");
    let status = res.status();
    (status, res.text().await.expect("body"), started.elapsed())
}

fn bases(server: &Server) -> [String; 2] {
    [server.account_url(), server.admin_base()]
}

async fn assert_ready(server: &Server) {
    for base in bases(server) {
        let (status, body, _) = get(&format!("{base}/readyz")).await;
        assert_eq!(status, StatusCode::OK, "{base}/readyz: {body}");
        let v: Value = serde_json::from_str(&body).expect("JSON");
        assert_eq!(v["status"], "ready", "{body}");
        let (status, body, _) = get(&format!("{base}/healthz")).await;
        assert_eq!((status, body.as_str()), (StatusCode::OK, "ok"));
        // A load balancer's probe may name the node by another host.
        let res = http()
            .get(format!("{base}/readyz"))
            .header(reqwest::header::HOST, "10.0.0.7:8080")
            .send()
            .await
            .expect("probe");
        assert_eq!(res.status(), StatusCode::OK, "any host may probe");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ready_on_sqlite() {
    let dir = tempfile::tempdir().expect("test setup");
    let server = Server::start(dir.path(), SERVE_BOTH, "Commerce Admin: ").await;
    assert_ready(&server).await;
    assert_eq!(server.terminate().await, Some(0));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn not_ready_when_the_postgres_database_goes_away() {
    let dir = tempfile::tempdir().expect("test setup");
    let (account_db, admin_db) = (fresh_pg().await, fresh_pg().await);
    let mut args = SERVE_BOTH.to_vec();
    args.extend_from_slice(&[
        "--database-url",
        &account_db.url,
        "--admin-database-url",
        &admin_db.url,
    ]);
    let server = Server::start(dir.path(), &args, "Commerce Admin: ").await;
    assert_ready(&server).await;

    // Both databases dropped (their connections terminated) under the running apps.
    drop(account_db);
    drop(admin_db);
    for base in bases(&server) {
        let (status, body, took) = get(&format!("{base}/readyz")).await;
        assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE, "{base}: {body}");
        let v: Value = serde_json::from_str(&body).expect("a JSON answer");
        assert_eq!(v["error"]["code"], "unavailable", "{body}");
        assert!(took < Duration::from_secs(5), "answered in {took:?}");
        let (status, body, _) = get(&format!("{base}/healthz")).await;
        assert_eq!((status, body.as_str()), (StatusCode::OK, "ok"), "alive");
    }
    let log = server.stderr();
    assert!(!log.contains("panicked"), "{log}");
    server.terminate().await;
}
