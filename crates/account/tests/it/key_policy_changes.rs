//! Changing a key (SPEC §10, `PATCH /api/v1/keys/{id}`): each field takes
//! effect at once on the node that made the change and, on PostgreSQL,
//! within a second on a second node of the same database that had the key
//! in memory; the listing shows `disabled`, `allowed_ips` and `services`;
//! each change is audited. Another company's key is 404, a viewer 403, a
//! bad field 422 naming it, hostile bodies a clean 4xx; a roll keeps the
//! policy. On both backends, real HTTP.

#![allow(clippy::unwrap_used)] // a failed unwrap is a failed test

use crate::common::companies::join_as;
use crate::common::{unique_email, App, Backend, Resp, TestDb};
use crate::key_policy_common::{
    assert_refused_field, audit, create, loopback, patch_key, patch_ok, policy_config, start,
    within_a_second, Caller, AMAZON, BILLING,
};
use reqwest::header::{CONTENT_TYPE, COOKIE};
use reqwest::StatusCode;
use serde_json::{json, Value};

both_backends!(
    each_change_takes_effect_here_and_on_another_node,
    only_the_company_may_change_its_key,
    bad_changes_are_refused_by_field,
    a_roll_keeps_the_policy,
);

/// `PATCH path` with a raw body. A body over the 64 KiB limit is answered
/// (413) before it is all read and its connection closed: it goes on a
/// connection of its own, sent again (a few times) when the connection
/// goes before the answer is read.
async fn send_raw(app: &App, sid: &str, path: &str, content_type: &str, body: Vec<u8>) -> Resp {
    let http = reqwest::Client::builder()
        .pool_max_idle_per_host(0)
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    let mut last = None;
    for _ in 0..5 {
        let sent = http
            .patch(app.url(path))
            .header(CONTENT_TYPE, content_type)
            .header(COOKIE, app.sid_cookie(sid))
            .body(body.clone())
            .send()
            .await;
        match sent {
            Ok(res) => return Resp::read(res).await,
            Err(e) => last = Some(e),
        }
    }
    panic!(
        "PATCH {path} ({} bytes): no answer read: {last:?}",
        body.len()
    );
}

/// The policy fields of a key as the API shows it.
fn policy(view: &Value) -> Value {
    json!({
        "disabled": view["disabled"],
        "allowed_ips": view["allowed_ips"],
        "services": view["services"],
    })
}

