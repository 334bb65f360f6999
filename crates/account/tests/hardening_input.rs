//! Hardening, round 2 (issue 12): no 5xx from any byte, and every error in
//! its interface's own format, on SQLite and PostgreSQL. NUL bytes, invalid
//! UTF-8 and invisible format characters go to every JSON route of the
//! OpenAPI document and to every form and id of the pages.

#![allow(clippy::unwrap_used)] // a failed unwrap is a failed test

#[macro_use]
mod common;

use common::{hidden_input, sid_cookie, unique_email, App, Browser, Resp, TestDb};
use reqwest::header::{CACHE_CONTROL, CONTENT_TYPE, COOKIE, RETRY_AFTER};
use reqwest::{Method, StatusCode};
use serde_json::{json, Value};

both_backends!(
    hostile_bytes_on_every_json_route_get_4xx,
    hostile_bytes_in_every_form_and_page_id_get_4xx,
    names_refuse_invisible_format_characters,
    errors_speak_their_interface_format,
    small_protections_hold,
    ended_things_are_purged,
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
        b.login(&email, common::PASSWORD).await.status,
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
            let ct = r.headers.get(CONTENT_TYPE).unwrap().to_str().unwrap();
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
                        r.headers
                            .get(CONTENT_TYPE)
                            .unwrap()
                            .to_str()
                            .unwrap()
                            .starts_with("text/html"),
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
                &json!({"email": unique_email("cf"), "password": common::PASSWORD, "name": name, "company": "Fine Co"}),
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
                &json!({"email": unique_email("cf"), "password": common::PASSWORD, "name": "Fine", "company": name}),
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
                ("password", common::PASSWORD),
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
            &json!({"email": unique_email("ok"), "password": common::PASSWORD, "name": "Zoë Ångström 山田", "company": "Café B.V."}),
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text);
    app.stop().await;
}

async fn errors_speak_their_interface_format(db: &TestDb) {
    let app = App::start(db).await;
    let sid = app.signup(&unique_email("format"), "Format Co").await;
    // Bytes that are not UTF-8 in a JSON route's path.
    let r = app.delete("/api/v1/invitations/%ff", Some(&sid)).await;
    assert_eq!(r.status, StatusCode::NOT_FOUND);
    assert_eq!(r.assert_api_error("%ff id"), "not_found");
    // A method the route does not have.
    let r = Resp::read(app.http.put(app.url("/api/v1/keys")).send().await.unwrap()).await;
    assert_eq!(r.status, StatusCode::METHOD_NOT_ALLOWED);
    assert_eq!(r.assert_api_error("PUT /api/v1/keys"), "method_not_allowed");
    assert!(r.headers.get("allow").is_some(), "Allow is kept");
    // The same on a page route: the site's error page.
    let r = Resp::read(app.http.put(app.url("/login")).send().await.unwrap()).await;
    assert_eq!(r.status, StatusCode::METHOD_NOT_ALLOWED);
    assert!(r
        .headers
        .get(CONTENT_TYPE)
        .unwrap()
        .to_str()
        .unwrap()
        .starts_with("text/html"));
    assert!(r.text.contains("<h1>"), "{}", r.text);
    // An unknown field's name is never echoed (it may be a key sent by mistake).
    let secret = "cmk_live_ThisIsNotARealKeyButLooksLikeOne1";
    let r = app
        .post_json(
            "/api/v1/login",
            None,
            &json!({ secret: "x", "email": "a@b.co", "password": "y" }),
        )
        .await;
    assert_eq!(r.assert_api_error("unknown field"), "invalid_field");
    assert!(!r.text.contains(secret), "{}", r.text);
    assert!(!r.text.contains("ThisIsNot"), "{}", r.text);
    app.stop().await;
}

