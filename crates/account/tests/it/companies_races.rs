//! Shared access under real parallel requests, on SQLite and PostgreSQL: a
//! switch racing key creations on the same session puts every key in
//! exactly one of the account's companies (audited there); acceptances,
//! removals and role changes at once never leave a company without an
//! owner; a closing racing key creations leaves no key that verifies.

#![allow(clippy::unwrap_used)] // a failed unwrap is a failed test

use std::collections::HashSet;

use crate::common::companies::{agency, call, close, current, join_as, Agency};
use crate::common::members::invite;
use crate::common::{unique_email, App, Resp, TestDb, CLOCK_START};
use futures_util::future::join_all;
use reqwest::{Method, StatusCode};
use serde_json::{json, Value};
use sqlx::Row;
use web::ManualClock;

both_backends!(
    a_switch_racing_key_creations_puts_each_key_in_one_company,
    joins_removals_and_role_changes_at_once_keep_an_owner,
    a_closing_racing_key_creations_leaves_no_live_key,
);

type Request = (Method, String, String, Option<Value>);

/// Sends every request at once; the answers in the same order.
async fn all_at_once(app: &App, requests: &[Request]) -> Vec<Resp> {
    join_all(
        requests
            .iter()
            .map(|(m, path, sid, body)| call(app, m.clone(), path, sid, body.clone())),
    )
    .await
}

fn creations(sid: &str, n: usize, tag: &str) -> Vec<Request> {
    (0..n)
        .map(|i| {
            (
                Method::POST,
                "/api/v1/keys".to_owned(),
                sid.to_owned(),
                Some(json!({ "name": format!("{tag} {i}") })),
            )
        })
        .collect()
}

/// For the keys with these ids: (key company, company of its key.created event).
async fn placed(app: &App, ids: &[String]) -> Vec<(String, String)> {
    let pool = &app.running.state.db.pool;
    let mut out = Vec::new();
    for id in ids {
        let row = sqlx::query(
            "SELECT k.company_id AS key_co, e.company_id AS event_co FROM api_keys k \
             JOIN audit_events e ON e.target = k.id AND e.action = 'key.created' WHERE k.id = $1",
        )
        .bind(id)
        .fetch_all(pool)
        .await
        .unwrap();
        assert_eq!(row.len(), 1, "one key and one event for {id}");
        out.push((row[0].get("key_co"), row[0].get("event_co")));
    }
    out
}

async fn race_round(app: &App, ag: &Agency, round: usize, to: &str, read_only_in_b: bool) {
    let mut requests = creations(&ag.sid, 16, &format!("round {round}"));
    let switch = (
        Method::POST,
        format!("/api/v1/companies/{to}/switch"),
        ag.sid.clone(),
        None,
    );
    requests.insert(8, switch);
    let answers = all_at_once(app, &requests).await;
    assert_eq!(
        answers[8].status,
        StatusCode::NO_CONTENT,
        "{}",
        answers[8].text
    );
    let mut made = Vec::new();
    for r in answers.iter().take(8).chain(answers.iter().skip(9)) {
        match r.status {
            StatusCode::CREATED => made.push(r.json()["id"].as_str().unwrap().to_owned()),
            StatusCode::FORBIDDEN if read_only_in_b => {
                assert_eq!(r.assert_api_error("viewer in B"), "read_only");
            }
            _ => panic!("round {round}: {} {}", r.status, r.text),
        }
    }
    let unique: HashSet<&String> = made.iter().collect();
    assert_eq!(unique.len(), made.len(), "round {round}: distinct keys");
    for (key_co, event_co) in placed(app, &made).await {
        assert!(key_co == ag.a || key_co == ag.b, "round {round}: {key_co}");
        assert_eq!(key_co, event_co, "round {round}: audited where it is");
        if read_only_in_b {
            assert_eq!(key_co, ag.a, "round {round}: a viewer made a key in B");
        }
    }
    assert_eq!(current(app, &ag.sid).await.0, to, "round {round}");
}