async fn each_change_takes_effect_here_and_on_another_node(db: &TestDb) {
    let (app, clock) = start(db, &[]).await;
    let sid = app.signup(&unique_email("changes"), "Changes Co").await;
    let (id, key, created) = create(&app, &sid, json!({"name": "store"})).await;
    let none = json!({"disabled": false, "allowed_ips": [], "services": null});
    assert_eq!(policy(&created), none);
    assert_eq!(policy(&app.listed_key(&sid, &id).await), none);
    // On PostgreSQL a second node with the key in memory as valid.
    let node2 = match db.backend {
        Backend::Postgres => Some(App::start_with(db, &clock, policy_config(&[])).await),
        Backend::Sqlite => None,
    };
    let here = Caller::new(&app).service(AMAZON);
    let there = node2.as_ref().map(|n| Caller::new(n).service(AMAZON));
    for caller in std::iter::once(&here).chain(there.as_ref()) {
        assert_eq!(caller.status(&key).await, "valid");
        assert_eq!(caller.status(&key).await, "valid");
    }

    // (change, the status for Amazon from 127.0.0.1 after it, the policy shown)
    let steps = [
        (
            json!({"disabled": true}),
            "disabled",
            json!({"disabled": true, "allowed_ips": [], "services": null}),
        ),
        (json!({"disabled": false}), "valid", none.clone()),
        (
            json!({"allowed_ips": ["192.0.2.9", "192.0.2.0/24", "2001:db8::1/32"]}),
            "ip_not_allowed",
            json!({"disabled": false, "allowed_ips": ["192.0.2.9/32", "192.0.2.0/24", "2001:db8::/32"], "services": null}),
        ),
        (json!({"allowed_ips": null}), "valid", none.clone()),
        (
            json!({"services": [BILLING]}),
            "insufficient_scope",
            json!({"disabled": false, "allowed_ips": [], "services": [BILLING]}),
        ),
        (
            json!({"services": [BILLING, AMAZON, BILLING]}),
            "valid",
            json!({"disabled": false, "allowed_ips": [], "services": [AMAZON, BILLING]}),
        ),
        (
            json!({"allowed_ips": ["::ffff:192.0.2.1"], "services": null}),
            "ip_not_allowed",
            json!({"disabled": false, "allowed_ips": ["192.0.2.1/32"], "services": null}),
        ),
        (
            json!({"allowed_ips": ["127.0.0.1"]}),
            "valid",
            json!({"disabled": false, "allowed_ips": ["127.0.0.1/32"], "services": null}),
        ),
        (json!({"allowed_ips": []}), "valid", none.clone()),
        (
            json!({"name": "renamed store", "disabled": true}),
            "disabled",
            json!({"disabled": true, "allowed_ips": [], "services": null}),
        ),
        (json!({"disabled": false}), "valid", none.clone()),
    ];
    let mut before = "valid";
    for (change, want, shown) in &steps {
        let view = patch_ok(&app, &sid, &id, change.clone()).await;
        assert_eq!(policy(&view), *shown, "{change}");
        assert_eq!(policy(&app.listed_key(&sid, &id).await), *shown, "{change}");
        // At once here: no waiting.
        assert_eq!(here.status(&key).await, *want, "{change}");
        if let Some(there) = &there {
            within_a_second(there, &key, before, want).await;
        }
        before = want;
    }
    assert_eq!(app.listed_key(&sid, &id).await["name"], "renamed store");
    // A change made on the second node: at once there, within a second here.
    if let (Some(node), Some(there)) = (&node2, &there) {
        patch_ok(node, &sid, &id, json!({"services": [BILLING]})).await;
        assert_eq!(there.status(&key).await, "insufficient_scope");
        within_a_second(&here, &key, "valid", "insufficient_scope").await;
    }

    // Audited, newest first; repeating a state records nothing.
    patch_ok(
        &app,
        &sid,
        &id,
        json!({"disabled": false, "allowed_ips": []}),
    )
    .await;
    let events: Vec<_> = audit(&app, &sid)
        .await
        .into_iter()
        .filter(|(_, target, _)| *target == id)
        .collect();
    let actions: Vec<&str> = events.iter().map(|(a, _, _)| a.as_str()).collect();
    let mut expected = vec!["key.enabled", "key.disabled", "key.renamed"];
    expected.extend(["key.policy_changed"; 7]);
    expected.extend(["key.enabled", "key.disabled", "key.created"]);
    if node2.is_some() {
        expected.insert(0, "key.policy_changed");
    }
    assert_eq!(actions, expected);
    let changed = events
        .iter()
        .find(|(a, _, d)| a == "key.policy_changed" && d["allowed_ips"] == json!(["192.0.2.1/32"]))
        .expect("the change to 192.0.2.1 is in the log");
    assert_eq!(changed.2["services"], Value::Null, "{:?}", changed.2);
    let renamed = events.iter().find(|(a, _, _)| a == "key.renamed").unwrap();
    assert_eq!(renamed.2["new_name"], "renamed store", "{:?}", renamed.2);
    if let Some(node) = node2 {
        node.stop().await;
    }
    app.stop().await;
}

