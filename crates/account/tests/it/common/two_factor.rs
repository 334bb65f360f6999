//! Helpers of the two-step sign-in tests (`two_factor.rs`,
//! `two_factor_pages.rs`): an authenticator app turned on through the API,
//! its codes at the test clock's time, and JSON calls from a browser that
//! keeps the pending sign-in's and the session's cookies.

#![allow(clippy::unwrap_used)] // a failed unwrap is a failed test

use reqwest::{Method, StatusCode};
use serde_json::{json, Value};
use web::Clock;

use super::{App, Browser, Resp};

/// Seconds per authenticator step.
pub const STEP: i64 = 30;

/// The test clock's time.
pub fn now(app: &App) -> i64 {
    app.clock.as_ref().expect("a clocked app").now()
}

/// The authenticator's code of `secret` now (the test clock's time).
pub fn code(app: &App, secret: &str) -> String {
    web::two_factor::totp::code_at(secret, now(app)).unwrap()
}

/// Moves the test clock to the next authenticator step (a code of a step
/// is accepted once).
pub fn next_step(app: &App) {
    app.clock.as_ref().unwrap().advance(STEP);
}

/// A JSON request from `browser` (its cookies sent and kept).
pub async fn call(browser: &Browser, method: Method, path: &str, body: &Value) -> Resp {
    browser
        .send_raw(
            method,
            path,
            "application/json",
            body.to_string().into_bytes(),
        )
        .await
}

/// Turns on an authenticator app for the session `sid`: (secret, recovery codes).
pub async fn enable(app: &App, sid: &str) -> (String, Vec<String>) {
    let r = app
        .post_json("/api/v1/account/two-factor/totp", Some(sid), &json!({}))
        .await;
    assert_eq!(r.status, StatusCode::OK, "totp: {}", r.text);
    let v = r.json();
    let secret = v["secret"].as_str().unwrap().to_owned();
    let uri = v["otpauth_uri"].as_str().unwrap();
    assert!(
        uri.starts_with("otpauth://totp/") && uri.contains(&format!("secret={secret}")),
        "{uri}"
    );
    let r = app
        .post_json(
            "/api/v1/account/two-factor/totp/confirm",
            Some(sid),
            &json!({"code": code(app, &secret)}),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "confirm: {}", r.text);
    let codes: Vec<String> = r.json()["recovery_codes"]
        .as_array()
        .expect("recovery codes")
        .iter()
        .map(|c| c.as_str().unwrap().to_owned())
        .collect();
    assert_eq!(codes.len(), 10);
    // The code that confirmed is used: the next sign-in needs the next one.
    next_step(app);
    (secret, codes)
}

/// `POST /api/v1/login` from `browser`.
pub async fn login(browser: &Browser, email: &str) -> Resp {
    call(
        browser,
        Method::POST,
        "/api/v1/login",
        &json!({"email": email, "password": super::PASSWORD}),
    )
    .await
}

/// The account's `two_factor` as `GET /api/v1/account` shows it.
pub async fn status(app: &App, sid: &str) -> Value {
    let r = app.get("/api/v1/account", Some(sid)).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    r.json()["account"]["two_factor"].clone()
}

/// The audit actions of the owner's company, newest first.
pub async fn actions(app: &App, owner_sid: &str) -> Vec<String> {
    let r = app.get("/api/v1/audit?limit=100", Some(owner_sid)).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    super::members::actions(&r.json())
}
