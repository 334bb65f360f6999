//! Rolling a key (the old one stays valid through the grace period, then
//! expires; the clock is moved, never slept on) and last use, within 60 s of
//! a verification. On both backends.

#![allow(clippy::unwrap_used)] // a failed unwrap is a failed test

use std::time::Duration;

use crate::common::{
    find_keys, form_input, unique_email, App, Browser, TestDb, CLOCK_START, PASSWORD,
};
use reqwest::StatusCode;
use serde_json::json;
use web::ManualClock;

both_backends!(
    old_key_is_valid_through_the_grace_period_then_expired,
    only_live_unrolled_keys_of_the_company_roll,
    roll_through_the_pages,
    last_use_appears_within_a_minute,
);

async fn roll(app: &App, sid: &str, id: &str, grace: i64) -> crate::common::Resp {
    app.post_json(
        &format!("/api/v1/keys/{id}/roll"),
        Some(sid),
        &json!({ "grace_seconds": grace }),
    )
    .await
}

async fn old_key_is_valid_through_the_grace_period_then_expired(db: &TestDb) {
    let (app, clock) = App::start_clocked(db).await;
    let email = unique_email("roll");
    let sid = app.signup(&email, "Roll Co").await;
    let old = app
        .create_key(
            &sid,
            json!({"name": "Amazon Sales Channel", "environment": "sandbox",
                   "expires_at": web::clock::rfc3339(CLOCK_START + 90 * 86400),
                   "generate_private_key": true}),
        )
        .await;
    let old_key = old["key"].as_str().unwrap().to_owned();
    let old_id = old["id"].as_str().unwrap().to_owned();
    assert_eq!(app.verify_status(&old_key).await, "valid");

    clock.advance(10 * 86400);
    // Sessions end after 12 idle hours: sign in again.
    let sid = app
        .login_raw(&email, PASSWORD)
        .await
        .cookie("acct_sid")
        .expect("signed in");
    let r = roll(&app, &sid, &old_id, 3600).await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text);
    let rolled = r.json();
    let new_key = rolled["key"]
        .as_str()
        .expect("the new key, shown once")
        .to_owned();
    let new_id = rolled["id"].as_str().unwrap().to_owned();
    assert_ne!(new_key, old_key);
    assert_ne!(new_id, old_id);
    assert_eq!(rolled["name"], "Amazon Sales Channel");
    assert_eq!(rolled["environment"], "sandbox");
    assert!(new_key.starts_with("cmk_test_"), "same environment");
    assert_eq!(rolled["status"], "valid");
    assert_eq!(
        rolled["has_public_key"], true,
        "the store's private key keeps working"
    );
    assert!(rolled.get("private_key").is_none());
    // The new key lives as long as the old one was meant to: 90 days.
    let now = CLOCK_START + 10 * 86400;
    assert_eq!(
        rolled["expires_at"],
        web::clock::rfc3339(now + 90 * 86400).as_str()
    );
    // The old key's new state comes back too.
    assert_eq!(rolled["replaces"]["id"], old_id.as_str());
    assert_eq!(rolled["replaces"]["replaced_by"], new_id.as_str());
    assert_eq!(
        rolled["replaces"]["expires_at"],
        web::clock::rfc3339(now + 3600).as_str()
    );
    assert!(rolled["replaces"].get("key").is_none());

    // Both work inside the grace period.
    assert_eq!(app.verify_status(&old_key).await, "valid");
    assert_eq!(app.verify_status(&new_key).await, "valid");
    clock.advance(3599);
    assert_eq!(app.verify_status(&old_key).await, "valid");
    // The grace period is over: the old key is expired, the new one is valid.
    clock.advance(1);
    assert_eq!(app.verify_status(&old_key).await, "expired");
    assert_eq!(app.verify_status(&new_key).await, "valid");
    let status = app
        .gateway(Some(("magento-api-key", old_key.as_str())))
        .await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);

    // Both are listed under the same name; the old one says what replaced it.
    let (raw, keys) = app.list_keys(&sid).await;
    assert_eq!(keys.len(), 2, "{raw}");
    assert!(keys.iter().all(|k| k["name"] == "Amazon Sales Channel"));
    assert!(find_keys(&raw).is_empty(), "no secret in the list");
    let listed_old = keys.iter().find(|k| k["id"] == old_id.as_str()).unwrap();
    assert_eq!(listed_old["status"], "expired");
    assert_eq!(listed_old["replaced_by"], new_id.as_str());

    // Grace "now": the old key stops at once.
    let r = roll(&app, &sid, &new_id, 0).await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text);
    let newest = r.json()["key"].as_str().unwrap().to_owned();
    assert_eq!(app.verify_status(&new_key).await, "expired");
    assert_eq!(app.verify_status(&newest).await, "valid");
    app.stop().await;
}

