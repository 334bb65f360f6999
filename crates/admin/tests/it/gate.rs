//! The Amazon Sales Channel gate through `GET /admin/api/v1/channels/amazon/key-status`,
//! against the real account service: every status, and the account service
//! down, hung or answering badly, which is never `invalid` and never loses
//! the stored key.

use std::time::{Duration, Instant};

use crate::common::{Account, Admin, Env};
use reqwest::StatusCode;
use serde_json::{json, Value};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpListener;

both_backends!(
    sign_in_required,
    statuses,
    expiry,
    account_service_down_or_hung,
    account_service_answering_badly,
    gateway_url_from_config,
);

/// The fault bound: the Admin is never blocked longer than this by the account service.
const FAULT_BOUND: Duration = Duration::from_millis(3500);

fn status(v: &Value) -> &str {
    v["status"].as_str().unwrap_or_default()
}

async fn sign_in_required(env: &Env) {
    let acct = Account::start(env).await;
    let admin = Admin::start(env, Some(acct.base.clone())).await;
    assert!(!admin.password.is_empty(), "install made a first admin");

    let r = admin
        .get("/admin/api/v1/channels/amazon/key-status", "")
        .await;
    r.assert_api_error_status(StatusCode::UNAUTHORIZED, "no session");
    let r = admin
        .get(
            "/admin/api/v1/channels/amazon/key-status",
            "adm_sid=0123456789abcdefghijABCDEFGHIJkl",
        )
        .await;
    r.assert_api_error_status(StatusCode::UNAUTHORIZED, "unknown session");

    // Wrong password and unknown user alike: 401, no session cookie.
    let r = admin.api_login_raw("admin", "wrong password here").await;
    assert_eq!(
        r.assert_api_error_status(StatusCode::UNAUTHORIZED, "wrong password"),
        "invalid_credentials"
    );
    assert!(r.cookie("adm_sid").is_none());
    let r = admin.api_login_raw("nobody", &admin.password).await;
    r.assert_api_error_status(StatusCode::UNAUTHORIZED, "unknown user");

    let sid = admin.api_login().await;
    let r = admin
        .get(
            "/admin/api/v1/channels/amazon/key-status",
            &format!("adm_sid={sid}"),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK);

    // The API login refuses cross-origin requests.
    let r = admin
        .http
        .post(admin.url("/admin/api/v1/login"))
        .header("origin", "http://evil.example")
        .json(&json!({"username": "admin", "password": admin.password}))
        .send()
        .await
        .expect("test setup");
    assert_eq!(r.status(), StatusCode::FORBIDDEN);

    // Logging out ends the session.
    let r = admin
        .http
        .post(admin.url("/admin/api/v1/logout"))
        .header("cookie", format!("adm_sid={sid}"))
        .send()
        .await
        .expect("test setup");
    assert_eq!(r.status(), StatusCode::NO_CONTENT);
    let r = admin
        .get(
            "/admin/api/v1/channels/amazon/key-status",
            &format!("adm_sid={sid}"),
        )
        .await;
    r.assert_api_error_status(StatusCode::UNAUTHORIZED, "after logout");
    admin.stop().await;
    acct.stop().await;
}

async fn statuses(env: &Env) {
    let acct = Account::start(env).await;
    let admin = Admin::start(env, Some(acct.base.clone())).await;
    let sid = admin.api_login().await;
    let owner = acct.signup().await;

    // Nothing stored.
    let v = admin.key_status(&sid).await;
    assert_eq!(status(&v), "missing", "{v}");
    assert_eq!(v["expiring_soon"], json!(false));
    assert_eq!(admin.stored_key().await, None);

    // Not a key at all: invalid (malformed), and kept as stored.
    let junk = "this-is-not-an-api-key";
    admin.store_key(junk).await;
    let v = admin.key_status(&sid).await;
    assert_eq!(status(&v), "invalid", "{v}");
    assert_eq!(v["reason"], "malformed");
    assert_eq!(admin.stored_key().await.as_deref(), Some(junk));

    // A well-formed production key the service does not know: invalid.
    let unknown = keys::ApiKey::generate(keys::Environment::Production);
    admin.store_key(unknown.expose()).await;
    let v = admin.key_status(&sid).await;
    assert_eq!(status(&v), "invalid", "{v}");
    assert_eq!(admin.stored_key().await.as_deref(), Some(unknown.expose()));

    // A real Sandbox key in the Production field: invalid, sandbox_key.
    let (_, sandbox) = acct
        .create_key(
            &owner,
            json!({"name": "Amazon Sales Channel", "environment": "sandbox"}),
        )
        .await;
    admin.store_key(&sandbox).await;
    let v = admin.key_status(&sid).await;
    assert_eq!(status(&v), "invalid", "{v}");
    assert_eq!(v["reason"], "sandbox_key");
    assert_eq!(admin.stored_key().await.as_deref(), Some(sandbox.as_str()));

    // A real Production key: valid, with its hint and never the key itself.
    let (id, key) = acct
        .create_key(&owner, json!({"name": "Amazon Sales Channel"}))
        .await;
    admin.store_key(&key).await;
    let r = admin
        .get(
            "/admin/api/v1/channels/amazon/key-status",
            &format!("adm_sid={sid}"),
        )
        .await;
    assert!(!r.text.contains(&key), "the answer never holds the key");
    let v = r.json();
    assert_eq!(status(&v), "valid", "{v}");
    assert_eq!(v["expiring_soon"], json!(false));
    assert!(v.get("reason").is_none(), "{v}");
    let hint = v["key_hint"].as_str().expect("a hint");
    assert!(hint.ends_with(&key[key.len() - 4..]), "{hint}");
    assert!(hint.starts_with("cmk_live_"), "{hint}");
    assert_eq!(admin.stored_key().await.as_deref(), Some(key.as_str()));

    // Asked again (cached by the service): still valid.
    assert_eq!(status(&admin.key_status(&sid).await), "valid");

    // Revoked in the API Portal: revoked at once, and the key is kept.
    acct.revoke_key(&owner, &id).await;
    let v = admin.key_status(&sid).await;
    assert_eq!(status(&v), "revoked", "{v}");
    assert_eq!(admin.stored_key().await.as_deref(), Some(key.as_str()));

    admin.stop().await;
    acct.stop().await;
}

