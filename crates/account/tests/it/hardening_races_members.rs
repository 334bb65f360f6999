//! Hardening, round 2 (issue 12): authorization under real parallel
//! requests, on SQLite and PostgreSQL: members removed and owners demoted
//! mid-request, invitations rate limited and withdrawn ones never mailed.

#![allow(clippy::unwrap_used)] // a failed unwrap is a failed test

use crate::common::{sid_cookie, unique_email, App, Resp, TestDb};
use reqwest::header::{COOKIE, RETRY_AFTER};
use reqwest::StatusCode;
use serde_json::{json, Value};
use sqlx::Row;

both_backends!(
    a_member_removed_mid_request_creates_no_key,
    owners_demoting_each_other_keep_an_owner,
    invitations_are_rate_limited_and_withdrawn_ones_never_mailed,
);

/// Invites `email` and joins with a new account; returns the member's session.
async fn add_member(app: &App, owner_sid: &str, email: &str) -> String {
    app.join(owner_sid, email).await.1
}

async fn members(app: &App, sid: &str) -> Vec<Value> {
    let r = app.get("/api/v1/members", Some(sid)).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    r.json()["members"].as_array().unwrap().clone()
}

async fn member_id(app: &App, sid: &str, email: &str) -> String {
    members(app, sid)
        .await
        .iter()
        .find(|m| m["email"] == email.to_lowercase())
        .map(|m| m["id"].as_str().unwrap().to_owned())
        .unwrap_or_else(|| panic!("{email} is a member"))
}

async fn send(
    app: &App,
    method: reqwest::Method,
    path: &str,
    sid: &str,
    body: Option<Value>,
) -> Resp {
    let mut req = app
        .http
        .request(method, app.url(path))
        .header(COOKIE, sid_cookie(sid));
    if let Some(b) = body {
        req = req.json(&b);
    }
    Resp::read(req.send().await.unwrap()).await
}

async fn a_member_removed_mid_request_creates_no_key(db: &TestDb) {
    let app = App::start(db).await;
    let owner = app.signup(&unique_email("owner"), "Race Co").await;
    for round in 0..4 {
        let email = unique_email(&format!("member{round}"));
        let member = add_member(&app, &owner, &email).await;
        let id = member_id(&app, &owner, &email).await;
        let creates = (0..12).map(|i| {
            let (app, member) = (&app, member.clone());
            async move {
                send(
                    app,
                    reqwest::Method::POST,
                    "/api/v1/keys",
                    &member,
                    Some(json!({"name": format!("race {i}")})),
                )
                .await
            }
        });
        let removal_path = format!("/api/v1/members/{id}");
        let removal = send(&app, reqwest::Method::DELETE, &removal_path, &owner, None);
        let (created, removed) = tokio::join!(futures_util::future::join_all(creates), removal);
        assert!(removed.status.is_success(), "removal: {}", removed.text);
        for r in &created {
            assert!(
                matches!(
                    r.status,
                    StatusCode::CREATED | StatusCode::UNAUTHORIZED | StatusCode::FORBIDDEN
                ),
                "{} {}",
                r.status,
                r.text
            );
        }
        // In the audit trail, no key of the member comes after the removal.
        let pool = db.connect().await;
        let rows = sqlx::query("SELECT action, actor_id, target FROM audit_events ORDER BY id")
            .fetch_all(&pool.pool)
            .await
            .unwrap();
        let removed_at = rows
            .iter()
            .position(|r| {
                r.get::<String, _>("action") == "member.removed"
                    && r.get::<Option<String>, _>("target").as_deref() == Some(id.as_str())
            })
            .expect("the removal is audited");
        let late: Vec<_> = rows[removed_at..]
            .iter()
            .filter(|r| {
                r.get::<String, _>("action") == "key.created"
                    && r.get::<Option<String>, _>("actor_id").as_deref() == Some(id.as_str())
            })
            .collect();
        assert!(
            late.is_empty(),
            "round {round}: {} keys created after the removal",
            late.len()
        );
        // Every 201 is a key of the company, made before the removal.
        let keys_made = created
            .iter()
            .filter(|r| r.status == StatusCode::CREATED)
            .count();
        let stored: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM api_keys WHERE created_by = $1")
            .bind(&id)
            .fetch_one(&pool.pool)
            .await
            .unwrap();
        assert_eq!(keys_made as i64, stored, "round {round}");
    }
    app.stop().await;
}

