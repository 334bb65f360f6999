//! Connect store: link → consent (the Seller Central stand-in) → callback →
//! code exchange (the LWA stand-in), over real HTTP with a browser that
//! keeps cookies, and every way it can go wrong.

#![allow(clippy::unwrap_used)] // a failed unwrap is a failed test

use crate::common::amazon::{consent, open_link, path_of, query_param, AmazonApp};
use crate::common::{Browser, TestDb, CLOCK_START};
use reqwest::StatusCode;
use testkit::contains_bytes;

async fn register(a: &AmazonApp, country: &str) -> String {
    a.register("Main store", country).await["id"]
        .as_str()
        .unwrap()
        .to_owned()
}

async fn connect_store_becomes_active(db: &TestDb) {
    let a = AmazonApp::start(db, true).await;
    let id = register(&a, "US").await;
    let browser = Browser::new(&a.app);
    let link = a.connect_link(&id).await;
    let r = browser.get(&link).await;
    assert_eq!(r.status, StatusCode::SEE_OTHER);
    let cookie = r.set_cookie_line("acct_amazon_state").unwrap();
    for attr in [
        "HttpOnly",
        "SameSite=Lax",
        "Path=/amazon/authorize",
        "Max-Age=600",
    ] {
        assert!(cookie.contains(attr), "{attr} in {cookie}");
    }
    let consent_url = r.location().unwrap().to_owned();
    assert!(consent_url.starts_with(&format!(
        "{}/apps/authorize/consent?",
        a.standin.seller_central_url()
    )));
    assert_eq!(
        query_param(&consent_url, "application_id").unwrap(),
        a.standin.config().application_id
    );
    let redirect_uri = query_param(&consent_url, "redirect_uri").unwrap();
    assert_eq!(redirect_uri, a.app.url("/amazon/authorize/callback"));
    let state = query_param(&consent_url, "state").unwrap();
    assert!(state.len() >= 43, "≥ 256 bits");
    assert!(query_param(&consent_url, "version").is_none());

    let callback = consent(&consent_url).await;
    let code = query_param(&callback, "spapi_oauth_code").unwrap();
    a.clock.advance(30);
    let r = browser.get(&path_of(&callback)).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    assert_eq!(r.headers["referrer-policy"], "no-referrer");
    assert!(r.text.contains("Store authorized"), "{}", r.text);
    assert!(r.text.contains("Main store") && r.text.contains("Active"));
    assert!(r.text.contains("Return to the Admin"));
    for secret in [&code, &state] {
        assert!(
            !r.text.contains(secret.as_str()),
            "the page shows no code or state"
        );
    }
    assert_eq!(a.standin.grants(), vec!["authorization_code"]);

    let now = CLOCK_START + 30;
    let store = a.store(&id).await;
    assert_eq!(store["status"], "active");
    assert_eq!(store["reason"], serde_json::json!(null));
    assert_eq!(store["seller_id"], "A1STANDINSELLER");
    assert_eq!(store["authorized_at"], web::clock::rfc3339(now).as_str());
    assert_eq!(
        store["authorization_expires_at"],
        web::clock::rfc3339(now + 365 * 86400).as_str()
    );

    // The refresh token is stored encrypted only, bound to the store.
    let tokens = a.standin.refresh_tokens();
    assert_eq!(tokens.len(), 1);
    let token = &tokens[0];
    let row = a.row(&id).await;
    let enc = row.refresh_token_enc.clone().unwrap();
    assert!(!enc.contains(token.as_str()) && !enc.contains("Atzr"));
    let crypto = &a.app.running.state.cfg.token_crypto;
    assert_eq!(
        &crypto.decrypt(&format!("amazon_store:{id}"), &enc).unwrap(),
        token
    );
    assert!(crypto.decrypt("amazon_store:other", &enc).is_err());
    assert!(
        !format!("{row:?}").contains(&enc),
        "Debug hides the ciphertext"
    );
    let stored = db.stored_bytes().await;
    for secret in [token.as_str(), &code, &state, "Atzr|"] {
        assert!(
            !contains_bytes(&stored, secret.as_bytes()),
            "{secret} not stored"
        );
    }

    // Replayed: refused, and nothing changes.
    let r = browser.get(&path_of(&callback)).await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST, "{}", r.text);
    assert!(r.text.contains("completed already"), "{}", r.text);
    assert_eq!(a.standin.token_requests(), 1);
    assert_eq!(a.store(&id).await, store);

    // The audit trail says so, without any secret.
    let events = account::store::list_events(&a.app.running.state.db, &row.company_id, None, 20)
        .await
        .unwrap();
    let connected = events
        .iter()
        .find(|e| e.action == "amazon_store.connected")
        .unwrap();
    let detail = connected.detail.clone().unwrap();
    assert!(
        detail.contains("Main store") && detail.contains("active"),
        "{detail}"
    );
    for e in &events {
        let text = format!("{e:?}");
        for secret in [token.as_str(), &code, &state] {
            assert!(!text.contains(secret), "no secret in {text}");
        }
    }
    a.app.stop().await;
}

