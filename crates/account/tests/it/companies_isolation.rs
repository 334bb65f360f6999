//! Shared access (SPEC §9): every route acts on the session's current
//! company only. An agency that owns company A and is an owner in company B
//! reaches none of B's keys, members, invitations, audit events or Amazon
//! stores while its session is in A (404, as for a stranger), and all of
//! them once it switches to B. On both backends.

#![allow(clippy::unwrap_used)] // a failed unwrap is a failed test

use crate::common::companies::{
    agency, call, call_with_key, close, join_as, switch_ok, MERCHANT_B,
};
use crate::common::members::invite;
use crate::common::{unique_email, App, Resp, TestDb};
use reqwest::{Method, StatusCode};
use serde_json::{json, Value};

both_backends!(every_id_bearing_route_acts_in_the_current_company_only);

/// The routes that name one of B's things by id, as the agency calls them.
fn id_routes(
    key: &str,
    clerk: &str,
    owner: &str,
    inv: &str,
) -> Vec<(Method, String, Option<Value>)> {
    vec![
        (
            Method::PUT,
            format!("/api/v1/keys/{key}/public-key"),
            Some(json!({ "public_key": null })),
        ),
        (
            Method::POST,
            format!("/api/v1/keys/{key}/roll"),
            Some(json!({ "grace_seconds": 60 })),
        ),
        (Method::DELETE, format!("/api/v1/keys/{key}"), None),
        (
            Method::PATCH,
            format!("/api/v1/members/{clerk}"),
            Some(json!({ "role": "viewer" })),
        ),
        (
            Method::PATCH,
            format!("/api/v1/members/{owner}"),
            Some(json!({ "role": "member" })),
        ),
        (Method::DELETE, format!("/api/v1/members/{clerk}"), None),
        (Method::DELETE, format!("/api/v1/members/{owner}"), None),
        (Method::DELETE, format!("/api/v1/invitations/{inv}"), None),
    ]
}

fn ids_in(r: &Resp) -> String {
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    r.text.clone()
}