async fn owners_demoting_each_other_keep_an_owner(db: &TestDb) {
    let app = App::start(db).await;
    let a_email = unique_email("owner-a");
    let a = app.signup(&a_email, "Two Owners Co").await;
    let b_email = unique_email("owner-b");
    let b = add_member(&app, &a, &b_email).await;
    let a_id = member_id(&app, &a, &a_email).await;
    let b_id = member_id(&app, &a, &b_email).await;
    let appr = &app;
    let role = |sid: String, target: String, role: &'static str| async move {
        send(
            appr,
            reqwest::Method::PATCH,
            &format!("/api/v1/members/{target}"),
            &sid,
            Some(json!({"role": role})),
        )
        .await
    };
    for round in 0..6 {
        // Whoever is the member now becomes an owner again.
        let list = members(&app, &a).await;
        let a_is_owner = list
            .iter()
            .any(|m| m["id"] == a_id.as_str() && m["role"] == "owner");
        let (owner, member_target) = if a_is_owner { (&a, &b_id) } else { (&b, &a_id) };
        let r = role(owner.clone(), member_target.clone(), "owner").await;
        assert_eq!(
            r.status,
            StatusCode::OK,
            "round {round}: promote: {}",
            r.text
        );
        let (x, y) = tokio::join!(
            role(a.clone(), b_id.clone(), "member"),
            role(b.clone(), a_id.clone(), "member")
        );
        let ok = [&x, &y]
            .iter()
            .filter(|r| r.status == StatusCode::OK)
            .count();
        assert_eq!(
            ok, 1,
            "round {round}: exactly one demotion wins: {x:?} {y:?}"
        );
        for r in [&x, &y] {
            if r.status != StatusCode::OK {
                assert_eq!(r.status, StatusCode::FORBIDDEN, "{}", r.text);
                assert_eq!(r.assert_api_error("losing demotion"), "owner_only");
            }
        }
        let owners = members(&app, &a)
            .await
            .iter()
            .filter(|m| m["role"] == "owner")
            .count();
        assert_eq!(owners, 1, "round {round}: the company keeps one owner");
    }
    app.stop().await;
}

async fn invitations_are_rate_limited_and_withdrawn_ones_never_mailed(db: &TestDb) {
    let app = App::start(db).await;
    let owner = app.signup(&unique_email("inviter"), "Mail Co").await;
    let per_hour = account::Config::default().invitations_per_hour as usize;
    let invites = (0..per_hour + 15).map(|i| {
        let (app, owner) = (&app, owner.clone());
        async move {
            app.post_json(
                "/api/v1/invitations",
                Some(&owner),
                &json!({"email": unique_email(&format!("guest{i}")), "role": "member"}),
            )
            .await
        }
    });
    let answers = futures_util::future::join_all(invites).await;
    let created: Vec<_> = answers
        .iter()
        .filter(|r| r.status == StatusCode::CREATED)
        .collect();
    assert_eq!(
        created.len(),
        per_hour,
        "the hourly limit holds under parallel requests"
    );
    for r in answers.iter().filter(|r| r.status != StatusCode::CREATED) {
        assert_eq!(r.status, StatusCode::TOO_MANY_REQUESTS, "{}", r.text);
        assert!(r.headers.get(RETRY_AFTER).is_some());
    }
    // Withdraw them all: none of their messages may be sent any more.
    for r in &created {
        let id = r.json()["invitation"]["id"].as_str().unwrap().to_owned();
        let w = send(
            &app,
            reqwest::Method::DELETE,
            &format!("/api/v1/invitations/{id}"),
            &owner,
            None,
        )
        .await;
        assert!(w.status.is_success(), "withdraw: {}", w.text);
    }
    let state = &app.running.state;
    let now = state.clock.now();
    let sendable = account::store::unsent_messages(&state.db, now, 100, 1000)
        .await
        .unwrap();
    assert!(
        sendable.iter().all(|m| m.invitation_id.is_none()),
        "withdrawn invitations are not sendable: {}",
        sendable.len()
    );
    let pool = db.connect().await;
    let ids: Vec<i64> = sqlx::query_scalar("SELECT id FROM outbox WHERE invitation_id IS NOT NULL")
        .fetch_all(&pool.pool)
        .await
        .unwrap();
    assert_eq!(ids.len(), per_hour);
    for id in ids {
        assert!(
            !account::store::claim_message(&state.db, id, now, now + 60)
                .await
                .unwrap(),
            "a withdrawn invitation's message cannot be claimed for sending"
        );
    }
    app.stop().await;
}
