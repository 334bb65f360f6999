//! Hardening, round 2 (issue 12), on SQLite and PostgreSQL: every error in
//! its interface's own format, the small protections (no caching of keys,
//! DNS rebinding, throttled pages, HTTPS cookies and origins), and ended
//! sessions and invitations purged.

#![allow(clippy::unwrap_used)] // a failed unwrap is a failed test

use crate::common::{unique_email, App, Browser, Resp, TestDb};
use reqwest::header::{CACHE_CONTROL, CONTENT_TYPE, COOKIE, RETRY_AFTER};
use reqwest::StatusCode;
use serde_json::json;

both_backends!(
    errors_speak_their_interface_format,
    small_protections_hold,
    ended_things_are_purged,
);

async fn errors_speak_their_interface_format(db: &TestDb) {
    let app = App::start(db).await;
    let sid = app.signup(&unique_email("format"), "Format Co").await;
    // Bytes that are not UTF-8 in a JSON route's path.
    let r = app.delete("/api/v1/invitations/%ff", Some(&sid)).await;
    assert_eq!(r.status, StatusCode::NOT_FOUND);
    assert_eq!(r.assert_api_error("%ff id"), "not_found");
    // A method the route does not have.
    let r = Resp::read(app.http.put(app.url("/api/v1/keys")).send().await.unwrap()).await;
    assert_eq!(r.status, StatusCode::METHOD_NOT_ALLOWED);
    assert_eq!(r.assert_api_error("PUT /api/v1/keys"), "method_not_allowed");
    assert!(r.headers.get("allow").is_some(), "Allow is kept");
    // The same on a page route: the site's error page.
    let r = Resp::read(app.http.put(app.url("/login")).send().await.unwrap()).await;
    assert_eq!(r.status, StatusCode::METHOD_NOT_ALLOWED);
    assert!(r.header(CONTENT_TYPE).starts_with("text/html"));
    assert!(r.text.contains("<h1>"), "{}", r.text);
    // An unknown field's name is never echoed (it may be a key sent by mistake).
    let secret = "cmk_live_ThisIsNotARealKeyButLooksLikeOne1";
    let r = app
        .post_json(
            "/api/v1/login",
            None,
            &json!({ secret: "x", "email": "a@b.co", "password": "y" }),
        )
        .await;
    assert_eq!(r.assert_api_error("unknown field"), "invalid_field");
    assert!(!r.text.contains(secret), "{}", r.text);
    assert!(!r.text.contains("ThisIsNot"), "{}", r.text);
    app.stop().await;
}

