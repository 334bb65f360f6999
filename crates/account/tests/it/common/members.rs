//! Helpers of the member tests (`lifecycle_members.rs`, `lifecycle_roles.rs`).

#![allow(clippy::unwrap_used)] // a failed unwrap is a failed test

use reqwest::StatusCode;
use serde_json::{json, Value};

use super::{App, Resp, PASSWORD};

pub const DAY: i64 = 86400;

/// Invites `email` as `role`; asserts 201 and returns (invitation id, token, url).
pub async fn invite(app: &App, sid: &str, email: &str, role: &str) -> (String, String, String) {
    let r = app
        .post_json(
            "/api/v1/invitations",
            Some(sid),
            &json!({"email": email, "role": role}),
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "invite: {}", r.text);
    let v = r.json();
    let url = v["url"].as_str().unwrap().to_owned();
    let token = url
        .split("/join/")
        .nth(1)
        .expect("a /join/ link")
        .to_owned();
    assert!(
        url.starts_with(&app.base),
        "the link points at this site: {url}"
    );
    assert_eq!(v["invitation"]["email"], email.to_lowercase());
    assert_eq!(v["invitation"]["role"], role);
    (
        v["invitation"]["id"].as_str().unwrap().to_owned(),
        token,
        url,
    )
}

/// Signs up through an invitation; the raw response.
pub async fn join_new(app: &App, email: &str, token: &str) -> Resp {
    app.post_json(
        "/api/v1/signup",
        None,
        &json!({"email": email, "password": PASSWORD, "name": "New Member", "invitation": token}),
    )
    .await
}

pub async fn accept(app: &App, sid: &str, token: &str) -> Resp {
    app.post_json(
        "/api/v1/invitations/accept",
        Some(sid),
        &json!({ "token": token }),
    )
    .await
}

pub fn actions(audit: &Value) -> Vec<String> {
    audit["events"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["action"].as_str().unwrap().to_owned())
        .collect()
}
