//! A failed re-authorization does not break a working store (the black-box
//! probe's attack): with a store Active, a new connect link whose callback
//! meets an LWA 503, a token endpoint that does not answer, a missing code or
//! a reused code leaves the store as it was; the attempt is recorded, audited
//! and shown; and **Check** proves the stored refresh token whatever the last
//! attempt did.

#![allow(clippy::unwrap_used)] // a failed unwrap is a failed test

use crate::common::amazon::{authorize, consent, open_link, path_of, query_param, AmazonApp};
use crate::common::{Browser, Resp, TestDb};
use reqwest::{Method, StatusCode};
use serde_json::{json, Value};
use web::clock::{human_date, rfc3339};
use web::Clock;

/// What a failed attempt must leave as it was.
const KEPT: [&str; 6] = [
    "status",
    "reason",
    "seller_id",
    "authorized_at",
    "authorization_expires_at",
    "created_at",
];

/// A store made Active through the whole flow.
struct Working {
    id: String,
    /// The code that authorized it (spent).
    code: String,
    store: Value,
    token_enc: String,
}

async fn working_store(a: &AmazonApp, browser: &Browser) -> Working {
    let id = a.register("Working store", "US").await["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let callback = consent(&open_link(a, browser, &id).await).await;
    let code = query_param(&callback, "spapi_oauth_code").unwrap();
    let r = browser.get(&path_of(&callback)).await;
    assert!(r.text.contains("Store authorized"), "{}", r.text);
    let store = a.store(&id).await;
    assert_eq!(store["status"], "active");
    assert_eq!(store["seller_id"], "A1STANDINSELLER");
    assert_eq!(store["last_attempt"], Value::Null);
    let token_enc = a.row(&id).await.refresh_token_enc.unwrap();
    Working {
        id,
        code,
        store,
        token_enc,
    }
}

/// How the new authorization's callback goes wrong.
#[derive(Clone, Debug)]
enum Attack {
    /// The LWA token endpoint answers 503.
    Unavailable,
    /// The token endpoint does not answer in time.
    Unreachable,
    /// Seller Central sends no code.
    MissingCode,
    /// A code that was exchanged already, with a fresh state.
    ReusedCode(String),
}

/// A new connect link, opened in `browser`, whose callback meets `attack`.
async fn failed_attempt(a: &AmazonApp, browser: &Browser, id: &str, attack: &Attack) -> Resp {
    let consent_url = open_link(a, browser, id).await;
    let state = query_param(&consent_url, "state").unwrap();
    let back = "/amazon/authorize/callback";
    let path = match attack {
        Attack::Unavailable | Attack::Unreachable => {
            let callback = path_of(&consent(&consent_url).await);
            if matches!(attack, Attack::Unavailable) {
                a.standin.force_error(Some((503, "server_error")));
            } else {
                a.standin.set_hang(true);
            }
            callback
        }
        Attack::MissingCode => format!("{back}?state={state}&selling_partner_id=A1STANDINSELLER"),
        Attack::ReusedCode(code) => format!(
            "{back}?state={state}&selling_partner_id=A1STANDINSELLER&spapi_oauth_code={code}"
        ),
    };
    let r = browser.get(&path).await;
    a.standin.force_error(None);
    a.standin.set_hang(false);
    r
}

async fn check(a: &AmazonApp, id: &str) -> Value {
    let r = a
        .call(Method::POST, &format!("/amazon/v1/stores/{id}/check"), None)
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    r.json()
}

/// Checks the store and asserts the stand-in was asked to refresh, once.
async fn check_proves(a: &AmazonApp, id: &str) -> Value {
    let before = a.standin.grants().len();
    let store = check(a, id).await;
    assert_eq!(
        a.standin.grants()[before..],
        ["refresh_token".to_owned()],
        "Check proved the stored refresh token"
    );
    store
}

async fn failed_events(a: &AmazonApp, id: &str) -> Vec<Value> {
    let company = a.row(id).await.company_id;
    account::store::list_events(&a.app.running.state.db, &company, None, 100)
        .await
        .unwrap()
        .into_iter()
        .filter(|e| e.action == "amazon_store.failed")
        .map(|e| serde_json::from_str(e.detail.as_deref().unwrap()).unwrap())
        .collect()
}

async fn a_failed_reauthorization_keeps_a_working_store(db: &TestDb) {
    let a = AmazonApp::start(db, true).await;
    // The company's owner, signed in, authorizes and reads the stores page.
    let browser = Browser::new(&a.app);
    browser.set_cookie("acct_sid", &a.sid);
    let w = working_store(&a, &browser).await;
    let attacks = [
        (Attack::ReusedCode(w.code.clone()), "invalid_grant"),
        (Attack::Unavailable, "token_endpoint_unreachable"),
        (Attack::Unreachable, "token_endpoint_unreachable"),
        (Attack::MissingCode, "missing_code"),
    ];
    let phrases = [
        "did not accept the authorization code",
        "could not be reached in time",
        "could not be reached in time",
        "sent no authorization code",
    ];
    for ((attack, reason), phrase) in attacks.iter().zip(phrases) {
        a.clock.advance(60);
        let r = failed_attempt(&a, &browser, &w.id, attack).await;
        assert_eq!(r.status, StatusCode::OK, "{attack:?}: {}", r.text);
        for said in [
            "Re-authorization failed",
            "keeps its current authorization",
            "Working store",
            "Active",
            phrase,
        ] {
            assert!(r.text.contains(said), "{attack:?}: {said} in {}", r.text);
        }
        assert!(!r.text.contains("Authorization failed"), "{}", r.text);

        let now = a.clock.now();
        let store = a.store(&w.id).await;
        for f in KEPT {
            assert_eq!(store[f], w.store[f], "{attack:?} kept {f}: {store}");
        }
        assert_eq!(
            store["last_attempt"],
            json!({"at": rfc3339(now), "reason": reason}),
            "{attack:?}"
        );
        let row = a.row(&w.id).await;
        assert_eq!(row.refresh_token_enc.as_deref(), Some(w.token_enc.as_str()));

        // Named on the store's row of My Account > Amazon stores.
        let page = browser.get("/account/amazon-stores").await;
        let named = format!(
            "Re-authorization failed on {}; the store keeps its current authorization.",
            human_date(now)
        );
        assert!(page.text.contains(&named), "{}", page.text);
        assert!(page.text.contains(phrase), "{}", page.text);

        // Check proves the refresh token the store still holds.
        let checked = check_proves(&a, &w.id).await;
        for f in KEPT {
            assert_eq!(checked[f], w.store[f], "{attack:?}: checked {f}");
        }
        assert_eq!(checked["last_attempt"], store["last_attempt"]);
    }

    // Audited with the reason; the status it names is the one kept.
    let events = failed_events(&a, &w.id).await;
    assert_eq!(events.len(), 4, "{events:?}");
    for e in &events {
        assert_eq!(e["status"], "active", "{e}");
        assert_eq!(e["authorization"], "kept", "{e}");
        assert!(e["reason"].is_string(), "{e}");
        assert!(!e.to_string().contains(&w.code), "no code in {e}");
    }

    // A deactivated store keeps its authorization too (in Dutch this time).
    let r = a
        .call(
            Method::PATCH,
            &format!("/amazon/v1/stores/{}", w.id),
            Some(json!({"active": false})),
        )
        .await;
    assert_eq!(r.json()["status"], "inactive");
    let nl = Browser::new(&a.app);
    nl.set_cookie("acct_sid", &a.sid);
    nl.set_cookie("acct_lang", "nl");
    let r = failed_attempt(&a, &nl, &w.id, &Attack::Unavailable).await;
    assert!(
        r.text.contains("Opnieuw autoriseren mislukt") && r.text.contains("huidige autorisatie"),
        "{}",
        r.text
    );
    let store = a.store(&w.id).await;
    assert_eq!(store["status"], "inactive");
    assert_eq!(store["authorized_at"], w.store["authorized_at"]);
    let page = nl.get("/account/amazon-stores").await;
    assert!(
        page.text.contains("Opnieuw autoriseren mislukt op")
            && page.text.contains("niet op tijd bereikbaar"),
        "{}",
        page.text
    );
    assert_eq!(check_proves(&a, &w.id).await["status"], "inactive");
    let r = a
        .call(
            Method::PATCH,
            &format!("/amazon/v1/stores/{}", w.id),
            Some(json!({"active": true})),
        )
        .await;
    assert_eq!(r.json()["status"], "active");

    // A re-authorization that succeeds starts a new year and forgets the attempt.
    a.clock.advance(60);
    let r = authorize(&a, &browser, &w.id).await;
    assert!(r.text.contains("Store authorized"), "{}", r.text);
    let store = a.store(&w.id).await;
    assert_eq!(store["status"], "active");
    assert_eq!(store["last_attempt"], Value::Null);
    assert_eq!(store["authorized_at"], rfc3339(a.clock.now()).as_str());
    let page = browser.get("/account/amazon-stores").await;
    assert!(
        !page.text.contains("Re-authorization failed"),
        "{}",
        page.text
    );
    a.app.stop().await;
}

/// A store left `authorization_failed` while it holds the refresh token of an
/// earlier authorization (as failed attempts left stores before): Check
/// proves the token and the store is Active again, on its earlier dates.
async fn check_proves_the_token_of_a_failed_store(db: &TestDb) {
    let a = AmazonApp::start(db, true).await;
    let browser = Browser::new(&a.app);
    let w = working_store(&a, &browser).await;
    let state = &a.app.running.state;
    let failed = |reason: &'static str| {
        let id = w.id.clone();
        async move {
            account::store::fail_amazon_store(&state.db, &id, "failed", reason, false)
                .await
                .unwrap()
        }
    };
    assert!(failed("token_endpoint_unreachable").await);
    let store = a.store(&w.id).await;
    assert_eq!(store["status"], "authorization_failed");
    assert_eq!(store["reason"], "token_endpoint_unreachable");

    a.clock.advance(86400);
    let store = check_proves(&a, &w.id).await;
    assert_eq!(store["status"], "active", "{store}");
    for f in KEPT {
        assert_eq!(store[f], w.store[f], "restored {f}: {store}");
    }
    let row = a.row(&w.id).await;
    assert_eq!(row.last_checked_at, Some(a.clock.now()));
    assert_eq!(row.refresh_token_enc.as_deref(), Some(w.token_enc.as_str()));
    let events = account::store::list_events(&state.db, &row.company_id, None, 50)
        .await
        .unwrap();
    let connected = events
        .iter()
        .filter(|e| e.action == "amazon_store.connected")
        .count();
    assert_eq!(connected, 2, "authorized, then authorized again by Check");

    // One whose token is refused needs a new authorization, as before.
    assert!(failed("missing_code").await);
    a.standin.revoke_refresh_tokens();
    let store = check_proves(&a, &w.id).await;
    assert_eq!(store["status"], "reauthorization_required");
    assert_eq!(store["reason"], "revoked");
    assert!(a.row(&w.id).await.refresh_token_enc.is_none());
    // Nothing left to prove: Check asks Amazon nothing.
    let n = a.standin.token_requests();
    assert_eq!(check(&a, &w.id).await["status"], "reauthorization_required");
    assert_eq!(a.standin.token_requests(), n);
    a.app.stop().await;
}

