//! Services Connector 1.3.x: key pairs and the signed ping
//! `GET /merchant-registry/v1/ping`, on both backends.

#![allow(clippy::unwrap_used)] // a failed unwrap is a failed test

use crate::common::{App, TestDb, CLOCK_START};
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use keys::jwt::{connector_claims, PrivateKey};
use serde_json::json;
use web::ManualClock;

async fn ping(app: &App, key: &str, signature: Option<&str>) -> (u16, serde_json::Value) {
    let mut req = app
        .http
        .get(app.url("/merchant-registry/v1/ping"))
        .header("magento-api-key", key)
        .header("x-api-key", key);
    if let Some(s) = signature {
        req = req.header("x-gw-signature", s);
    }
    let res = req.send().await.unwrap();
    let status = res.status().as_u16();
    (status, res.json().await.unwrap_or_default())
}

async fn signed_pings(db: &TestDb) {
    let (app, clock) = App::start_clocked(db).await;
    let sid = app.signup("pinger@example.com", "Ping Co").await;
    let created = app
        .create_key(
            &sid,
            json!({"name": "Amazon Sales Channel", "generate_private_key": true}),
        )
        .await;
    let key = created["key"].as_str().unwrap().to_owned();
    let pem = created["private_key"].as_str().unwrap().to_owned();
    assert!(pem.starts_with("-----BEGIN PRIVATE KEY-----"));
    let private = PrivateKey::from_pem(&pem).unwrap();
    let now = CLOCK_START;

    // The right private key: 200.
    let good = private.sign(&connector_claims(now));
    assert_eq!(ping(&app, &key, Some(&good)).await.0, 200);
    // The same pair again is still fine (verified once, then remembered).
    assert_eq!(ping(&app, &key, Some(&good)).await.0, 200);

    // Another private key, an expired JWT, one five hours ahead: 403.
    let other = PrivateKey::generate().unwrap();
    assert_eq!(
        ping(&app, &key, Some(&other.sign(&connector_claims(now))))
            .await
            .0,
        403
    );
    assert_eq!(
        ping(&app, &key, Some(&private.sign(&json!({"exp": now - 1}))))
            .await
            .0,
        403
    );
    assert_eq!(
        ping(
            &app,
            &key,
            Some(&private.sign(&json!({"exp": now + 5 * 3600})))
        )
        .await
        .0,
        403
    );
    // alg none, and HS256 keyed with the public key as the secret: 403.
    let payload = URL_SAFE_NO_PAD.encode(connector_claims(now).to_string());
    let none = format!(
        "{}.{payload}.",
        URL_SAFE_NO_PAD.encode(br#"{"alg":"none","typ":"JWT"}"#)
    );
    assert_eq!(ping(&app, &key, Some(&none)).await.0, 403);
    let hs_header = URL_SAFE_NO_PAD.encode(br#"{"alg":"HS256","typ":"JWT"}"#);
    let hs_sig = hmac_sha256(
        private.public_key().to_pem().as_bytes(),
        format!("{hs_header}.{payload}").as_bytes(),
    );
    let hs = format!("{hs_header}.{payload}.{}", URL_SAFE_NO_PAD.encode(hs_sig));
    assert_eq!(ping(&app, &key, Some(&hs)).await.0, 403);
    // Missing or garbled header: 403 with a JSON error.
    let (status, body) = ping(&app, &key, None).await;
    assert_eq!(status, 403);
    assert_eq!(body["error"]["code"], "invalid_signature");
    assert_eq!(ping(&app, &key, Some("garbled")).await.0, 403);

    // A remembered token stops being accepted once it has expired.
    clock.advance(301);
    assert_eq!(ping(&app, &key, Some(&good)).await.0, 403);
    let fresh = private.sign(&connector_claims(clock_now(&clock)));
    assert_eq!(ping(&app, &key, Some(&fresh)).await.0, 200);

    // An unknown key with a good signature: 401.
    let unknown = keys::ApiKey::generate(keys::Environment::Production);
    assert_eq!(ping(&app, unknown.expose(), Some(&fresh)).await.0, 401);
    // Revoked: 401 even with a good signature, and the code says so.
    let id = created["id"].as_str().unwrap();
    assert_eq!(
        app.delete(&format!("/api/v1/keys/{id}"), Some(&sid))
            .await
            .status,
        204
    );
    let (status, body) = ping(&app, &key, Some(&fresh)).await;
    assert_eq!(status, 401);
    assert_eq!(body["error"]["code"], "revoked");

    // Only the public key is stored: the private key appears in no row or file.
    let stored = db.stored_bytes().await;
    let pem_body: String = pem.lines().filter(|l| !l.starts_with("-----")).collect();
    assert!(!crate::common::contains_bytes(&stored, pem_body.as_bytes()));
    assert!(!crate::common::contains_bytes(
        &stored,
        pem.lines().nth(1).unwrap().as_bytes()
    ));
    app.stop().await;
}

fn clock_now(clock: &ManualClock) -> i64 {
    web::Clock::now(clock)
}

/// HMAC-SHA-256, enough to forge the classic alg-confusion token.
fn hmac_sha256(key: &[u8], msg: &[u8]) -> Vec<u8> {
    use sha2::{Digest, Sha256};
    let mut k = [0u8; 64];
    if key.len() > 64 {
        k[..32].copy_from_slice(&Sha256::digest(key));
    } else {
        k[..key.len()].copy_from_slice(key);
    }
    let ipad: Vec<u8> = k.iter().map(|b| b ^ 0x36).collect();
    let opad: Vec<u8> = k.iter().map(|b| b ^ 0x5c).collect();
    let inner = Sha256::new()
        .chain_update(&ipad)
        .chain_update(msg)
        .finalize();
    Sha256::new()
        .chain_update(&opad)
        .chain_update(inner)
        .finalize()
        .to_vec()
}

async fn own_public_key(db: &TestDb) {
    let app = App::start(db).await;
    let sid = app.signup("own@example.com", "Own Co").await;
    let private = PrivateKey::generate().unwrap();
    let created = app
        .create_key(
            &sid,
            json!({"name": "mine", "public_key": private.public_key().to_pem()}),
        )
        .await;
    assert!(
        created.get("private_key").is_none(),
        "no private key when the user brings a public key"
    );
    let key = created["key"].as_str().unwrap().to_owned();
    let id = created["id"].as_str().unwrap().to_owned();
    let now = web::Clock::now(&web::SystemClock);
    assert_eq!(
        ping(&app, &key, Some(&private.sign(&connector_claims(now))))
            .await
            .0,
        200
    );
    let listed = app.listed_key(&sid, &id).await;
    assert_eq!(listed["has_public_key"], true);
    assert_eq!(
        listed["public_key_fingerprint"],
        private.public_key().fingerprint()
    );

    // A key without a pair: the ping is refused (403), the plain check still passes.
    let plain = app.create_key(&sid, json!({"name": "plain"})).await;
    let plain_key = plain["key"].as_str().unwrap();
    assert_eq!(
        ping(&app, plain_key, Some(&private.sign(&connector_claims(now))))
            .await
            .0,
        403
    );
    assert_eq!(app.verify_status(plain_key).await, "valid");

    // Replacing the public key takes effect at once.
    let next = PrivateKey::generate().unwrap();
    let res = app
        .http
        .put(app.url(&format!("/api/v1/keys/{id}/public-key")))
        .header("cookie", crate::common::sid_cookie(&sid))
        .json(&json!({"public_key": next.public_key().to_pem()}))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    assert_eq!(
        ping(&app, &key, Some(&private.sign(&connector_claims(now))))
            .await
            .0,
        403
    );
    assert_eq!(
        ping(&app, &key, Some(&next.sign(&connector_claims(now))))
            .await
            .0,
        200
    );

    // Bad public keys are refused with a clear 422.
    for bad in [
        "not a pem",
        "-----BEGIN PUBLIC KEY-----\nAAAA\n-----END PUBLIC KEY-----",
    ] {
        let res = app
            .post_json(
                "/api/v1/keys",
                Some(&sid),
                &json!({"name": "bad", "public_key": bad}),
            )
            .await;
        assert_eq!(res.status, 422, "{}", res.text);
    }
    let both = app
        .post_json(
            "/api/v1/keys",
            Some(&sid),
            &json!({"name": "both", "public_key": next.public_key().to_pem(), "generate_private_key": true}),
        )
        .await;
    assert_eq!(both.status, 422);
    let v: serde_json::Value = both.json();
    assert_eq!(v["error"]["code"], "invalid_field", "{}", both.text);
    assert_eq!(
        v["error"]["message"],
        "public_key: give either generate_private_key or public_key, not both.",
        "{}",
        both.text
    );
    app.stop().await;
}

/// The benchmark's seeding (`account:seed-keys --signed`): the signed keys
/// get the public key through the bulk insert, and their tokens ping 200.
async fn seeded_signed_keys(db: &TestDb) {
    let (app, _clock) = App::start_clocked(db).await;
    let seeded = account::seed::seed_keys(&app.running.state.db, 12, 12, 3, CLOCK_START)
        .await
        .unwrap();
    assert_eq!(seeded.sample.len(), 12);
    assert_eq!(seeded.signed.len(), 3);
    for (key, token) in &seeded.signed {
        assert_eq!(ping(&app, key, Some(token)).await.0, 200);
    }
    // A key seeded without a public key: the same token is refused.
    let token = &seeded.signed[0].1;
    let unsigned = seeded
        .sample
        .iter()
        .find(|k| seeded.signed.iter().all(|(s, _)| s != *k))
        .unwrap();
    let (status, body) = ping(&app, unsigned, Some(token)).await;
    assert_eq!(status, 403, "{body}");
    assert_eq!(body["error"]["code"], "invalid_signature");
    app.stop().await;
}

both_backends!(signed_pings, own_public_key, seeded_signed_keys);
