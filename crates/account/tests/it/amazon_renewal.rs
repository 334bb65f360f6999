//! Keeping stores authorized: the daily proof of every refresh token (and
//! the `check` route), revocation, the 365-day limit, network errors that
//! change nothing, and a client secret rotated in its file without a restart.

#![allow(clippy::unwrap_used)] // a failed unwrap is a failed test

use crate::common::amazon::{authorize, AmazonApp};
use crate::common::{Browser, TestDb};
use account::amazon::renewal::{self, Round};
use reqwest::{Method, StatusCode};
use serde_json::json;

const DAY: i64 = 86400;

/// A store of the company, authorized through the whole flow.
async fn authorized_store(a: &AmazonApp) -> String {
    let id = a.register("Renewed store", "US").await["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let r = authorize(a, &Browser::new(&a.app), &id).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    assert_eq!(a.store(&id).await["status"], "active");
    id
}

async fn check(a: &AmazonApp, id: &str) -> serde_json::Value {
    let r = a
        .call(Method::POST, &format!("/amazon/v1/stores/{id}/check"), None)
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    r.json()
}

async fn daily_proofs(db: &TestDb) {
    let a = AmazonApp::start(db, true).await;
    let id = authorized_store(&a).await;
    let state = &a.app.running.state;

    // Proven at authorization: nothing is due the same day.
    assert_eq!(renewal::check_due(state).await.unwrap(), Round::default());
    a.clock.advance(DAY);
    let round = renewal::check_due(state).await.unwrap();
    assert_eq!(round.proven, 1, "{round:?}");
    assert_eq!(
        a.standin.grants(),
        vec!["authorization_code", "refresh_token"]
    );
    assert_eq!(a.row(&id).await.last_checked_at, Some(a.clock_now()));
    assert_eq!(a.store(&id).await["status"], "active");

    // A network error changes nothing, and the store is tried again.
    a.clock.advance(DAY);
    a.standin.force_error(Some((503, "server_error")));
    let round = renewal::check_due(state).await.unwrap();
    assert_eq!(round.unchanged, 1, "{round:?}");
    let before = a.store(&id).await;
    assert_eq!(before["status"], "active");
    a.standin.force_error(None);
    a.standin.set_hang(true);
    assert_eq!(check(&a, &id).await, before, "a timeout changes nothing");
    a.standin.set_hang(false);
    assert_eq!(
        renewal::check_due(state).await.unwrap().proven,
        1,
        "retried"
    );

    // The seller revokes the app in Seller Central: re-authorization required.
    a.standin.revoke_refresh_tokens();
    let store = check(&a, &id).await;
    assert_eq!(store["status"], "reauthorization_required");
    assert_eq!(store["reason"], "revoked");
    assert!(
        a.row(&id).await.refresh_token_enc.is_none(),
        "the token is discarded"
    );
    // No longer authorized: the daily round leaves it alone.
    a.clock.advance(DAY);
    let n = a.standin.token_requests();
    assert_eq!(renewal::check_due(state).await.unwrap(), Round::default());
    assert_eq!(a.standin.token_requests(), n);
    let events = account::store::list_events(&state.db, &a.row(&id).await.company_id, None, 50)
        .await
        .unwrap();
    let failed = events
        .iter()
        .find(|e| e.action == "amazon_store.failed")
        .unwrap();
    assert!(failed.detail.as_deref().unwrap().contains("revoked"));
    a.app.stop().await;
}

async fn authorizations_last_a_year(db: &TestDb) {
    let a = AmazonApp::start(db, true).await;
    let id = authorized_store(&a).await;
    let expires = a.store(&id).await["authorization_expires_at"].clone();
    assert_eq!(
        expires,
        json!(web::clock::rfc3339(a.clock_now() + 365 * DAY))
    );
    // Deactivated meanwhile: the authorization is kept.
    let r = a.patch_store(&id, json!({"active": false})).await;
    assert_eq!(r.json()["status"], "inactive");
    assert_eq!(r.json()["authorization_expires_at"], expires);
    let r = a.patch_store(&id, json!({"active": true})).await;
    assert_eq!(r.json()["status"], "active");

    a.clock.advance(365 * DAY - 1);
    assert_eq!(check(&a, &id).await["status"], "active", "a second before");
    a.clock.advance(1);
    let round = renewal::check_due(&a.app.running.state).await.unwrap();
    assert_eq!(round.lapsed, 1, "{round:?}");
    let store = a.store(&id).await;
    assert_eq!(store["status"], "reauthorization_required");
    assert_eq!(store["reason"], "expired");

    // Re-authorizing starts a new year.
    let r = authorize(&a, &Browser::new(&a.app), &id).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    let store = a.store(&id).await;
    assert_eq!(store["status"], "active");
    assert_eq!(
        store["authorization_expires_at"],
        json!(web::clock::rfc3339(a.clock_now() + 365 * DAY))
    );
    a.app.stop().await;
}

async fn the_client_secret_file_is_read_again(db: &TestDb) {
    let a = AmazonApp::start(db, true).await;
    let id = authorized_store(&a).await;
    // Amazon now accepts only the new secret; the file still holds the old.
    a.standin
        .set_client_secret("amzn1.oa2-cs.v1.rotated-secret");
    let store = check(&a, &id).await;
    assert_eq!(
        store["status"], "active",
        "invalid_client is the operator's problem"
    );
    let checked = a.row(&id).await.last_checked_at;
    // The operator writes the new secret: used at once, no restart.
    a.clock.advance(10);
    std::fs::write(&a.secret_file, "amzn1.oa2-cs.v1.rotated-secret\n").unwrap();
    assert_eq!(check(&a, &id).await["status"], "active");
    assert_ne!(
        a.row(&id).await.last_checked_at,
        checked,
        "proven with the new secret"
    );
    // New authorizations use it too.
    let other = a.register("Second", "GB").await["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let r = authorize(&a, &Browser::new(&a.app), &other).await;
    assert!(r.text.contains("Store authorized"), "{}", r.text);
    a.app.stop().await;
}

impl AmazonApp {
    fn clock_now(&self) -> i64 {
        use web::Clock;
        self.clock.now()
    }
}

/// Two nodes on one database run the daily round at once: each store is
/// proven once, by one of them.
async fn two_nodes_prove_each_store_once(db: &TestDb) {
    let a = AmazonApp::start(db, true).await;
    let mut ids = Vec::new();
    for _ in 0..4 {
        ids.push(authorized_store(&a).await);
    }
    let node1 = a.app.running.state.clone();
    let node2 = account::AppState::new(node1.db.clone(), node1.clock.clone(), node1.cfg.clone());
    a.clock.advance(DAY);
    let before = a.standin.grants().len();
    let r1 = tokio::spawn(async move { renewal::check_due(&node1).await.unwrap() });
    let r2 = tokio::spawn(async move { renewal::check_due(&node2).await.unwrap() });
    let (r1, r2) = (r1.await.unwrap(), r2.await.unwrap());
    assert_eq!(r1.proven + r2.proven, 4, "{r1:?} {r2:?}");
    let refreshes = a.standin.grants()[before..]
        .iter()
        .filter(|g| *g == "refresh_token")
        .count();
    assert_eq!(refreshes, 4, "one refresh exchange per store");
    for id in &ids {
        assert_eq!(a.row(id).await.last_checked_at, Some(a.clock_now()));
    }
}

both_backends!(
    two_nodes_prove_each_store_once,
    daily_proofs,
    authorizations_last_a_year,
    the_client_secret_file_is_read_again,
);
