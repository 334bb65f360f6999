//! Changes of one key made at the same time (SPEC §10): whatever order
//! they commit in, the audit trail tells it as it happened. Switching a key
//! off and on from many requests at once leaves a log of switches that
//! alternate and end in the key's state; of many policy changes at once,
//! the last one logged names the policy the key has. On both backends.

#![allow(clippy::unwrap_used)] // a failed unwrap is a failed test

use futures_util::future::join_all;

use crate::common::{unique_email, App, TestDb};
use crate::key_policy_common::{audit, create, patch_key, start, Caller, AMAZON, BILLING};
use reqwest::StatusCode;
use serde_json::{json, Value};

both_backends!(parallel_changes_are_audited_as_they_were_made);

/// The key's audit events among `actions`, oldest first: (action, detail).
async fn logged(app: &App, sid: &str, id: &str, actions: &[&str]) -> Vec<(String, Value)> {
    let mut events: Vec<_> = audit(app, sid)
        .await
        .into_iter()
        .filter(|(action, target, _)| target == id && actions.contains(&action.as_str()))
        .map(|(action, _, detail)| (action, detail))
        .collect();
    events.reverse();
    events
}

/// Sends every change at once; asserts each is answered 200.
async fn all_at_once(app: &App, sid: &str, id: &str, changes: Vec<Value>) {
    let answers = join_all(changes.iter().map(|c| patch_key(app, sid, id, c))).await;
    for (change, r) in changes.iter().zip(answers) {
        assert_eq!(r.status, StatusCode::OK, "{change}: {}", r.text);
    }
}

async fn parallel_changes_are_audited_as_they_were_made(db: &TestDb) {
    let (app, _clock) = start(db, &[]).await;
    let sid = app.signup(&unique_email("races"), "Races Co").await;
    let (id, key, _) = create(&app, &sid, json!({"name": "store"})).await;

    // Off and on, sixteen at a time: each switch logged is a real one.
    for round in 0..3 {
        let changes = (0..16).map(|i| json!({"disabled": i % 2 == 0})).collect();
        all_at_once(&app, &sid, &id, changes).await;
        let switches = logged(&app, &sid, &id, &["key.disabled", "key.enabled"]).await;
        for (i, (action, _)) in switches.iter().enumerate() {
            let want = if i % 2 == 0 {
                "key.disabled"
            } else {
                "key.enabled"
            };
            assert_eq!(action, want, "round {round}: switch {i} of {switches:?}");
        }
        let disabled = app.listed_key(&sid, &id).await["disabled"] == true;
        assert_eq!(
            switches.len() % 2 == 1,
            disabled,
            "round {round}: ends as the key is"
        );
        let want = if disabled { "disabled" } else { "valid" };
        assert_eq!(Caller::new(&app).status(&key).await, want);
    }

    // Addresses and services, changed apart at once: the last change logged
    // names the policy the key ended with.
    for round in 0..3 {
        let changes = (0..16)
            .map(|i| match i % 4 {
                0 | 2 => json!({"allowed_ips": [format!("192.0.2.{}", round * 16 + i)]}),
                1 => json!({"services": [BILLING]}),
                _ => json!({"services": [AMAZON]}),
            })
            .collect();
        all_at_once(&app, &sid, &id, changes).await;
        let listed = app.listed_key(&sid, &id).await;
        let (_, last) = logged(&app, &sid, &id, &["key.policy_changed"])
            .await
            .pop()
            .unwrap();
        assert_eq!(
            (&last["allowed_ips"], &last["services"]),
            (&listed["allowed_ips"], &listed["services"]),
            "round {round}: the last change logged is the key's policy: {last} vs {listed}"
        );
    }
    app.stop().await;
}
