//! A company's maximum key lifetime (SPEC §10, `PATCH /api/v1/company`
//! `{"max_key_lifetime_days": n|null}`): only the owner sets it, 1 to 3660
//! days; afterwards a new key must expire within it (422
//! `lifetime_exceeded` otherwise), keys that exist keep their expiry, a
//! roll brings the successor's expiry within it, and `null` removes it.
//! Creations racing the owner's change: every key that was created without
//! an expiry committed before the policy did, and none after. On both
//! backends, real HTTP, on the service's clock.

#![allow(clippy::unwrap_used)] // a failed unwrap is a failed test

use futures_util::future::join_all;

use crate::common::companies::join_as;
use crate::common::{unique_email, App, Resp, TestDb, CLOCK_START};
use crate::key_policy_common::{assert_refused_field, create, start, Caller};
use reqwest::StatusCode;
use serde_json::{json, Value};
use web::clock::rfc3339;

both_backends!(
    the_owner_limits_how_long_new_keys_live,
    creations_racing_the_policy_commit_before_it_or_obey_it,
);

const DAY: i64 = 86400;

async fn set_lifetime(app: &App, sid: &str, days: Value) -> Resp {
    let req = app
        .http
        .patch(app.url("/api/v1/company"))
        .json(&json!({ "max_key_lifetime_days": days }));
    app.send(req, Some(sid)).await
}

async fn set_lifetime_ok(app: &App, sid: &str, days: Value) {
    let r = set_lifetime(app, sid, days.clone()).await;
    assert_eq!(r.status, StatusCode::OK, "{days}: {}", r.text);
    assert_eq!(r.json()["max_key_lifetime_days"], days, "{}", r.text);
}

/// `POST /api/v1/keys` expiring at `expires_at` (`None`: never).
async fn new_key(app: &App, sid: &str, expires_at: Option<i64>) -> Resp {
    let mut body = json!({"name": "store"});
    if let Some(at) = expires_at {
        body["expires_at"] = json!(rfc3339(at));
    }
    app.post_json("/api/v1/keys", Some(sid), &body).await
}

fn assert_exceeded(r: &Resp, what: &str) {
    let code = r.assert_api_error_status(StatusCode::UNPROCESSABLE_ENTITY, what);
    assert_eq!(code, "lifetime_exceeded", "{what}");
    let message = r.json()["error"]["message"].as_str().unwrap().to_owned();
    assert!(message.starts_with("expires_at: "), "{what}: {message}");
}

/// The company's audit events, oldest first: (id, action, target, detail).
async fn events(app: &App, sid: &str) -> Vec<(i64, String, String, Value)> {
    let r = app.get("/api/v1/audit?limit=200", Some(sid)).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    let mut all: Vec<_> = r.json()["events"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| {
            (
                e["id"].as_i64().unwrap(),
                e["action"].as_str().unwrap().to_owned(),
                e["target"].as_str().unwrap_or_default().to_owned(),
                e["detail"].clone(),
            )
        })
        .collect();
    all.reverse();
    all
}

async fn roll(app: &App, sid: &str, id: &str) -> Value {
    let path = format!("/api/v1/keys/{id}/roll");
    let r = app
        .post_json(&path, Some(sid), &json!({"grace_seconds": 0}))
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text);
    r.json()
}

