//! Sign up, sign in, sign out.

use axum::extract::State;
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde::Deserialize;
use serde_json::json;
use web::extract::{ApiJson, ClientIp};
use web::{Error, Secret};

use crate::auth::{self, check_same_origin};
use crate::domain::{self, SignupInput};
use crate::members;
use crate::store::Account;
use crate::AppState;

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SignupBody {
    email: String,
    password: Secret,
    name: String,
    /// The new company's name; left out when joining by `invitation`.
    company: Option<String>,
    /// An invitation link's token: join its company instead of making one.
    invitation: Option<String>,
}

pub(crate) fn account_json(a: &Account) -> serde_json::Value {
    json!({
        "id": a.id,
        "email": a.email,
        "name": a.name,
        "role": a.role,
        "company": {"id": a.company_id, "name": a.company_name},
    })
}

pub async fn signup(
    State(state): State<AppState>,
    ClientIp(ip): ClientIp,
    headers: HeaderMap,
    ApiJson(body): ApiJson<SignupBody>,
) -> Result<Response, Error> {
    check_same_origin(&headers, state.cfg.secure_cookies)?;
    let lang = crate::i18n::for_request(&headers, None).lang;
    let account = match body.invitation {
        Some(token) => {
            members::accept_new_account(
                &state,
                ip,
                &token,
                Some(&body.email),
                &body.name,
                body.password,
                lang.code(),
            )
            .await?
        }
        None => {
            domain::signup(
                &state,
                SignupInput {
                    ip,
                    email: body.email,
                    password: body.password,
                    name: body.name,
                    company: body.company.unwrap_or_default(),
                },
                lang.code(),
            )
            .await?
        }
    };
    let cookie = auth::start_session(&state, &account.id).await?;
    Ok((
        StatusCode::CREATED,
        [(header::SET_COOKIE, cookie)],
        Json(json!({"account": account_json(&account)})),
    )
        .into_response())
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LoginBody {
    email: String,
    password: Secret,
}

pub async fn login(
    State(state): State<AppState>,
    ClientIp(ip): ClientIp,
    headers: HeaderMap,
    ApiJson(body): ApiJson<LoginBody>,
) -> Result<Response, Error> {
    check_same_origin(&headers, state.cfg.secure_cookies)?;
    let Some(account) = domain::authenticate(&state, &body.email, body.password, ip).await? else {
        return Err(Error::unauthorized(
            "invalid_credentials",
            "The email or password is not correct.",
        ));
    };
    let cookie = auth::start_session(&state, &account.id).await?;
    Ok((
        [(header::SET_COOKIE, cookie)],
        Json(json!({"account": account_json(&account)})),
    )
        .into_response())
}

pub async fn logout(State(state): State<AppState>, headers: HeaderMap) -> Result<Response, Error> {
    check_same_origin(&headers, state.cfg.secure_cookies)?;
    let cookie = auth::end_session(&state, &headers).await?;
    Ok((StatusCode::NO_CONTENT, [(header::SET_COOKIE, cookie)]).into_response())
}