async fn links_are_single_use_and_expire(db: &TestDb) {
    let a = AmazonApp::start(db, true).await;
    let id = register(&a, "GB").await;
    let browser = Browser::new(&a.app);
    let link = a.connect_link(&id).await;
    assert_eq!(browser.get(&link).await.status, StatusCode::SEE_OTHER);
    let r = browser.get(&link).await;
    assert_eq!(r.status, StatusCode::GONE, "used: {}", r.text);
    assert!(r.text.contains("used already"), "{}", r.text);

    let link = a.connect_link(&id).await;
    a.clock.advance(601);
    let r = browser.get(&link).await;
    assert_eq!(r.status, StatusCode::GONE, "expired: {}", r.text);
    assert!(r.text.contains("expired"));

    let r = browser
        .get("/amazon/connect/AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA")
        .await;
    assert_eq!(r.status, StatusCode::NOT_FOUND);
    let r = browser.get("/amazon/connect/%00").await;
    assert!(r.status.is_client_error());
    assert_eq!(a.store(&id).await["status"], "authorization_pending");
    a.app.stop().await;
}

async fn states_are_checked_first(db: &TestDb) {
    let a = AmazonApp::start(db, true).await;
    let id = register(&a, "MX").await;
    let browser = Browser::new(&a.app);
    let consent_url = open_link(&a, &browser, &id).await;
    let callback = consent(&consent_url).await;
    let path = path_of(&callback);

    // Forged: an unknown state.
    let code = query_param(&callback, "spapi_oauth_code").unwrap();
    let forged = format!(
        "/amazon/authorize/callback?state={}&selling_partner_id=A1&spapi_oauth_code={code}",
        "B".repeat(43)
    );
    let r = browser.get(&forged).await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST);
    assert!(r.text.contains("does not belong"), "{}", r.text);
    let r = browser.get("/amazon/authorize/callback").await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST, "no state at all");

    // Another browser (no cookie, or another one): refused, and the state
    // is not used up.
    let other = Browser::new(&a.app);
    let r = other.get(&path).await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST);
    assert!(r.text.contains("another browser"), "{}", r.text);
    other.set_cookie("acct_amazon_state", &"C".repeat(43));
    assert_eq!(other.get(&path).await.status, StatusCode::BAD_REQUEST);
    assert_eq!(a.standin.token_requests(), 0, "no exchange was tried");
    assert_eq!(a.store(&id).await["status"], "authorization_pending");

    // The right browser still completes.
    let r = browser.get(&path).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    assert_eq!(a.store(&id).await["status"], "active");

    // A state older than 10 minutes: refused, nothing changes.
    let consent_url = open_link(&a, &browser, &id).await;
    let callback = consent(&consent_url).await;
    a.clock.advance(601);
    let r = browser.get(&path_of(&callback)).await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST);
    assert!(r.text.contains("longer than 10 minutes"), "{}", r.text);
    assert_eq!(a.standin.token_requests(), 1);
    a.app.stop().await;
}

/// Completes a flow whose exchange fails; returns the page and the store.
async fn failing_flow(
    a: &AmazonApp,
    id: &str,
    before_callback: impl FnOnce(),
) -> (String, serde_json::Value) {
    let browser = Browser::new(&a.app);
    let consent_url = open_link(a, &browser, id).await;
    let callback = consent(&consent_url).await;
    before_callback();
    let r = browser.get(&path_of(&callback)).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    assert!(r.text.contains("Authorization failed"), "{}", r.text);
    (r.text, a.store(id).await)
}