async fn only_live_unrolled_keys_of_the_company_roll(db: &TestDb) {
    let (app, clock) = App::start_clocked(db).await;
    let email = unique_email("roll-a");
    let sid = app.signup(&email, "A Co").await;
    let other = app.signup(&unique_email("roll-b"), "B Co").await;
    let k = app.create_key(&sid, json!({"name": "Store"})).await;
    let id = k["id"].as_str().unwrap().to_owned();
    let key = k["key"].as_str().unwrap().to_owned();
    assert!(k["expires_at"].is_null(), "no expiry");

    // Another company's key does not exist for it.
    let r = roll(&app, &other, &id, 3600).await;
    assert_eq!(r.status, StatusCode::NOT_FOUND, "{}", r.text);
    assert_eq!(r.assert_api_error("foreign roll"), "not_found");
    // Signed out, bad grace periods, bad bodies.
    let r = roll(&app, "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA", &id, 3600).await;
    assert_eq!(r.status, StatusCode::UNAUTHORIZED);
    for grace in [-1, 7 * 86400 + 1] {
        let r = roll(&app, &sid, &id, grace).await;
        assert_eq!(
            r.status,
            StatusCode::UNPROCESSABLE_ENTITY,
            "{grace}: {}",
            r.text
        );
        assert_eq!(r.assert_api_error("bad grace"), "invalid_field");
    }
    let r = app
        .post_json(
            &format!("/api/v1/keys/{id}/roll"),
            Some(&sid),
            &json!({"grace_seconds": "soon"}),
        )
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", r.text);
    let r = app
        .post_json(&format!("/api/v1/keys/{id}/roll"), Some(&sid), &json!({}))
        .await;
    assert!(r.status.is_client_error(), "{}", r.text);
    assert_eq!(app.list_keys(&sid).await.1.len(), 1, "nothing was created");

    // A week of grace is the most; the key stays valid that long.
    let r = roll(&app, &sid, &id, 7 * 86400).await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text);
    let new = r.json();
    assert!(
        new["expires_at"].is_null(),
        "the new key never expires either"
    );
    // A key already rolled cannot be rolled again (even inside its grace period).
    let r = roll(&app, &sid, &id, 3600).await;
    assert_eq!(r.status, StatusCode::CONFLICT, "{}", r.text);
    assert_eq!(r.assert_api_error("rolled twice"), "key_not_rollable");
    clock.advance(7 * 86400 - 1);
    assert_eq!(app.verify_status(&key).await, "valid");
    clock.advance(1);
    assert_eq!(app.verify_status(&key).await, "expired");

    // A revoked key cannot be rolled.
    let sid = app
        .login_raw(&email, PASSWORD)
        .await
        .cookie("acct_sid")
        .expect("signed in");
    let new_id = new["id"].as_str().unwrap();
    let r = app
        .delete(&format!("/api/v1/keys/{new_id}"), Some(&sid))
        .await;
    assert_eq!(r.status, StatusCode::NO_CONTENT);
    let r = roll(&app, &sid, new_id, 3600).await;
    assert_eq!(r.status, StatusCode::CONFLICT, "{}", r.text);
    assert_eq!(app.list_keys(&sid).await.1.len(), 2);
    app.stop().await;
}

