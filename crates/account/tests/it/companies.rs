//! Shared access (SPEC §9): an agency account that belongs to two companies
//! lists them, switches between them per session, and is removed from one
//! without losing the other; a new company becomes the current one. On
//! both backends. (Isolation between the two is `companies_isolation.rs`,
//! viewers `companies_viewer.rs`, closing `companies_close.rs`.)

#![allow(clippy::unwrap_used)] // a failed unwrap is a failed test

use crate::common::companies::{
    agency, companies, company_lines, create, current, switch, switch_ok, AGENCY_A, MERCHANT_B,
};
use crate::common::members::{accept, invite};
use crate::common::{unique_email, App, TestDb, PASSWORD};
use reqwest::StatusCode;
use serde_json::json;

both_backends!(
    an_agency_lists_and_switches_its_companies,
    each_session_has_its_own_current_company,
    removed_from_one_company_the_session_moves_to_another,
    a_new_company_is_owned_and_current,
);

fn line(name: &str, role: &str, current: bool) -> (String, String, bool) {
    (name.to_owned(), role.to_owned(), current)
}

async fn an_agency_lists_and_switches_its_companies(db: &TestDb) {
    let app = App::start(db).await;
    let ag = agency(&app, "member").await;

    // Accepting while signed in added Merchant B and made it current;
    // Agency A stays, owned.
    assert_eq!(
        company_lines(&app, &ag.sid).await,
        [
            line(AGENCY_A, "owner", false),
            line(MERCHANT_B, "member", true)
        ]
    );
    let listed = companies(&app, &ag.sid).await;
    assert_eq!(listed[0]["id"], ag.a.as_str());
    assert_eq!(listed[1]["id"], ag.b.as_str());
    assert_eq!(
        current(&app, &ag.sid).await,
        (ag.b.clone(), MERCHANT_B.to_owned(), "member".to_owned())
    );

    // Switching: the account's company and role follow.
    switch_ok(&app, &ag.sid, &ag.a).await;
    assert_eq!(
        current(&app, &ag.sid).await,
        (ag.a.clone(), AGENCY_A.to_owned(), "owner".to_owned())
    );
    assert_eq!(
        company_lines(&app, &ag.sid).await,
        [
            line(AGENCY_A, "owner", true),
            line(MERCHANT_B, "member", false)
        ]
    );
    // Switching to the current one again changes nothing.
    switch_ok(&app, &ag.sid, &ag.a).await;
    assert_eq!(current(&app, &ag.sid).await.0, ag.a);

    // A company the account does not belong to, or none at all: 404, and
    // the session stays where it was.
    let stranger = app.signup(&unique_email("stranger"), "Stranger Co").await;
    let (theirs, _, _) = current(&app, &stranger).await;
    for id in [theirs.as_str(), "co_doesnotexist000000"] {
        let r = switch(&app, &ag.sid, id).await;
        assert_eq!(
            r.assert_api_error_status(StatusCode::NOT_FOUND, id),
            "not_found"
        );
    }
    let r = switch(&app, &ag.sid, "not an id").await;
    assert!(r.status.is_client_error(), "{}", r.text);
    assert_eq!(current(&app, &ag.sid).await.0, ag.a);
    // Not signed in: 401.
    let r = app
        .post_json(
            &format!("/api/v1/companies/{}/switch", ag.a),
            None,
            &json!({}),
        )
        .await;
    assert_eq!(r.status, StatusCode::UNAUTHORIZED, "{}", r.text);
    let r = app.get("/api/v1/companies", None).await;
    assert_eq!(r.status, StatusCode::UNAUTHORIZED, "{}", r.text);

    // A second invitation into a company the account is in already.
    let r = app
        .post_json(
            "/api/v1/invitations",
            Some(&ag.b_owner),
            &json!({"email": ag.email, "role": "owner"}),
        )
        .await;
    assert_eq!(
        r.assert_api_error_status(StatusCode::CONFLICT, "invite again"),
        "already_member"
    );

    // The work is done where the session is: a key made in A is A's.
    let made = app.create_key(&ag.sid, json!({"name": "Agency key"})).await;
    let (_, in_a) = app.list_keys(&ag.sid).await;
    assert_eq!(in_a.len(), 1);
    let (_, in_b) = app.list_keys(&ag.b_owner).await;
    assert!(in_b.iter().all(|k| k["id"] != made["id"]), "not in B");
    app.stop().await;
}

