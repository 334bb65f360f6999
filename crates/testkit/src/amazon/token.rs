//! The LWA token endpoint: `POST /auth/o2/token`, client_secret_post.

use std::collections::HashMap;
use std::time::Duration;

use axum::extract::rejection::FormRejection;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::{Form, Json};
use serde_json::json;

use super::{random, Ctx, StandInConfig, CODE_SECS};

fn lwa_error(status: StatusCode, error: &str, description: &str) -> Response {
    (
        status,
        Json(json!({"error": error, "error_description": description})),
    )
        .into_response()
}

fn accepted_secret(cfg: &StandInConfig) -> String {
    match &cfg.client_secret_file {
        Some(file) => std::fs::read_to_string(file)
            .map(|s| s.trim_end_matches(['\n', '\r']).to_owned())
            .unwrap_or_default(),
        None => cfg.client_secret.clone(),
    }
}

pub(crate) async fn token(
    State(ctx): State<Ctx>,
    form: Result<Form<HashMap<String, String>>, FormRejection>,
) -> Response {
    let hang = ctx.shared.lock().hang;
    if hang {
        tokio::time::sleep(Duration::from_secs(3600)).await;
    }
    let Ok(Form(f)) = form else {
        ctx.shared.lock().grants.push(String::new());
        return lwa_error(
            StatusCode::BAD_REQUEST,
            "invalid_request",
            "The request must be application/x-www-form-urlencoded.",
        );
    };
    let field = |k: &str| f.get(k).map(String::as_str).unwrap_or("");
    let now = ctx.shared.clock.now();
    let mut inner = ctx.shared.lock();
    inner.grants.push(field("grant_type").to_owned());
    if let Some(forced) = inner.forced.clone() {
        let status = StatusCode::from_u16(forced.status).unwrap_or(StatusCode::BAD_REQUEST);
        return lwa_error(status, &forced.error, "Forced by the test.");
    }
    if field("grant_type").is_empty() {
        return lwa_error(
            StatusCode::BAD_REQUEST,
            "invalid_request",
            "grant_type is missing.",
        );
    }
    let secret = accepted_secret(&inner.cfg);
    if field("client_id") != inner.cfg.client_id
        || secret.is_empty()
        || field("client_secret") != secret
    {
        return lwa_error(
            StatusCode::UNAUTHORIZED,
            "invalid_client",
            "Client authentication failed.",
        );
    }
    match field("grant_type") {
        "authorization_code" => {
            let (code, redirect_uri) = (field("code"), field("redirect_uri"));
            if code.is_empty() || redirect_uri.is_empty() {
                return lwa_error(
                    StatusCode::BAD_REQUEST,
                    "invalid_request",
                    "code and redirect_uri are required.",
                );
            }
            let client_id = inner.cfg.client_id.clone();
            let ok = match inner.codes.get_mut(code) {
                Some(c)
                    if !c.used
                        && now - c.issued_at < CODE_SECS
                        && c.client_id == client_id
                        && c.redirect_uri == redirect_uri =>
                {
                    c.used = true;
                    true
                }
                Some(c) => {
                    // A code presented twice is spent either way.
                    c.used = true;
                    false
                }
                None => false,
            };
            if !ok {
                return lwa_error(
                    StatusCode::BAD_REQUEST,
                    "invalid_grant",
                    "The authorization code is invalid, expired, used or was issued for another client or redirect URI.",
                );
            }
            let refresh = format!("Atzr|{}", random(64));
            inner.refresh.insert(refresh.clone(), false);
            Json(json!({
                "access_token": format!("Atza|{}", random(64)),
                "token_type": "bearer",
                "expires_in": 3600,
                "refresh_token": refresh,
            }))
            .into_response()
        }
        "refresh_token" => match inner.refresh.get(field("refresh_token")) {
            Some(false) => Json(json!({
                "access_token": format!("Atza|{}", random(64)),
                "token_type": "bearer",
                "expires_in": 3600,
            }))
            .into_response(),
            _ => lwa_error(
                StatusCode::BAD_REQUEST,
                "invalid_grant",
                "The refresh token is invalid or was revoked.",
            ),
        },
        _ => lwa_error(
            StatusCode::BAD_REQUEST,
            "unsupported_grant_type",
            "The grant type is not supported.",
        ),
    }
}