async fn failures_are_named(db: &TestDb) {
    let a = AmazonApp::start(db, true).await;
    let id = register(&a, "US").await;

    // The code outlived its 5 minutes (the state its 10 did not).
    let (page, store) = failing_flow(&a, &id, || a.clock.advance(301)).await;
    assert_eq!(store["status"], "authorization_failed");
    assert_eq!(store["reason"], "invalid_grant");
    assert!(
        page.contains("did not accept the authorization code"),
        "{page}"
    );

    // Our secret is not the one Amazon accepts any more.
    let (page, store) =
        failing_flow(&a, &id, || a.standin.set_client_secret("rotated-elsewhere")).await;
    assert_eq!(store["reason"], "invalid_client");
    assert!(page.contains("service operator"), "{page}");
    // The operator puts the new secret in the file: read again, no restart.
    std::fs::write(&a.secret_file, "rotated-elsewhere\n").unwrap();

    let (_, store) = failing_flow(&a, &id, || {
        a.standin.force_error(Some((400, "unsupported_grant_type")))
    })
    .await;
    assert_eq!(store["reason"], "unsupported_grant_type");

    let (page, store) = failing_flow(&a, &id, || {
        a.standin.force_error(Some((503, "server_error")))
    })
    .await;
    assert_eq!(store["reason"], "token_endpoint_unreachable");
    assert!(page.contains("could not be reached"), "{page}");
    a.standin.force_error(None);

    // A token endpoint that does not answer: the callback gives up in time.
    a.standin.set_hang(true);
    let (_, store) = failing_flow(&a, &id, || {}).await;
    assert_eq!(store["reason"], "token_endpoint_unreachable");
    a.standin.set_hang(false);

    // No code at all (consent declined).
    let browser = Browser::new(&a.app);
    let consent_url = open_link(&a, &browser, &id).await;
    let state = query_param(&consent_url, "state").unwrap();
    let r = browser
        .get(&format!(
            "/amazon/authorize/callback?state={state}&selling_partner_id=A1"
        ))
        .await;
    assert_eq!(r.status, StatusCode::OK);
    assert!(r.text.contains("sent no authorization code"), "{}", r.text);
    assert_eq!(a.store(&id).await["reason"], "missing_code");

    // In Dutch too.
    let nl = Browser::with_language(&a.app, "nl");
    let consent_url = open_link(&a, &nl, &id).await;
    let state = query_param(&consent_url, "state").unwrap();
    let r = nl
        .get(&format!("/amazon/authorize/callback?state={state}"))
        .await;
    assert!(r.text.contains("Autorisatie mislukt"), "{}", r.text);

    // And a good one after all that: active, the reason gone.
    let browser = Browser::new(&a.app);
    let consent_url = open_link(&a, &browser, &id).await;
    let callback = consent(&consent_url).await;
    let r = browser.get(&path_of(&callback)).await;
    assert!(r.text.contains("Store authorized"), "{}", r.text);
    let store = a.store(&id).await;
    assert_eq!(store["status"], "active");
    assert_eq!(store["reason"], serde_json::json!(null));
    a.app.stop().await;
}

async fn not_configured_and_draft(db: &TestDb) {
    let a = AmazonApp::start(db, false).await;
    let browser = Browser::new(&a.app);
    for path in [
        format!("/amazon/connect/{}", "A".repeat(43)),
        format!("/amazon/authorize/callback?state={}&spapi_oauth_code=x", "A".repeat(43)),
        "/amazon/authorize/login?amazon_callback_uri=https://sellercentral.amazon.com/x&amazon_state=s".to_owned(),
    ] {
        let r = browser.get(&path).await;
        assert_eq!(r.status, StatusCode::SERVICE_UNAVAILABLE, "{path}");
        assert!(r.text.contains("service operator has not set up Amazon authorization"), "{}", r.text);
    }
    a.app.stop().await;

    let a = AmazonApp::start_with(db, true, |cfg| {
        if let Some(amazon) = cfg.amazon.as_mut() {
            amazon.draft_app = true;
        }
    })
    .await;
    let id = register(&a, "US").await;
    let browser = Browser::new(&a.app);
    let consent_url = open_link(&a, &browser, &id).await;
    assert_eq!(
        query_param(&consent_url, "version").as_deref(),
        Some("beta")
    );
    a.app.stop().await;
}

