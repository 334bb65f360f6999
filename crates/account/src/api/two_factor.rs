//! Two-step sign-in (SPEC §8): the second step of a pending sign-in,
//! setting up an authenticator app, recovery codes and turning it off.

use axum::extract::State;
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use web::extract::{ApiJson, ClientIp};
use web::two_factor::Proof;
use web::{Error, Secret};

use crate::auth::{self, check_same_origin, CurrentUserWrite};
use crate::store::Account;
use crate::two_factor;
use crate::{AccountError, AppState, FieldError};

use super::openapi::ErrorBody;
use super::sessions::{signed_in, AccountAnswer};

/// One of the two: `{"code": "123456"}` (the authenticator app's) or
/// `{"recovery_code": "abcde-fghij"}`.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SecondStepBody {
    #[schema(value_type = Option<String>)]
    code: Option<Secret>,
    #[schema(value_type = Option<String>)]
    recovery_code: Option<Secret>,
}

/// A code: the authenticator app's, or (where taken) a recovery code.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CodeBody {
    #[schema(value_type = String)]
    code: Secret,
}

fn body_refusal() -> Error {
    AccountError::Invalid(FieldError::new("code", "error.code_required")).into()
}

/// Proves the second step of a pending sign-in and starts the session.
#[utoipa::path(
    post,
    path = "/api/v1/login/two-factor",
    operation_id = "login_two_factor",
    tag = "sessions",
    security(("pending_sign_in" = [])),
    request_body(content = inline(SecondStepBody)),
    responses(
        (status = 200, description = "Signed in; the session cookie is set, the pending sign-in's cleared.", body = AccountAnswer),
        (status = 400, description = "The body is not JSON.", body = ErrorBody),
        (status = 401, description = "`invalid_code`: wrong, used before or expired (a code works once); `sign_in_expired`: no sign-in is waiting (5 minutes, or five wrong codes).", body = ErrorBody),
        (status = 403, description = "Cross-origin request.", body = ErrorBody),
        (status = 413, description = "The body is too large.", body = ErrorBody),
        (status = 415, description = "The body is not application/json.", body = ErrorBody),
        (status = 422, description = "Neither or both of `code` and `recovery_code`.", body = ErrorBody),
        (status = 429, description = "Too many attempts (wrong codes count against the sign-in throttles).", body = ErrorBody),
    )
)]
pub async fn login_two_factor(
    State(state): State<AppState>,
    ClientIp(ip): ClientIp,
    headers: HeaderMap,
    ApiJson(body): ApiJson<SecondStepBody>,
) -> Result<Response, Error> {
    check_same_origin(&headers, state.cfg.secure_cookies)?;
    let proof = match (&body.code, &body.recovery_code) {
        (Some(c), None) => Proof::Totp(c.expose()),
        (None, Some(r)) => Proof::Recovery(r.expose()),
        _ => return Err(body_refusal()),
    };
    let (pending, account) = two_factor::pending(&state, &headers).await?;
    two_factor::finish_sign_in(&state, &pending, &account, ip, proof).await?;
    let email = pending.row.name.clone();
    signed_in(&state, &headers, ip, &account, &email, true).await
}

/// A new authenticator secret, as shown for setting up.
#[derive(Serialize, ToSchema)]
pub struct TotpSetupAnswer {
    /// Base32, for typing into the app.
    secret: String,
    /// `otpauth://totp/…`, what the QR code holds.
    otpauth_uri: String,
}

/// Who sets up: the signed-in account, or the account of a pending sign-in
/// that must set up a second step (and that sign-in).
pub(super) async fn setting_up(
    state: &AppState,
    headers: &HeaderMap,
) -> Result<(Account, Option<web::two_factor::Pending>), Error> {
    check_same_origin(headers, state.cfg.secure_cookies)?;
    if let Some(user) = auth::current_account(state, headers).await? {
        return Ok((user, None));
    }
    match two_factor::pending_setup(state, headers).await {
        Ok((p, account)) => Ok((account, Some(p))),
        Err(AccountError::SignInExpired) => Err(AccountError::NotSignedIn.into()),
        Err(e) => Err(e.into()),
    }
}