async fn every_id_bearing_route_acts_in_the_current_company_only(db: &TestDb) {
    let app = App::start(db).await;
    let ag = agency(&app, "owner").await;
    // B's things: a key, a member, a pending invitation, an Amazon store.
    let b_key = app
        .create_key(&ag.b_owner, json!({"name": "B's store"}))
        .await;
    let b_key_id = b_key["id"].as_str().unwrap().to_owned();
    let b_secret = b_key["key"].as_str().unwrap().to_owned();
    let (_, clerk, _) = join_as(&app, &ag.b_owner, "member").await;
    let (inv, _, _) = invite(&app, &ag.b_owner, &unique_email("pending"), "member").await;
    let r = call_with_key(
        &app,
        &b_secret,
        Method::POST,
        "/amazon/v1/stores",
        Some(json!({"name": "B on Amazon", "email": "seller@example.com",
                    "country": "US", "website_url": "https://b.example.com"})),
    )
    .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text);
    let store = r.json()["id"].as_str().unwrap().to_owned();

    // In A, the agency's own company.
    switch_ok(&app, &ag.sid, &ag.a).await;
    let a_key = app.create_key(&ag.sid, json!({"name": "A's store"})).await;
    let a_secret = a_key["key"].as_str().unwrap().to_owned();
    let routes = id_routes(&b_key_id, &clerk, &ag.b_owner_id, &inv);
    for (method, path, body) in &routes {
        let r = call(&app, method.clone(), path, &ag.sid, body.clone()).await;
        assert_eq!(
            r.assert_api_error_status(StatusCode::NOT_FOUND, &format!("{method} {path} in A")),
            "not_found"
        );
    }
    // Nothing of B is listed in A.
    let listed = [
        ids_in(&app.get("/api/v1/keys", Some(&ag.sid)).await),
        ids_in(&app.get("/api/v1/members", Some(&ag.sid)).await),
        ids_in(&app.get("/api/v1/invitations", Some(&ag.sid)).await),
        ids_in(&app.get("/api/v1/audit?limit=200", Some(&ag.sid)).await),
    ]
    .concat();
    for b_thing in [&b_key_id, &clerk, &ag.b_owner_id, &inv, &ag.b] {
        assert!(!listed.contains(b_thing.as_str()), "{b_thing} seen in A");
    }
    assert!(!listed.contains(MERCHANT_B));
    // B cannot be closed from A (it is not the session's company).
    let r = close(&app, &ag.sid, &ag.b, MERCHANT_B).await;
    assert_eq!(
        r.assert_api_error_status(StatusCode::CONFLICT, "close B from A"),
        "company_switched"
    );
    // A key made in A is A's: B's store is not found with it.
    for (method, path) in [
        (Method::GET, format!("/amazon/v1/stores/{store}")),
        (Method::POST, format!("/amazon/v1/stores/{store}/check")),
        (Method::DELETE, format!("/amazon/v1/stores/{store}")),
    ] {
        let r = call_with_key(&app, &a_secret, method, &path, None).await;
        assert_eq!(r.status, StatusCode::NOT_FOUND, "{path}: {}", r.text);
    }
    let r = call_with_key(&app, &a_secret, Method::GET, "/amazon/v1/stores", None).await;
    assert_eq!(r.json()["stores"], json!([]));

    // Nothing of B changed.
    assert_eq!(app.verify_status(&b_secret).await, "valid");
    assert!(app.listed_key(&ag.b_owner, &b_key_id).await["public_key"].is_null());
    let members = app.get("/api/v1/members", Some(&ag.b_owner)).await.text;
    assert!(members.contains(&clerk) && members.contains(&ag.b_owner_id));
    let pending = app.get("/api/v1/invitations", Some(&ag.b_owner)).await.text;
    assert!(pending.contains(&inv));

    // In B: B's things, and none of A's.
    switch_ok(&app, &ag.sid, &ag.b).await;
    let keys = ids_in(&app.get("/api/v1/keys", Some(&ag.sid)).await);
    assert!(keys.contains(&b_key_id) && !keys.contains(a_key["id"].as_str().unwrap()));
    let r = app
        .delete(
            &format!("/api/v1/keys/{}", a_key["id"].as_str().unwrap()),
            Some(&ag.sid),
        )
        .await;
    assert_eq!(
        r.status,
        StatusCode::NOT_FOUND,
        "A's key from B: {}",
        r.text
    );
    let audit = ids_in(&app.get("/api/v1/audit?limit=200", Some(&ag.sid)).await);
    assert!(audit.contains(&b_key_id) && !audit.contains(a_key["id"].as_str().unwrap()));
    // Every route works on B's things now (B's first owner stays an owner:
    // the agency demotes nobody but the clerk).
    let expect = [
        StatusCode::OK,
        StatusCode::CREATED,
        StatusCode::NO_CONTENT,
        StatusCode::OK,
    ];
    for ((method, path, body), want) in routes.iter().zip(expect) {
        let r = call(&app, method.clone(), path, &ag.sid, body.clone()).await;
        assert_eq!(r.status, want, "{method} {path} in B: {}", r.text);
    }
    let r = app
        .delete(&format!("/api/v1/members/{clerk}"), Some(&ag.sid))
        .await;
    assert_eq!(r.status, StatusCode::NO_CONTENT, "{}", r.text);
    let r = app
        .delete(&format!("/api/v1/invitations/{inv}"), Some(&ag.sid))
        .await;
    assert_eq!(r.status, StatusCode::NO_CONTENT, "{}", r.text);
    assert_eq!(app.verify_status(&b_secret).await, "revoked");
    // A key made in B is B's: B's store is found with it.
    let b_made = app
        .create_key(&ag.sid, json!({"name": "Agency in B"}))
        .await;
    let r = call_with_key(
        &app,
        b_made["key"].as_str().unwrap(),
        Method::GET,
        &format!("/amazon/v1/stores/{store}"),
        None,
    )
    .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);

    // B's audit log names the agency for what it did there.
    let audit = app
        .get("/api/v1/audit?limit=200", Some(&ag.b_owner))
        .await
        .json();
    let by_agency: Vec<&str> = audit["events"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["actor"] == ag.email.to_lowercase().as_str())
        .map(|e| e["action"].as_str().unwrap())
        .collect();
    for action in [
        "member.joined",
        "key.rolled",
        "key.revoked",
        "member.role_changed",
        "member.removed",
        "member.invitation_revoked",
        "key.created",
    ] {
        assert!(by_agency.contains(&action), "{action} in {by_agency:?}");
    }
    app.stop().await;
}
