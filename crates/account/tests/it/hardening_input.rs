//! Hardening, round 2 (issue 12): no 5xx from any byte, on SQLite and
//! PostgreSQL. NUL bytes, invalid UTF-8 and invisible format characters go
//! to every JSON route of the OpenAPI document and to every form and id of
//! the pages. Error formats and small protections: hardening_protections.rs.

#![allow(clippy::unwrap_used)] // a failed unwrap is a failed test

use crate::common::{hidden_input, sid_cookie, unique_email, App, Browser, Resp, TestDb};
use reqwest::header::{CONTENT_TYPE, COOKIE};
use reqwest::{Method, StatusCode};
use serde_json::{json, Value};

both_backends!(
    hostile_bytes_on_every_json_route_get_4xx,
    hostile_bytes_in_every_form_and_page_id_get_4xx,
    names_refuse_invisible_format_characters,
);

const NUL: &str = "a\u{0}b";
const BIDI: &str = "Acme\u{202E}gpj.exe";
const PATH_IDS: [&str; 4] = ["%00", "%FF", "key_%00x", "%E2%80%AE"];

fn openapi() -> Value {
    serde_json::from_slice(account::api::openapi::document()).unwrap()
}

/// A body for `schema` with every string property set to `text`.
fn body_for(schema: &Value, text: &str) -> Value {
    let props = schema["properties"]
        .as_object()
        .cloned()
        .unwrap_or_default();
    let mut body = serde_json::Map::new();
    for (name, p) in props {
        let kind = p["type"]
            .as_str()
            .or_else(|| p["type"][0].as_str())
            .unwrap_or("string");
        let v = match kind {
            "integer" | "number" => json!(0),
            "boolean" => json!(false),
            _ => json!(text),
        };
        body.insert(name, v);
    }
    Value::Object(body)
}

async fn send(app: &App, method: Method, path: &str, sid: &str, body: Option<Vec<u8>>) -> Resp {
    let mut req = app
        .http
        .request(method, app.url(path))
        .header(COOKIE, sid_cookie(sid))
        .header("x-api-key", "cmk_live_hostile")
        .header("magento-api-key", "x");
    if let Some(b) = body {
        req = req.header(CONTENT_TYPE, "application/json").body(b);
    }
    Resp::read(req.send().await.unwrap()).await
}

fn assert_4xx(r: &Resp, what: &str) {
    assert!(
        r.status.is_client_error(),
        "{what}: expected a 4xx, got {} {}",
        r.status,
        r.text
    );
}

async fn hostile_bytes_on_every_json_route_get_4xx(db: &TestDb) {
    let app = App::start(db).await;
    let sid = app.signup(&unique_email("hostile"), "Hostile Co").await;
    let key = app.create_key(&sid, json!({"name": "target"})).await;
    let key_id = key["id"].as_str().unwrap().to_owned();
    let doc = openapi();
    let mut tried = 0;
    for (path, ops) in doc["paths"].as_object().unwrap() {
        for (method, op) in ops.as_object().unwrap() {
            let method = Method::from_bytes(method.to_uppercase().as_bytes()).unwrap();
            let schema = &op["requestBody"]["content"]["application/json"]["schema"];
            let has_body = schema.is_object();
            // Hostile ids in the path.
            if path.contains('{') {
                for id in PATH_IDS {
                    let p = path.replace("{id}", id);
                    let body = has_body.then(|| body_for(schema, "x").to_string().into_bytes());
                    let r = send(&app, method.clone(), &p, &sid, body).await;
                    assert_4xx(&r, &format!("{method} {p}"));
                    r.assert_api_error(&format!("{method} {p}"));
                    tried += 1;
                }
            }
            let has_text = schema["properties"].as_object().is_some_and(|p| {
                p.values()
                    .any(|v| v["type"] == "string" || v["type"][0] == "string")
            });
            if !has_body || schema["type"] != "object" || !has_text {
                continue;
            }
            // Hostile text in every string field, with a real id in the path.
            let p = path.replace("{id}", &key_id);
            for body in [
                body_for(schema, NUL).to_string().into_bytes(),
                body_for(schema, "\u{0}").to_string().into_bytes(),
                // Invalid UTF-8 inside a JSON string.
                body_for(schema, "INVALID")
                    .to_string()
                    .replace("INVALID", "\u{1}")
                    .into_bytes()
                    .into_iter()
                    .map(|b| if b == 1 { 0xFF } else { b })
                    .collect(),
            ] {
                let r = send(&app, method.clone(), &p, &sid, Some(body)).await;
                assert_4xx(&r, &format!("{method} {p} with hostile text"));
                r.assert_api_error(&format!("{method} {p}"));
                tried += 1;
            }
        }
    }
    assert!(
        tried >= 40,
        "the OpenAPI document was walked ({tried} requests)"
    );
    // The key is untouched by all of it.
    assert_eq!(
        app.verify_status(key["key"].as_str().unwrap()).await,
        "valid"
    );
    app.stop().await;
}