async fn small_protections_hold(db: &TestDb) {
    let app = App::start(db).await;
    let sid = app.signup(&unique_email("small"), "Small Co").await;
    // Answers that carry a key are never cached.
    let r = app
        .post_json(
            "/api/v1/keys",
            Some(&sid),
            &json!({"name": "k", "generate_private_key": true}),
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text);
    assert_eq!(r.headers.get(CACHE_CONTROL).unwrap(), "no-store");
    let id = r.json()["id"].as_str().unwrap().to_owned();
    let r = app
        .post_json(
            &format!("/api/v1/keys/{id}/roll"),
            Some(&sid),
            &json!({"grace_seconds": 0}),
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text);
    assert_eq!(r.headers.get(CACHE_CONTROL).unwrap(), "no-store");
    // DNS rebinding: another host name is refused, store verification is not.
    let rebind = |path: &str| {
        app.http
            .get(app.url(path))
            .header(reqwest::header::HOST, "rebind.example")
            .send()
    };
    assert_eq!(
        rebind("/login").await.unwrap().status(),
        StatusCode::MISDIRECTED_REQUEST
    );
    assert_eq!(
        rebind("/api/v1/keys").await.unwrap().status(),
        StatusCode::MISDIRECTED_REQUEST
    );
    assert_eq!(
        rebind("/gateway/apikeycheck").await.unwrap().status(),
        StatusCode::UNAUTHORIZED
    );
    let local = app
        .http
        .get(app.url("/login"))
        .header(
            reqwest::header::HOST,
            format!("localhost:{}", app.running.addr.port()),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(local.status(), StatusCode::OK);
    // An error page carries the CSRF cookie its language form needs.
    let r = Resp::read(app.http.get(app.url("/no-such-page")).send().await.unwrap()).await;
    assert_eq!(r.status, StatusCode::NOT_FOUND);
    let token = r
        .cookie("acct_csrf")
        .expect("the error page sets the CSRF cookie");
    assert!(
        r.text.contains(&format!("value=\"{token}\"")),
        "its form carries the token"
    );
    // A throttled page answers 429 with Retry-After.
    let email = unique_email("throttled");
    app.signup(&email, "Throttled Co").await;
    let b = Browser::new(&app);
    let mut last = None;
    for _ in 0..12 {
        last = Some(b.login(&email, "wrong password here").await);
    }
    let last = last.unwrap();
    assert_eq!(last.status, StatusCode::TOO_MANY_REQUESTS);
    assert!(last.header(CONTENT_TYPE).starts_with("text/html"));
    let wait: u64 = last.header(RETRY_AFTER).parse().unwrap();
    assert!(wait > 0 && wait <= 900, "{wait}");
    assert!(
        last.headers.get("strict-transport-security").is_none(),
        "no HSTS over http"
    );
    app.stop().await;
    // Served over HTTPS (--secure-cookies): HSTS on every answer.
    let cfg = account::Config {
        secure_cookies: true,
        ..account::Config::default()
    };
    let running = account::start(db.connect().await, "127.0.0.1:0", cfg)
        .await
        .unwrap();
    let app = App::wrap_running(running);
    let r = app.get("/login", None).await;
    assert_eq!(
        r.headers.get("strict-transport-security").unwrap(),
        web::headers::HSTS
    );
    // Session and CSRF cookies take the __Host- prefix (Secure, Path=/, no Domain).
    let line = r
        .set_cookie_line("__Host-acct_csrf")
        .expect("a __Host- CSRF cookie");
    assert!(line.contains("Secure") && line.contains("Path=/") && !line.contains("Domain"));
    assert!(r.cookie("acct_csrf").is_none());
    // The Origin's scheme counts: http:// is another origin of an HTTPS site.
    let host = app.base.trim_start_matches("http://").to_owned();
    let signup = |origin: String| {
        app.http
            .post(app.url("/api/v1/signup"))
            .header(reqwest::header::ORIGIN, origin)
            .json(&json!({"email": unique_email("tls"), "password": crate::common::PASSWORD, "name": "T", "company": "T"}))
            .send()
    };
    let r = Resp::read(signup(format!("http://{host}")).await.unwrap()).await;
    assert_eq!(r.status, StatusCode::FORBIDDEN, "{}", r.text);
    let r = Resp::read(signup(format!("https://{host}")).await.unwrap()).await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text);
    let sid = r
        .cookie("__Host-acct_sid")
        .expect("a __Host- session cookie");
    let keys = |cookie: String| {
        app.http
            .get(app.url("/api/v1/keys"))
            .header(COOKIE, cookie)
            .send()
    };
    assert_eq!(
        keys(format!("__Host-acct_sid={sid}"))
            .await
            .unwrap()
            .status(),
        StatusCode::OK
    );
    assert_eq!(
        keys(format!("acct_sid={sid}")).await.unwrap().status(),
        StatusCode::UNAUTHORIZED,
        "an unprefixed cookie (planted by a sibling site) is not read"
    );
    app.stop().await;
}

async fn ended_things_are_purged(db: &TestDb) {
    let clock = web::ManualClock::new(crate::common::CLOCK_START);
    let app = App::start_with_clock(db, clock.clone()).await;
    let owner = app.signup(&unique_email("purge"), "Purge Co").await;
    let r = app
        .post_json(
            "/api/v1/invitations",
            Some(&owner),
            &json!({"email": unique_email("gone")}),
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text);
    let inv = r.json()["invitation"]["id"].as_str().unwrap().to_owned();
    let r = app
        .delete(&format!("/api/v1/invitations/{inv}"), Some(&owner))
        .await;
    assert!(r.status.is_success(), "{}", r.text);
    let pool = db.connect().await;
    let count = |sql: &'static str| {
        let pool = pool.pool.clone();
        async move {
            sqlx::query_scalar::<_, i64>(sql)
                .fetch_one(&pool)
                .await
                .unwrap()
        }
    };
    // Nothing has ended long enough yet.
    account::outbox::run_once(&app.running.state).await.unwrap();
    assert_eq!(count("SELECT COUNT(*) FROM account_sessions").await, 1);
    assert_eq!(count("SELECT COUNT(*) FROM invitations").await, 1);
    // A month and more later, the ended session and invitation are gone.
    clock.advance(account::store::KEEP_SECS + 1);
    account::outbox::run_once(&app.running.state).await.unwrap();
    assert_eq!(count("SELECT COUNT(*) FROM account_sessions").await, 0);
    assert_eq!(count("SELECT COUNT(*) FROM invitations").await, 0);
    assert_eq!(
        count("SELECT COUNT(*) FROM outbox WHERE invitation_id IS NOT NULL").await,
        0
    );
    app.stop().await;
}
