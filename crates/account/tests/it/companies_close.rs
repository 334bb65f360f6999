//! Closing a company (SPEC §9): only its owner, only the session's current
//! company, only with its name typed. Closing revokes every key at once —
//! on PostgreSQL on a second node too, within a second — disconnects its
//! Amazon stores, withdraws its invitations, mails its members and is
//! audited; the people keep their accounts and their other companies, and
//! one left in no company makes a new one. On both backends.

#![allow(clippy::unwrap_used)] // a failed unwrap is a failed test

use std::time::{Duration, Instant};

use crate::common::amazon::{authorize, AmazonApp};
use crate::common::companies::{
    call_with_key, close, companies, company_lines, create, current, join_as, switch, switch_ok,
};
use crate::common::members::{accept, invite, join_new};
use crate::common::{company_messages, unique_email, App, Backend, Browser, TestDb, PASSWORD};
use reqwest::{Method, StatusCode};
use serde_json::{json, Value};

both_backends!(closing_a_company_ends_it_for_everyone_in_it);

const CLOSED: &str = "Amazon Co";

/// Polls `node` until it says `key` is revoked; panics after a second.
async fn revoked_within_a_second(node: &App, key: &str) {
    let start = Instant::now();
    loop {
        let status = node.verify_status(key).await;
        if status == "revoked" {
            return;
        }
        assert_eq!(status, "valid", "only valid until the change arrives");
        assert!(
            start.elapsed() < Duration::from_secs(1),
            "the second node still said valid after {:?}",
            start.elapsed()
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

/// Nothing of the company changed (its owner's session is in it).
async fn unchanged(a: &AmazonApp, store: &str, pending: &str, solo_key: &str) {
    let app = &a.app;
    assert_eq!(app.verify_status(&a.key).await, "valid");
    assert_eq!(app.verify_status(solo_key).await, "valid");
    assert_eq!(a.row(store).await.auth_state, "authorized");
    let members = app.get("/api/v1/members", Some(&a.sid)).await.json();
    assert_eq!(members["members"].as_array().unwrap().len(), 3);
    let invitations = app.get("/api/v1/invitations", Some(&a.sid)).await.text;
    assert!(invitations.contains(pending));
}

async fn closing_a_company_ends_it_for_everyone_in_it(db: &TestDb) {
    // The company to close: its owner, Production key and a connected store.
    let a = AmazonApp::start(db, true).await;
    let app = &a.app;
    let owner = a.sid.clone();
    let (company, _, _) = current(app, &owner).await;
    let store = a.register("Closing store", "US").await["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let r = authorize(&a, &Browser::new(app), &store).await;
    assert!(r.text.contains("Store authorized"), "{}", r.text);
    assert_eq!(a.row(&store).await.auth_state, "authorized");
    // An agency (with a company of its own), a member whose only company
    // this is (with a key of theirs), and a pending invitation.
    let agency_email = unique_email("agency");
    let agency = app.signup(&agency_email, "Agency A").await;
    let (agency_co, _, _) = current(app, &agency).await;
    let (_, token, _) = invite(app, &owner, &agency_email, "member").await;
    assert_eq!(accept(app, &agency, &token).await.status, StatusCode::OK);
    let (solo_email, _, solo) = join_as(app, &owner, "member").await;
    let solo_key = app.create_key(&solo, json!({"name": "Solo's"})).await;
    let solo_key = solo_key["key"].as_str().unwrap().to_owned();
    let pending = unique_email("pending");
    let (_, pending_token, _) = invite(app, &owner, &pending, "member").await;
    let owner_email = app.get("/api/v1/account", Some(&owner)).await.json()["account"]["email"]
        .as_str()
        .unwrap()
        .to_owned();
    // On PostgreSQL a second node on the same database, which has the key
    // cached as valid.
    let node2 = match db.backend {
        Backend::Postgres => {
            let node = App::start_with(db, &a.clock, account::Config::default()).await;
            assert_eq!(node.verify_status(&a.key).await, "valid");
            assert_eq!(node.verify_status(&a.key).await, "valid");
            Some(node)
        }
        Backend::Sqlite => None,
    };
    // A wrong name, or none: 422, and nothing changes.
    for confirm in ["Amazon Co.", "amazon co", "", "Agency A"] {
        let r = close(app, &owner, &company, confirm).await;
        assert_eq!(
            r.assert_api_error_status(StatusCode::UNPROCESSABLE_ENTITY, confirm),
            "invalid_field"
        );
    }
    unchanged(&a, &store, &pending, &solo_key).await;
    // Not an owner: 403, whoever asks.
    for sid in [&agency, &solo] {
        let r = close(app, sid, &company, CLOSED).await;
        assert_eq!(
            r.assert_api_error_status(StatusCode::FORBIDDEN, "member closes"),
            "owner_only"
        );
    }
    // Not the session's current company: 409; a stranger's company or none: 404.
    let spare = create(app, &owner, "Spare Co").await;
    let r = close(app, &owner, &company, CLOSED).await;
    assert_eq!(
        r.assert_api_error_status(StatusCode::CONFLICT, "not current"),
        "company_switched"
    );
    for id in [agency_co.as_str(), "co_doesnotexist000000"] {
        let r = close(app, &owner, id, "Agency A").await;
        assert_eq!(r.status, StatusCode::NOT_FOUND, "{id}: {}", r.text);
    }

    // The owner closes it.
    switch_ok(app, &owner, &company).await;
    unchanged(&a, &store, &pending, &solo_key).await;
    let r = close(app, &owner, &company, CLOSED).await;
    assert_eq!(r.status, StatusCode::NO_CONTENT, "{}", r.text);

    // Every key revoked at once, here and on the other node.
    assert_eq!(app.verify_status(&a.key).await, "revoked");
    assert_eq!(app.verify_status(&solo_key).await, "revoked");
    if let Some(node) = &node2 {
        revoked_within_a_second(node, &a.key).await;
        revoked_within_a_second(node, &solo_key).await;
    }
    let r = call_with_key(app, &a.key, Method::GET, "/amazon/v1/stores", None).await;
    assert_eq!(r.status, StatusCode::UNAUTHORIZED, "{}", r.text);
    // The store is disconnected: its authorization discarded.
    let row = a.row(&store).await;
    assert_eq!(row.auth_state, "reauth_required");
    assert_eq!(row.reason.as_deref(), Some("revoked"));
    assert!(row.refresh_token_enc.is_none(), "the token is discarded");
    assert_eq!(row.enabled, 0);
    // The invitation is withdrawn.
    let r = join_new(app, &pending, &pending_token).await;
    assert_eq!(
        r.assert_api_error_status(StatusCode::GONE, "withdrawn"),
        "invitation_revoked"
    );
    // Each of its people is mailed.
    let state = &app.running.state;
    let mut told: Vec<String> = company_messages(state, &company)
        .await
        .into_iter()
        .filter(|m| m.kind == account::companies::KIND_COMPANY_CLOSED)
        .map(|m| {
            assert!(m.body.contains(CLOSED), "{}", m.body);
            m.recipient
        })
        .collect();
    told.sort();
    let mut people = vec![
        owner_email.clone(),
        agency_email.clone(),
        solo_email.clone(),
    ];
    people.sort();
    assert_eq!(told, people);
    // Audited in the company, with what it did.
    let pool = &state.db.pool;
    let (actor, detail): (Option<String>, Option<String>) = sqlx::query_as(
        "SELECT actor, detail FROM audit_events WHERE company_id = $1 AND action = 'company.closed'",
    )
    .bind(&company)
    .fetch_one(pool)
    .await
    .unwrap();
    assert_eq!(actor.as_deref(), Some(owner_email.as_str()));
    let detail: Value = serde_json::from_str(&detail.unwrap()).unwrap();
    assert_eq!(
        detail,
        json!({"name": CLOSED, "keys_revoked": 2, "stores_disconnected": 1,
               "invitations_withdrawn": 1, "members": 3})
    );
    let left: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM memberships WHERE company_id = $1")
        .bind(&company)
        .fetch_one(pool)
        .await
        .unwrap();
    assert_eq!(left, 0, "no one belongs to it any more");

    // The people keep their accounts and their other companies: the agency
    // works on in A, in the same session; the owner in Spare Co.
    assert_eq!(current(app, &agency).await.0, agency_co);
    assert_eq!(company_lines(app, &agency).await.len(), 1);
    app.create_key(&agency, json!({"name": "Still working"}))
        .await;
    let again = app.login_raw(&agency_email, PASSWORD).await;
    assert_eq!(again.json()["account"]["company"]["id"], agency_co.as_str());
    assert_eq!(current(app, &owner).await.0, spare);
    // The closed company is gone for everyone: not switched to, not closed twice.
    for sid in [&owner, &agency, &solo] {
        let r = switch(app, sid, &company).await;
        assert_eq!(r.status, StatusCode::NOT_FOUND, "{}", r.text);
    }
    let r = close(app, &owner, &company, CLOSED).await;
    assert_eq!(r.status, StatusCode::NOT_FOUND, "{}", r.text);

    // The member whose only company it was: in no company, signed in, and
    // free to make one.
    let r = app.get("/api/v1/keys", Some(&solo)).await;
    assert_eq!(
        r.assert_api_error_status(StatusCode::FORBIDDEN, "no company"),
        "no_company"
    );
    assert!(companies(app, &solo).await.is_empty());
    let fresh = create(app, &solo, "Solo's Own").await;
    assert_eq!(current(app, &solo).await.0, fresh);
    let (_, keys) = app.list_keys(&solo).await;
    assert!(keys.is_empty(), "none of the closed company's keys");

    if let Some(node) = node2 {
        node.stop().await;
    }
    a.app.stop().await;
}
