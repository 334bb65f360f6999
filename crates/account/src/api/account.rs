//! The account's own settings: forgotten and changed passwords, the
//! browsers it is signed in on, and confirming its email.

use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use web::extract::{ApiJson, ClientIp};
use web::{Error, Secret};

use crate::auth::{check_same_origin, CurrentPerson, CurrentUserWrite};
use crate::{
    email_verification, members, password_change, password_reset, sessions, AccountError, AppState,
};

use super::openapi::ErrorBody;
use super::sessions::AccountAnswer;

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ResetRequestBody {
    email: String,
}

/// The answer to a reset request (the same for every email) or to a
/// confirmation link request.
#[derive(Serialize, ToSchema)]
pub struct ResetRequested {
    /// Always `accepted`.
    status: String,
    message: String,
}

/// Asks for a password reset link: mailed, valid 1 hour and once, when the
/// email has an account. The answer never tells whether it has one.
#[utoipa::path(
    post,
    path = "/api/v1/password-reset",
    operation_id = "request_password_reset",
    tag = "account",
    request_body(content = inline(ResetRequestBody)),
    responses(
        (status = 202, description = "Accepted, whatever the email: a link is mailed if it has an account.", body = ResetRequested),
        (status = 400, description = "The body is not JSON.", body = ErrorBody),
        (status = 403, description = "Cross-origin request.", body = ErrorBody),
        (status = 413, description = "The body is too large.", body = ErrorBody),
        (status = 415, description = "The body is not application/json.", body = ErrorBody),
        (status = 422, description = "The email is not an email address.", body = ErrorBody),
        (status = 429, description = "Too many requests for this email or from this address.", body = ErrorBody),
    )
)]
pub async fn request_password_reset(
    State(state): State<AppState>,
    ClientIp(ip): ClientIp,
    headers: HeaderMap,
    ApiJson(body): ApiJson<ResetRequestBody>,
) -> Result<Response, Error> {
    check_same_origin(&headers, state.cfg.secure_cookies)?;
    let base = members::link_base(&state, &headers)?;
    let lang = crate::i18n::for_request(&headers, None).lang;
    password_reset::request(state, &body.email, ip, &base, lang).await?;
    Ok((
        StatusCode::ACCEPTED,
        Json(ResetRequested {
            status: "accepted".to_owned(),
            message: "If an account has this email, a link to set a new password is on its way. It works once, for one hour.".to_owned(),
        }),
    )
        .into_response())
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ResetConfirmBody {
    /// The token of the mailed link (the part after `/password-reset/`).
    token: String,
    #[schema(value_type = String)]
    password: Secret,
}

/// Sets a new password with a reset link's token; every session of the
/// account ends.
#[utoipa::path(
    post,
    path = "/api/v1/password-reset/confirm",
    operation_id = "confirm_password_reset",
    tag = "account",
    request_body(content = inline(ResetConfirmBody)),
    responses(
        (status = 204, description = "The password is set; every session of the account ended."),
        (status = 400, description = "The body is not JSON.", body = ErrorBody),
        (status = 403, description = "Cross-origin request.", body = ErrorBody),
        (status = 410, description = "`link_expired`: the link was used, has expired or is not valid.", body = ErrorBody),
        (status = 413, description = "The body is too large.", body = ErrorBody),
        (status = 415, description = "The body is not application/json.", body = ErrorBody),
        (status = 422, description = "The password does not meet the rules.", body = ErrorBody),
        (status = 503, description = "Busy; try again.", body = ErrorBody),
    )
)]
pub async fn confirm_password_reset(
    State(state): State<AppState>,
    ClientIp(ip): ClientIp,
    headers: HeaderMap,
    ApiJson(body): ApiJson<ResetConfirmBody>,
) -> Result<Response, Error> {
    check_same_origin(&headers, state.cfg.secure_cookies)?;
    password_reset::confirm(&state, &body.token, body.password, ip).await?;
    Ok(StatusCode::NO_CONTENT.into_response())
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ChangePasswordBody {
    #[schema(value_type = String)]
    current_password: Secret,
    #[schema(value_type = String)]
    new_password: Secret,
}

/// Changes the signed-in account's password (the current one required);
/// its other sessions end, this one stays, and a notice is mailed.
#[utoipa::path(
    post,
    path = "/api/v1/account/password",
    operation_id = "change_password",
    tag = "account",
    security(("session" = [])),
    request_body(content = inline(ChangePasswordBody)),
    responses(
        (status = 204, description = "Changed; the account's other sessions ended."),
        (status = 400, description = "The body is not JSON.", body = ErrorBody),
        (status = 401, description = "Not signed in.", body = ErrorBody),
        (status = 403, description = "Cross-origin request, or `wrong_password`: the current password is not right.", body = ErrorBody),
        (status = 413, description = "The body is too large.", body = ErrorBody),
        (status = 415, description = "The body is not application/json.", body = ErrorBody),
        (status = 422, description = "The new password does not meet the rules.", body = ErrorBody),
        (status = 429, description = "Too many attempts.", body = ErrorBody),
        (status = 503, description = "Busy; try again.", body = ErrorBody),
    )
)]
pub async fn change_password(
    State(state): State<AppState>,
    ClientIp(ip): ClientIp,
    headers: HeaderMap,
    CurrentUserWrite(user): CurrentUserWrite,
    ApiJson(body): ApiJson<ChangePasswordBody>,
) -> Result<Response, Error> {
    let session = current_session(&state, &headers)?;
    password_change::change(
        &state,
        &user,
        &session,
        body.current_password,
        body.new_password,
        ip,
    )
    .await?;
    Ok(StatusCode::NO_CONTENT.into_response())
}

