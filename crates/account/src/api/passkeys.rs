//! Passkeys and security keys (WebAuthn) as a second step: adding, listing
//! and removing them, signing in with one, and confirming a change with
//! one. The options and answers are WebAuthn Level 3's JSON forms
//! (`PublicKeyCredential.parseCreationOptionsFromJSON`,
//! `parseRequestOptionsFromJSON`, `credential.toJSON()`).

use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use web::extract::{ApiJson, ClientIp};
use web::two_factor::passkey_store::PasskeyRow;
use web::{Error, Secret};

use crate::auth::{check_same_origin, CurrentUser, CurrentUserWrite};
use crate::two_factor::{self, passkeys};
use crate::AppState;

use super::openapi::ErrorBody;
use super::sessions::signed_in;
use super::two_factor::{after_setup, setting_up};

/// A registered passkey as listed (never key material).
#[derive(Serialize, ToSchema)]
pub struct PasskeyView {
    id: String,
    name: String,
    created_at: i64,
    /// When it last signed in or confirmed a change; `null`: never.
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

#[derive(Serialize, ToSchema)]
pub struct PasskeyList {
    passkeys: Vec<PasskeyView>,
}

/// The authenticator's answer, as `credential.toJSON()` gives it.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewPasskeyBody {
    #[schema(value_type = Object)]
    credential: serde_json::Value,
    /// How the passkey is listed: 1 to 60 characters.
    name: String,
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PasskeyAnswerBody {
    #[schema(value_type = Object)]
    credential: serde_json::Value,
    /// Ignored (the page's script sends the name field it may have).
    #[serde(default)]
    #[allow(dead_code)]
    name: Option<String>,
}

#[derive(Serialize, ToSchema)]
pub struct PasskeyAdded {
    passkey: PasskeyView,
    /// Ten single-use codes when this passkey turned two-step sign-in on
    /// (shown once), else `null`.
    recovery_codes: Option<Vec<String>>,
}

/// Removing a passkey: a current code, unless this session proved a second
/// step within the last 10 minutes.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RemoveBody {
    #[schema(value_type = Option<String>)]
    code: Option<Secret>,
}

fn bytes(v: &serde_json::Value) -> Vec<u8> {
    serde_json::to_vec(v).unwrap_or_default()
}

/// Options for adding a passkey (`navigator.credentials.create`).
#[utoipa::path(
    post,
    path = "/api/v1/account/two-factor/passkeys/options",
    operation_id = "passkey_registration_options",
    tag = "account",
    security(("session" = []), ("pending_sign_in" = [])),
    responses(
        (status = 200, description = "PublicKeyCredentialCreationOptionsJSON; valid 5 minutes.", body = Object),
        (status = 401, description = "Not signed in, and no pending sign-in that must set up.", body = ErrorBody),
        (status = 403, description = "`no_company`: the account belongs to no company.", body = ErrorBody),
        (status = 403, description = "`no_company`: the account belongs to no company.", body = ErrorBody),
        (status = 403, description = "`no_company`: the account belongs to no company.", body = ErrorBody),
        (status = 403, description = "Cross-origin request.", body = ErrorBody),
        (status = 409, description = "`passkeys_unavailable`: the site was reached by an IP address.", body = ErrorBody),
    )
)]
pub async fn registration_options(
    State(state): State<AppState>,
    headers: HeaderMap,
) -> Result<Response, Error> {
    let (account, _) = setting_up(&state, &headers).await?;
    let rp = passkeys::relying_party(&state, &headers)?;
    let options = passkeys::start_registration(&state, &rp, &account).await?;
    Ok(Json(options).into_response())
}

