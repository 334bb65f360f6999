//! Hostile input on the shared-access routes (SPEC §9): NUL bytes, invalid
//! UTF-8, 200 kB names, unknown fields, wrong types and hostile ids get a
//! clean 4xx in the JSON error format, and change nothing: no company is
//! made, none is closed, the session stays in its company. On both backends.

#![allow(clippy::unwrap_used)] // a failed unwrap is a failed test

use crate::common::companies::{companies, current};
use crate::common::{unique_email, App, Resp, TestDb};
use reqwest::header::{CONTENT_TYPE, COOKIE};
use reqwest::Method;
use serde_json::json;

both_backends!(hostile_input_on_the_company_routes_gets_a_clean_4xx);

const NAME: &str = "Input Co";

/// Sends `body` as `ct`. A body over the 64 KiB limit is answered (413)
/// before it is all read, and its connection closed: it goes on a
/// connection of its own that is never reused, and is sent again (a few
/// times) when the connection goes before the answer is read.
async fn send(app: &App, method: Method, path: &str, sid: &str, ct: &str, body: Vec<u8>) -> Resp {
    let oversized = body.len() > 64 * 1024;
    let http = if oversized {
        reqwest::Client::builder()
            .pool_max_idle_per_host(0)
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .unwrap()
    } else {
        app.http.clone()
    };
    let mut last = None;
    for _ in 0..if oversized { 5 } else { 1 } {
        let sent = http
            .request(method.clone(), app.url(path))
            .header(CONTENT_TYPE, ct)
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
        "{method} {path} ({} bytes): no answer read: {last:?}",
        body.len()
    );
}

/// `{"<field>": "<text>"}` with the bytes `0xFF` inside the string.
fn invalid_utf8(field: &str) -> Vec<u8> {
    let mut body = format!("{{\"{field}\": \"ab").into_bytes();
    body.extend([0xFF, 0xFE]);
    body.extend(b"cd\"}");
    body
}

/// Bodies no company route accepts, for a body with one text field `field`.
fn hostile_bodies(field: &str, good: &str) -> Vec<(&'static str, Vec<u8>)> {
    let j = |v: serde_json::Value| v.to_string().into_bytes();
    vec![
        ("NUL inside", j(json!({ field: "a\u{0}b" }))),
        ("NUL alone", j(json!({ field: "\u{0}" }))),
        (
            "NUL after the right text",
            j(json!({ field: format!("{good}\u{0}") })),
        ),
        (
            "right-to-left override",
            j(json!({ field: format!("{good}\u{202E}") })),
        ),
        ("invalid UTF-8", invalid_utf8(field)),
        ("200 kB", j(json!({ field: "x".repeat(200_000) }))),
        ("unknown field", j(json!({ field: good, "force": true }))),
        ("a number", j(json!({ field: 5 }))),
        ("null", j(json!({ field: null }))),
        ("missing", j(json!({}))),
        ("an array of a number", j(json!([5]))),
        ("not JSON", b"{name: ".to_vec()),
        ("empty", Vec::new()),
    ]
}

async fn hostile_input_on_the_company_routes_gets_a_clean_4xx(db: &TestDb) {
    let app = App::start(db).await;
    let sid = app.signup(&unique_email("input"), NAME).await;
    let (company, _, _) = current(&app, &sid).await;
    let json_ct = "application/json";

    // Making a company.
    for (what, body) in hostile_bodies("name", "Fine Name") {
        let r = send(&app, Method::POST, "/api/v1/companies", &sid, json_ct, body).await;
        r.assert_api_error(&format!("create: {what}"));
    }
    let r = send(
        &app,
        Method::POST,
        "/api/v1/companies",
        &sid,
        "text/plain",
        json!({"name": "Fine Name"}).to_string().into_bytes(),
    )
    .await;
    assert_eq!(r.assert_api_error("text/plain"), "unsupported_media_type");
    assert_eq!(companies(&app, &sid).await.len(), 1, "none was made");

    // Closing one: nothing but its exact name closes it.
    let path = format!("/api/v1/companies/{company}");
    for (what, body) in hostile_bodies("confirm", NAME) {
        let r = send(&app, Method::DELETE, &path, &sid, json_ct, body).await;
        r.assert_api_error(&format!("close: {what}"));
    }
    let r = app.delete(&path, Some(&sid)).await;
    r.assert_api_error("close without a body");

    // Hostile ids in the path: 404 in the JSON format.
    let long = "c".repeat(4_000);
    for id in [
        "%00",
        "%FF",
        "co_%00x",
        "%E2%80%AE",
        "..%2F..%2Fetc",
        long.as_str(),
    ] {
        for (method, p) in [
            (Method::POST, format!("/api/v1/companies/{id}/switch")),
            (Method::DELETE, format!("/api/v1/companies/{id}")),
        ] {
            let body = json!({ "confirm": NAME }).to_string().into_bytes();
            let r = send(&app, method.clone(), &p, &sid, json_ct, body).await;
            let what = format!("{method} {}", &p[..p.len().min(60)]);
            assert_eq!(
                r.status,
                reqwest::StatusCode::NOT_FOUND,
                "{what}: {}",
                r.text
            );
            r.assert_api_error(&what);
        }
    }

    // Nothing changed: the one company, current, open, with its keys.
    let listed = companies(&app, &sid).await;
    assert_eq!(listed.len(), 1);
    assert_eq!(listed[0]["id"], company.as_str());
    assert_eq!(listed[0]["current"], true);
    app.create_key(&sid, json!({"name": "Still open"})).await;
    let closed: Option<i64> = sqlx::query_scalar("SELECT closed_at FROM companies WHERE id = $1")
        .bind(&company)
        .fetch_one(&app.running.state.db.pool)
        .await
        .unwrap();
    assert_eq!(closed, None);
    app.stop().await;
}
