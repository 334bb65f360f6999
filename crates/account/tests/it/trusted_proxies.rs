//! Client addresses behind a reverse proxy (SPEC §10, `--trusted-proxy`):
//! from a trusted peer the client is the rightmost untrusted address of
//! `X-Forwarded-For`, and the failed-verification throttle, the session
//! list and the audit see it; from any other peer the header changes
//! nothing. Real HTTP on loopback: 127.0.0.1 plays the proxy, 127.0.0.41 a
//! client that reaches the service directly.

#![allow(clippy::unwrap_used)] // a failed unwrap is a failed test

use std::net::{IpAddr, Ipv4Addr};

use crate::common::{sid_cookie, unique_email, App, TestDb, CLOCK_START, PASSWORD};
use reqwest::StatusCode;
use serde_json::json;
use web::ManualClock;

both_backends!(
    behind_a_trusted_proxy_the_forwarded_client_counts,
    a_forged_forwarded_for_from_elsewhere_changes_nothing,
);

fn client_from(ip: Ipv4Addr) -> reqwest::Client {
    reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .local_address(IpAddr::V4(ip))
        .build()
        .unwrap()
}

const PROXY: Ipv4Addr = Ipv4Addr::new(127, 0, 0, 1);
const DIRECT: Ipv4Addr = Ipv4Addr::new(127, 0, 0, 41);

async fn behind_proxy(db: &TestDb) -> App {
    let cfg = account::Config {
        trusted_proxies: web::proxies::TrustedProxies::parse(&["127.0.0.1/32"]).unwrap(),
        ..account::Config::default()
    };
    App::start_with(db, &ManualClock::new(CLOCK_START), cfg).await
}

/// Signs in through `client` with `X-Forwarded-For: xff`; the session id.
async fn login(app: &App, client: &reqwest::Client, email: &str, xff: &str) -> String {
    let r = client
        .post(app.url("/api/v1/login"))
        .header("X-Forwarded-For", xff)
        .json(&json!({"email": email, "password": PASSWORD}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    testkit::set_cookie_value(r.headers(), "acct_sid").unwrap()
}

/// Forged keys through `client` as `xff` until the throttle answers 429;
/// how many it took.
async fn fail_until_blocked(
    app: &App,
    client: &reqwest::Client,
    xff: impl Fn(u32) -> String,
) -> u32 {
    let forged = keys::ApiKey::generate(keys::Environment::Production)
        .expose()
        .to_owned();
    for i in 0..700 {
        let r = client
            .post(app.url("/api/v1/keys/verify"))
            .header("X-Api-Key", forged.clone())
            .header("X-Forwarded-For", xff(i))
            .send()
            .await
            .unwrap();
        if r.status() == StatusCode::TOO_MANY_REQUESTS {
            return i;
        }
        assert_eq!(r.status(), StatusCode::OK);
    }
    panic!("700 failed verifications were never throttled");
}

/// Account Information, where the session list is, as `client` sees it.
async fn sessions_page(app: &App, client: &reqwest::Client, session: &str) -> String {
    client
        .get(app.url("/account"))
        .header("Cookie", sid_cookie(session))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap()
}

async fn verify_as(app: &App, client: &reqwest::Client, key: &str, xff: &str) -> StatusCode {
    client
        .post(app.url("/api/v1/keys/verify"))
        .header("X-Api-Key", key.to_owned())
        .header("X-Forwarded-For", xff)
        .send()
        .await
        .unwrap()
        .status()
}

async fn signed_in_ips(db: &TestDb) -> Vec<Option<String>> {
    let pool = db.connect().await.pool;
    sqlx::query_scalar("SELECT ip FROM audit_events WHERE action = 'session.signed_in' ORDER BY id")
        .fetch_all(&pool)
        .await
        .unwrap()
}

async fn behind_a_trusted_proxy_the_forwarded_client_counts(db: &TestDb) {
    let app = behind_proxy(db).await;
    let email = unique_email("proxied");
    let sid = app.signup(&email, "Proxied Co").await;
    let key = app.create_key(&sid, json!({"name": "store"})).await["key"]
        .as_str()
        .unwrap()
        .to_owned();
    let proxy = client_from(PROXY);

    // The client forged a first entry; the proxy appended the address it saw.
    let session = login(&app, &proxy, &email, "192.0.2.66, 203.0.113.9").await;
    let page = sessions_page(&app, &proxy, &session).await;
    assert!(
        page.contains("203.0.113.0/24"),
        "the session list shows the client"
    );
    assert!(!page.contains("192.0.2.0/24"), "never the forged entry");
    assert_eq!(
        signed_in_ips(db).await.last().unwrap().as_deref(),
        Some("203.0.113.9"),
        "the audit names the client"
    );

    // One client behind the proxy is throttled; another one is not.
    fail_until_blocked(&app, &proxy, |_| "198.51.100.1".to_owned()).await;
    assert_eq!(
        verify_as(&app, &proxy, &key, "198.51.100.1").await,
        StatusCode::TOO_MANY_REQUESTS
    );
    assert_eq!(
        verify_as(&app, &proxy, &key, "198.51.100.2").await,
        StatusCode::OK
    );
    assert_eq!(
        verify_as(&app, &proxy, &key, "2001:db8::2").await,
        StatusCode::OK,
        "IPv6"
    );
    assert_eq!(
        verify_as(&app, &proxy, &key, "::ffff:198.51.100.1").await,
        StatusCode::TOO_MANY_REQUESTS,
        "an IPv4-mapped address is its IPv4 address"
    );
    app.stop().await;
}

async fn a_forged_forwarded_for_from_elsewhere_changes_nothing(db: &TestDb) {
    let app = behind_proxy(db).await;
    let email = unique_email("direct");
    let sid = app.signup(&email, "Direct Co").await;
    let key = app.create_key(&sid, json!({"name": "store"})).await["key"]
        .as_str()
        .unwrap()
        .to_owned();
    let direct = client_from(DIRECT);

    // A new forged address on every request: still one client, throttled.
    fail_until_blocked(&app, &direct, |i| format!("198.51.100.{}", i % 250 + 1)).await;
    assert_eq!(
        verify_as(&app, &direct, &key, "192.0.2.200").await,
        StatusCode::TOO_MANY_REQUESTS
    );
    // The proxy's clients are not held for it.
    assert_eq!(
        verify_as(&app, &client_from(PROXY), &key, "198.51.100.3").await,
        StatusCode::OK
    );

    let session = login(&app, &direct, &email, "203.0.113.9").await;
    let page = sessions_page(&app, &direct, &session).await;
    assert!(
        page.contains("127.0.0.0/24"),
        "the session list shows the peer"
    );
    assert!(!page.contains("203.0.113.0/24"), "not the forged address");
    assert_eq!(
        signed_in_ips(db).await.last().unwrap().as_deref(),
        Some(DIRECT.to_string().as_str())
    );
    app.stop().await;
}