/// Adds the passkey the authenticator made. The first second step also
/// turns two-step sign-in on (with recovery codes); from a pending sign-in
/// that had to set up, the session starts too.
#[utoipa::path(
    post,
    path = "/api/v1/account/two-factor/passkeys",
    operation_id = "add_passkey",
    tag = "account",
    security(("session" = []), ("pending_sign_in" = [])),
    request_body(content = inline(NewPasskeyBody)),
    responses(
        (status = 400, description = "The body is not JSON.", body = ErrorBody),
        (status = 413, description = "The body is too large.", body = ErrorBody),
        (status = 415, description = "The body is not application/json.", body = ErrorBody),
        (status = 201, description = "Added.", body = PasskeyAdded),
        (status = 401, description = "Not signed in, and no pending sign-in that must set up.", body = ErrorBody),
        (status = 403, description = "Cross-origin request.", body = ErrorBody),
        (status = 409, description = "`passkey_expired` (no options asked for within 5 minutes), `passkey_registered`, `passkeys_unavailable`.", body = ErrorBody),
        (status = 422, description = "`passkey_refused`: not a valid answer for this site; or the name is not valid.", body = ErrorBody),
    )
)]
pub async fn add_passkey(
    State(state): State<AppState>,
    ClientIp(ip): ClientIp,
    headers: HeaderMap,
    ApiJson(body): ApiJson<NewPasskeyBody>,
) -> Result<Response, Error> {
    let (account, pending) = setting_up(&state, &headers).await?;
    let rp = passkeys::relying_party(&state, &headers)?;
    let answer = bytes(&body.credential);
    let (row, codes) =
        passkeys::finish_registration(&state, &rp, &account, &body.name, &answer, ip).await?;
    let res = (
        StatusCode::CREATED,
        Json(PasskeyAdded {
            passkey: PasskeyView::from(&row),
            recovery_codes: codes,
        }),
    )
        .into_response();
    match pending {
        Some(p) => after_setup(&state, &headers, ip, &account, &p, res).await,
        None => Ok(res),
    }
}

/// The account's passkeys.
#[utoipa::path(
    get,
    path = "/api/v1/account/two-factor/passkeys",
    operation_id = "list_passkeys",
    tag = "account",
    security(("session" = [])),
    responses(
        (status = 200, description = "Oldest first.", body = PasskeyList),
        (status = 401, description = "Not signed in.", body = ErrorBody),
    )
)]
pub async fn list_passkeys(
    State(state): State<AppState>,
    CurrentUser(user): CurrentUser,
) -> Result<Json<PasskeyList>, Error> {
    let rows = passkeys::list(&state, &user).await?;
    Ok(Json(PasskeyList {
        passkeys: rows.iter().map(PasskeyView::from).collect(),
    }))
}

/// Removes a passkey. Removing the last second step turns two-step sign-in
/// off (the other sessions end; refused while the company requires it).
#[utoipa::path(
    delete,
    path = "/api/v1/account/two-factor/passkeys/{id}",
    operation_id = "remove_passkey",
    tag = "account",
    security(("session" = [])),
    params(("id" = String, Path, description = "The passkey's id.")),
    request_body(content = inline(RemoveBody)),
    responses(
        (status = 422, description = "A field is not valid, or one the body may not have.", body = ErrorBody),
        (status = 400, description = "The body is not JSON.", body = ErrorBody),
        (status = 413, description = "The body is too large.", body = ErrorBody),
        (status = 415, description = "The body is not application/json.", body = ErrorBody),
        (status = 204, description = "Removed."),
        (status = 401, description = "Not signed in, or `invalid_code` (a current code is needed: none proved within 10 minutes).", body = ErrorBody),
        (status = 403, description = "Cross-origin request.", body = ErrorBody),
        (status = 404, description = "No passkey of the account has this id.", body = ErrorBody),
        (status = 409, description = "`two_factor_required`: the last second step while the company requires one.", body = ErrorBody),
        (status = 429, description = "Too many attempts.", body = ErrorBody),
    )
)]
pub async fn remove_passkey(
    State(state): State<AppState>,
    ClientIp(ip): ClientIp,
    CurrentUserWrite(user): CurrentUserWrite,
    headers: HeaderMap,
    Path(id): Path<String>,
    ApiJson(body): ApiJson<RemoveBody>,
) -> Result<StatusCode, Error> {
    let code = body.code.as_ref().map(Secret::expose);
    passkeys::remove(&state, &headers, &user, &id, code, ip).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Options for confirming the signed-in account with one of its passkeys.
#[utoipa::path(
    post,
    path = "/api/v1/account/two-factor/passkeys/confirm/options",
    operation_id = "passkey_confirm_options",
    tag = "account",
    security(("session" = [])),
    responses(
        (status = 200, description = "PublicKeyCredentialRequestOptionsJSON; valid 5 minutes.", body = Object),
        (status = 401, description = "Not signed in.", body = ErrorBody),
        (status = 409, description = "`no_passkey`, `passkeys_unavailable`.", body = ErrorBody),
    )
)]
pub async fn confirm_options(
    State(state): State<AppState>,
    CurrentUserWrite(user): CurrentUserWrite,
    headers: HeaderMap,
) -> Result<Response, Error> {
    let rp = passkeys::relying_party(&state, &headers)?;
    Ok(Json(passkeys::start_sign_in(&state, &rp, &user).await?).into_response())
}

