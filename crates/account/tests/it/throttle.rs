//! Abuse limits: sign-in throttled per account and per IP (429 with
//! Retry-After), and failed verifications throttled per IP while valid keys
//! are never slowed. The clock is passed in; nothing sleeps.

#![allow(clippy::unwrap_used)] // a failed unwrap is a failed test

use crate::common::{App, TestDb, PASSWORD};
use serde_json::json;

async fn sign_in_is_throttled_per_account(db: &TestDb) {
    let (app, clock) = App::start_clocked(db).await;
    app.signup("victim@example.com", "Victim Co").await;
    for _ in 0..10 {
        let res = app
            .login_raw("victim@example.com", "wrong password 123")
            .await;
        assert_eq!(res.status, 401);
    }
    // Locked: even the right password waits, and the wait is announced.
    let res = app.login_raw("Victim@Example.com", PASSWORD).await;
    assert_eq!(res.status, 429, "{}", res.text);
    let retry: u64 = res.headers["retry-after"]
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    assert!(retry > 0 && retry <= 900, "{retry}");
    assert_eq!(res.json()["error"]["code"], "too_many_requests");
    // Unknown emails and wrong passwords read the same.
    let unknown = app
        .login_raw("nobody@example.com", "wrong password 123")
        .await;
    assert_eq!(unknown.status, 401);
    let other = app.signup("other@example.com", "Other Co").await;
    assert!(!other.is_empty());
    let wrong = app
        .login_raw("other@example.com", "wrong password 123")
        .await;
    // (Each answer has its own request_id.)
    for field in ["code", "message"] {
        assert_eq!(unknown.json()["error"][field], wrong.json()["error"][field]);
    }
    // The window passes.
    clock.advance(901);
    assert_eq!(
        app.login_raw("victim@example.com", PASSWORD).await.status,
        200
    );
    app.stop().await;
}

async fn sign_in_is_throttled_per_ip(db: &TestDb) {
    let (app, clock) = App::start_clocked(db).await;
    app.signup("real@example.com", "Real Co").await;
    // 50 failures spread over many emails from one address.
    for i in 0..50 {
        let res = app
            .login_raw(&format!("guess{i}@example.com"), "wrong password 123")
            .await;
        assert_eq!(res.status, 401);
    }
    assert_eq!(
        app.login_raw("real@example.com", PASSWORD).await.status,
        429
    );
    clock.advance(901);
    assert_eq!(
        app.login_raw("real@example.com", PASSWORD).await.status,
        200
    );
    app.stop().await;
}

async fn failed_verifications_are_throttled_valid_keys_never(db: &TestDb) {
    let (app, clock) = App::start_clocked(db).await;
    let sid = app.signup("keys@example.com", "Keys Co").await;
    let created = app.create_key(&sid, json!({"name": "store"})).await;
    let key = created["key"].as_str().unwrap().to_owned();
    let wrong = crate::common::mistype(&key);
    for _ in 0..599 {
        assert_eq!(app.verify(&wrong).await.status, 200);
    }
    // Valid keys are never counted: these leave room for one more failure.
    for _ in 0..20 {
        assert_eq!(app.verify_status(&key).await, "valid");
    }
    assert_eq!(app.verify(&wrong).await.status, 200);
    let res = app.verify(&wrong).await;
    assert_eq!(res.status, 429);
    assert!(res.headers.contains_key("retry-after"));
    assert_eq!(app.gateway(Some(("magento-api-key", &wrong))).await, 429);
    // Once blocked, every key from this address is 429 before any lookup:
    // the throttle must not tell a valid key from a forged one.
    assert_eq!(app.verify(&key).await.status, 429);
    assert_eq!(app.gateway(Some(("magento-api-key", &key))).await, 429);
    clock.advance(61);
    assert_eq!(app.verify_status(&key).await, "valid");
    assert_eq!(app.verify(&wrong).await.status, 200);
    app.stop().await;
}

both_backends!(
    sign_in_is_throttled_per_account,
    sign_in_is_throttled_per_ip,
    failed_verifications_are_throttled_valid_keys_never
);
