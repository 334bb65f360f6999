//! `/amazon/v1/stores`: the Admin registers and manages its Amazon stores
//! with the company's API key, on both backends, over real HTTP.

#![allow(clippy::unwrap_used)] // a failed unwrap is a failed test

use crate::common::amazon::AmazonApp;
use crate::common::{TestDb, CLOCK_START};
use keys::jwt::{connector_claims, PrivateKey};
use reqwest::{Method, StatusCode};
use serde_json::json;

const FIELDS: [&str; 12] = [
    "id",
    "name",
    "email",
    "country",
    "website_url",
    "status",
    "reason",
    "seller_id",
    "authorized_at",
    "authorization_expires_at",
    "created_at",
    "last_attempt",
];

async fn register_list_get_patch_delete(db: &TestDb) {
    let a = AmazonApp::start(db, false).await;
    let store = a.register("Main store", "GB").await;
    let obj = store.as_object().unwrap();
    assert_eq!(
        obj.len(),
        FIELDS.len(),
        "the SPEC fields and last_attempt: {store}"
    );
    for f in FIELDS {
        assert!(obj.contains_key(f), "{f} in {store}");
    }
    assert_eq!(store["status"], "authorization_pending");
    assert_eq!(store["reason"], json!(null));
    assert_eq!(store["country"], "GB");
    assert_eq!(store["email"], "seller@example.com");
    assert_eq!(store["website_url"], "https://shop.example.com");
    assert_eq!(store["authorized_at"], json!(null));
    assert_eq!(store["last_attempt"], json!(null));
    assert_eq!(
        store["created_at"],
        web::clock::rfc3339(CLOCK_START).as_str()
    );
    let id = store["id"].as_str().unwrap().to_owned();
    let company_id = a.row(&id).await.company_id;

    let r = a.call(Method::GET, "/amazon/v1/stores", None).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    let stores = r.json()["stores"].as_array().unwrap().clone();
    assert_eq!(stores, vec![store.clone()]);
    assert_eq!(a.store(&id).await, store);

    // Deactivate keeps everything but the status; activate brings it back.
    let r = a.patch_store(&id, json!({"active": false})).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    assert_eq!(r.json()["status"], "inactive");
    let r = a.patch_store(&id, json!({"active": true})).await;
    assert_eq!(r.json()["status"], "authorization_pending");
    let r = a.patch_store(&id, json!({"active": "yes"})).await;
    r.assert_api_error_status(StatusCode::UNPROCESSABLE_ENTITY, "active must be a bool");

    let r = a
        .call(Method::DELETE, &format!("/amazon/v1/stores/{id}"), None)
        .await;
    assert_eq!(r.status, StatusCode::NO_CONTENT, "{}", r.text);
    let r = a
        .call(Method::GET, &format!("/amazon/v1/stores/{id}"), None)
        .await;
    assert_eq!(
        r.assert_api_error_status(StatusCode::NOT_FOUND, "deleted"),
        "not_found"
    );
    let r = a
        .call(Method::DELETE, &format!("/amazon/v1/stores/{id}"), None)
        .await;
    r.assert_api_error_status(StatusCode::NOT_FOUND, "deleted twice");

    // The company's audit trail names the store, never more.
    let events = account::store::list_events(&a.app.running.state.db, &company_id, None, 50)
        .await
        .unwrap();
    let actions: Vec<&str> = events.iter().map(|e| e.action.as_str()).collect();
    for want in [
        "amazon_store.registered",
        "amazon_store.deactivated",
        "amazon_store.activated",
        "amazon_store.deleted",
    ] {
        assert!(actions.contains(&want), "{want} in {actions:?}");
    }
    a.app.stop().await;
}

