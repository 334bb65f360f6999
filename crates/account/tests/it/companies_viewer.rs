//! The viewer role (SPEC §9): invited as a viewer, a person sees the
//! company's keys, members and audit log and changes nothing: every change
//! to keys is 403 `read_only`, every owner's task stays 403 `owner_only`,
//! and nothing is written. Promoted to member, they work as members do. On
//! both backends.

#![allow(clippy::unwrap_used)] // a failed unwrap is a failed test

use crate::common::amazon::{path_of, query_param, AmazonApp};
use crate::common::companies::{call, close, companies, current, join_as};
use crate::common::members::invite;
use crate::common::{form_input, unique_email, App, Browser, TestDb, PASSWORD};
use reqwest::{Method, StatusCode};
use serde_json::json;

both_backends!(
    viewers_see_everything_and_change_nothing,
    viewers_authorize_no_amazon_store,
);

async fn viewers_see_everything_and_change_nothing(db: &TestDb) {
    let app = App::start(db).await;
    let owner = app.signup(&unique_email("owner"), "Viewed Co").await;
    let (company, _, _) = current(&app, &owner).await;
    let key = app.create_key(&owner, json!({"name": "Live store"})).await;
    let key_id = key["id"].as_str().unwrap().to_owned();
    let (inv, _, _) = invite(&app, &owner, &unique_email("pending"), "member").await;
    let (_, member_id, _) = join_as(&app, &owner, "member").await;
    let (viewer_email, viewer_id, viewer) = join_as(&app, &owner, "viewer").await;
    let owner_id = crate::common::companies::account_id(&app, &owner).await;

    // What a viewer sees: its role, the keys, the members, the audit log.
    let (_, name, role) = current(&app, &viewer).await;
    assert_eq!((name.as_str(), role.as_str()), ("Viewed Co", "viewer"));
    assert_eq!(companies(&app, &viewer).await[0]["role"], "viewer");
    let (_, keys) = app.list_keys(&viewer).await;
    assert_eq!(keys.len(), 1);
    assert_eq!(keys[0]["id"], key_id.as_str());
    let members = app.get("/api/v1/members", Some(&viewer)).await;
    assert_eq!(members.status, StatusCode::OK, "{}", members.text);
    let listed = members.json();
    let roles: Vec<&str> = listed["members"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["role"].as_str().unwrap())
        .collect();
    assert_eq!(
        roles,
        ["owner", "member", "viewer"],
        "owners first, viewers last"
    );
    let audit = app.get("/api/v1/audit", Some(&viewer)).await;
    assert_eq!(
        audit.status,
        StatusCode::OK,
        "viewers read the audit log: {}",
        audit.text
    );
    assert!(audit.text.contains(&key_id));

    // Every change to keys: read_only.
    let writes = [
        (
            Method::POST,
            "/api/v1/keys".to_owned(),
            Some(json!({"name": "Mine"})),
        ),
        (Method::DELETE, format!("/api/v1/keys/{key_id}"), None),
        (
            Method::POST,
            format!("/api/v1/keys/{key_id}/roll"),
            Some(json!({"grace_seconds": 0})),
        ),
        (
            Method::PUT,
            format!("/api/v1/keys/{key_id}/public-key"),
            Some(json!({"public_key": null})),
        ),
    ];
    for (method, path, body) in &writes {
        let r = call(&app, method.clone(), path, &viewer, body.clone()).await;
        assert_eq!(
            r.assert_api_error_status(StatusCode::FORBIDDEN, &format!("{method} {path}")),
            "read_only"
        );
    }
    // The owner's tasks: owner_only.
    let owners = [
        (
            Method::POST,
            "/api/v1/invitations".to_owned(),
            Some(json!({"email": unique_email("x"), "role": "viewer"})),
        ),
        (Method::GET, "/api/v1/invitations".to_owned(), None),
        (Method::DELETE, format!("/api/v1/invitations/{inv}"), None),
        (
            Method::PATCH,
            format!("/api/v1/members/{member_id}"),
            Some(json!({"role": "viewer"})),
        ),
        (
            Method::PATCH,
            format!("/api/v1/members/{viewer_id}"),
            Some(json!({"role": "owner"})),
        ),
        (Method::DELETE, format!("/api/v1/members/{member_id}"), None),
        (Method::DELETE, format!("/api/v1/members/{owner_id}"), None),
        (
            Method::PATCH,
            "/api/v1/company".to_owned(),
            Some(json!({"require_two_factor": true})),
        ),
    ];
    for (method, path, body) in &owners {
        let r = call(&app, method.clone(), path, &viewer, body.clone()).await;
        assert_eq!(
            r.assert_api_error_status(StatusCode::FORBIDDEN, &format!("{method} {path}")),
            "owner_only"
        );
    }
    let r = close(&app, &viewer, &company, "Viewed Co").await;
    assert_eq!(
        r.assert_api_error_status(StatusCode::FORBIDDEN, "close"),
        "owner_only"
    );

    // Nothing was written: the same key, valid; the same members; the
    // invitation pending; no audit event by the viewer but joining.
    assert_eq!(
        app.verify_status(key["key"].as_str().unwrap()).await,
        "valid"
    );
    let (_, keys) = app.list_keys(&owner).await;
    assert_eq!(keys.len(), 1);
    assert!(keys[0]["public_key"].is_null() && keys[0]["status"] == "valid");
    assert_eq!(
        app.get("/api/v1/members", Some(&owner)).await.json(),
        listed
    );
    let pending = app.get("/api/v1/invitations", Some(&owner)).await.text;
    assert!(pending.contains(&inv));
    let audit = app.get("/api/v1/audit", Some(&owner)).await.json();
    let by_viewer: Vec<&str> = audit["events"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["actor"] == viewer_email.as_str())
        .map(|e| e["action"].as_str().unwrap())
        .collect();
    assert_eq!(by_viewer, ["member.joined"]);

    // Promoted to member: keys can be made, the audit log is closed.
    let r = call(
        &app,
        Method::PATCH,
        &format!("/api/v1/members/{viewer_id}"),
        &owner,
        Some(json!({"role": "member"})),
    )
    .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    app.create_key(&viewer, json!({"name": "Now allowed"}))
        .await;
    let r = app.get("/api/v1/audit", Some(&viewer)).await;
    assert_eq!(
        r.assert_api_error_status(StatusCode::FORBIDDEN, "member audit"),
        "owner_only"
    );
    // Back to viewer: refused again at once.
    let r = call(
        &app,
        Method::PATCH,
        &format!("/api/v1/members/{viewer_id}"),
        &owner,
        Some(json!({"role": "viewer"})),
    )
    .await;
    assert_eq!(r.json()["member"]["role"], "viewer");
    let r = app
        .post_json("/api/v1/keys", Some(&viewer), &json!({"name": "Again"}))
        .await;
    assert_eq!(r.assert_api_error("viewer again"), "read_only");

    // A viewer may leave, as any member may.
    let r = app
        .delete(&format!("/api/v1/members/{viewer_id}"), Some(&viewer))
        .await;
    assert_eq!(r.status, StatusCode::NO_CONTENT, "{}", r.text);
    let r = app.get("/api/v1/keys", Some(&viewer)).await;
    assert_eq!(r.assert_api_error("left"), "no_company");
    app.stop().await;
}