/// The same callback twice at once (a double click, a replay racing the
/// real one): the state is taken once, the code exchanged once.
async fn a_state_is_taken_once(db: &TestDb) {
    let a = AmazonApp::start(db, true).await;
    let id = register(&a, "US").await;
    let browser = Browser::new(&a.app);
    let consent_url = open_link(&a, &browser, &id).await;
    let path = path_of(&consent(&consent_url).await);
    let (one, two) = tokio::join!(browser.get(&path), browser.get(&path));
    let mut statuses = [one.status, two.status];
    statuses.sort();
    assert_eq!(statuses, [StatusCode::OK, StatusCode::BAD_REQUEST]);
    assert_eq!(a.standin.token_requests(), 1);
    assert_eq!(a.store(&id).await["status"], "active");
    a.app.stop().await;
}

/// A deactivated store can be authorized: it stays Inactive, and the page says so.
async fn an_inactive_store_is_authorized_and_stays_inactive(db: &TestDb) {
    let a = AmazonApp::start(db, true).await;
    let id = register(&a, "GB").await;
    let r = a
        .patch_store(&id, serde_json::json!({"active": false}))
        .await;
    assert_eq!(r.json()["status"], "inactive");
    let browser = Browser::new(&a.app);
    let r = crate::common::amazon::authorize(&a, &browser, &id).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    assert!(r.text.contains("The store is Inactive"), "{}", r.text);
    let store = a.store(&id).await;
    assert_eq!(store["status"], "inactive");
    assert!(store["authorized_at"].is_string());
    a.app.stop().await;
}

both_backends!(
    the_state_cookie_is_host_only_under_secure_cookies,
    an_inactive_store_is_authorized_and_stays_inactive,
    a_state_is_taken_once,
    connect_store_becomes_active,
    links_are_single_use_and_expire,
    states_are_checked_first,
    failures_are_named,
    not_configured_and_draft,
);

/// With `--secure-cookies` the state cookie is `__Host-acct_amazon_state`
/// (Secure, `Path=/`): a sibling subdomain cannot plant it, and the
/// unprefixed name is not read.
async fn the_state_cookie_is_host_only_under_secure_cookies(db: &TestDb) {
    let a = AmazonApp::start_with(db, true, |cfg| cfg.secure_cookies = true).await;
    let id = register(&a, "US").await;

    // A planted, unprefixed cookie is not the browser's nonce.
    let planted = Browser::new(&a.app);
    let r = planted.get(&a.connect_link(&id).await).await;
    assert_eq!(r.status, StatusCode::SEE_OTHER);
    let nonce = planted.cookie("__Host-acct_amazon_state").unwrap();
    let other = Browser::new(&a.app);
    other.set_cookie("acct_amazon_state", &nonce);
    let callback = consent(r.location().unwrap()).await;
    let r = other.get(&path_of(&callback)).await;
    assert_ne!(
        r.status,
        StatusCode::OK,
        "the unprefixed name is not read: {}",
        r.text
    );

    let browser = Browser::new(&a.app);
    let r = browser.get(&a.connect_link(&id).await).await;
    assert_eq!(r.status, StatusCode::SEE_OTHER);
    let line = r.set_cookie_line("__Host-acct_amazon_state").unwrap();
    for attr in ["Path=/;", "Secure", "HttpOnly", "SameSite=Lax"] {
        assert!(line.contains(attr), "{attr} in {line}");
    }
    assert!(!line.contains("Domain"), "{line}");
    assert!(r.set_cookie_line("acct_amazon_state").is_none() || line.starts_with("__Host-"));
    let callback = consent(r.location().unwrap()).await;
    let r = browser.get(&path_of(&callback)).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    assert!(r.text.contains("Store authorized"), "{}", r.text);
}