async fn roll_through_the_pages(db: &TestDb) {
    let (app, clock) = App::start_clocked(db).await;
    let email = unique_email("roll-page");
    let sid = app.signup(&email, "Page Co").await;
    let k = app
        .create_key(&sid, json!({"name": "Amazon Sales Channel"}))
        .await;
    let id = k["id"].as_str().unwrap().to_owned();
    let old_key = k["key"].as_str().unwrap().to_owned();

    let browser = Browser::new(&app);
    let r = browser.login(&email, PASSWORD).await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.text);
    let portal = browser.get("/account/api-portal").await;
    let roll_path = format!("/account/api-portal/keys/{id}/roll");
    assert!(
        portal.text.contains(&format!("href=\"{roll_path}\"")),
        "a Roll link"
    );
    let page = browser.get(&roll_path).await;
    assert_eq!(page.status, StatusCode::OK, "{}", page.text);
    for choice in [
        "value=\"0\"",
        "value=\"3600\"",
        "value=\"86400\"",
        "value=\"604800\"",
    ] {
        assert!(page.text.contains(choice), "offers {choice}");
    }
    let csrf = form_input(&page.text, &roll_path, "csrf").expect("csrf");
    let nonce = form_input(&page.text, &roll_path, "nonce").expect("nonce");

    // Without the CSRF token nothing happens.
    let r = browser
        .post_form(
            &roll_path,
            &[("csrf", "x"), ("grace", "3600"), ("nonce", &nonce)],
        )
        .await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);

    let form = [
        ("csrf", csrf.as_str()),
        ("grace", "3600"),
        ("nonce", nonce.as_str()),
    ];
    let r = browser.post_form(&roll_path, &form).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    let shown = find_keys(&r.text);
    assert_eq!(shown.len(), 1, "the new key is shown once: {shown:?}");
    let new_key = shown[0].clone();
    assert_ne!(new_key, old_key);
    assert!(r
        .text
        .contains("The old key keeps working until 2027-01-15 09:00 UTC."));
    assert!(r.text.contains("Rolled"));
    assert_eq!(app.verify_status(&new_key).await, "valid");
    assert_eq!(app.verify_status(&old_key).await, "valid");

    // The same form again creates nothing and shows no key.
    let again = browser.post_form(&roll_path, &form).await;
    assert!(again.status.is_redirection() || again.status == StatusCode::CONFLICT);
    assert!(find_keys(&again.text).is_empty());
    assert_eq!(app.list_keys(&sid).await.1.len(), 2);
    // A rolled key offers no second roll.
    let page = browser.get(&roll_path).await;
    assert_eq!(page.status, StatusCode::CONFLICT);
    assert!(!page.text.contains("name=\"grace\""));

    clock.advance(3600);
    assert_eq!(app.verify_status(&old_key).await, "expired");
    app.stop().await;
}

async fn last_use_appears_within_a_minute(db: &TestDb) {
    // The flush period is the accuracy: 60 s by default.
    assert_eq!(
        account::Config::default().last_used_flush,
        Duration::from_secs(60)
    );
    let clock = ManualClock::new(CLOCK_START);
    let cfg = account::Config {
        last_used_flush: Duration::from_millis(200),
        ..account::Config::default()
    };
    let app = App::start_with(db, &clock, cfg).await;
    let sid = app.signup(&unique_email("lastuse"), "Use Co").await;
    let k = app.create_key(&sid, json!({"name": "Store"})).await;
    let id = k["id"].as_str().unwrap().to_owned();
    let key = k["key"].as_str().unwrap().to_owned();
    assert!(app.listed_key(&sid, &id).await["last_used_at"].is_null());

    clock.advance(30);
    assert_eq!(app.verify_status(&key).await, "valid");
    // The periodic flush (not a request) writes it: wait for the next tick.
    let deadline = std::time::Instant::now() + Duration::from_secs(10);
    let last_used = loop {
        let v = app.listed_key(&sid, &id).await["last_used_at"].clone();
        if !v.is_null() || std::time::Instant::now() > deadline {
            break v;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    };
    assert_eq!(last_used, web::clock::rfc3339(CLOCK_START + 30).as_str());

    // Shown in the API Portal too.
    let email = unique_email("lastuse-page");
    let sid2 = app.signup(&email, "Use Page Co").await;
    let k2 = app.create_key(&sid2, json!({"name": "Shop"})).await;
    let browser = Browser::new(&app);
    browser.login(&email, PASSWORD).await;
    let page = browser.get("/account/api-portal").await;
    assert!(page.text.contains("Not used yet"));
    clock.advance(60);
    app.verify_status(k2["key"].as_str().unwrap()).await;
    app.running.state.verifier.flush_last_used().await.unwrap();
    let page = browser.get("/account/api-portal").await;
    assert!(
        page.text.contains(&web::clock::human(CLOCK_START + 90)),
        "last use on the page"
    );
    app.stop().await;
}