/// An authorization started in Seller Central: a viewer signed in sees the
/// page, and picking a store is refused; the store stays unauthorized.
async fn viewers_authorize_no_amazon_store(db: &TestDb) {
    let a = AmazonApp::start(db, true).await;
    let store = a.register("Viewed store", "US").await["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let (email, _, _) = join_as(&a.app, &a.sid, "viewer").await;
    let browser = Browser::new(&a.app);
    let r = browser.login(&email, PASSWORD).await;
    assert!(r.status.is_redirection(), "signed in: {}", r.text);

    let sc = testkit::Browser::new(&a.standin.url);
    let login = sc
        .get("/apps/manage/reauthorize")
        .await
        .location()
        .unwrap()
        .to_owned();
    let page = browser.get(&path_of(&login)).await;
    assert_eq!(page.status, StatusCode::OK, "{}", page.text);
    let csrf = form_input(&page.text, "/logout", "csrf").unwrap();
    let r = browser
        .post_form(
            "/amazon/authorize/login",
            &[
                ("csrf", &csrf),
                (
                    "amazon_callback_uri",
                    &query_param(&login, "amazon_callback_uri").unwrap(),
                ),
                (
                    "amazon_state",
                    &query_param(&login, "amazon_state").unwrap(),
                ),
                ("store_id", &store),
            ],
        )
        .await;
    assert_eq!(r.status, StatusCode::FORBIDDEN, "{}", r.text);
    assert!(
        r.text.contains("and change nothing"),
        "says why: {}",
        r.text
    );
    assert_eq!(a.row(&store).await.auth_state, "pending");
    assert!(a.standin.grants().is_empty(), "nothing asked of Amazon");
    a.app.stop().await;
}