async fn each_session_has_its_own_current_company(db: &TestDb) {
    let app = App::start(db).await;
    let ag = agency(&app, "owner").await;
    switch_ok(&app, &ag.sid, &ag.a).await;

    // A new session starts in the company chosen last (A).
    let other = app
        .sid_of(&app.login_raw(&ag.email, PASSWORD).await)
        .unwrap();
    assert_eq!(current(&app, &other).await.0, ag.a);

    // Switching one session leaves the other where it is.
    switch_ok(&app, &ag.sid, &ag.b).await;
    assert_eq!(current(&app, &ag.sid).await.0, ag.b);
    assert_eq!(current(&app, &other).await.0, ag.a);
    let flags: Vec<(String, bool)> = companies(&app, &other)
        .await
        .iter()
        .map(|c| (c["id"].as_str().unwrap().to_owned(), c["current"] == true))
        .collect();
    assert_eq!(flags, [(ag.a.clone(), true), (ag.b.clone(), false)]);

    // The next sign-in starts in B, chosen last.
    let third = app
        .sid_of(&app.login_raw(&ag.email, PASSWORD).await)
        .unwrap();
    assert_eq!(current(&app, &third).await.0, ag.b);
    // The sign-in answer names the company the session starts in.
    let r = app.login_raw(&ag.email, PASSWORD).await;
    assert_eq!(r.json()["account"]["company"]["id"], ag.b.as_str());
    assert_eq!(r.json()["account"]["role"], "owner");
    app.stop().await;
}

async fn removed_from_one_company_the_session_moves_to_another(db: &TestDb) {
    let app = App::start(db).await;
    let ag = agency(&app, "member").await;
    let key = app.create_key(&ag.sid, json!({"name": "Made in B"})).await;
    assert_eq!(current(&app, &ag.sid).await.0, ag.b);
    let other = app
        .sid_of(&app.login_raw(&ag.email, PASSWORD).await)
        .unwrap();

    // B's owner removes the agency; its sessions stay signed in and move to A.
    let r = app
        .delete(&format!("/api/v1/members/{}", ag.id), Some(&ag.b_owner))
        .await;
    assert_eq!(r.status, StatusCode::NO_CONTENT, "{}", r.text);
    for sid in [&ag.sid, &other] {
        assert_eq!(
            current(&app, sid).await,
            (ag.a.clone(), AGENCY_A.to_owned(), "owner".to_owned())
        );
        assert_eq!(
            company_lines(&app, sid).await,
            [line(AGENCY_A, "owner", true)]
        );
        let (_, keys) = app.list_keys(sid).await;
        assert!(keys.is_empty(), "A's keys only: {keys:?}");
    }
    // B is out of reach, and B's key (made by the agency) stays B's and valid.
    let r = switch(&app, &ag.sid, &ag.b).await;
    assert_eq!(r.status, StatusCode::NOT_FOUND, "{}", r.text);
    assert_eq!(
        app.verify_status(key["key"].as_str().unwrap()).await,
        "valid"
    );
    let (_, in_b) = app.list_keys(&ag.b_owner).await;
    assert!(in_b.iter().any(|k| k["id"] == key["id"]));

    // Work in A goes on in the same session.
    app.create_key(&ag.sid, json!({"name": "Made in A"})).await;

    // Invited again, the agency accepts and is back in B.
    let (_, token, _) = invite(&app, &ag.b_owner, &ag.email, "viewer").await;
    let r = accept(&app, &ag.sid, &token).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    assert_eq!(r.json()["account"]["role"], "viewer");
    assert_eq!(current(&app, &ag.sid).await.0, ag.b);
    // The same link again: used.
    let r = accept(&app, &ag.sid, &token).await;
    assert_eq!(r.status, StatusCode::GONE, "{}", r.text);
    app.stop().await;
}

async fn a_new_company_is_owned_and_current(db: &TestDb) {
    let app = App::start(db).await;
    let ag = agency(&app, "member").await;
    let r = app
        .post_json(
            "/api/v1/companies",
            Some(&ag.sid),
            &json!({"name": "  Third Shop  "}),
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text);
    let made = r.json();
    assert_eq!(made["name"], "Third Shop", "trimmed");
    assert_eq!(made["role"], "owner");
    assert_eq!(made["current"], true);
    let id = made["id"].as_str().unwrap().to_owned();
    assert_eq!(
        current(&app, &ag.sid).await,
        (id.clone(), "Third Shop".to_owned(), "owner".to_owned())
    );
    assert_eq!(
        company_lines(&app, &ag.sid).await,
        [
            line(AGENCY_A, "owner", false),
            line(MERCHANT_B, "member", false),
            line("Third Shop", "owner", true),
        ]
    );
    // Empty, and the agency owns it: it invites, and reads its audit log.
    let (_, keys) = app.list_keys(&ag.sid).await;
    assert!(keys.is_empty());
    invite(&app, &ag.sid, &unique_email("helper"), "member").await;
    let audit = app.get("/api/v1/audit", Some(&ag.sid)).await;
    assert_eq!(audit.status, StatusCode::OK, "{}", audit.text);
    let actions = crate::common::members::actions(&audit.json());
    assert!(
        actions.contains(&"company.created".to_owned()),
        "{actions:?}"
    );

    // Two companies may share a name; an empty or too long one is 422.
    let again = create(&app, &ag.sid, "Third Shop").await;
    assert_ne!(again, id);
    for name in ["", "   ", &"x".repeat(101)] {
        let r = app
            .post_json("/api/v1/companies", Some(&ag.sid), &json!({ "name": name }))
            .await;
        assert_eq!(
            r.assert_api_error_status(StatusCode::UNPROCESSABLE_ENTITY, "bad name"),
            "invalid_field"
        );
    }
    assert_eq!(companies(&app, &ag.sid).await.len(), 4);
    app.stop().await;
}
