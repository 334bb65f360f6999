//! The account service's JSON API (SPEC §3), over real HTTP, on SQLite and
//! PostgreSQL: keys and their lifecycle, and their input validation.

use crate::common::{mistype, unique_email, App, Resp, TestDb, PASSWORD};
use reqwest::header::{CONTENT_TYPE, COOKIE};
use reqwest::StatusCode;
use serde_json::{json, Value};

both_backends!(key_lifecycle, create_key_rejects_bad_input);

const VIEW_FIELDS: [&str; 8] = [
    "id",
    "name",
    "environment",
    "hint",
    "status",
    "created_at",
    "expires_at",
    "last_used_at",
];

fn assert_view_fields(k: &Value, what: &str) {
    let obj = k
        .as_object()
        .unwrap_or_else(|| panic!("{what}: an object: {k}"));
    for f in VIEW_FIELDS {
        assert!(obj.contains_key(f), "{what}: field {f} in {k}");
    }
    for f in obj.keys() {
        assert!(
            !f.contains("hash") && !f.contains("secret"),
            "{what}: no hash or secret field, found {f}"
        );
    }
}

async fn key_lifecycle(db: &TestDb) {
    let app = App::start(db).await;
    let sid = app.signup(&unique_email("keys"), "Keys Inc").await;

    // Production key.
    let prod = app
        .create_key(
            &sid,
            json!({"name": "Amazon Sales Channel", "environment": "production"}),
        )
        .await;
    assert_view_fields(&prod, "created production key");
    let prod_key = prod["key"]
        .as_str()
        .expect("key in the create response")
        .to_owned();
    assert!(prod_key.starts_with("cmk_live_"), "{prod_key}");
    assert_eq!(prod_key.len(), keys::KEY_LEN);
    assert!(prod_key[9..].bytes().all(|b| b.is_ascii_alphanumeric()));
    assert!(keys::ApiKey::parse(&prod_key).is_ok(), "the checksum holds");
    assert_eq!(prod["name"], json!("Amazon Sales Channel"));
    assert_eq!(prod["environment"], json!("production"));
    assert_eq!(prod["status"], json!("valid"));
    assert_eq!(prod["expires_at"], Value::Null);
    assert_eq!(prod["last_used_at"], Value::Null);
    assert!(web::clock::parse_rfc3339(prod["created_at"].as_str().expect("created_at")).is_some());
    let hint = prod["hint"].as_str().expect("hint");
    assert!(
        hint.starts_with("cmk_live_") && hint.ends_with(&prod_key[prod_key.len() - 4..]),
        "{hint}"
    );
    assert!(
        !hint.contains(&prod_key[9..prod_key.len() - 4]),
        "the hint hides the secret part"
    );
    let prod_id = prod["id"].as_str().expect("id").to_owned();

    // Sandbox key; the environment defaults to production when left out.
    let sandbox = app
        .create_key(
            &sid,
            json!({"name": "Staging store", "environment": "sandbox"}),
        )
        .await;
    let sandbox_key = sandbox["key"].as_str().expect("key").to_owned();
    assert!(sandbox_key.starts_with("cmk_test_"), "{sandbox_key}");
    assert_eq!(sandbox["environment"], json!("sandbox"));
    let sandbox_id = sandbox["id"].as_str().expect("id").to_owned();
    let default_env = app.create_key(&sid, json!({"name": "Default env"})).await;
    assert_eq!(default_env["environment"], json!("production"));
    assert!(default_env["key"]
        .as_str()
        .expect("key")
        .starts_with("cmk_live_"));
    let upper = app
        .create_key(&sid, json!({"name": "Upper", "environment": "Sandbox"}))
        .await;
    assert_eq!(upper["environment"], json!("sandbox"));
    let mut all_keys: Vec<String> = vec![prod_key.clone(), sandbox_key.clone()];
    for k in [&default_env, &upper] {
        all_keys.push(k["key"].as_str().expect("key").to_owned());
    }
    for (i, a) in all_keys.iter().enumerate() {
        assert!(all_keys[i + 1..].iter().all(|b| b != a), "keys are unique");
    }

    // The list: every key, the same fields, never the secret or its hash.
    let (raw, listed) = app.list_keys(&sid).await;
    assert_eq!(listed.len(), 4, "{raw}");
    for k in &listed {
        assert_view_fields(k, "listed key");
        assert!(k.get("key").is_none(), "no key field in the list: {k}");
        assert_eq!(k["status"], json!("valid"));
    }
    for key in &all_keys {
        assert!(!raw.contains(key.as_str()), "the list never contains a key");
        assert!(!raw.contains(&key[9..]), "nor its secret part");
        assert!(!raw.contains(&keys::hash_str(key).to_hex()), "nor its hash");
    }
    let listed_prod = listed
        .iter()
        .find(|k| k["id"] == json!(prod_id))
        .expect("listed");
    assert_eq!(listed_prod["hint"], prod["hint"]);
    assert_eq!(listed_prod["name"], prod["name"]);
    assert_eq!(listed_prod["created_at"], prod["created_at"]);

    // Verification.
    let v = app.verify(&prod_key).await;
    assert_eq!(v.status, StatusCode::OK, "{}", v.text);
    let body = v.json();
    assert_eq!(body["valid"], json!(true), "{body}");
    assert_eq!(body["status"], json!("valid"));
    assert_eq!(body["environment"], json!("production"));
    assert!(!v.text.contains(&prod_key));
    assert_eq!(app.verify_status(&sandbox_key).await, "valid");
    // One changed character, a truncation, a swapped prefix: invalid.
    assert_eq!(app.verify_status(&mistype(&prod_key)).await, "invalid");
    let bad = app.verify(&mistype(&prod_key)).await.json();
    assert_eq!(bad["valid"], json!(false));
    assert_eq!(
        app.verify_status(&prod_key[..prod_key.len() - 1]).await,
        "invalid"
    );
    assert_eq!(app.verify_status("").await, "invalid");
    assert_eq!(app.verify_status("cmk_live_").await, "invalid");
    let env_swapped = prod_key.replacen("cmk_live_", "cmk_test_", 1);
    assert_eq!(
        app.verify_status(&env_swapped).await,
        "invalid",
        "the checksum covers the prefix"
    );
    let unknown = keys::ApiKey::generate(keys::Environment::Production);
    assert_eq!(
        app.verify_status(unknown.expose()).await,
        "invalid",
        "well-formed but not issued"
    );
    // Missing header: 400.
    let missing = Resp::read(
        app.http
            .post(app.url("/api/v1/keys/verify"))
            .send()
            .await
            .expect("send"),
    )
    .await;
    assert_eq!(missing.status, StatusCode::BAD_REQUEST, "{}", missing.text);
    missing.assert_api_error("verify without a key");

    // The Magento gateway check: exactly 200 when valid, 401 otherwise.
    assert_eq!(
        app.gateway(Some(("magento-api-key", &prod_key))).await,
        StatusCode::OK
    );
    assert_eq!(
        app.gateway(Some(("x-api-key", &prod_key))).await,
        StatusCode::OK
    );
    assert_eq!(
        app.gateway(Some(("Magento-Api-Key", &sandbox_key))).await,
        StatusCode::OK
    );
    assert_eq!(
        app.gateway(Some(("magento-api-key", &mistype(&prod_key))))
            .await,
        StatusCode::UNAUTHORIZED
    );
    assert_eq!(
        app.gateway(Some(("magento-api-key", unknown.expose())))
            .await,
        StatusCode::UNAUTHORIZED
    );
    assert_eq!(app.gateway(None).await, StatusCode::UNAUTHORIZED);
    assert_eq!(
        app.gateway(Some(("authorization", &prod_key))).await,
        StatusCode::UNAUTHORIZED,
        "only the two documented headers count"
    );

    // Last use: batched in memory, written by a flush, then listed.
    assert_eq!(
        app.listed_key(&sid, &prod_id).await["last_used_at"],
        Value::Null
    );
    let written = app
        .running
        .state
        .verifier
        .flush_last_used()
        .await
        .expect("flush");
    assert!(
        written >= 2,
        "the two verified keys are flushed, got {written}"
    );
    let used = app.listed_key(&sid, &prod_id).await;
    let last_used = used["last_used_at"]
        .as_str()
        .expect("last_used_at is set after a flush");
    assert!(
        web::clock::parse_rfc3339(last_used).is_some(),
        "{last_used}"
    );
    let never = app
        .listed_key(&sid, default_env["id"].as_str().expect("id"))
        .await;
    assert_eq!(
        never["last_used_at"],
        Value::Null,
        "a key never verified stays unused"
    );

    // Revocation: 204, then `revoked` everywhere, at once (the cache is invalidated).
    let del = app
        .delete(&format!("/api/v1/keys/{prod_id}"), Some(&sid))
        .await;
    assert_eq!(del.status, StatusCode::NO_CONTENT, "{}", del.text);
    let after = app.verify(&prod_key).await.json();
    assert_eq!(after["status"], json!("revoked"), "{after}");
    assert_eq!(after["valid"], json!(false));
    assert_eq!(
        app.gateway(Some(("magento-api-key", &prod_key))).await,
        StatusCode::UNAUTHORIZED
    );
    assert_eq!(
        app.gateway(Some(("x-api-key", &prod_key))).await,
        StatusCode::UNAUTHORIZED
    );
    assert_eq!(
        app.listed_key(&sid, &prod_id).await["status"],
        json!("revoked")
    );
    // The other keys are untouched.
    assert_eq!(app.verify_status(&sandbox_key).await, "valid");
    assert_eq!(
        app.listed_key(&sid, &sandbox_id).await["status"],
        json!("valid")
    );
    // An id that does not exist: 404.
    let nothing = app
        .delete("/api/v1/keys/key_doesnotexist", Some(&sid))
        .await;
    assert_eq!(nothing.status, StatusCode::NOT_FOUND);
    nothing.assert_api_error("revoke unknown id");
    // Without a session: 401, and the key stays valid.
    let anon = app
        .delete(&format!("/api/v1/keys/{sandbox_id}"), None)
        .await;
    assert_eq!(anon.status, StatusCode::UNAUTHORIZED);
    assert_eq!(app.verify_status(&sandbox_key).await, "valid");

    app.stop().await;

    // At rest: no plaintext key anywhere in storage, though the rows are there.
    let stored = db.stored_bytes().await;
    assert!(
        crate::common::contains_bytes(&stored, prod_id.as_bytes()),
        "the scan reads the stored rows (the key id is found)"
    );
    assert!(
        crate::common::contains_bytes(&stored, keys::hash_str(&prod_key).to_hex().as_bytes()),
        "the hash is what is stored"
    );
    for key in &all_keys {
        assert!(
            !crate::common::contains_bytes(&stored, key.as_bytes()),
            "a plaintext key is stored ({:?})",
            db.backend
        );
        assert!(
            !crate::common::contains_bytes(&stored, &key.as_bytes()[9..]),
            "the secret part of a key is stored ({:?})",
            db.backend
        );
    }
    assert!(
        !crate::common::contains_bytes(&stored, PASSWORD.as_bytes()),
        "no plaintext password"
    );
}