/// A store that holds no working authorization fails as before, and the
/// attempt is recorded on it too.
async fn a_store_not_yet_authorized_still_fails(db: &TestDb) {
    let a = AmazonApp::start(db, true).await;
    let browser = Browser::new(&a.app);
    let id = a.register("New store", "GB").await["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let r = failed_attempt(&a, &browser, &id, &Attack::Unavailable).await;
    assert!(r.text.contains("Authorization failed"), "{}", r.text);
    assert!(!r.text.contains("keeps its current"), "{}", r.text);
    let store = a.store(&id).await;
    assert_eq!(store["status"], "authorization_failed");
    assert_eq!(store["reason"], "token_endpoint_unreachable");
    assert_eq!(
        store["last_attempt"],
        json!({"at": rfc3339(a.clock.now()), "reason": "token_endpoint_unreachable"})
    );
    let n = a.standin.token_requests();
    assert_eq!(check(&a, &id).await["status"], "authorization_failed");
    assert_eq!(a.standin.token_requests(), n, "no token to prove");
    assert_eq!(
        failed_events(&a, &id).await[0]["authorization"],
        Value::Null
    );

    // Authorized, then revoked in Seller Central: no longer working, so a
    // failed attempt is the store's status again.
    assert!(authorize(&a, &browser, &id)
        .await
        .text
        .contains("Store authorized"));
    a.standin.revoke_refresh_tokens();
    assert_eq!(check(&a, &id).await["status"], "reauthorization_required");
    let r = failed_attempt(&a, &browser, &id, &Attack::MissingCode).await;
    assert!(r.text.contains("Authorization failed"), "{}", r.text);
    let store = a.store(&id).await;
    assert_eq!(store["status"], "authorization_failed");
    assert_eq!(store["reason"], "missing_code");
    assert_eq!(store["last_attempt"]["reason"], "missing_code");
    a.app.stop().await;
}

both_backends!(
    a_failed_reauthorization_keeps_a_working_store,
    check_proves_the_token_of_a_failed_store,
    a_store_not_yet_authorized_still_fails,
);