/// Makes a new authenticator secret (RFC 6238: SHA-1, 6 digits, 30 s). It
/// is not in force until a code from the app confirms it; an app in force
/// stays so until then.
#[utoipa::path(
    post,
    path = "/api/v1/account/two-factor/totp",
    operation_id = "begin_totp",
    tag = "account",
    security(("session" = []), ("pending_sign_in" = [])),
    responses(
        (status = 200, description = "The secret, shown for setting up.", body = TotpSetupAnswer),
        (status = 401, description = "Not signed in, and no pending sign-in that must set up.", body = ErrorBody),
        (status = 403, description = "Cross-origin request.", body = ErrorBody),
    )
)]
pub async fn begin_totp(
    State(state): State<AppState>,
    headers: HeaderMap,
) -> Result<Response, Error> {
    let (account, _) = setting_up(&state, &headers).await?;
    let setup = two_factor::new_setup(&state, &account).await?;
    Ok(Json(TotpSetupAnswer {
        secret: setup.secret,
        otpauth_uri: setup.otpauth_uri,
    })
    .into_response())
}

/// Recovery codes, shown once.
#[derive(Serialize, ToSchema)]
pub struct RecoveryCodesAnswer {
    /// Ten single-use codes; `null` when the app replaced another and the
    /// codes stay as they were.
    recovery_codes: Option<Vec<String>>,
}

/// Confirms the new authenticator app with a code from it. From a pending
/// sign-in that had to set up, the session starts too.
#[utoipa::path(
    post,
    path = "/api/v1/account/two-factor/totp/confirm",
    operation_id = "confirm_totp",
    tag = "account",
    security(("session" = []), ("pending_sign_in" = [])),
    request_body(content = inline(CodeBody)),
    responses(
        (status = 200, description = "In force: `{\"recovery_codes\": [10 codes]}` when this turned two-step sign-in on, else `{\"recovery_codes\": null}`. From a pending sign-in the session cookie is set.", body = RecoveryCodesAnswer),
        (status = 400, description = "The body is not JSON.", body = ErrorBody),
        (status = 401, description = "Not signed in, and no pending sign-in that must set up.", body = ErrorBody),
        (status = 403, description = "Cross-origin request.", body = ErrorBody),
        (status = 413, description = "The body is too large.", body = ErrorBody),
        (status = 415, description = "The body is not application/json.", body = ErrorBody),
        (status = 422, description = "`invalid_code`: the code is not the app's (or no secret is being set up).", body = ErrorBody),
        (status = 429, description = "Too many attempts.", body = ErrorBody),
    )
)]
pub async fn confirm_totp(
    State(state): State<AppState>,
    ClientIp(ip): ClientIp,
    headers: HeaderMap,
    ApiJson(body): ApiJson<CodeBody>,
) -> Result<Response, Error> {
    let (account, pending) = setting_up(&state, &headers).await?;
    let name = pending
        .as_ref()
        .map_or(account.email.as_str(), |p| p.row.name.as_str());
    let confirmed = two_factor::confirm_setup(&state, &account, name, ip, body.code.expose()).await;
    let codes = match (confirmed, &pending) {
        (Ok(codes), _) => codes,
        (Err(AccountError::InvalidSetupCode), Some(p)) => {
            two_factor::count_wrong(&state, p).await?;
            return Err(AccountError::InvalidSetupCode.into());
        }
        (Err(e), _) => return Err(e.into()),
    };
    let answer = Json(RecoveryCodesAnswer {
        recovery_codes: codes,
    });
    match pending {
        Some(p) => after_setup(&state, &headers, ip, &account, &p, answer.into_response()).await,
        None => Ok(answer.into_response()),
    }
}