async fn expiry(env: &Env) {
    let acct = Account::start(env).await;
    let admin = Admin::start(env, Some(acct.base.clone())).await;
    let sid = admin.api_login().await;
    let owner = acct.signup().await;

    // Expires two seconds from the account service's now.
    let soon = web::clock::rfc3339(web::Clock::now(&acct.clock) + 2);
    let (_, key) = acct
        .create_key(&owner, json!({"name": "short", "expires_at": soon}))
        .await;
    admin.store_key(&key).await;
    let v = admin.key_status(&sid).await;
    assert_eq!(status(&v), "valid", "{v}");
    assert_eq!(v["expires_at"].as_str(), Some(soon.as_str()));
    assert_eq!(
        v["expiring_soon"],
        json!(true),
        "two seconds left is soon: {v}"
    );
    acct.clock.advance(3);
    let v = admin.key_status(&sid).await;
    assert_eq!(status(&v), "expired", "{v}");
    assert_eq!(v["expiring_soon"], json!(false));
    assert_eq!(admin.stored_key().await.as_deref(), Some(key.as_str()));

    // Five days left: valid and named as expiring soon.
    let in_5_days = web::clock::rfc3339(web::Clock::now(&acct.clock) + 5 * 86400);
    let (_, key5) = acct
        .create_key(
            &owner,
            json!({"name": "five days", "expires_at": in_5_days}),
        )
        .await;
    admin.store_key(&key5).await;
    let v = admin.key_status(&sid).await;
    assert_eq!(status(&v), "valid", "{v}");
    assert_eq!(v["expiring_soon"], json!(true), "{v}");
    assert_eq!(v["expires_at"].as_str(), Some(in_5_days.as_str()));

    // Sixty days left: valid, not soon.
    let in_60_days = web::clock::rfc3339(web::Clock::now(&acct.clock) + 60 * 86400);
    let (_, key60) = acct
        .create_key(
            &owner,
            json!({"name": "sixty days", "expires_at": in_60_days}),
        )
        .await;
    admin.store_key(&key60).await;
    let v = admin.key_status(&sid).await;
    assert_eq!(status(&v), "valid", "{v}");
    assert_eq!(v["expiring_soon"], json!(false), "{v}");
    assert_eq!(admin.stored_key().await.as_deref(), Some(key60.as_str()));

    admin.stop().await;
    acct.stop().await;
}

/// Accepts connections and holds them open without ever answering.
async fn hung_listener() -> (String, tokio::task::JoinHandle<()>) {
    let listener = TcpListener::bind("127.0.0.1:0").await.expect("test setup");
    let url = format!("http://{}", listener.local_addr().expect("test setup"));
    let task = tokio::spawn(async move {
        let mut held = Vec::new();
        while let Ok((socket, _)) = listener.accept().await {
            held.push(socket);
        }
    });
    (url, task)
}

/// Answers every request with the given raw HTTP response.
async fn canned_server(response: &'static str) -> (String, tokio::task::JoinHandle<()>) {
    let listener = TcpListener::bind("127.0.0.1:0").await.expect("test setup");
    let url = format!("http://{}", listener.local_addr().expect("test setup"));
    let task = tokio::spawn(async move {
        while let Ok((mut socket, _)) = listener.accept().await {
            tokio::spawn(async move {
                let mut buf = vec![0u8; 8192];
                let mut seen = Vec::new();
                // Read the request head, then answer and close.
                while !contains(&seen, b"\r\n\r\n") {
                    match socket.read(&mut buf).await {
                        Ok(0) | Err(_) => return,
                        Ok(n) => seen.extend_from_slice(&buf[..n]),
                    }
                }
                let _ = socket.write_all(response.as_bytes()).await;
                let _ = socket.shutdown().await;
            });
        }
    });
    (url, task)
}