async fn hostile_bytes_in_every_form_and_page_id_get_4xx(db: &TestDb) {
    let app = App::start(db).await;
    let email = unique_email("forms");
    let owner = app.signup(&email, "Forms Co").await;
    let key = app.create_key(&owner, json!({"name": "target"})).await;
    let key_id = key["id"].as_str().unwrap().to_owned();
    let b = Browser::new(&app);
    assert_eq!(
        b.login(&email, crate::common::PASSWORD).await.status,
        StatusCode::SEE_OTHER
    );
    let page = b.get("/account/api-portal").await;
    let csrf = hidden_input(&page.text, "csrf").unwrap();
    let forms = [
        "/login",
        "/signup",
        "/lang",
        "/account/members",
        "/account/api-portal",
        "/account/api-portal/keys/{id}/revoke",
        "/account/api-portal/keys/{id}/roll",
        "/account/api-portal/keys/{id}/public-key",
        "/account/members/{id}/role",
        "/account/members/{id}/remove",
        "/account/members/invitations/{id}/withdraw",
        "/join/{id}",
    ];
    let fields = [
        "name",
        "company",
        "email",
        "password",
        "role",
        "public_key",
        "grace",
        "lang",
        "nonce",
        "environment",
        "next",
    ];
    for form in forms {
        let path = form.replace("{id}", &key_id);
        for bad in ["%00", "%FF", "%C3", "a%00b"] {
            let mut body = format!("csrf={csrf}");
            for f in fields {
                body.push_str(&format!("&{f}={bad}"));
            }
            let r = b
                .send_raw(
                    Method::POST,
                    &path,
                    "application/x-www-form-urlencoded",
                    body.into_bytes(),
                )
                .await;
            assert_4xx(&r, &format!("POST {path} with {bad}"));
            let ct = r.header(CONTENT_TYPE);
            assert!(
                ct.starts_with("text/html"),
                "POST {path}: an error page, got {ct}"
            );
        }
        if form.contains("{id}") {
            for id in PATH_IDS {
                let p = form.replace("{id}", id);
                for method in [Method::GET, Method::POST] {
                    let r = b
                        .send_raw(
                            method.clone(),
                            &p,
                            "application/x-www-form-urlencoded",
                            format!("csrf={csrf}").into_bytes(),
                        )
                        .await;
                    assert_4xx(&r, &format!("{method} {p}"));
                    assert!(
                        r.header(CONTENT_TYPE).starts_with("text/html"),
                        "{method} {p}: an error page"
                    );
                }
            }
        }
    }
    assert_eq!(
        app.verify_status(key["key"].as_str().unwrap()).await,
        "valid"
    );
    app.stop().await;
}

async fn names_refuse_invisible_format_characters(db: &TestDb) {
    let app = App::start(db).await;
    for name in [BIDI, "Zero\u{200B}Width", "Tab\u{7}Bell"] {
        let r = app
            .post_json(
                "/api/v1/signup",
                None,
                &json!({"email": unique_email("cf"), "password": crate::common::PASSWORD, "name": name, "company": "Fine Co"}),
            )
            .await;
        assert_eq!(
            r.status,
            StatusCode::UNPROCESSABLE_ENTITY,
            "{name:?}: {}",
            r.text
        );
        let r = app
            .post_json(
                "/api/v1/signup",
                None,
                &json!({"email": unique_email("cf"), "password": crate::common::PASSWORD, "name": "Fine", "company": name}),
            )
            .await;
        assert_eq!(
            r.status,
            StatusCode::UNPROCESSABLE_ENTITY,
            "company {name:?}: {}",
            r.text
        );
    }
    let sid = app.signup(&unique_email("cfkeys"), "Keys Co").await;
    let r = app
        .post_json("/api/v1/keys", Some(&sid), &json!({"name": BIDI}))
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", r.text);
    // The form says so, in the visitor's language.
    let b = Browser::with_language(&app, "nl");
    let page = b.get("/signup").await;
    let csrf = hidden_input(&page.text, "csrf").unwrap();
    let r = b
        .post_form(
            "/signup",
            &[
                ("csrf", &csrf),
                ("name", BIDI),
                ("company", "Co"),
                ("email", &unique_email("f")),
                ("password", crate::common::PASSWORD),
            ],
        )
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(
        r.text.contains("onzichtbare"),
        "the Dutch reason: {}",
        r.text
    );
    // Ordinary names of every script still pass.
    let r = app
        .post_json(
            "/api/v1/signup",
            None,
            &json!({"email": unique_email("ok"), "password": crate::common::PASSWORD, "name": "Zoë Ångström 山田", "company": "Café B.V."}),
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text);
    app.stop().await;
}
