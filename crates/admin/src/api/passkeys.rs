//! Passkeys and security keys (WebAuthn) as the Admin's second step, in
//! JSON as on the account site: adding, listing and removing them, and
//! signing in with one. The pages' script calls these routes; the options
//! and answers are WebAuthn Level 3's JSON forms
//! (`PublicKeyCredential.parseCreationOptionsFromJSON`,
//! `parseRequestOptionsFromJSON`, `credential.toJSON()`).

use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{delete, post};
use axum::{Json, Router};
use serde::{Deserialize, Serialize};
use serde_json::json;
use web::extract::{ApiJson, ClientIp};
use web::two_factor::passkey_store::PasskeyRow;
use web::two_factor::{self as tf};
use web::{Error, Secret};

use super::two_factor::{no_sign_in, same_origin, setup_by, user_body, with_cookies};
use crate::auth::{self, Admin};
use crate::two_factor::{passkeys, SetupBy};
use crate::AppState;

pub const PASSKEYS_PATH: &str = "/admin/api/v1/account/two-factor/passkeys";
pub const OPTIONS_PATH: &str = "/admin/api/v1/account/two-factor/passkeys/options";
pub const LOGIN_PATH: &str = "/admin/api/v1/login/two-factor/passkey";
pub const LOGIN_OPTIONS_PATH: &str = "/admin/api/v1/login/two-factor/passkey/options";

pub fn router() -> Router<AppState> {
    Router::new()
        .route(OPTIONS_PATH, post(registration_options))
        .route(PASSKEYS_PATH, post(add_passkey).get(list_passkeys))
        .route(
            "/admin/api/v1/account/two-factor/passkeys/{id}",
            delete(remove_passkey),
        )
        .route(LOGIN_OPTIONS_PATH, post(login_options))
        .route(LOGIN_PATH, post(login_passkey))
}

/// A registered passkey as listed (never key material).
#[derive(Serialize)]
struct PasskeyView {
    id: String,
    name: String,
    created_at: i64,
    /// When it last signed in; `null`: never.
    last_used_at: Option<i64>,
}

impl From<&PasskeyRow> for PasskeyView {
    fn from(r: &PasskeyRow) -> Self {
        PasskeyView {
            id: r.id.clone(),
            name: r.name.clone(),
            created_at: r.created_at,
            last_used_at: r.last_used_at,
        }
    }
}

/// A new passkey: the authenticator's answer and how it is listed.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct NewPasskeyBody {
    credential: serde_json::Value,
    name: String,
}

/// An answer to a sign-in's options.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct PasskeyAnswerBody {
    credential: serde_json::Value,
    /// Ignored (the page's script sends the name field it may have).
    #[serde(default)]
    #[allow(dead_code)]
    name: Option<String>,
}

/// Removing a passkey: a current code, unless this session proved a second
/// step within the last 10 minutes.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RemoveBody {
    #[serde(default)]
    code: Option<Secret>,
}

fn bytes(v: &serde_json::Value) -> Vec<u8> {
    serde_json::to_vec(v).unwrap_or_default()
}

/// `POST …/passkeys/options` (session, or a pending sign-in that must set
/// up): `PublicKeyCredentialCreationOptionsJSON`, valid 5 minutes.
async fn registration_options(
    State(state): State<AppState>,
    headers: HeaderMap,
) -> Result<Response, Error> {
    same_origin(&state, &headers)?;
    let by = setup_by(&state, &headers).await?;
    let rp = passkeys::relying_party(&headers, state.cfg.secure_cookies)?;
    let options = passkeys::start_registration(&state, &rp, by.user()).await?;
    Ok(Json(options).into_response())
}