async fn only_the_company_may_change_its_key(db: &TestDb) {
    let (app, _clock) = start(db, &[]).await;
    let owner = app.signup(&unique_email("owner"), "Owner Co").await;
    let (id, key, _) = create(&app, &owner, json!({"name": "store"})).await;
    let stranger = app.signup(&unique_email("stranger"), "Stranger Co").await;
    let (_, _, viewer) = join_as(&app, &owner, "viewer").await;
    let (_, _, member) = join_as(&app, &owner, "member").await;
    let off = json!({"disabled": true});

    let r = patch_key(&app, &stranger, &id, &off).await;
    assert_eq!(
        r.assert_api_error_status(StatusCode::NOT_FOUND, "stranger"),
        "not_found"
    );
    let r = patch_key(&app, &owner, "key_doesnotexist0000000", &off).await;
    assert_eq!(r.status, StatusCode::NOT_FOUND, "{}", r.text);
    let r = patch_key(&app, &viewer, &id, &off).await;
    assert_eq!(
        r.assert_api_error_status(StatusCode::FORBIDDEN, "viewer"),
        "read_only"
    );
    let req = app
        .http
        .patch(app.url(&format!("/api/v1/keys/{id}")))
        .json(&off);
    assert_eq!(app.send(req, None).await.status, StatusCode::UNAUTHORIZED);
    // None of them changed anything.
    assert_eq!(Caller::new(&app).status(&key).await, "valid");
    assert_eq!(app.listed_key(&owner, &id).await["disabled"], false);
    let actions: Vec<String> = audit(&app, &owner).await.into_iter().map(|e| e.0).collect();
    assert!(!actions.iter().any(|a| a == "key.disabled"), "{actions:?}");

    // A member may; the viewer sees the result.
    patch_ok(&app, &member, &id, off).await;
    assert_eq!(Caller::new(&app).status(&key).await, "disabled");
    assert_eq!(app.listed_key(&viewer, &id).await["disabled"], true);
    app.stop().await;
}

async fn bad_changes_are_refused_by_field(db: &TestDb) {
    let (app, _clock) = start(db, &[]).await;
    let sid = app.signup(&unique_email("bad"), "Bad Co").await;
    let (id, key, _) = create(&app, &sid, json!({"name": "store"})).await;
    let many: Vec<String> = (0..51).map(|i| format!("10.0.{i}.0/24")).collect();
    let fifty: Vec<String> = (0..50).map(|i| format!("10.0.{i}.0/24")).collect();
    let cases = [
        (json!({"allowed_ips": ["10.0.0.0/33"]}), "allowed_ips"),
        (json!({"allowed_ips": ["2001:db8::/129"]}), "allowed_ips"),
        (
            json!({"allowed_ips": ["10.0.0.0/8", "nope"]}),
            "allowed_ips",
        ),
        (json!({"allowed_ips": ["1.2.3"]}), "allowed_ips"),
        (json!({"allowed_ips": [""]}), "allowed_ips"),
        (
            json!({"allowed_ips": ["10.0.0.1".repeat(20)]}),
            "allowed_ips",
        ),
        (json!({"allowed_ips": many}), "allowed_ips"),
        (json!({"services": ["nope"]}), "services"),
        (json!({"services": []}), "services"),
        (json!({"services": ["Billing"]}), "services"),
        (json!({"services": [BILLING, "shipping"]}), "services"),
        (json!({"name": ""}), "name"),
        (json!({"name": "x".repeat(101)}), "name"),
    ];
    for (body, field) in &cases {
        let r = patch_key(&app, &sid, &id, body).await;
        assert_refused_field(&r, field, &format!("PATCH {body}"));
        let mut create_body = body.clone();
        if create_body.get("name").is_none() {
            create_body["name"] = json!("new");
        }
        let r = app
            .post_json("/api/v1/keys", Some(&sid), &create_body)
            .await;
        assert_refused_field(&r, field, &format!("POST {create_body}"));
    }
    // NUL bytes are refused before any field is read (as everywhere).
    for body in [
        json!({"allowed_ips": ["10.0.0.1\u{0}"]}),
        json!({"allowed_ips": ["\u{0}"]}),
        json!({"services": ["billing\u{0}"]}),
    ] {
        let r = patch_key(&app, &sid, &id, &body).await;
        assert_eq!(r.assert_api_error(&body.to_string()), "invalid_text");
    }
    // Fifty is the most, and allowed.
    let view = patch_ok(&app, &sid, &id, json!({"allowed_ips": fifty})).await;
    assert_eq!(view["allowed_ips"].as_array().unwrap().len(), 50);
    patch_ok(&app, &sid, &id, json!({"allowed_ips": null})).await;

    // Bodies that are not the JSON asked for: a clean 4xx, never a 5xx.
    let path = format!("/api/v1/keys/{id}");
    let json = "application/json";
    let huge = |len: usize| {
        let mut body = b"{\"allowed_ips\": [\"".to_vec();
        body.extend(std::iter::repeat_n(b'1', len));
        body.extend(b"\"]}");
        body
    };
    let raw: [(&str, Vec<u8>); 10] = [
        (json, b"{\"allowed_ips\": [\"10.0.0.1\xff\"]}".to_vec()),
        (json, b"{\"services\": [\"\xc3\x28\"]}".to_vec()),
        (json, b"{\"disabled\": \"yes\"}".to_vec()),
        (json, b"{\"allowed_ips\": \"10.0.0.1\"}".to_vec()),
        (json, b"{\"services\": [1]}".to_vec()),
        (json, b"{\"frozen\": true}".to_vec()),
        (json, b"{\"allowed_ips\": [".to_vec()),
        ("text/plain", b"{\"disabled\": true}".to_vec()),
        (json, huge(60_000)),
        (json, huge(200_000)),
    ];
    for (content_type, body) in raw {
        let what = String::from_utf8_lossy(&body[..body.len().min(40)]).into_owned();
        let r = send_raw(&app, &sid, &path, content_type, body).await;
        r.assert_api_error(&what);
    }
    // Nothing of it was taken.
    let none = json!({"disabled": false, "allowed_ips": [], "services": null});
    assert_eq!(policy(&app.listed_key(&sid, &id).await), none);
    assert_eq!(
        Caller::new(&app).service(AMAZON).status(&key).await,
        "valid"
    );
    let (_, keys) = app.list_keys(&sid).await;
    assert_eq!(keys.len(), 1, "no key was created");
    app.stop().await;
}

