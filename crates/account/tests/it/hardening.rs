//! Headers and limits on every answer, and bad bodies of every kind: each gets
//! a clear 4xx in the JSON error format, never a 5xx.

#![allow(clippy::unwrap_used)] // a failed unwrap is a failed test

use crate::common::{App, TestDb};

async fn security_headers_and_limits(db: &TestDb) {
    let app = App::start(db).await;
    // Pages, JSON answers of the router and of the edge's direct routes.
    for path in [
        "/login",
        "/api/v1/keys",
        "/healthz",
        "/no-such-page",
        "/gateway/apikeycheck",
        "/merchant-registry/v1/ping",
    ] {
        let res = app.get(path, None).await;
        let h = &res.headers;
        let csp = h["content-security-policy"].to_str().unwrap();
        let json = h
            .get("content-type")
            .is_some_and(|v| v.as_bytes().starts_with(b"application/json"));
        if json {
            // An answer that loads nothing: the API policy.
            assert!(csp.starts_with("default-src 'none'"), "{path}: {csp}");
        } else {
            assert!(
                csp.contains("script-src 'self'") && !csp.contains("unsafe-inline"),
                "{path}: {csp}"
            );
        }
        assert!(csp.contains("frame-ancestors 'none'"), "{path}: {csp}");
        assert!(h.contains_key("x-request-id"), "{path}");
        assert_eq!(h["x-content-type-options"], "nosniff", "{path}");
        assert_eq!(h["referrer-policy"], "same-origin", "{path}");
        assert_eq!(h["x-frame-options"], "DENY", "{path}");
    }
    // The verification routes are answered before the router; other methods
    // still reach it: HEAD like GET, anything else 405 with Allow, in JSON.
    let head = app
        .http
        .head(app.url("/gateway/apikeycheck"))
        .send()
        .await
        .unwrap();
    assert_eq!(head.status(), 401);
    let put = app
        .http
        .put(app.url("/gateway/apikeycheck"))
        .send()
        .await
        .unwrap();
    assert_eq!(put.status(), 405);
    assert_eq!(put.headers()["allow"], "GET,HEAD");
    let id = put.headers()["x-request-id"].to_str().unwrap().to_owned();
    let v: serde_json::Value = put.json().await.unwrap();
    assert_eq!(v["error"]["code"], "method_not_allowed");
    assert_eq!(v["error"]["request_id"], id.as_str());
    // A body over 64 KiB is refused as too large, in the JSON error format.
    let body = format!(
        "{{\"email\":\"a@b.co\",\"password\":\"{}\",\"name\":\"n\",\"company\":\"c\"}}",
        "x".repeat(65 * 1024)
    );
    let res = app
        .http
        .post(app.url("/api/v1/signup"))
        .header("content-type", "application/json")
        .body(body)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 413);
    let v: serde_json::Value = res.json().await.unwrap();
    assert_eq!(v["error"]["code"], "payload_too_large");
    app.stop().await;
}

async fn bad_bodies_are_clear_4xx(db: &TestDb) {
    let app = App::start(db).await;
    let sid = app.signup("hard@example.com", "Hard Co").await;
    let cases: Vec<(&str, Vec<u8>, u16)> = vec![
        ("invalid UTF-8", b"{\"name\": \"\xff\xfe\"}".to_vec(), 400),
        ("empty body", Vec::new(), 400),
        ("truncated JSON", b"{\"name\": ".to_vec(), 400),
        (
            "a huge number for a string",
            b"{\"name\": 1e999999}".to_vec(),
            400,
        ),
        (
            "a number for a string",
            b"{\"name\": 12345678901234567890123}".to_vec(),
            422,
        ),
        ("an array for an object", b"[1, 2, 3]".to_vec(), 422),
        ("null", b"null".to_vec(), 422),
        (
            "an unknown field",
            b"{\"name\": \"k\", \"admin\": true}".to_vec(),
            422,
        ),
        (
            "a wrong type for a flag",
            b"{\"name\": \"k\", \"generate_private_key\": \"yes\"}".to_vec(),
            422,
        ),
        (
            "a far-future expiry",
            b"{\"name\": \"k\", \"expires_at\": \"99999-01-01T00:00:00Z\"}".to_vec(),
            422,
        ),
    ];
    for (what, body, status) in cases {
        let res = app
            .http
            .post(app.url("/api/v1/keys"))
            .header("content-type", "application/json")
            .header("cookie", crate::common::sid_cookie(&sid))
            .body(body)
            .send()
            .await
            .unwrap();
        let code = res.status().as_u16();
        let text = res.text().await.unwrap();
        assert_eq!(code, status, "{what}: {text}");
        let v: serde_json::Value =
            serde_json::from_str(&text).unwrap_or_else(|_| panic!("{what}: not JSON: {text}"));
        assert!(
            v["error"]["message"]
                .as_str()
                .is_some_and(|m| !m.is_empty()),
            "{what}: {text}"
        );
    }
    // Nothing was created by any of them.
    let (_, keys) = app.list_keys(&sid).await;
    assert!(keys.is_empty());
    app.stop().await;
}

both_backends!(security_headers_and_limits, bad_bodies_are_clear_4xx);
