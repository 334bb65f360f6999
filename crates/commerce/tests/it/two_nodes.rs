//! Two account-service nodes on one PostgreSQL database: a revocation on one
//! takes effect on the other within a second, through its cache.

#![allow(clippy::unwrap_used)] // a failed unwrap is a failed test

use std::process::Stdio;
use std::time::{Duration, Instant};

use tokio::io::{AsyncBufReadExt, BufReader};
use tokio::process::{Child, Command};

struct Node {
    child: Child,
    url: String,
    _dir: tempfile::TempDir,
}

async fn start_node(database_url: &str) -> Node {
    let dir = tempfile::tempdir().unwrap();
    let mut child = Command::new(env!("CARGO_BIN_EXE_commerce"))
        .arg("--data-dir")
        .arg(dir.path())
        .args([
            "serve",
            "account",
            "--account-addr",
            "127.0.0.1:0",
            "--database-url",
            database_url,
        ])
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .kill_on_drop(true)
        .spawn()
        .unwrap();
    let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
    let url = tokio::time::timeout(Duration::from_secs(30), async {
        while let Some(line) = lines.next_line().await.unwrap() {
            if let Some(u) = line.strip_prefix("Account service: ") {
                return u.trim().to_owned();
            }
        }
        panic!("the node exited before printing its URL");
    })
    .await
    .expect("the node did not start in time");
    Node {
        child,
        url,
        _dir: dir,
    }
}

async fn verify(http: &reqwest::Client, node: &Node, key: &str) -> String {
    let v: serde_json::Value = http
        .post(format!("{}/api/v1/keys/verify", node.url))
        .header("x-api-key", key)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    v["status"].as_str().unwrap().to_owned()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn revocation_on_one_node_reaches_the_other_within_a_second() {
    let pg = crate::common::fresh_pg().await;
    let db = pg.url.clone();
    // Migrate once before two nodes race to do it.
    drop(account::connect(&db).await.unwrap());
    let mut a = start_node(&db).await;
    let mut b = start_node(&db).await;
    let http = reqwest::Client::new();

    let api = crate::common::account_api(&a.url);
    let sid = api.signup_owner().await;
    let (id, key) = api
        .create_key_pair(&sid, &serde_json::json!({"name": "Amazon Sales Channel"}))
        .await;

    // B verifies (and caches) the key.
    assert_eq!(verify(&http, &b, &key).await, "valid");
    assert_eq!(verify(&http, &b, &key).await, "valid");

    api.revoke_key(&sid, &id).await;
    let at = Instant::now();
    assert_eq!(verify(&http, &a, &key).await, "revoked");
    loop {
        let status = verify(&http, &b, &key).await;
        if status == "revoked" {
            break;
        }
        assert_eq!(status, "valid");
        assert!(
            at.elapsed() < Duration::from_secs(1),
            "node B still said valid after {:?}",
            at.elapsed()
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert!(at.elapsed() < Duration::from_secs(1));
    let _ = a.child.kill().await;
    let _ = b.child.kill().await;
}