async fn a_roll_keeps_the_policy(db: &TestDb) {
    let (app, _clock) = start(db, &[]).await;
    let sid = app.signup(&unique_email("roll"), "Roll Co").await;
    let body = json!({"name": "store", "allowed_ips": ["127.0.0.1", "2001:db8::/32"], "services": [BILLING]});
    let (id, old, created) = create(&app, &sid, body).await;
    let r = app
        .post_json(
            &format!("/api/v1/keys/{id}/roll"),
            Some(&sid),
            &json!({"grace_seconds": 0}),
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text);
    let rolled = r.json();
    let new = rolled["key"].as_str().unwrap().to_owned();
    let shown = json!({"disabled": false, "allowed_ips": ["127.0.0.1/32", "2001:db8::/32"], "services": [BILLING]});
    assert_eq!(policy(&created), shown);
    assert_eq!(policy(&rolled), shown, "{rolled}");
    let listed = app.listed_key(&sid, rolled["id"].as_str().unwrap()).await;
    assert_eq!(policy(&listed), shown);

    // The successor may do what the old key could, from where it could.
    let billing = Caller::new(&app).from(loopback(1)).service(BILLING);
    assert_eq!(billing.status(&new).await, "valid");
    assert_eq!(billing.status(&old).await, "expired");
    let amazon = Caller::new(&app).from(loopback(1)).service(AMAZON);
    assert_eq!(amazon.status(&new).await, "insufficient_scope");
    let elsewhere = Caller::new(&app).from(loopback(2)).service(BILLING);
    assert_eq!(elsewhere.status(&new).await, "ip_not_allowed");
    let (status, code) = Caller::new(&app).stores(&new, None).await;
    assert_eq!(
        (status, code.as_str()),
        (StatusCode::UNAUTHORIZED, "insufficient_scope")
    );
    app.stop().await;
}