async fn small_protections_hold(db: &TestDb) {
    let app = App::start(db).await;
    let sid = app.signup(&unique_email("small"), "Small Co").await;
    // Answers that carry a key are never cached.
    let r = app
        .post_json(
            "/api/v1/keys",
            Some(&sid),
            &json!({"name": "k", "generate_private_key": true}),
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text);
    assert_eq!(r.headers.get(CACHE_CONTROL).unwrap(), "no-store");
    let id = r.json()["id"].as_str().unwrap().to_owned();
    let r = app
        .post_json(
            &format!("/api/v1/keys/{id}/roll"),
            Some(&sid),
            &json!({"grace_seconds": 0}),
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text);
    assert_eq!(r.headers.get(CACHE_CONTROL).unwrap(), "no-store");
    // DNS rebinding: another host name is refused, store verification is not.
    let rebind = |path: &str| {
        app.http
            .get(app.url(path))
            .header(reqwest::header::HOST, "rebind.example")
            .send()
    };
    assert_eq!(
        rebind("/login").await.unwrap().status(),
        StatusCode::MISDIRECTED_REQUEST
    );
    assert_eq!(
        rebind("/api/v1/keys").await.unwrap().status(),
        StatusCode::MISDIRECTED_REQUEST
    );
    assert_eq!(
        rebind("/gateway/apikeycheck").await.unwrap().status(),
        StatusCode::UNAUTHORIZED
    );
    let local = app
        .http
        .get(app.url("/login"))
        .header(
            reqwest::header::HOST,
            format!("localhost:{}", app.running.addr.port()),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(local.status(), StatusCode::OK);
    // An error page carries the CSRF cookie its language form needs.
    let r = Resp::read(app.http.get(app.url("/no-such-page")).send().await.unwrap()).await;
    assert_eq!(r.status, StatusCode::NOT_FOUND);
    let token = r
        .cookie("acct_csrf")
        .expect("the error page sets the CSRF cookie");
    assert!(
        r.text.contains(&format!("value=\"{token}\"")),
        "its form carries the token"
    );
    // A throttled page answers 429 with Retry-After.
    let email = unique_email("throttled");
    app.signup(&email, "Throttled Co").await;
    let b = Browser::new(&app);
    let mut last = None;
    for _ in 0..12 {
        last = Some(b.login(&email, "wrong password here").await);
    }
    let last = last.unwrap();
    assert_eq!(last.status, StatusCode::TOO_MANY_REQUESTS);
    assert!(last
        .headers
        .get(CONTENT_TYPE)
        .unwrap()
        .to_str()
        .unwrap()
        .starts_with("text/html"));
    let wait: u64 = last
        .headers
        .get(RETRY_AFTER)
        .unwrap()
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    assert!(wait > 0 && wait <= 900, "{wait}");
    assert!(
        last.headers.get("strict-transport-security").is_none(),
        "no HSTS over http"
    );
    app.stop().await;
    // Served over HTTPS (--secure-cookies): HSTS on every answer.
    let cfg = account::Config {
        secure_cookies: true,
        ..account::Config::default()
    };
    let running = account::start(db.connect().await, "127.0.0.1:0", cfg)
        .await
        .unwrap();
    let app = App::wrap_running(running);
    let r = app.get("/login", None).await;
    assert_eq!(
        r.headers.get("strict-transport-security").unwrap(),
        web::headers::HSTS
    );
    // Session and CSRF cookies take the __Host- prefix (Secure, Path=/, no Domain).
    let line = r
        .set_cookie_line("__Host-acct_csrf")
        .expect("a __Host- CSRF cookie");
    assert!(line.contains("Secure") && line.contains("Path=/") && !line.contains("Domain"));
    assert!(r.cookie("acct_csrf").is_none());
    // The Origin's scheme counts: http:// is another origin of an HTTPS site.
    let host = app.base.trim_start_matches("http://").to_owned();
    let signup = |origin: String| {
        app.http
            .post(app.url("/api/v1/signup"))
            .header(reqwest::header::ORIGIN, origin)
            .json(&json!({"email": unique_email("tls"), "password": common::PASSWORD, "name": "T", "company": "T"}))
            .send()
    };
    let r = Resp::read(signup(format!("http://{host}")).await.unwrap()).await;
    assert_eq!(r.status, StatusCode::FORBIDDEN, "{}", r.text);
    let r = Resp::read(signup(format!("https://{host}")).await.unwrap()).await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text);
    let sid = r
        .cookie("__Host-acct_sid")
        .expect("a __Host- session cookie");
    let keys = |cookie: String| {
        app.http
            .get(app.url("/api/v1/keys"))
            .header(COOKIE, cookie)
            .send()
    };
    assert_eq!(
        keys(format!("__Host-acct_sid={sid}"))
            .await
            .unwrap()
            .status(),
        StatusCode::OK
    );
    assert_eq!(
        keys(format!("acct_sid={sid}")).await.unwrap().status(),
        StatusCode::UNAUTHORIZED,
        "an unprefixed cookie (planted by a sibling site) is not read"
    );
    app.stop().await;
}

async fn ended_things_are_purged(db: &TestDb) {
    let clock = web::ManualClock::new(common::CLOCK_START);
    let app = App::start_with_clock(db, clock.clone()).await;
    let owner = app.signup(&unique_email("purge"), "Purge Co").await;
    let r = app
        .post_json(
            "/api/v1/invitations",
            Some(&owner),
            &json!({"email": unique_email("gone")}),
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text);
    let inv = r.json()["invitation"]["id"].as_str().unwrap().to_owned();
    let r = app
        .delete(&format!("/api/v1/invitations/{inv}"), Some(&owner))
        .await;
    assert!(r.status.is_success(), "{}", r.text);
    let pool = db.connect().await;
    let count = |sql: &'static str| {
        let pool = pool.pool.clone();
        async move {
            sqlx::query_scalar::<_, i64>(sql)
                .fetch_one(&pool)
                .await
                .unwrap()
        }
    };
    // Nothing has ended long enough yet.
    account::outbox::run_once(&app.running.state).await.unwrap();
    assert_eq!(count("SELECT COUNT(*) FROM account_sessions").await, 1);
    assert_eq!(count("SELECT COUNT(*) FROM invitations").await, 1);
    // A month and more later, the ended session and invitation are gone.
    clock.advance(account::store::KEEP_SECS + 1);
    account::outbox::run_once(&app.running.state).await.unwrap();
    assert_eq!(count("SELECT COUNT(*) FROM account_sessions").await, 0);
    assert_eq!(count("SELECT COUNT(*) FROM invitations").await, 0);
    assert_eq!(
        count("SELECT COUNT(*) FROM outbox WHERE invitation_id IS NOT NULL").await,
        0
    );
    app.stop().await;
}