/// `POST …/passkeys` `{credential, name}`: 201 `{passkey, recovery_codes}`
/// (the codes when this turned two-step sign-in on, else `null`). From a
/// pending sign-in that had to set up, the session starts too.
async fn add_passkey(
    State(state): State<AppState>,
    ClientIp(ip): ClientIp,
    headers: HeaderMap,
    ApiJson(body): ApiJson<NewPasskeyBody>,
) -> Result<Response, Error> {
    same_origin(&state, &headers)?;
    let by = setup_by(&state, &headers).await?;
    let rp = passkeys::relying_party(&headers, state.cfg.secure_cookies)?;
    let answer = bytes(&body.credential);
    let (row, codes) =
        passkeys::finish_registration(&state, &rp, by.user(), &body.name, &answer).await?;
    let body = json!({"passkey": PasskeyView::from(&row), "recovery_codes": codes});
    let cookies = match by {
        SetupBy::Session(_) => Vec::new(),
        SetupBy::Pending(p, _) => auth::finish_pending(&state, &p, &headers, ip)
            .await?
            .ok_or_else(no_sign_in)?,
    };
    let mut res = with_cookies(cookies, body);
    *res.status_mut() = StatusCode::CREATED;
    Ok(res)
}

/// `GET …/passkeys`: the signed-in user's passkeys, oldest first.
async fn list_passkeys(
    State(state): State<AppState>,
    Admin(user): Admin,
) -> Result<Response, Error> {
    let rows = passkeys::list(&state, &user.id).await?;
    let list: Vec<PasskeyView> = rows.iter().map(PasskeyView::from).collect();
    Ok(Json(json!({ "passkeys": list })).into_response())
}

/// `DELETE …/passkeys/{id}` `{code}`: 204. The code (authenticator or
/// recovery) is needed unless this session proved a second step within 10
/// minutes; the last second step is refused (409 `two_factor_required`)
/// while every user needs one, else it turns two-step sign-in off.
async fn remove_passkey(
    State(state): State<AppState>,
    ClientIp(ip): ClientIp,
    Admin(user): Admin,
    headers: HeaderMap,
    Path(id): Path<String>,
    ApiJson(body): ApiJson<RemoveBody>,
) -> Result<StatusCode, Error> {
    same_origin(&state, &headers)?;
    let code = body.code.as_ref().map(Secret::expose);
    let policy = state.cfg.two_factor;
    passkeys::remove(&state, policy, (&headers, ip), &user, &id, code).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// `POST /admin/api/v1/login/two-factor/passkey/options` (pending
/// sign-in): `PublicKeyCredentialRequestOptionsJSON`, valid 5 minutes.
async fn login_options(
    State(state): State<AppState>,
    headers: HeaderMap,
) -> Result<Response, Error> {
    same_origin(&state, &headers)?;
    let p = tf::pending(&state, &headers)
        .await?
        .ok_or_else(no_sign_in)?;
    let rp = passkeys::relying_party(&headers, state.cfg.secure_cookies)?;
    Ok(Json(passkeys::start_sign_in(&state, &rp, &p).await?).into_response())
}

/// `POST /admin/api/v1/login/two-factor/passkey` `{credential}`: proves the
/// pending sign-in's second step and starts the session (the body as a
/// plain login's).
async fn login_passkey(
    State(state): State<AppState>,
    ClientIp(ip): ClientIp,
    headers: HeaderMap,
    ApiJson(body): ApiJson<PasskeyAnswerBody>,
) -> Result<Response, Error> {
    same_origin(&state, &headers)?;
    let p = tf::pending(&state, &headers)
        .await?
        .ok_or_else(no_sign_in)?;
    let rp = passkeys::relying_party(&headers, state.cfg.secure_cookies)?;
    passkeys::finish_sign_in(&state, &rp, &p, &bytes(&body.credential)).await?;
    let cookies = auth::finish_pending(&state, &p, &headers, ip)
        .await?
        .ok_or_else(no_sign_in)?;
    let user = crate::store::two_factor::user_by_id(&state.db, &p.row.user_id)
        .await?
        .ok_or_else(no_sign_in)?;
    Ok(with_cookies(cookies, user_body(&user)))
}