fn contains(haystack: &[u8], needle: &[u8]) -> bool {
    haystack.windows(needle.len()).any(|w| w == needle)
}

async fn timed_status(admin: &Admin, sid: &str) -> (Value, Duration) {
    let started = Instant::now();
    let v = admin.key_status(sid).await;
    (v, started.elapsed())
}

async fn account_service_down_or_hung(env: &Env) {
    let acct = Account::start(env).await;
    let admin = Admin::start(env, Some(acct.base.clone())).await;
    let sid = admin.api_login().await;
    let owner = acct.signup().await;
    let (_, key) = acct.create_key(&owner, json!({"name": "prod"})).await;
    admin.store_key(&key).await;
    assert_eq!(status(&admin.key_status(&sid).await), "valid");

    // The account service stops: unreachable, quickly, and the key is kept.
    acct.stop().await;
    let (v, took) = timed_status(&admin, &sid).await;
    assert_eq!(status(&v), "unreachable", "{v}");
    assert_eq!(v["reason"], "down");
    assert!(took < FAULT_BOUND, "answered in {took:?}");
    assert_eq!(admin.stored_key().await.as_deref(), Some(key.as_str()));
    admin.stop().await;

    // An account service that accepts but never answers: unreachable within the bound.
    let (hung_url, hung) = hung_listener().await;
    let admin = Admin::start(env, Some(hung_url)).await;
    assert!(admin.password.is_empty(), "the first admin exists already");
    // The same database: the session of before still holds.
    let (v, took) = timed_status(&admin, &sid).await;
    assert_eq!(status(&v), "unreachable", "{v}");
    assert!(took < FAULT_BOUND, "answered in {took:?}");
    assert!(
        took >= Duration::from_millis(500),
        "it did wait for an answer: {took:?}"
    );
    assert_eq!(admin.stored_key().await.as_deref(), Some(key.as_str()));
    hung.abort();
    admin.stop().await;
}

async fn account_service_answering_badly(env: &Env) {
    let key = keys::ApiKey::generate(keys::Environment::Production);
    let cases: [(&'static str, &str); 4] = [
        (
            "HTTP/1.1 500 Internal Server Error\r\ncontent-length: 0\r\nconnection: close\r\n\r\n",
            "down",
        ),
        (
            "HTTP/1.1 503 Service Unavailable\r\ncontent-length: 0\r\nconnection: close\r\n\r\n",
            "down",
        ),
        (
            "HTTP/1.1 200 OK\r\ncontent-type: text/html\r\ncontent-length: 9\r\nconnection: close\r\n\r\n<p>hi</p>",
            "bad_answer",
        ),
        (
            "HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: 20\r\nconnection: close\r\n\r\n{\"status\":\"banana\"}\n",
            "bad_answer",
        ),
    ];
    let mut sid: Option<String> = None;
    for (response, reason) in cases {
        let (url, server) = canned_server(response).await;
        let admin = Admin::start(env, Some(url)).await;
        if admin.stored_key().await.is_none() {
            admin.store_key(key.expose()).await;
        }
        let s = match &sid {
            Some(s) => s.clone(),
            None => {
                let s = admin.api_login().await;
                sid = Some(s.clone());
                s
            }
        };
        let (v, took) = timed_status(&admin, &s).await;
        assert_eq!(status(&v), "unreachable", "{response:?}: {v}");
        assert_eq!(v["reason"], reason, "{response:?}: {v}");
        assert!(took < FAULT_BOUND);
        assert_eq!(
            admin.stored_key().await.as_deref(),
            Some(key.expose()),
            "the key is kept"
        );
        server.abort();
        admin.stop().await;
    }
}

/// Without `--account-url`, the Admin asks the configured gateway URL.
async fn gateway_url_from_config(env: &Env) {
    let acct = Account::start(env).await;
    let admin = Admin::start(env, None).await;
    let sid = admin.api_login().await;
    let owner = acct.signup().await;
    let (_, key) = acct.create_key(&owner, json!({"name": "prod"})).await;
    admin.store_key(&key).await;

    // Pointed at an address where nothing listens: unreachable, not invalid.
    let nothing = TcpListener::bind("127.0.0.1:0").await.expect("test setup");
    let dead = format!("http://{}", nothing.local_addr().expect("test setup"));
    drop(nothing);
    admin
        .config()
        .set(
            admin::config::GATEWAY_URL,
            &dead,
            admin::config::ScopeRef::DEFAULT,
            0,
        )
        .await
        .expect("test setup");
    let v = admin.key_status(&sid).await;
    assert_eq!(status(&v), "unreachable", "{v}");

    // Pointed at the account service (with a trailing slash): valid.
    admin
        .config()
        .set(
            admin::config::GATEWAY_URL,
            &format!("{}/", acct.base),
            admin::config::ScopeRef::DEFAULT,
            0,
        )
        .await
        .expect("test setup");
    let v = admin.key_status(&sid).await;
    assert_eq!(status(&v), "valid", "{v}");
    assert_eq!(admin.stored_key().await.as_deref(), Some(key.as_str()));
    admin.stop().await;
    acct.stop().await;
}