/// Signs out every other browser of the signed-in account.
#[utoipa::path(
    post,
    path = "/api/v1/sessions/revoke-others",
    operation_id = "revoke_other_sessions",
    tag = "account",
    security(("session" = [])),
    responses(
        (status = 204, description = "Every other session of the account ended; this one stays."),
        (status = 401, description = "Not signed in.", body = ErrorBody),
        (status = 403, description = "Cross-origin request.", body = ErrorBody),
    )
)]
pub async fn revoke_other_sessions(
    State(state): State<AppState>,
    ClientIp(ip): ClientIp,
    headers: HeaderMap,
    CurrentUserWrite(user): CurrentUserWrite,
) -> Result<Response, Error> {
    let session = current_session(&state, &headers)?;
    sessions::revoke_others(&state, &user, &session, ip).await?;
    Ok(StatusCode::NO_CONTENT.into_response())
}

/// The hash of the request's session id (the request is signed in).
fn current_session(state: &AppState, headers: &HeaderMap) -> Result<String, Error> {
    web::sessions::cookie_hash(state, headers).ok_or_else(|| AccountError::NotSignedIn.into())
}

/// The signed-in account, with whether its email is confirmed.
///
/// `company` is the session's current company and `role` the role there
/// (both `null` for an account in no company).
#[utoipa::path(
    get,
    path = "/api/v1/account",
    operation_id = "get_account",
    tag = "account",
    security(("session" = [])),
    responses(
        (status = 200, description = "The account: `{\"account\": {..., \"email_verified\": bool, \"two_factor\": {\"enabled\", \"totp\", \"passkeys\", \"recovery_codes_left\"}}}`.", body = AccountAnswer),
        (status = 401, description = "Not signed in.", body = ErrorBody),
    )
)]
pub async fn get_account(
    State(state): State<AppState>,
    CurrentPerson(user): CurrentPerson,
) -> Result<Json<AccountAnswer>, Error> {
    let status = crate::two_factor::status(&state, &user.id).await?;
    Ok(Json(AccountAnswer::new(&user).with_two_factor(&status)))
}

/// Mails the signed-in account a link that confirms its email (*Resend*).
/// A confirmed email gets none; the answer is the same.
#[utoipa::path(
    post,
    path = "/api/v1/account/email-verification",
    operation_id = "send_email_verification",
    tag = "account",
    security(("session" = [])),
    responses(
        (status = 202, description = "A confirmation link is on its way (none when the email is confirmed already).", body = ResetRequested),
        (status = 401, description = "Not signed in.", body = ErrorBody),
        (status = 403, description = "Cross-origin request.", body = ErrorBody),
        (status = 429, description = "Too many links asked for.", body = ErrorBody),
    )
)]
pub async fn send_email_verification(
    State(state): State<AppState>,
    headers: HeaderMap,
    CurrentUserWrite(user): CurrentUserWrite,
) -> Result<Response, Error> {
    if user.email_verified_at.is_none() {
        let base = members::link_base(&state, &headers)?;
        email_verification::send(&state, &user, &user.email, &base).await?;
    }
    Ok((
        StatusCode::ACCEPTED,
        Json(ResetRequested {
            status: "accepted".to_owned(),
            message: "A link to confirm your email is on its way.".to_owned(),
        }),
    )
        .into_response())
}