/// A pending sign-in that set up its second step ends and its session
/// starts: `res` with the session, device and cleared pending cookies.
pub(super) async fn after_setup(
    state: &AppState,
    headers: &HeaderMap,
    ip: std::net::IpAddr,
    account: &Account,
    p: &web::two_factor::Pending,
    mut res: Response,
) -> Result<Response, Error> {
    if !two_factor::finish_setup(state, p).await? {
        return Err(AccountError::SignInExpired.into());
    }
    let client = web::sessions::Client::new(headers, ip);
    let session = auth::start_session_stepped(state, &account.id, &client).await?;
    let device = state
        .devices
        .set_cookie(&p.row.name, state.cfg.secure_cookies);
    res.headers_mut().append(header::SET_COOKIE, session);
    res.headers_mut().append(header::SET_COOKIE, device);
    res.headers_mut()
        .append(header::SET_COOKIE, two_factor::clear_cookie(state));
    Ok(res)
}

/// Turns two-step sign-in off with a current authenticator code or a
/// recovery code: every second step is removed, the recovery codes are
/// void and the account's other sessions end. A notice is mailed.
#[utoipa::path(
    delete,
    path = "/api/v1/account/two-factor",
    operation_id = "turn_off_two_factor",
    tag = "account",
    security(("session" = [])),
    request_body(content = inline(CodeBody)),
    responses(
        (status = 422, description = "A field is not valid, or one the body may not have.", body = ErrorBody),
        (status = 204, description = "Off; the account's other sessions ended."),
        (status = 400, description = "The body is not JSON.", body = ErrorBody),
        (status = 401, description = "Not signed in, or `invalid_code`.", body = ErrorBody),
        (status = 403, description = "Cross-origin request.", body = ErrorBody),
        (status = 409, description = "`two_factor_required`: the company requires two-step sign-in.", body = ErrorBody),
        (status = 413, description = "The body is too large.", body = ErrorBody),
        (status = 415, description = "The body is not application/json.", body = ErrorBody),
        (status = 429, description = "Too many attempts.", body = ErrorBody),
    )
)]
pub async fn turn_off_two_factor(
    State(state): State<AppState>,
    ClientIp(ip): ClientIp,
    headers: HeaderMap,
    CurrentUserWrite(user): CurrentUserWrite,
    ApiJson(body): ApiJson<CodeBody>,
) -> Result<Response, Error> {
    let session = web::sessions::cookie_hash(&state, &headers)
        .ok_or_else(|| Error::from(AccountError::NotSignedIn))?;
    let code = two_factor::Confirmation::Code(body.code.expose());
    two_factor::turn_off(&state, &user, &session, ip, code).await?;
    Ok(StatusCode::NO_CONTENT.into_response())
}

/// New recovery codes (the old ones void), asked for with a current
/// authenticator code or a recovery code.
#[utoipa::path(
    post,
    path = "/api/v1/account/two-factor/recovery-codes",
    operation_id = "regenerate_recovery_codes",
    tag = "account",
    security(("session" = [])),
    request_body(content = inline(CodeBody)),
    responses(
        (status = 422, description = "A field is not valid, or one the body may not have.", body = ErrorBody),
        (status = 200, description = "`{\"recovery_codes\": [10 codes]}`, shown once.", body = RecoveryCodesAnswer),
        (status = 400, description = "The body is not JSON.", body = ErrorBody),
        (status = 401, description = "Not signed in, or `invalid_code`.", body = ErrorBody),
        (status = 403, description = "Cross-origin request.", body = ErrorBody),
        (status = 413, description = "The body is too large.", body = ErrorBody),
        (status = 415, description = "The body is not application/json.", body = ErrorBody),
        (status = 429, description = "Too many attempts.", body = ErrorBody),
    )
)]
pub async fn regenerate_recovery_codes(
    State(state): State<AppState>,
    ClientIp(ip): ClientIp,
    CurrentUserWrite(user): CurrentUserWrite,
    ApiJson(body): ApiJson<CodeBody>,
) -> Result<Response, Error> {
    let codes = two_factor::regenerate_recovery_codes(
        &state,
        &user,
        ip,
        two_factor::Confirmation::Code(body.code.expose()),
    )
    .await?;
    Ok(Json(RecoveryCodesAnswer {
        recovery_codes: Some(codes),
    })
    .into_response())
}
