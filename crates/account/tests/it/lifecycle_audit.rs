//! The audit log: a scripted session's events come back from
//! `GET /api/v1/audit` newest first, page by page, per company, without a
//! secret; and the Audit log page shows them. On both backends.

#![allow(clippy::unwrap_used)] // a failed unwrap is a failed test

use crate::common::{find_keys, unique_email, App, Browser, TestDb, CLOCK_START, PASSWORD};
use reqwest::StatusCode;
use serde_json::{json, Value};

both_backends!(
    a_scripted_session_is_listed_in_order,
    audit_pages_and_bad_queries,
);

async fn audit(app: &App, sid: &str, query: &str) -> (StatusCode, Value, String) {
    let r = app.get(&format!("/api/v1/audit{query}"), Some(sid)).await;
    let v = serde_json::from_str(&r.text).unwrap_or(Value::Null);
    (r.status, v, r.text)
}

async fn a_scripted_session_is_listed_in_order(db: &TestDb) {
    let (app, clock) = App::start_clocked(db).await;
    let email = unique_email("audit");
    let first = app.signup(&email, "Audit Co").await;
    clock.advance(1);
    let bad = app.login_raw(&email, "not the password at all").await;
    assert_eq!(bad.status, StatusCode::UNAUTHORIZED);
    clock.advance(1);
    let sid = app
        .login_raw(&email, PASSWORD)
        .await
        .cookie("acct_sid")
        .expect("signed in");
    clock.advance(1);
    let k = app
        .create_key(&sid, json!({"name": "Amazon Sales Channel"}))
        .await;
    let old_id = k["id"].as_str().unwrap().to_owned();
    let secret = k["key"].as_str().unwrap().to_owned();
    clock.advance(1);
    let r = app
        .post_json(
            &format!("/api/v1/keys/{old_id}/roll"),
            Some(&sid),
            &json!({"grace_seconds": 3600}),
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text);
    let rolled = r.json();
    let new_id = rolled["id"].as_str().unwrap().to_owned();
    let new_secret = rolled["key"].as_str().unwrap().to_owned();
    clock.advance(1);
    let r = app
        .delete(&format!("/api/v1/keys/{new_id}"), Some(&sid))
        .await;
    assert_eq!(r.status, StatusCode::NO_CONTENT);
    // Revoking again changes nothing and records nothing.
    let r = app
        .delete(&format!("/api/v1/keys/{new_id}"), Some(&first))
        .await;
    assert_eq!(r.status, StatusCode::NO_CONTENT);

    // Another company's session in between is not in this company's log.
    let other = app.signup(&unique_email("audit-other"), "Other Co").await;
    app.create_key(&other, json!({"name": "Theirs"})).await;

    let (status, body, raw) = audit(&app, &sid, "").await;
    assert_eq!(status, StatusCode::OK, "{raw}");
    let events = body["events"].as_array().expect("events").clone();
    let actions: Vec<&str> = events
        .iter()
        .map(|e| e["action"].as_str().unwrap())
        .collect();
    assert_eq!(
        actions,
        [
            "key.revoked",
            "key.rolled",
            "key.created",
            "session.signed_in",
            "session.sign_in_failed",
            "company.created",
        ],
        "newest first: {raw}"
    );
    assert!(body["next_before"].is_null(), "one page: {raw}");
    // Who, when, what.
    for e in &events {
        assert_eq!(e["actor"], email.as_str(), "{e}");
        assert!(e["id"].as_i64().is_some());
    }
    let times: Vec<&str> = events
        .iter()
        .map(|e| e["created_at"].as_str().unwrap())
        .collect();
    assert_eq!(times[0], web::clock::rfc3339(CLOCK_START + 5));
    assert_eq!(times[5], web::clock::rfc3339(CLOCK_START));
    assert_eq!(events[0]["target"], new_id.as_str());
    assert_eq!(events[1]["target"], old_id.as_str());
    assert_eq!(events[1]["detail"]["new_key_id"], new_id.as_str());
    assert_eq!(events[1]["detail"]["grace_seconds"], 3600);
    assert_eq!(events[1]["detail"]["name"], "Amazon Sales Channel");
    assert_eq!(events[2]["target"], old_id.as_str());
    assert_eq!(events[3]["ip"], "127.0.0.1");
    assert_eq!(events[4]["ip"], "127.0.0.1");
    // Never a secret.
    assert!(find_keys(&raw).is_empty(), "no key in the log: {raw}");
    assert!(!raw.contains(&secret[9..]) && !raw.contains(&new_secret[9..]));
    assert!(!raw.contains("not the password") && !raw.contains(PASSWORD));

    // The other company sees only its own.
    let (_, theirs, raw) = audit(&app, &other, "").await;
    let theirs: Vec<&str> = theirs["events"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["action"].as_str().unwrap())
        .collect();
    assert_eq!(theirs, ["key.created", "company.created"], "{raw}");

    // Page by page, the same events in the same order.
    let mut paged: Vec<Value> = Vec::new();
    let mut query = "?limit=4".to_owned();
    let mut pages = 0;
    loop {
        let (status, page, raw) = audit(&app, &sid, &query).await;
        assert_eq!(status, StatusCode::OK, "{raw}");
        let got = page["events"].as_array().unwrap();
        assert!(got.len() <= 4);
        paged.extend(got.iter().cloned());
        pages += 1;
        match page["next_before"].as_i64() {
            Some(b) => query = format!("?limit=4&before={b}"),
            None => break,
        }
    }
    assert_eq!(pages, 2);
    assert_eq!(paged, events);

    // The signed-out are refused.
    let r = app.get("/api/v1/audit", None).await;
    assert_eq!(r.status, StatusCode::UNAUTHORIZED);
    assert_eq!(r.assert_api_error("signed out"), "not_signed_in");
    app.stop().await;
}

