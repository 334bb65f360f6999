//! The Admin's JSON API.

mod amazon_stores;
mod passkeys;
mod two_factor;

use axum::extract::State;
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use serde::{Deserialize, Serialize};
use web::extract::{ApiJson, ClientIp};
use web::{cookies, Error, Secret};

use crate::auth::{self, Admin};
use crate::gate::history::{self, PastCheck};
use crate::gate::Check;
use crate::two_factor::AfterPassword;
use crate::AppState;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/admin/api/v1/login", post(login))
        .route("/admin/api/v1/logout", post(logout))
        .route("/admin/api/v1/channels/amazon/key-status", get(key_status))
        .merge(amazon_stores::router())
        .merge(two_factor::router())
        .merge(passkeys::router())
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LoginBody {
    username: String,
    password: Secret,
}

async fn login(
    State(state): State<AppState>,
    ClientIp(ip): ClientIp,
    headers: HeaderMap,
    ApiJson(body): ApiJson<LoginBody>,
) -> Result<Response, Error> {
    if !cookies::origin_matches_host(&headers, state.cfg.secure_cookies) {
        return Err(Error::forbidden(
            "cross_origin",
            "Cross-origin requests are not allowed.",
        ));
    }
    let device = state.devices.read(&headers);
    let Some(user) = auth::authenticate(&state, &body.username, body.password, ip, device).await?
    else {
        return Err(Error::unauthorized(
            "invalid_credentials",
            "The username or password is not correct.",
        ));
    };
    match auth::after_password(&state, &user, &body.username, &headers, ip).await? {
        auth::SignIn::Session(cookies) => Ok(two_factor::with_cookies(
            cookies,
            two_factor::user_body(&user),
        )),
        auth::SignIn::Pending(step, cookie) => {
            let body = match step {
                AfterPassword::Setup => serde_json::json!({"two_factor": "setup_required"}),
                _ => {
                    let methods = crate::two_factor::methods(&state, &user.id).await?;
                    serde_json::json!({"two_factor": "required", "methods": methods})
                }
            };
            Ok(two_factor::with_cookies(vec![cookie], body))
        }
    }
}

async fn logout(State(state): State<AppState>, headers: HeaderMap) -> Result<Response, Error> {
    if !cookies::origin_matches_host(&headers, state.cfg.secure_cookies) {
        return Err(Error::forbidden(
            "cross_origin",
            "Cross-origin requests are not allowed.",
        ));
    }
    let cookie = auth::end_session(&state, &headers).await?;
    let pending = auth::end_pending(&state, &headers).await?;
    let mut res = StatusCode::NO_CONTENT.into_response();
    res.headers_mut().append(header::SET_COOKIE, cookie);
    res.headers_mut().append(header::SET_COOKIE, pending);
    Ok(res)
}

/// The answer of the key-status route and of the CLI.
#[derive(Serialize)]
pub struct KeyStatusView {
    pub status: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reason: Option<&'static str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub key_hint: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub expires_at: Option<String>,
    pub expiring_soon: bool,
    /// The last checks, this one first: at most [`history::SHOWN`].
    pub last_checks: Vec<PastCheckView>,
}

/// One of the last checks: when, the status and the reason code (`null` when none).
#[derive(Serialize)]
pub struct PastCheckView {
    pub at: String,
    pub status: &'static str,
    pub reason: Option<&'static str>,
}

impl From<&PastCheck> for PastCheckView {
    fn from(c: &PastCheck) -> Self {
        PastCheckView {
            at: web::clock::rfc3339(c.at),
            status: c.status.as_str(),
            reason: c.reason.map(|r| r.as_str()),
        }
    }
}

impl KeyStatusView {
    pub fn new(check: &Check, now: i64, last_checks: &[PastCheck]) -> Self {
        KeyStatusView {
            status: check.status.as_str(),
            reason: check.reason.map(|r| r.as_str()),
            key_hint: check.hint.clone(),
            expires_at: check.expires_at.map(web::clock::rfc3339),
            expiring_soon: crate::gate::expiring_soon(check, now),
            last_checks: last_checks.iter().map(PastCheckView::from).collect(),
        }
    }
}

async fn key_status(
    State(state): State<AppState>,
    Admin(_user): Admin,
    request_id: web::request_id::ReqId,
) -> Result<Response, Error> {
    let check = state.gate.check(&state.config(), request_id.get()).await;
    let last = history::last_checks(&state.db, &check, history::SHOWN).await;
    Ok(Json(KeyStatusView::new(&check, state.clock.now(), &last)).into_response())
}
