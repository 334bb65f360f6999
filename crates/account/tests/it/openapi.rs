//! The OpenAPI document served at /api/openapi.json matches the routes: the
//! set of documented operations is the list below, and every one of them
//! is routed (answers something other than the fallback's 404 or a 405).
//! The whole generated document is an insta snapshot
//! (`snapshots/openapi__document.snap`): any change to it is reviewed.

#![allow(clippy::unwrap_used)] // a failed unwrap is a failed test

use crate::common::{App, TestDb};

/// The operations the JSON API has. A route added or removed without the
/// document changing (or the other way round) fails here.
const OPERATIONS: &[(&str, &str)] = &[
    ("GET", "/healthz"),
    ("GET", "/readyz"),
    ("POST", "/api/v1/signup"),
    ("POST", "/api/v1/login"),
    ("POST", "/api/v1/logout"),
    ("POST", "/api/v1/login/two-factor"),
    ("POST", "/api/v1/account/two-factor/totp"),
    ("POST", "/api/v1/account/two-factor/totp/confirm"),
    ("DELETE", "/api/v1/account/two-factor"),
    ("POST", "/api/v1/account/two-factor/recovery-codes"),
    ("POST", "/api/v1/account/two-factor/passkeys/options"),
    ("POST", "/api/v1/account/two-factor/passkeys"),
    ("GET", "/api/v1/account/two-factor/passkeys"),
    ("DELETE", "/api/v1/account/two-factor/passkeys/{id}"),
    (
        "POST",
        "/api/v1/account/two-factor/passkeys/confirm/options",
    ),
    ("POST", "/api/v1/account/two-factor/passkeys/confirm"),
    ("POST", "/api/v1/login/two-factor/passkey/options"),
    ("POST", "/api/v1/login/two-factor/passkey"),
    ("PATCH", "/api/v1/company"),
    ("POST", "/api/v1/password-reset"),
    ("POST", "/api/v1/password-reset/confirm"),
    ("POST", "/api/v1/account/password"),
    ("POST", "/api/v1/sessions/revoke-others"),
    ("GET", "/api/v1/account"),
    ("POST", "/api/v1/account/email-verification"),
    ("GET", "/api/v1/keys"),
    ("POST", "/api/v1/keys"),
    ("DELETE", "/api/v1/keys/{id}"),
    ("PUT", "/api/v1/keys/{id}/public-key"),
    ("POST", "/api/v1/keys/{id}/roll"),
    ("GET", "/api/v1/audit"),
    ("GET", "/api/v1/members"),
    ("DELETE", "/api/v1/members/{id}"),
    ("PATCH", "/api/v1/members/{id}"),
    ("GET", "/api/v1/invitations"),
    ("POST", "/api/v1/invitations"),
    ("DELETE", "/api/v1/invitations/{id}"),
    ("POST", "/api/v1/invitations/accept"),
    ("POST", "/api/v1/secret-scanning/verify"),
    ("POST", "/api/v1/keys/verify"),
    ("GET", "/gateway/apikeycheck"),
    ("GET", "/merchant-registry/v1/ping"),
    ("GET", "/noop"),
    ("GET", "/amazon/v1/stores"),
    ("POST", "/amazon/v1/stores"),
    ("GET", "/amazon/v1/stores/{id}"),
    ("PATCH", "/amazon/v1/stores/{id}"),
    ("DELETE", "/amazon/v1/stores/{id}"),
    ("POST", "/amazon/v1/stores/{id}/connect-links"),
    ("POST", "/amazon/v1/stores/{id}/check"),
];

async fn document_matches_routes(db: &TestDb) {
    let app = App::start(db).await;
    let res = app.get("/api/openapi.json", None).await;
    assert_eq!(res.status, 200);
    let doc = res.json();
    assert_eq!(doc["openapi"], "3.1.0");
    let served: serde_json::Value =
        serde_json::from_slice(account::api::openapi::document()).unwrap();
    assert_eq!(doc, served, "the served document is the generated one");
    let mut documented: Vec<(String, String)> = Vec::new();
    for (path, item) in doc["paths"].as_object().unwrap() {
        for method in item.as_object().unwrap().keys() {
            documented.push((method.to_uppercase(), path.clone()));
        }
    }
    documented.sort();
    let mut expected: Vec<(String, String)> = OPERATIONS
        .iter()
        .map(|(m, p)| (m.to_string(), p.to_string()))
        .collect();
    expected.sort();
    assert_eq!(documented, expected, "openapi.json and the routes differ");

    for (method, path) in OPERATIONS {
        let url = app.url(&path.replace("{id}", "key_doesnotexist000"));
        let res = app
            .http
            .request(method.parse().unwrap(), url)
            .header("content-type", "application/json")
            .body("{}")
            .send()
            .await
            .unwrap();
        let status = res.status().as_u16();
        let body = res.text().await.unwrap();
        assert_ne!(status, 405, "{method} {path} is not routed");
        assert!(
            !(status == 404 && body.contains("There is nothing at this address")),
            "{method} {path} fell through to the fallback"
        );
        assert!(status < 500, "{method} {path}: {status}");
    }
    app.stop().await;
}

both_backends!(document_matches_routes);

/// The generated document, reviewed as a whole.
#[test]
fn document() {
    let doc: serde_json::Value = serde_json::from_slice(account::api::openapi::document()).unwrap();
    insta::assert_json_snapshot!(doc);
}