async fn create_key_rejects_bad_input(db: &TestDb) {
    let app = App::start(db).await;
    let sid = app.signup(&unique_email("key-input"), "Input Co").await;

    let cases: Vec<(&str, Value, StatusCode)> = vec![
        (
            "missing name",
            json!({"environment": "production"}),
            StatusCode::UNPROCESSABLE_ENTITY,
        ),
        (
            "blank name",
            json!({"name": "   "}),
            StatusCode::UNPROCESSABLE_ENTITY,
        ),
        (
            "long name",
            json!({"name": "x".repeat(101)}),
            StatusCode::UNPROCESSABLE_ENTITY,
        ),
        (
            "control chars",
            json!({"name": "a\u{7}b"}),
            StatusCode::UNPROCESSABLE_ENTITY,
        ),
        (
            "bad environment",
            json!({"name": "n", "environment": "staging"}),
            StatusCode::UNPROCESSABLE_ENTITY,
        ),
        (
            "bad expiry",
            json!({"name": "n", "expires_at": "tomorrow"}),
            StatusCode::UNPROCESSABLE_ENTITY,
        ),
        (
            "past expiry",
            json!({"name": "n", "expires_at": "2001-01-01T00:00:00Z"}),
            StatusCode::UNPROCESSABLE_ENTITY,
        ),
        (
            "far expiry",
            json!({"name": "n", "expires_at": "2999-01-01T00:00:00Z"}),
            StatusCode::UNPROCESSABLE_ENTITY,
        ),
        (
            "number expiry",
            json!({"name": "n", "expires_at": 12345}),
            StatusCode::UNPROCESSABLE_ENTITY,
        ),
        (
            "unknown field",
            json!({"name": "n", "key": "cmk_live_chosen"}),
            StatusCode::UNPROCESSABLE_ENTITY,
        ),
        ("array", json!(["n"]), StatusCode::UNPROCESSABLE_ENTITY),
    ];
    for (what, body, status) in cases {
        let r = app.post_json("/api/v1/keys", Some(&sid), &body).await;
        assert_eq!(r.status, status, "{what}: {}", r.text);
        r.assert_api_error(what);
        assert!(
            !r.text.contains("cmk_live_chosen"),
            "{what}: input not echoed"
        );
    }
    let text = Resp::read(
        app.http
            .post(app.url("/api/v1/keys"))
            .header(COOKIE, crate::common::sid_cookie(&sid))
            .header(CONTENT_TYPE, "text/plain")
            .body("{\"name\":\"n\"}")
            .send()
            .await
            .expect("send"),
    )
    .await;
    assert_eq!(text.status, StatusCode::UNSUPPORTED_MEDIA_TYPE);
    let broken = Resp::read(
        app.http
            .post(app.url("/api/v1/keys"))
            .header(COOKIE, crate::common::sid_cookie(&sid))
            .header(CONTENT_TYPE, "application/json")
            .body("{\"name\":")
            .send()
            .await
            .expect("send"),
    )
    .await;
    assert_eq!(broken.status, StatusCode::BAD_REQUEST);
    broken.assert_api_error("broken JSON");

    let (_, keys) = app.list_keys(&sid).await;
    assert!(keys.is_empty(), "no bad request created a key: {keys:?}");
    app.stop().await;
}