/// Confirms the signed-in account with a passkey: changes to second steps
/// need no code for 10 minutes.
#[utoipa::path(
    post,
    path = "/api/v1/account/two-factor/passkeys/confirm",
    operation_id = "passkey_confirm",
    tag = "account",
    security(("session" = [])),
    request_body(content = inline(PasskeyAnswerBody)),
    responses(
        (status = 400, description = "The body is not JSON.", body = ErrorBody),
        (status = 413, description = "The body is too large.", body = ErrorBody),
        (status = 415, description = "The body is not application/json.", body = ErrorBody),
        (status = 204, description = "Confirmed."),
        (status = 401, description = "Not signed in.", body = ErrorBody),
        (status = 409, description = "`passkey_expired`.", body = ErrorBody),
        (status = 422, description = "`passkey_refused`.", body = ErrorBody),
    )
)]
pub async fn confirm(
    State(state): State<AppState>,
    CurrentUserWrite(user): CurrentUserWrite,
    headers: HeaderMap,
    ApiJson(body): ApiJson<PasskeyAnswerBody>,
) -> Result<StatusCode, Error> {
    let rp = passkeys::relying_party(&state, &headers)?;
    passkeys::confirm(&state, &rp, &headers, &user, &bytes(&body.credential)).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Options for proving a pending sign-in's second step with a passkey.
#[utoipa::path(
    post,
    path = "/api/v1/login/two-factor/passkey/options",
    operation_id = "login_passkey_options",
    tag = "sessions",
    security(("pending_sign_in" = [])),
    responses(
        (status = 200, description = "PublicKeyCredentialRequestOptionsJSON; valid 5 minutes.", body = Object),
        (status = 401, description = "`sign_in_expired`: no sign-in is waiting.", body = ErrorBody),
        (status = 403, description = "Cross-origin request.", body = ErrorBody),
        (status = 409, description = "`no_passkey`, `passkeys_unavailable`.", body = ErrorBody),
    )
)]
pub async fn login_options(
    State(state): State<AppState>,
    headers: HeaderMap,
) -> Result<Response, Error> {
    check_same_origin(&headers, state.cfg.secure_cookies)?;
    let (_, account) = two_factor::pending(&state, &headers).await?;
    let rp = passkeys::relying_party(&state, &headers)?;
    Ok(Json(passkeys::start_sign_in(&state, &rp, &account).await?).into_response())
}

/// Proves a pending sign-in's second step with a passkey and starts the session.
#[utoipa::path(
    post,
    path = "/api/v1/login/two-factor/passkey",
    operation_id = "login_passkey",
    tag = "sessions",
    security(("pending_sign_in" = [])),
    request_body(content = inline(PasskeyAnswerBody)),
    responses(
        (status = 400, description = "The body is not JSON.", body = ErrorBody),
        (status = 413, description = "The body is too large.", body = ErrorBody),
        (status = 415, description = "The body is not application/json.", body = ErrorBody),
        (status = 200, description = "Signed in, as a plain login answers.", body = super::sessions::AccountAnswer),
        (status = 401, description = "`sign_in_expired`.", body = ErrorBody),
        (status = 403, description = "Cross-origin request.", body = ErrorBody),
        (status = 409, description = "`passkey_expired`.", body = ErrorBody),
        (status = 422, description = "`passkey_refused`.", body = ErrorBody),
    )
)]
pub async fn login_passkey(
    State(state): State<AppState>,
    ClientIp(ip): ClientIp,
    headers: HeaderMap,
    ApiJson(body): ApiJson<PasskeyAnswerBody>,
) -> Result<Response, Error> {
    check_same_origin(&headers, state.cfg.secure_cookies)?;
    let (pending, account) = two_factor::pending(&state, &headers).await?;
    let rp = passkeys::relying_party(&state, &headers)?;
    passkeys::finish_sign_in(&state, &rp, &pending, &account, &bytes(&body.credential)).await?;
    let email = pending.row.name.clone();
    signed_in(&state, &headers, ip, &account, &email, true).await
}