async fn the_owner_limits_how_long_new_keys_live(db: &TestDb) {
    let (app, clock) = start(db, &[]).await;
    let owner = app.signup(&unique_email("owner"), "Lifetime Co").await;
    let (_, _, member) = join_as(&app, &owner, "member").await;
    let (_, _, viewer) = join_as(&app, &owner, "viewer").await;
    // Keys from before: one without expiry, one for 100 days, one for 10.
    let (forever_id, forever, _) = create(&app, &owner, json!({"name": "forever"})).await;
    let long = json!({"name": "long", "expires_at": rfc3339(CLOCK_START + 100 * DAY)});
    let (long_id, _, _) = create(&app, &owner, long).await;
    let short = json!({"name": "short", "expires_at": rfc3339(CLOCK_START + 10 * DAY)});
    let (short_id, _, _) = create(&app, &owner, short).await;

    // Only the owner; only 1 to 3660 days.
    let r = set_lifetime(&app, &member, json!(30)).await;
    assert_eq!(
        r.assert_api_error_status(StatusCode::FORBIDDEN, "member"),
        "owner_only"
    );
    let r = set_lifetime(&app, &viewer, json!(30)).await;
    r.assert_api_error_status(StatusCode::FORBIDDEN, "viewer");
    for days in [json!(0), json!(-1), json!(3661), json!(i64::MAX)] {
        let r = set_lifetime(&app, &owner, days.clone()).await;
        assert_refused_field(&r, "max_key_lifetime_days", &days.to_string());
    }
    for days in [json!(1.5), json!("30"), json!([30])] {
        set_lifetime(&app, &owner, days.clone())
            .await
            .assert_api_error(&days.to_string());
    }
    for sid in [&owner, &member] {
        assert_eq!(
            new_key(&app, sid, None).await.status,
            StatusCode::CREATED,
            "no limit yet"
        );
    }
    set_lifetime_ok(&app, &owner, json!(3660)).await;
    set_lifetime_ok(&app, &owner, json!(1)).await;
    set_lifetime_ok(&app, &owner, json!(30)).await;

    // New keys: within 30 days of the service's clock, for everyone.
    clock.advance(3600);
    let now = CLOCK_START + 3600;
    for sid in [&owner, &member] {
        assert_exceeded(&new_key(&app, sid, None).await, "no expiry");
        assert_exceeded(
            &new_key(&app, sid, Some(now + 30 * DAY + 1)).await,
            "a second over",
        );
        assert_eq!(
            new_key(&app, sid, Some(now + 30 * DAY)).await.status,
            StatusCode::CREATED
        );
        assert_eq!(
            new_key(&app, sid, Some(now + DAY)).await.status,
            StatusCode::CREATED
        );
    }
    // Keys that exist keep their expiry.
    assert_eq!(Caller::new(&app).status(&forever).await, "valid");
    assert_eq!(
        app.listed_key(&owner, &forever_id).await["expires_at"],
        Value::Null
    );
    // A roll keeps within it: the successor of a key without expiry or of a
    // 100-day key lives 30 days; of a 10-day key, 10.
    for (id, days) in [(&forever_id, 30), (&long_id, 30), (&short_id, 10)] {
        let rolled = roll(&app, &owner, id).await;
        assert_eq!(rolled["expires_at"], rfc3339(now + days * DAY), "{rolled}");
    }

    // null removes it.
    set_lifetime_ok(&app, &owner, Value::Null).await;
    assert_eq!(
        new_key(&app, &member, None).await.status,
        StatusCode::CREATED
    );

    // Audited, each change with its value.
    let set: Vec<Value> = events(&app, &owner)
        .await
        .into_iter()
        .filter(|e| e.1 == "company.key_lifetime")
        .map(|e| e.3["max_key_lifetime_days"].clone())
        .collect();
    assert_eq!(set, [json!(3660), json!(1), json!(30), Value::Null]);
    app.stop().await;
}

/// Sixteen creations without expiry race the owner setting a lifetime, for
/// a few rounds. The lifetime is checked in the creation's transaction
/// under the company's write lock, which the owner's change takes too: the
/// two are in one order, and the audit ids (written under the lock) show
/// it. Every key made without expiry has its `key.created` before the
/// round's `company.key_lifetime`; every creation refused came after it;
/// once the change has answered, no key without expiry can be made. A check
/// read before the lock would let a creation that read "no limit" commit
/// after the policy: its event would come after the policy's.
async fn creations_racing_the_policy_commit_before_it_or_obey_it(db: &TestDb) {
    let (app, _clock) = start(db, &[]).await;
    let owner = app.signup(&unique_email("race"), "Race Co").await;
    let mut created_total = 0;
    for round in 0..3 {
        set_lifetime_ok(&app, &owner, Value::Null).await;
        let creations = (0..16).map(|_| new_key(&app, &owner, None));
        let (answers, policy) =
            tokio::join!(join_all(creations), set_lifetime(&app, &owner, json!(7)));
        assert_eq!(policy.status, StatusCode::OK, "{}", policy.text);
        let mut made = Vec::new();
        for r in &answers {
            if r.status == StatusCode::CREATED {
                made.push(r.json()["id"].as_str().unwrap().to_owned());
            } else {
                assert_exceeded(r, &format!("round {round}"));
            }
        }
        // After the change answered: refused, every time.
        for _ in 0..3 {
            assert_exceeded(&new_key(&app, &owner, None).await, "after the change");
        }

        let log = events(&app, &owner).await;
        let policy_id = log
            .iter()
            .rev()
            .find(|e| e.1 == "company.key_lifetime" && e.3["max_key_lifetime_days"] == 7)
            .unwrap()
            .0;
        let previous_policy = log
            .iter()
            .rev()
            .find(|e| e.1 == "company.key_lifetime" && e.3["max_key_lifetime_days"].is_null())
            .unwrap()
            .0;
        let this_round: Vec<&(i64, String, String, Value)> = log
            .iter()
            .filter(|e| e.1 == "key.created" && e.0 > previous_policy)
            .collect();
        assert_eq!(this_round.len(), made.len(), "one event per key made");
        for id in &made {
            let event = this_round.iter().find(|e| e.2 == *id).unwrap();
            assert_eq!(event.3["expires_at"], Value::Null);
            assert!(
                event.0 < policy_id,
                "round {round}: key {id} without expiry committed after the lifetime ({} > {policy_id})",
                event.0
            );
        }
        created_total += made.len();
    }
    let (_, keys) = app.list_keys(&owner).await;
    assert_eq!(
        keys.len(),
        created_total,
        "what was answered 201 is all there is"
    );
    assert!(keys.iter().all(|k| k["expires_at"].is_null()));
    app.stop().await;
}
