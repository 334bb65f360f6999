//! The Admin's second step in JSON (SPEC §8), as on the account service:
//! the code after the password, and setting up an authenticator app (from
//! a session, or from a sign-in that must set one up before it starts).

use axum::extract::State;
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use axum::{Json, Router};
use serde::Deserialize;
use serde_json::json;
use web::extract::{ApiJson, ClientIp};
use web::two_factor::{self as tf, Proof, Refusal};
use web::{cookies, Error, Secret};

use crate::auth;
use crate::store::AdminUser;
use crate::two_factor::{self, SetupBy};
use crate::AppState;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/admin/api/v1/login/two-factor", post(second_step))
        .route("/admin/api/v1/account/two-factor/totp", post(begin_totp))
        .route(
            "/admin/api/v1/account/two-factor/totp/confirm",
            post(confirm_totp),
        )
}

pub(super) fn same_origin(state: &AppState, headers: &HeaderMap) -> Result<(), Error> {
    if cookies::origin_matches_host(headers, state.cfg.secure_cookies) {
        Ok(())
    } else {
        Err(Error::forbidden(
            "cross_origin",
            "Cross-origin requests are not allowed.",
        ))
    }
}

fn invalid_code(status: StatusCode) -> Error {
    Error::new(
        status,
        "invalid_code",
        "The code is not correct, has expired or was used before.",
    )
}

fn refusal(why: Refusal, status: StatusCode) -> Error {
    match why {
        Refusal::InvalidCode => invalid_code(status),
        Refusal::Throttled(wait) => Error::too_many_requests(wait),
    }
}

pub(super) fn no_sign_in() -> Error {
    Error::unauthorized(
        "not_signed_in",
        "Sign in with your username and password first (a sign-in waits 5 minutes for its second step).",
    )
}

/// `body`, with the cookies to set.
pub fn with_cookies(cookies: Vec<HeaderValue>, body: serde_json::Value) -> Response {
    let mut res = Json(body).into_response();
    for c in cookies {
        res.headers_mut().append(header::SET_COOKIE, c);
    }
    res
}

/// The plain login's body.
pub fn user_body(user: &AdminUser) -> serde_json::Value {
    json!({"user": {"username": user.username, "email": user.email}})
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SecondStepBody {
    code: Option<Secret>,
    recovery_code: Option<Secret>,
}

/// `POST /admin/api/v1/login/two-factor` `{code}` or `{recovery_code}`.
async fn second_step(
    State(state): State<AppState>,
    ClientIp(ip): ClientIp,
    headers: HeaderMap,
    ApiJson(body): ApiJson<SecondStepBody>,
) -> Result<Response, Error> {
    same_origin(&state, &headers)?;
    let proof = match (&body.code, &body.recovery_code) {
        (Some(c), None) => Proof::Totp(c.expose()),
        (None, Some(r)) => Proof::Recovery(r.expose()),
        _ => {
            return Err(Error::unprocessable(
                "invalid_field",
                "Send either code (from the authenticator app) or recovery_code.",
            ))
        }
    };
    let Some(p) = tf::pending(&state, &headers).await? else {
        return Err(no_sign_in());
    };
    match auth::prove_second_step(&state, &p, proof, &headers, ip).await? {
        Ok(cookies) => {
            let user = crate::store::two_factor::user_by_id(&state.db, &p.row.user_id)
                .await?
                .ok_or_else(no_sign_in)?;
            Ok(with_cookies(cookies, user_body(&user)))
        }
        Err(r) => {
            let mut res = refusal(r.why, StatusCode::UNAUTHORIZED).into_response();
            if !r.still_pending {
                res.headers_mut()
                    .append(header::SET_COOKIE, tf::clear_cookie(&state));
            }
            Ok(res)
        }
    }
}

/// The signed-in user, or a pending sign-in that must set up.
pub(super) async fn setup_by(state: &AppState, headers: &HeaderMap) -> Result<SetupBy, Error> {
    if let Some(user) = auth::current_user(state, headers).await? {
        return Ok(SetupBy::Session(user));
    }
    let pending = tf::pending(state, headers).await?;
    two_factor::pending_setup(state, pending)
        .await?
        .ok_or_else(no_sign_in)
}

/// `POST /admin/api/v1/account/two-factor/totp`: a new secret, not in
/// force until a code confirms it.
async fn begin_totp(State(state): State<AppState>, headers: HeaderMap) -> Result<Response, Error> {
    same_origin(&state, &headers)?;
    let by = setup_by(&state, &headers).await?;
    let user = by.user();
    let setup = tf::begin_totp(&state, &user.id, &user.username).await?;
    Ok(Json(json!({"secret": setup.secret, "otpauth_uri": setup.otpauth_uri})).into_response())
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ConfirmBody {
    code: Secret,
}

/// `POST /admin/api/v1/account/two-factor/totp/confirm` `{code}`: the
/// recovery codes when this turned second steps on; from a pending
/// sign-in, the session starts too.
async fn confirm_totp(
    State(state): State<AppState>,
    ClientIp(ip): ClientIp,
    headers: HeaderMap,
    ApiJson(body): ApiJson<ConfirmBody>,
) -> Result<Response, Error> {
    same_origin(&state, &headers)?;
    let by = setup_by(&state, &headers).await?;
    let name = match &by {
        SetupBy::Session(u) => u.username.clone(),
        SetupBy::Pending(p, _) => p.row.name.clone(),
    };
    let user = by.user().clone();
    let codes = match tf::confirm_totp(&state, &user.id, &name, ip, body.code.expose()).await? {
        Ok(codes) => codes,
        Err(why) => {
            let mut res = refusal(why, StatusCode::UNPROCESSABLE_ENTITY).into_response();
            if let (Refusal::InvalidCode, SetupBy::Pending(p, _)) = (why, &by) {
                if !tf::count_wrong(&state, p).await? {
                    res.headers_mut()
                        .append(header::SET_COOKIE, tf::clear_cookie(&state));
                }
            }
            return Ok(res);
        }
    };
    tracing::info!(user = %user.id, "admin authenticator app confirmed");
    let body = json!({"recovery_codes": codes});
    match by {
        SetupBy::Session(_) => Ok(Json(body).into_response()),
        SetupBy::Pending(p, _) => match auth::finish_pending(&state, &p, &headers, ip).await? {
            Some(cookies) => Ok(with_cookies(cookies, body)),
            None => Err(no_sign_in()),
        },
    }
}