async fn audit_pages_and_bad_queries(db: &TestDb) {
    let (app, _clock) = App::start_clocked(db).await;
    let email = unique_email("audit-page");
    let sid = app.signup(&email, "Page Co").await;
    let k = app.create_key(&sid, json!({"name": "Shop <One>"})).await;
    let id = k["id"].as_str().unwrap();
    app.delete(&format!("/api/v1/keys/{id}"), Some(&sid)).await;

    for (q, message) in [
        ("?limit=0", "limit: between 1 and 200."),
        ("?limit=201", "limit: between 1 and 200."),
        ("?before=0", "before: an event id (a positive integer)."),
    ] {
        let (status, v, raw) = audit(&app, &sid, q).await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{q}: {raw}");
        assert_eq!(v["error"]["code"], "invalid_field", "{q}: {raw}");
        assert_eq!(v["error"]["message"], message, "{q}: {raw}");
    }
    for q in ["?limit=abc", "?before=x", "?what=1"] {
        let r = app.get(&format!("/api/v1/audit{q}"), Some(&sid)).await;
        assert_eq!(r.status, StatusCode::BAD_REQUEST, "{q}: {}", r.text);
        r.assert_api_error(q);
    }

    let browser = Browser::new(&app);
    let r = browser.get("/account/audit").await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "signed out: to sign-in");
    browser.login(&email, PASSWORD).await;
    let page = browser.get("/account/audit").await;
    assert_eq!(page.status, StatusCode::OK, "{}", page.text);
    for label in [
        "Audit log",
        "Key created",
        "Key revoked",
        "Company created",
        "Signed in",
        "Shop ",
    ] {
        assert!(page.text.contains(label), "the page shows {label}");
    }
    assert!(page.text.contains(&email));
    assert!(!page.text.contains("Shop <One>"), "escaped");
    assert!(find_keys(&page.text).is_empty());
    // The tab is on the other pages of My Account.
    let portal = browser.get("/account/api-portal").await;
    assert!(portal.text.contains("href=\"/account/audit\""));

    // In Dutch (the language switch's cookie).
    let nl = Browser::new(&app);
    nl.login(&email, PASSWORD).await;
    nl.set_cookie("acct_lang", "nl");
    let page = nl.get("/account/audit").await;
    assert!(page.text.contains("Auditlog") && page.text.contains("Sleutel ingetrokken"));
    app.stop().await;
}
