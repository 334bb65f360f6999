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
    ("GET", "/api/v1/companies"),
    ("POST", "/api/v1/companies"),
    ("POST", "/api/v1/companies/{id}/switch"),
    ("DELETE", "/api/v1/companies/{id}"),
    ("POST", "/api/v1/password-reset"),
    ("POST", "/api/v1/password-reset/confirm"),
    ("POST", "/api/v1/account/password"),
    ("POST", "/api/v1/sessions/revoke-others"),
    ("GET", "/api/v1/account"),
    ("POST", "/api/v1/account/email-verification"),
    ("GET", "/api/v1/keys"),
    ("POST", "/api/v1/keys"),
    ("DELETE", "/api/v1/keys/{id}"),
    ("PATCH", "/api/v1/keys/{id}"),
    ("GET", "/api/v1/usage"),
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

/// The schema a `$ref` of the document points at.
fn resolve<'a>(doc: &'a serde_json::Value, schema: &'a serde_json::Value) -> &'a serde_json::Value {
    match schema["$ref"].as_str() {
        Some(r) => {
            let name = r.trim_start_matches("#/components/schemas/");
            &doc["components"]["schemas"][name]
        }
        None => schema,
    }
}

/// The companies' answers are described with the fields they have (the
/// account's role there, and whether it is the session's current one),
/// and the account's company with its own: two answer types must not share
/// one schema name.
#[test]
fn company_answers_are_described_with_their_own_fields() {
    let doc: serde_json::Value = serde_json::from_slice(account::api::openapi::document()).unwrap();
    let answer = |path: &str, method: &str, status: &str| {
        let s = &doc["paths"][path][method]["responses"][status]["content"]["application/json"]
            ["schema"];
        resolve(&doc, s).clone()
    };
    let list = answer("/api/v1/companies", "get", "200");
    let item = resolve(&doc, &list["properties"]["companies"]["items"]).clone();
    let made = answer("/api/v1/companies", "post", "201");
    for (what, schema) in [("listed", &item), ("made", &made)] {
        let props = schema["properties"].as_object().unwrap();
        let mut names: Vec<&str> = props.keys().map(String::as_str).collect();
        names.sort_unstable();
        assert_eq!(names, ["current", "id", "name", "role"], "{what}: {schema}");
    }
    let account = answer("/api/v1/account", "get", "200");
    let view = resolve(&doc, &account["properties"]["account"]);
    // `null` in no company: one of null and the company.
    let company = &view["properties"]["company"];
    let company = company["oneOf"]
        .as_array()
        .and_then(|all| all.iter().find(|s| s.get("$ref").is_some()))
        .unwrap_or(company);
    let company = resolve(&doc, company);
    let props = company["properties"].as_object().unwrap();
    assert!(
        props.contains_key("id") && props.contains_key("name"),
        "{company}"
    );
}
