//! Helpers of the shared-access tests (`companies*.rs`): an account's
//! companies, switching, closing, and an agency that works in two companies.

#![allow(clippy::unwrap_used)] // a failed unwrap is a failed test

use reqwest::{Method, StatusCode};
use serde_json::{json, Value};

use super::members::{accept, invite, join_new};
use super::{unique_email, App, Resp};

/// `method path` with the session `sid` and, if any, a JSON body.
pub async fn call(app: &App, method: Method, path: &str, sid: &str, body: Option<Value>) -> Resp {
    let mut req = app.http.request(method, app.url(path));
    if let Some(b) = body {
        req = req.json(&b);
    }
    app.send(req, Some(sid)).await
}

/// `method path` with the API key `key` (the Amazon routes), and a JSON body.
pub async fn call_with_key(
    app: &App,
    key: &str,
    method: Method,
    path: &str,
    body: Option<Value>,
) -> Resp {
    let mut req = app
        .http
        .request(method, app.url(path))
        .header("x-api-key", key);
    if let Some(b) = body {
        req = req.json(&b);
    }
    Resp::read(req.send().await.unwrap()).await
}

/// `GET /api/v1/companies`: asserts 200; the list.
pub async fn companies(app: &App, sid: &str) -> Vec<Value> {
    let r = app.get("/api/v1/companies", Some(sid)).await;
    assert_eq!(r.status, StatusCode::OK, "companies: {}", r.text);
    r.json()["companies"].as_array().unwrap().clone()
}

/// The companies as (name, role, current), in the order listed.
pub async fn company_lines(app: &App, sid: &str) -> Vec<(String, String, bool)> {
    companies(app, sid)
        .await
        .iter()
        .map(|c| {
            (
                c["name"].as_str().unwrap().to_owned(),
                c["role"].as_str().unwrap().to_owned(),
                c["current"].as_bool().unwrap(),
            )
        })
        .collect()
}

/// `POST /api/v1/companies/{id}/switch`.
pub async fn switch(app: &App, sid: &str, id: &str) -> Resp {
    call(
        app,
        Method::POST,
        &format!("/api/v1/companies/{id}/switch"),
        sid,
        None,
    )
    .await
}

/// Switches; asserts 204.
pub async fn switch_ok(app: &App, sid: &str, id: &str) {
    let r = switch(app, sid, id).await;
    assert_eq!(r.status, StatusCode::NO_CONTENT, "switch: {}", r.text);
}

/// `POST /api/v1/companies`: asserts 201; the new company's id.
pub async fn create(app: &App, sid: &str, name: &str) -> String {
    let r = app
        .post_json("/api/v1/companies", Some(sid), &json!({ "name": name }))
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "create company: {}", r.text);
    r.json()["id"].as_str().unwrap().to_owned()
}

/// `DELETE /api/v1/companies/{id}` with `{"confirm": confirm}`.
pub async fn close(app: &App, sid: &str, id: &str, confirm: &str) -> Resp {
    call(
        app,
        Method::DELETE,
        &format!("/api/v1/companies/{id}"),
        sid,
        Some(json!({ "confirm": confirm })),
    )
    .await
}

/// The session's current company and role (`GET /api/v1/account`):
/// (company id, company name, role).
pub async fn current(app: &App, sid: &str) -> (String, String, String) {
    let r = app.get("/api/v1/account", Some(sid)).await;
    assert_eq!(r.status, StatusCode::OK, "account: {}", r.text);
    let a = &r.json()["account"];
    (
        a["company"]["id"].as_str().unwrap().to_owned(),
        a["company"]["name"].as_str().unwrap().to_owned(),
        a["role"].as_str().unwrap().to_owned(),
    )
}

/// The account id of a session.
pub async fn account_id(app: &App, sid: &str) -> String {
    let r = app.get("/api/v1/account", Some(sid)).await;
    r.json()["account"]["id"].as_str().unwrap().to_owned()
}

/// Someone who works for two companies: the owner of `a` ("Agency A"), and
/// invited into `b` ("Merchant B", owned by `b_owner`) with a role there,
/// accepted while signed in. The session is in `b` after accepting.
pub struct Agency {
    pub email: String,
    pub id: String,
    pub sid: String,
    pub a: String,
    pub b: String,
    pub b_owner: String,
    pub b_owner_id: String,
}

pub const AGENCY_A: &str = "Agency A";
pub const MERCHANT_B: &str = "Merchant B";

pub async fn agency(app: &App, role_in_b: &str) -> Agency {
    let email = unique_email("agency");
    let sid = app.signup(&email, AGENCY_A).await;
    let (a, _, _) = current(app, &sid).await;
    let b_owner = app.signup(&unique_email("merchant"), MERCHANT_B).await;
    let (b, _, _) = current(app, &b_owner).await;
    let (_, token, _) = invite(app, &b_owner, &email, role_in_b).await;
    let r = accept(app, &sid, &token).await;
    assert_eq!(r.status, StatusCode::OK, "accept: {}", r.text);
    Agency {
        id: account_id(app, &sid).await,
        b_owner_id: account_id(app, &b_owner).await,
        email,
        sid,
        a,
        b,
        b_owner,
    }
}

/// Invites a new person into the owner's company as `role` and joins:
/// (email, account id, session).
pub async fn join_as(app: &App, owner: &str, role: &str) -> (String, String, String) {
    let email = unique_email(role);
    let (_, token, _) = invite(app, owner, &email, role).await;
    let r = join_new(app, &email, &token).await;
    assert_eq!(r.status, StatusCode::CREATED, "join: {}", r.text);
    let id = r.json()["account"]["id"].as_str().unwrap().to_owned();
    (email, id, app.sid_of(&r).unwrap())
}
