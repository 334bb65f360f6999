//! Faults, with the real binary (hardening issue, item 5):
//!
//! - SIGKILL while a client creates keys in a loop: after a restart every key
//!   whose creation was answered 201 verifies `valid`, and SQLite's integrity
//!   check passes.
//! - SIGTERM: a request in flight still gets its answer, the batched last-use
//!   times are written, and the process exits 0.
//!
//! PostgreSQL restarted under load: ../faults.rs (a binary of its own).

use crate::common::faults as kit;

use std::collections::HashSet;
use std::path::Path;
use std::time::Duration;

use crate::common::{create_key, http, signup, verify, KeyLoad, PASSWORD};
use kit::{start_account, HalfSent};
use reqwest::header::COOKIE;
use reqwest::StatusCode;
use serde_json::{json, Value};

async fn list_keys(base: &str, sid: &str) -> Vec<Value> {
    let res = http()
        .get(format!("{base}/api/v1/keys?per_page=500"))
        .header(COOKIE, format!("acct_sid={sid}"))
        .send()
        .await
        .expect("list keys");
    assert_eq!(res.status(), StatusCode::OK);
    let v: Value = res.json().await.expect("JSON");
    v["keys"].as_array().expect("keys").clone()
}

/// `PRAGMA integrity_check` with the sqlite3 CLI; `None` when it is not installed.
fn integrity_check(db: &Path) -> Option<String> {
    let out = match std::process::Command::new("sqlite3")
        .arg(db)
        .arg("PRAGMA integrity_check;")
        .output()
    {
        Ok(o) => o,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            eprintln!("sqlite3 is not installed: integrity check skipped");
            return None;
        }
        Err(e) => panic!("run sqlite3: {e}"),
    };
    assert!(out.status.success(), "sqlite3: {out:?}");
    Some(String::from_utf8_lossy(&out.stdout).trim().to_owned())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigkill_while_creating_keys_loses_no_acknowledged_key() {
    let dir = tempfile::tempdir().expect("test setup");
    let data = dir.path();
    let mut server = start_account(data, &[]).await;
    let base = server.account_url();
    let sid = signup(&base).await;

    // Four clients create keys as fast as they are answered.
    let load = KeyLoad::start(&base, &sid, 4, "crash");
    tokio::time::sleep(Duration::from_millis(1000)).await;
    server.signal("KILL");
    assert_eq!(
        server.wait(Duration::from_secs(10)).await,
        None,
        "killed by the signal"
    );
    // Killed: the connections fail. Nothing else ends the clients.
    let load = load
        .join(
            Duration::from_secs(25),
            "the clients stop once the server is gone",
        )
        .await;
    let refused = load.refused.lock().expect("lock").clone();
    assert!(
        refused.is_empty(),
        "every creation before the kill: {refused:?}"
    );
    let made = load.acknowledged.lock().expect("lock").clone();
    let keys: Vec<String> = made.iter().map(|(_, k)| k.clone()).collect();
    assert!(
        keys.len() >= 8,
        "keys were created during the second before the kill: {}",
        keys.len()
    );
    assert_eq!(
        keys.iter().collect::<HashSet<_>>().len(),
        keys.len(),
        "distinct keys"
    );

    // The database as the crash left it is sound.
    let db = data.join("account.db");
    if let Some(check) = integrity_check(&db) {
        assert_eq!(check, "ok", "integrity after SIGKILL");
    }

    // Restarted on the same data dir: every acknowledged key is there and valid.
    let mut server = start_account(data, &[]).await;
    let base = server.account_url();
    let client = http();
    for key in &keys {
        let (status, v) = verify(&client, &base, key).await;
        assert_eq!(status, StatusCode::OK, "{v}");
        assert_eq!(v["status"], "valid", "an acknowledged key survives: {v}");
        assert_eq!(v["valid"], true, "{v}");
    }
    // The sessions survived too, and each company's list shows every key
    // acknowledged to it.
    let sids: HashSet<&String> = made.iter().map(|(s, _)| s).collect();
    assert!(sids.contains(&sid));
    for s in sids {
        let listed = list_keys(&base, s).await;
        let mine = made.iter().filter(|(o, _)| o == s).count();
        assert!(listed.len() >= mine, "{} listed of {mine}", listed.len());
    }

    server.signal("TERM");
    assert_eq!(server.wait(Duration::from_secs(15)).await, Some(0));
    assert!(!server.stderr().contains("panicked"), "{}", server.stderr());
    if let Some(check) = integrity_check(&db) {
        assert_eq!(check, "ok", "integrity after the restart");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigterm_finishes_requests_in_flight_and_flushes_last_use() {
    let dir = tempfile::tempdir().expect("test setup");
    let data = dir.path();
    // Only the flush at shutdown can write last-use times within this test.
    let mut server = start_account(data, &["--last-used-flush-secs", "3600"]).await;
    let base = server.account_url();
    let sid = signup(&base).await;
    let (id, key) = create_key(&base, &sid, json!({"name": "flushed"})).await;
    let (unused_id, _) = create_key(&base, &sid, json!({"name": "never used"})).await;
    let client = http();
    for _ in 0..3 {
        let (status, v) = verify(&client, &base, &key).await;
        assert_eq!(
            (status, v["status"].as_str()),
            (StatusCode::OK, Some("valid"))
        );
    }
    let last_used = |keys: &[Value], id: &str| {
        keys.iter()
            .find(|k| k["id"] == id)
            .unwrap_or_else(|| panic!("key {id} listed: {keys:?}"))["last_used_at"]
            .clone()
    };
    let before = list_keys(&base, &sid).await;
    assert_eq!(
        last_used(&before, &id),
        Value::Null,
        "batched: not written yet"
    );

    // A signup is in flight (its body half sent) when SIGTERM arrives.
    let email = format!("late-{}@example.com", keys::random_base62(8).to_lowercase());
    let body =
        json!({"email": email, "password": PASSWORD, "name": "Late", "company": "Late Shop"})
            .to_string();
    let in_flight = HalfSent::post_json(&base, "/api/v1/signup", &body).await;
    tokio::time::sleep(Duration::from_millis(500)).await;
    server.signal("TERM");
    tokio::time::sleep(Duration::from_millis(300)).await;
    let (status, raw) = in_flight.finish().await;
    assert_eq!(status, 201, "the request in flight is answered: {raw}");
    assert_eq!(
        server.wait(Duration::from_secs(15)).await,
        Some(0),
        "exit code 0 after SIGTERM; stderr: {}",
        server.stderr()
    );
    assert!(!server.stderr().contains("panicked"), "{}", server.stderr());

    // Restarted: the last use was flushed at shutdown; the signup was kept.
    let mut server = start_account(data, &["--last-used-flush-secs", "3600"]).await;
    let base = server.account_url();
    let after = list_keys(&base, &sid).await;
    let at = last_used(&after, &id);
    assert!(
        at.is_string(),
        "last_used_at written at shutdown: {after:?}"
    );
    assert_eq!(last_used(&after, &unused_id), Value::Null, "{after:?}");
    let res = http()
        .post(format!("{base}/api/v1/login"))
        .json(&json!({"email": email, "password": PASSWORD}))
        .send()
        .await
        .expect("login");
    assert_eq!(
        res.status(),
        StatusCode::OK,
        "the in-flight signup was kept"
    );

    server.signal("TERM");
    assert_eq!(server.wait(Duration::from_secs(15)).await, Some(0));
}