async fn bad_fields_are_422(db: &TestDb) {
    let a = AmazonApp::start(db, false).await;
    let good = json!({
        "name": "Store",
        "email": "seller@example.com",
        "country": "US",
        "website_url": "https://shop.example.com",
    });
    let cases = [
        ("name", json!("")),
        ("name", json!("x".repeat(101))),
        ("name", json!("bad\u{200b}name")),
        ("email", json!("not-an-email")),
        ("country", json!("FR")),
        ("country", json!("us ")),
        ("website_url", json!("shop.example.com")),
        (
            "website_url",
            json!(format!("https://x.example/{}", "a".repeat(2048))),
        ),
        ("website_url", json!("javascript:alert(1)")),
    ];
    for (field, value) in cases {
        let mut body = good.clone();
        body[field] = value.clone();
        let r = a.call(Method::POST, "/amazon/v1/stores", Some(body)).await;
        let code = r.assert_api_error_status(StatusCode::UNPROCESSABLE_ENTITY, field);
        assert_eq!(code, "invalid_field", "{field} = {value}");
        assert!(r.json()["error"]["message"]
            .as_str()
            .unwrap()
            .starts_with(field));
    }
    // Unknown fields, wrong types, not JSON: clear 4xx, never 5xx.
    let mut extra = good.clone();
    extra["secret"] = json!("x");
    let r = a.call(Method::POST, "/amazon/v1/stores", Some(extra)).await;
    r.assert_api_error_status(StatusCode::UNPROCESSABLE_ENTITY, "unknown field");
    let r = Resp::read(
        a.app
            .http
            .post(a.app.url("/amazon/v1/stores"))
            .header("x-api-key", &a.key)
            .body("name=x")
            .send()
            .await
            .unwrap(),
    )
    .await;
    r.assert_api_error_status(StatusCode::UNSUPPORTED_MEDIA_TYPE, "not JSON");
    let r = a.call(Method::GET, "/amazon/v1/stores", None).await;
    assert_eq!(r.json()["stores"], json!([]), "nothing was registered");
    a.app.stop().await;
}

use crate::common::Resp;

