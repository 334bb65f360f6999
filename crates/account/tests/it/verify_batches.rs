//! Keys memory does not hold are read from storage in batches: many misses
//! at once (distinct keys, the same key several times, unknown keys, a
//! revoked one) each get their own key's answer, on both backends.

use reqwest::StatusCode;
use serde_json::json;

use crate::common::*;

both_backends!(concurrent_misses_each_get_their_own_answer);

async fn concurrent_misses_each_get_their_own_answer(db: &TestDb) {
    let app = App::start(db).await;
    let sid = app.signup(&unique_email("batches"), "Batch Co").await;
    let mut keys = Vec::new();
    for i in 0..40 {
        let k = app.create_key(&sid, json!({"name": format!("k{i}")})).await;
        keys.push((
            k["id"].as_str().expect("id").to_owned(),
            k["key"].as_str().expect("key").to_owned(),
        ));
    }
    let (revoked_id, revoked) = keys.pop().expect("a key");
    let r = app
        .delete(&format!("/api/v1/keys/{revoked_id}"), Some(&sid))
        .await;
    assert_eq!(r.status, StatusCode::NO_CONTENT);
    // A fresh node: nothing in memory, every key a miss.
    let node = App::start(db).await;
    let mut wanted: Vec<(String, &str)> = Vec::new();
    for (_, k) in &keys {
        // Each stored key three times, so batches hold the same hash twice.
        for _ in 0..3 {
            wanted.push((k.clone(), "valid"));
        }
    }
    for _ in 0..20 {
        let forged = keys::ApiKey::generate(keys::Environment::Production);
        wanted.push((forged.expose().to_owned(), "invalid"));
    }
    for _ in 0..5 {
        wanted.push((revoked.clone(), "revoked"));
    }
    let answers =
        futures_util::future::join_all(wanted.iter().map(|(k, _)| node.verify_status(k))).await;
    for ((key, want), got) in wanted.iter().zip(&answers) {
        assert_eq!(got, want, "{}…", &key[..12]);
    }
    node.stop().await;
    app.stop().await;
}
