//! The account service's JSON API (SPEC §3), over real HTTP, on SQLite and
//! PostgreSQL: company isolation, expiry with a manual clock, and the
//! cross-origin guard.

use crate::common::{unique_email, App, Resp, TestDb, CLOCK_START, PASSWORD};
use reqwest::header::{COOKIE, ORIGIN};
use reqwest::StatusCode;
use serde_json::json;
use web::clock::rfc3339;

both_backends!(
    companies_are_isolated,
    expiry_follows_the_clock,
    cross_origin_writes_are_refused,
);

async fn companies_are_isolated(db: &TestDb) {
    let app = App::start(db).await;
    let a = app.signup(&unique_email("a"), "Company A").await;
    let b = app.signup(&unique_email("b"), "Company B").await;

    let a_key = app.create_key(&a, json!({"name": "A's store"})).await;
    let a_id = a_key["id"].as_str().expect("id").to_owned();
    let a_secret = a_key["key"].as_str().expect("key").to_owned();
    let b_key = app.create_key(&b, json!({"name": "B's store"})).await;
    let b_id = b_key["id"].as_str().expect("id").to_owned();

    // B sees only its own key, and cannot revoke A's.
    let (b_raw, b_list) = app.list_keys(&b).await;
    assert_eq!(b_list.len(), 1, "{b_raw}");
    assert_eq!(b_list[0]["id"], json!(b_id));
    assert!(!b_raw.contains(&a_id) && !b_raw.contains("A's store"));
    let steal = app.delete(&format!("/api/v1/keys/{a_id}"), Some(&b)).await;
    assert_eq!(steal.status, StatusCode::NOT_FOUND, "{}", steal.text);
    steal.assert_api_error("revoke another company's key");
    assert_eq!(
        app.verify_status(&a_secret).await,
        "valid",
        "A's key survives B's attempt"
    );
    assert_eq!(app.listed_key(&a, &a_id).await["status"], json!("valid"));

    // A sees only its own key too.
    let (a_raw, a_list) = app.list_keys(&a).await;
    assert_eq!(a_list.len(), 1);
    assert!(!a_raw.contains(&b_id));

    // A can revoke its own.
    let del = app.delete(&format!("/api/v1/keys/{a_id}"), Some(&a)).await;
    assert_eq!(del.status, StatusCode::NO_CONTENT);
    assert_eq!(app.verify_status(&a_secret).await, "revoked");
    app.stop().await;
}

async fn expiry_follows_the_clock(db: &TestDb) {
    let (app, clock) = App::start_clocked(db).await;
    let sid = app.signup(&unique_email("expiry"), "Clock Co").await;

    let exp = CLOCK_START + 2;
    let created = app
        .create_key(
            &sid,
            json!({"name": "Short-lived", "expires_at": rfc3339(exp)}),
        )
        .await;
    assert_eq!(created["expires_at"], json!(rfc3339(exp)));
    assert_eq!(created["status"], json!("valid"));
    let key = created["key"].as_str().expect("key").to_owned();
    let id = created["id"].as_str().expect("id").to_owned();
    // A key without expiry, for contrast.
    let forever = app.create_key(&sid, json!({"name": "Forever"})).await;
    let forever_key = forever["key"].as_str().expect("key").to_owned();

    let v = app.verify(&key).await.json();
    assert_eq!(v["status"], json!("valid"), "{v}");
    assert_eq!(v["expires_at"], json!(rfc3339(exp)));
    assert_eq!(
        app.gateway(Some(("magento-api-key", &key))).await,
        StatusCode::OK
    );

    clock.advance(3);
    let v = app.verify(&key).await.json();
    assert_eq!(v["status"], json!("expired"), "{v}");
    assert_eq!(v["valid"], json!(false));
    assert_eq!(
        app.gateway(Some(("magento-api-key", &key))).await,
        StatusCode::UNAUTHORIZED
    );
    assert_eq!(app.listed_key(&sid, &id).await["status"], json!("expired"));
    assert_eq!(app.verify_status(&forever_key).await, "valid");

    // Revocation wins over expiry.
    let del = app.delete(&format!("/api/v1/keys/{id}"), Some(&sid)).await;
    assert_eq!(del.status, StatusCode::NO_CONTENT);
    assert_eq!(app.verify_status(&key).await, "revoked");

    // An expiry that is now or already past: 422, and nothing is created.
    let now = CLOCK_START + 3;
    for (what, at) in [
        ("past", now - 1),
        ("now", now),
        ("long ago", now - 86400 * 400),
    ] {
        let r = app
            .post_json(
                "/api/v1/keys",
                Some(&sid),
                &json!({"name": "Late", "expires_at": rfc3339(at)}),
            )
            .await;
        assert_eq!(
            r.status,
            StatusCode::UNPROCESSABLE_ENTITY,
            "{what}: {}",
            r.text
        );
        r.assert_api_error(what);
    }
    // An offset other than Z is understood.
    let offset = app
        .create_key(
            &sid,
            json!({"name": "Offset", "expires_at": "2027-01-15T10:00:00+01:00"}),
        )
        .await;
    assert_eq!(offset["expires_at"], json!(rfc3339(CLOCK_START + 3600)));
    let (_, keys) = app.list_keys(&sid).await;
    assert_eq!(keys.len(), 3, "only the accepted keys exist");
    app.stop().await;
}