async fn keys_and_companies(db: &TestDb) {
    let a = AmazonApp::start(db, false).await;
    let store = a.register("Mine", "US").await;
    let id = store["id"].as_str().unwrap().to_owned();

    // No key, a malformed key, a revoked key: 401 in the JSON error format.
    let r = Resp::read(
        a.app
            .http
            .get(a.app.url("/amazon/v1/stores"))
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(
        r.assert_api_error_status(StatusCode::UNAUTHORIZED, "no key"),
        "missing_api_key"
    );
    let r = a
        .call_with_key("cmk_live_nope", Method::GET, "/amazon/v1/stores", None)
        .await;
    r.assert_api_error_status(StatusCode::UNAUTHORIZED, "malformed key");
    // `magento-api-key` works as the gateway's does.
    let r = Resp::read(
        a.app
            .http
            .get(a.app.url("/amazon/v1/stores"))
            .header("magento-api-key", &a.key)
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);

    // Another company: its own list, and our store is 404 for it.
    let other_sid = a
        .app
        .signup(&crate::common::unique_email("other"), "Other Co")
        .await;
    let other_key = a
        .app
        .create_key(&other_sid, json!({"name": "Theirs"}))
        .await["key"]
        .as_str()
        .unwrap()
        .to_owned();
    let r = a
        .call_with_key(&other_key, Method::GET, "/amazon/v1/stores", None)
        .await;
    assert_eq!(r.json()["stores"], json!([]));
    for (method, path, body) in [
        (Method::GET, format!("/amazon/v1/stores/{id}"), None),
        (
            Method::PATCH,
            format!("/amazon/v1/stores/{id}"),
            Some(json!({"active": false})),
        ),
        (Method::DELETE, format!("/amazon/v1/stores/{id}"), None),
        (Method::POST, format!("/amazon/v1/stores/{id}/check"), None),
    ] {
        let r = a
            .call_with_key(&other_key, method.clone(), &path, body)
            .await;
        let code = r.assert_api_error_status(StatusCode::NOT_FOUND, &format!("{method} {path}"));
        assert_eq!(code, "not_found");
    }
    assert_eq!(
        a.store(&id).await["status"],
        "authorization_pending",
        "untouched"
    );

    // A Sandbox key of the company does not see it: a store is seen by keys
    // of the environment it was registered in (issue 28).
    let sandbox = a
        .app
        .create_key(&a.sid, json!({"name": "Sandbox", "environment": "sandbox"}))
        .await["key"]
        .as_str()
        .unwrap()
        .to_owned();
    let r = a
        .call_with_key(
            &sandbox,
            Method::GET,
            &format!("/amazon/v1/stores/{id}"),
            None,
        )
        .await;
    assert_eq!(r.status, StatusCode::NOT_FOUND, "{}", r.text);

    // Revoked: 401 `revoked`.
    let (_, keys) = a.app.list_keys(&a.sid).await;
    let key_id = keys
        .iter()
        .find(|k| k["name"] == "Amazon Sales Channel")
        .unwrap()["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let r = a
        .app
        .delete(&format!("/api/v1/keys/{key_id}"), Some(&a.sid))
        .await;
    assert_eq!(r.status, StatusCode::NO_CONTENT);
    let r = a.call(Method::GET, "/amazon/v1/stores", None).await;
    assert_eq!(
        r.assert_api_error_status(StatusCode::UNAUTHORIZED, "revoked"),
        "revoked"
    );
    a.app.stop().await;
}

async fn signed_keys_need_a_signature(db: &TestDb) {
    let a = AmazonApp::start(db, false).await;
    let created = a
        .app
        .create_key(
            &a.sid,
            json!({"name": "Signed", "generate_private_key": true}),
        )
        .await;
    let key = created["key"].as_str().unwrap().to_owned();
    let private = PrivateKey::from_pem(created["private_key"].as_str().unwrap()).unwrap();
    let send = |sig: Option<String>| {
        let mut req = a
            .app
            .http
            .get(a.app.url("/amazon/v1/stores"))
            .header("x-api-key", &key);
        if let Some(s) = sig {
            req = req.header("x-gw-signature", s);
        }
        async move { Resp::read(req.send().await.unwrap()).await }
    };
    let r = send(None).await;
    assert_eq!(
        r.assert_api_error_status(StatusCode::FORBIDDEN, "no signature"),
        "invalid_signature"
    );
    let other = PrivateKey::generate().unwrap();
    let r = send(Some(other.sign(&connector_claims(CLOCK_START)))).await;
    r.assert_api_error_status(StatusCode::FORBIDDEN, "another key's signature");
    let r = send(Some(private.sign(&connector_claims(CLOCK_START)))).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    a.app.stop().await;
}

async fn connect_links_and_checks_need_amazon(db: &TestDb) {
    // Not set up: listing and registering work, connecting is 503.
    let a = AmazonApp::start(db, false).await;
    let id = a.register("Store", "CA").await["id"]
        .as_str()
        .unwrap()
        .to_owned();
    for path in [
        format!("/amazon/v1/stores/{id}/connect-links"),
        format!("/amazon/v1/stores/{id}/check"),
    ] {
        let r = a.call(Method::POST, &path, None).await;
        assert_eq!(
            r.status,
            StatusCode::SERVICE_UNAVAILABLE,
            "{path}: {}",
            r.text
        );
        assert_eq!(r.json()["error"]["code"], "amazon_not_configured");
        assert!(!r.json()["error"]["message"].as_str().unwrap().is_empty());
    }
    a.app.stop().await;

    // Set up: a link on the account site, valid 10 minutes.
    let a = AmazonApp::start(db, true).await;
    let id = a.register("Store", "CA").await["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let r = a
        .call(
            Method::POST,
            &format!("/amazon/v1/stores/{id}/connect-links"),
            None,
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text);
    let v = r.json();
    let url = v["url"].as_str().unwrap();
    assert!(
        url.starts_with(&format!("{}/amazon/connect/", a.app.base)),
        "{url}"
    );
    let token = url.rsplit('/').next().unwrap();
    assert!(token.len() >= 43, "≥ 256 bits: {token}");
    assert_eq!(
        v["expires_at"],
        web::clock::rfc3339(CLOCK_START + 600).as_str()
    );
    // Only its hash is stored.
    assert!(!testkit::contains_bytes(
        &db.stored_bytes().await,
        token.as_bytes()
    ));
    // Another company's store: 404.
    let r = a
        .call(
            Method::POST,
            "/amazon/v1/stores/amzs_nope/connect-links",
            None,
        )
        .await;
    r.assert_api_error_status(StatusCode::NOT_FOUND, "unknown store");
    // A pending store's check changes nothing.
    let r = a
        .call(Method::POST, &format!("/amazon/v1/stores/{id}/check"), None)
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    assert_eq!(r.json()["status"], "authorization_pending");
    a.app.stop().await;
}

both_backends!(
    register_list_get_patch_delete,
    bad_fields_are_422,
    keys_and_companies,
    signed_keys_need_a_signature,
    connect_links_and_checks_need_amazon,
);