async fn a_switch_racing_key_creations_puts_each_key_in_one_company(db: &TestDb) {
    let app = App::start(db).await;
    let ag = agency(&app, "member").await;
    for round in 0..6 {
        let to = if round % 2 == 0 { &ag.a } else { &ag.b };
        race_round(&app, &ag, round, to, false).await;
    }
    // A viewer in B: no key ever lands in B, whatever the order.
    let r = call(
        &app,
        Method::PATCH,
        &format!("/api/v1/members/{}", ag.id),
        &ag.b_owner,
        Some(json!({"role": "viewer"})),
    )
    .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    for round in 6..10 {
        let to = if round % 2 == 0 { &ag.a } else { &ag.b };
        race_round(&app, &ag, round, to, true).await;
    }

    // In all: every key the agency made is in A or B, once; the lists agree.
    let pool = &app.running.state.db.pool;
    let rows = sqlx::query("SELECT id, company_id FROM api_keys WHERE created_by = $1")
        .bind(&ag.id)
        .fetch_all(pool)
        .await
        .unwrap();
    let (mut in_a, mut in_b) = (HashSet::new(), HashSet::new());
    for r in &rows {
        let (id, co): (String, String) = (r.get("id"), r.get("company_id"));
        assert!(if co == ag.a {
            in_a.insert(id)
        } else {
            in_b.insert(id)
        });
    }
    assert!(in_a.is_disjoint(&in_b));
    let (_, listed_b) = app.list_keys(&ag.b_owner).await;
    let listed_b: HashSet<String> = listed_b
        .iter()
        .map(|k| k["id"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(listed_b, in_b, "B lists exactly its keys");
    app.stop().await;
}

/// Every company that has members has an owner.
async fn every_company_keeps_an_owner(app: &App, what: &str) {
    let pool = &app.running.state.db.pool;
    let rows = sqlx::query(
        "SELECT company_id, SUM(CASE WHEN role = 'owner' THEN 1 ELSE 0 END) AS owners \
         FROM memberships GROUP BY company_id",
    )
    .fetch_all(pool)
    .await
    .unwrap();
    assert!(!rows.is_empty());
    for r in rows {
        let owners: i64 = r.get("owners");
        let company: String = r.get("company_id");
        assert!(owners >= 1, "{what}: {company} has no owner");
    }
}

async fn joins_removals_and_role_changes_at_once_keep_an_owner(db: &TestDb) {
    // Six sign-ups a round: above the hourly limit of one address.
    let cfg = account::Config {
        signups_per_ip_hour: 1000,
        ..account::Config::default()
    };
    let app = App::start_with(db, &ManualClock::new(CLOCK_START), cfg).await;
    for round in 0..4 {
        let o1 = app
            .signup(&unique_email("o1"), &format!("Race {round}"))
            .await;
        let o1_id = crate::common::companies::account_id(&app, &o1).await;
        let (_, o2_id, o2) = join_as(&app, &o1, "owner").await;
        let (_, m1_id, _) = join_as(&app, &o1, "member").await;
        let (_, m2_id, m2) = join_as(&app, &o1, "viewer").await;
        // Two people with companies of their own, invited in (one as owner).
        let mut guests = Vec::new();
        for role in ["owner", "member"] {
            let email = unique_email("guest");
            let sid = app.signup(&email, "Guest Co").await;
            let (_, token, _) = invite(&app, &o1, &email, role).await;
            guests.push((sid, token));
        }
        let patch = |sid: &str, id: &str, role: &str| {
            (
                Method::PATCH,
                format!("/api/v1/members/{id}"),
                sid.to_owned(),
                Some(json!({ "role": role })),
            )
        };
        let delete = |sid: &str, id: &str| {
            (
                Method::DELETE,
                format!("/api/v1/members/{id}"),
                sid.to_owned(),
                None,
            )
        };
        let mut requests = vec![
            patch(&o1, &o2_id, "member"),
            patch(&o2, &o1_id, "member"),
            delete(&o1, &o2_id),
            delete(&o2, &o1_id),
            patch(&o1, &m1_id, "owner"),
            delete(&o2, &m1_id),
            patch(&o2, &m2_id, "owner"),
            delete(&m2, &m2_id),
        ];
        for (sid, token) in &guests {
            requests.push((
                Method::POST,
                "/api/v1/invitations/accept".to_owned(),
                sid.clone(),
                Some(json!({ "token": token })),
            ));
        }
        let answers = all_at_once(&app, &requests).await;
        for (r, (m, path, _, _)) in answers.iter().zip(&requests) {
            assert!(
                r.status.is_success()
                    || [
                        StatusCode::FORBIDDEN,
                        StatusCode::NOT_FOUND,
                        StatusCode::CONFLICT
                    ]
                    .contains(&r.status),
                "round {round}: {m} {path}: {} {}",
                r.status,
                r.text
            );
            if !r.status.is_success() {
                r.assert_api_error(path);
            }
        }
        // Both acceptances went through: they take no owner away.
        for r in &answers[8..] {
            assert_eq!(r.status, StatusCode::OK, "round {round}: {}", r.text);
        }
        every_company_keeps_an_owner(&app, &format!("round {round}")).await;
    }
    app.stop().await;
}

async fn a_closing_racing_key_creations_leaves_no_live_key(db: &TestDb) {
    let app = App::start(db).await;
    for round in 0..4 {
        let name = format!("Closing {round}");
        let owner = app.signup(&unique_email("closer"), &name).await;
        let (company, _, _) = current(&app, &owner).await;
        let (_, _, member) = join_as(&app, &owner, "member").await;
        app.create_key(&member, json!({"name": "before"})).await;
        let mut requests = creations(&member, 6, "during");
        requests.extend(creations(&owner, 6, "owner during"));
        requests.insert(
            6,
            (
                Method::DELETE,
                format!("/api/v1/companies/{company}"),
                owner.clone(),
                Some(json!({ "confirm": name })),
            ),
        );
        let answers = all_at_once(&app, &requests).await;
        assert_eq!(
            answers[6].status,
            StatusCode::NO_CONTENT,
            "{}",
            answers[6].text
        );
        for (i, r) in answers.iter().enumerate().filter(|(i, _)| *i != 6) {
            match r.status {
                StatusCode::CREATED => {
                    let key = r.json()["key"].as_str().unwrap().to_owned();
                    assert_eq!(app.verify_status(&key).await, "revoked", "round {round}");
                }
                StatusCode::FORBIDDEN => {
                    let code = r.assert_api_error("after the closing");
                    assert!(
                        ["no_company", "not_member"].contains(&code.as_str()),
                        "round {round} #{i}: {code}"
                    );
                }
                _ => panic!("round {round} #{i}: {} {}", r.status, r.text),
            }
        }
        let live: i64 = sqlx::query_scalar(
            "SELECT COUNT(*) FROM api_keys WHERE company_id = $1 AND revoked_at IS NULL",
        )
        .bind(&company)
        .fetch_one(&app.running.state.db.pool)
        .await
        .unwrap();
        assert_eq!(
            live, 0,
            "round {round}: a key of the closed company still verifies"
        );
        // Closed once: its owner, in no company now, cannot close it again.
        let r = close(&app, &owner, &company, &name).await;
        assert_eq!(
            r.assert_api_error_status(StatusCode::FORBIDDEN, "closed once"),
            "no_company"
        );
    }
    app.stop().await;
}