async fn cross_origin_writes_are_refused(db: &TestDb) {
    let app = App::start(db).await;
    let email = unique_email("origin");
    let sid = app.signup(&email, "Origin Co").await;
    let evil = "http://evil.example";

    let post_with_origin = |origin: String| {
        app.http
            .post(app.url("/api/v1/keys"))
            .header(COOKIE, crate::common::sid_cookie(&sid))
            .header(ORIGIN, origin)
            .json(&json!({"name": "From elsewhere"}))
    };
    let r = Resp::read(
        post_with_origin(evil.to_owned())
            .send()
            .await
            .expect("send"),
    )
    .await;
    assert_eq!(r.status, StatusCode::FORBIDDEN, "{}", r.text);
    r.assert_api_error("cross-origin create");
    assert!(!r.text.contains("cmk_"), "no key in a refused answer");
    let (_, keys) = app.list_keys(&sid).await;
    assert!(keys.is_empty(), "nothing was created");

    // The same request from the service's own origin is fine.
    let same = Resp::read(post_with_origin(app.origin()).send().await.expect("send")).await;
    assert_eq!(same.status, StatusCode::CREATED, "{}", same.text);
    let id = same.json()["id"].as_str().expect("id").to_owned();
    let key = same.json()["key"].as_str().expect("key").to_owned();

    // Cross-origin revoke, login, signup and logout are refused too.
    let del = Resp::read(
        app.http
            .delete(app.url(&format!("/api/v1/keys/{id}")))
            .header(COOKIE, crate::common::sid_cookie(&sid))
            .header(ORIGIN, evil)
            .send()
            .await
            .expect("send"),
    )
    .await;
    assert_eq!(del.status, StatusCode::FORBIDDEN);
    assert_eq!(app.verify_status(&key).await, "valid");
    for (path, body) in [
        (
            "/api/v1/login",
            json!({"email": email, "password": PASSWORD}),
        ),
        (
            "/api/v1/signup",
            json!({"email": unique_email("x"), "password": PASSWORD, "name": "n", "company": "c"}),
        ),
        ("/api/v1/logout", json!({})),
    ] {
        let r = Resp::read(
            app.http
                .post(app.url(path))
                .header(COOKIE, crate::common::sid_cookie(&sid))
                .header(ORIGIN, evil)
                .json(&body)
                .send()
                .await
                .expect("send"),
        )
        .await;
        assert_eq!(r.status, StatusCode::FORBIDDEN, "{path}: {}", r.text);
        assert!(r.cookie("acct_sid").is_none(), "{path}: no cookie change");
    }
    // The session survived the cross-origin logout attempt.
    app.list_keys(&sid).await;
    app.stop().await;
}
