//! The forms of *System > Account Setting*'s **Two-step sign-in** section:
//! set up (or replace) the authenticator app, remove a passkey (adding one
//! is the page script's, see `api/passkeys.rs`), renew the recovery codes
//! with a current code, and, only while second steps are optional, turn
//! them off.

use askama::Template;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use serde::Deserialize;
use web::extract::ClientIp;
use web::i18n::T;
use web::page::{CsrfForm, FormErrors, NoFields, SignedIn};
use web::two_factor::{self as tf, Refusal};
use web::Secret;

use super::account_setting::{self, PATH};
use super::two_factor::{recovery_codes_page, CodeForm};
use super::{render, Chrome, Page, PageResult};
use crate::error::AdminError;
use crate::store::AdminUser;
use crate::two_factor::passkeys::{self, Removed};
use crate::two_factor::{self as admin_tf, SetupView};
use crate::AppState;

pub const SETUP_PATH: &str = "/admin/system/account/two-factor/totp";
pub const CONFIRM_PATH: &str = "/admin/system/account/two-factor/totp/confirm";
pub const RECOVERY_PATH: &str = "/admin/system/account/two-factor/recovery-codes";
pub const OFF_PATH: &str = "/admin/system/account/two-factor/off";
pub const REMOVE_PASSKEY_PATH: &str = "/admin/system/account/two-factor/passkeys/{id}/remove";

#[derive(Template)]
#[template(path = "account_two_factor_setup.html")]
struct SetupPage {
    t: T,
    c: Chrome,
    next: String,
    setup: SetupView,
    action: &'static str,
    error: &'static str,
}

fn setup_page(
    state: &AppState,
    headers: &HeaderMap,
    user: AdminUser,
    secret: String,
    error: &'static str,
    status: StatusCode,
) -> Response {
    let account = user.username.clone();
    let (t, c, cookie) = Page::new(state, headers, Some(user), PATH)
        .active("account")
        .parts();
    let setup = SetupView::new(
        admin_tf::RULES.issuer,
        &account,
        secret,
        t.get("two_factor.qr_label"),
    );
    let page = SetupPage {
        t,
        c,
        next: PATH.to_owned(),
        setup,
        action: CONFIRM_PATH,
        error,
    };
    render(cookie, status, &page)
}

/// `POST …/two-factor/totp` (**Set up authenticator app**): a new secret,
/// not in force until a code from the app confirms it.
pub async fn begin(
    State(state): State<AppState>,
    SignedIn(user): SignedIn<AdminUser>,
    headers: HeaderMap,
    CsrfForm(_): CsrfForm<NoFields>,
) -> PageResult {
    let setup = tf::begin_totp(&state, &user.id, &user.username).await?;
    Ok(setup_page(
        &state,
        &headers,
        user,
        setup.secret,
        "",
        StatusCode::OK,
    ))
}

fn refused(why: Refusal) -> (&'static str, StatusCode) {
    match why {
        Refusal::InvalidCode => ("two_factor.wrong_code", StatusCode::UNPROCESSABLE_ENTITY),
        Refusal::Throttled(_) => ("errorpage.too_many", StatusCode::TOO_MANY_REQUESTS),
    }
}

/// `POST …/two-factor/totp/confirm`: the recovery codes when this turned
/// two-step sign-in on; a replaced app says so.
pub async fn confirm(
    State(state): State<AppState>,
    SignedIn(user): SignedIn<AdminUser>,
    ClientIp(ip): ClientIp,
    headers: HeaderMap,
    CsrfForm(form): CsrfForm<CodeForm>,
) -> PageResult {
    let confirmed =
        tf::confirm_totp(&state, &user.id, &user.username, ip, form.code.expose()).await?;
    match confirmed {
        Ok(Some(codes)) => Ok(recovery_codes_page(
            &state,
            &headers,
            user,
            codes,
            PATH.to_owned(),
        )),
        Ok(None) => Ok(Redirect::to(&format!("{PATH}?notice=app_replaced")).into_response()),
        Err(why) => {
            let (error, status) = refused(why);
            let Some(secret) = admin_tf::secret_being_set_up(&state, &user.id).await? else {
                return Ok(Redirect::to(PATH).into_response());
            };
            Ok(setup_page(&state, &headers, user, secret, error, status))
        }
    }
}

#[derive(Deserialize)]
pub struct OwnCodeForm {
    code: Secret,
}

/// The Account Setting page again, with `msg` beside the field `field`.
async fn with_field_error(
    state: &AppState,
    headers: &HeaderMap,
    user: AdminUser,
    field: &'static str,
    why: Refusal,
) -> PageResult {
    let (msg, status) = refused(why);
    let mut errors = FormErrors::default();
    errors.add(field, msg);
    account_setting::page(state, headers, user, "", errors, status).await
}

/// `POST …/two-factor/recovery-codes` `{code}`: new recovery codes, the
/// old ones void, shown once.
pub async fn renew_codes(
    State(state): State<AppState>,
    SignedIn(user): SignedIn<AdminUser>,
    ClientIp(ip): ClientIp,
    headers: HeaderMap,
    CsrfForm(form): CsrfForm<OwnCodeForm>,
) -> PageResult {
    if !tf::status(&state, &user.id).await?.enabled() {
        return Ok(Redirect::to(PATH).into_response());
    }
    if let Err(why) = admin_tf::check_own_code(&state, &user, ip, form.code.expose()).await? {
        return with_field_error(&state, &headers, user, "renew_code", why).await;
    }
    let codes = tf::new_recovery_codes(&state, &user.id).await?;
    tracing::info!(user = %user.id, "admin recovery codes renewed");
    Ok(recovery_codes_page(
        &state,
        &headers,
        user,
        codes,
        PATH.to_owned(),
    ))
}

/// `POST …/two-factor/off` `{code}` (**Turn off**, only while second steps
/// are optional): every second step removed, the other sessions ended.
pub async fn turn_off(
    State(state): State<AppState>,
    SignedIn(user): SignedIn<AdminUser>,
    ClientIp(ip): ClientIp,
    headers: HeaderMap,
    CsrfForm(form): CsrfForm<OwnCodeForm>,
) -> PageResult {
    if state.cfg.two_factor.is_required() {
        return Err(web::Error::conflict(
            "two_factor_required",
            "Two-step sign-in is required for every Admin user.",
        )
        .into());
    }
    let Some(session) = web::sessions::cookie_hash(&state, &headers) else {
        return Ok(Redirect::to(PATH).into_response());
    };
    if let Err(why) = admin_tf::check_own_code(&state, &user, ip, form.code.expose()).await? {
        return with_field_error(&state, &headers, user, "off_code", why).await;
    }
    admin_tf::turn_off(&state, &user, &session).await?;
    Ok(Redirect::to(&format!("{PATH}?notice=two_factor_off")).into_response())
}

#[derive(Deserialize)]
pub struct RemovePasskeyForm {
    code: Option<Secret>,
}

/// `POST …/two-factor/passkeys/{id}/remove` `{code}`: removed for a
/// current code, or without one within 10 minutes of a second step. The
/// last second step is refused while every user needs one; else removing
/// it turns two-step sign-in off.
pub async fn remove_passkey(
    State(state): State<AppState>,
    SignedIn(user): SignedIn<AdminUser>,
    ClientIp(ip): ClientIp,
    headers: HeaderMap,
    Path(id): Path<String>,
    CsrfForm(form): CsrfForm<RemovePasskeyForm>,
) -> PageResult {
    let code = form.code.as_ref().map(Secret::expose);
    let policy = state.cfg.two_factor;
    let removed = passkeys::remove(&state, policy, (&headers, ip), &user, &id, code).await;
    let (msg, status) = match removed {
        Ok(Removed::One) => {
            return Ok(Redirect::to(&format!("{PATH}?notice=passkey_removed")).into_response())
        }
        Ok(Removed::TurnedOff) => {
            return Ok(Redirect::to(&format!("{PATH}?notice=two_factor_off")).into_response())
        }
        Err(AdminError::InvalidCode) => ("two_factor.wrong_code", StatusCode::UNAUTHORIZED),
        Err(AdminError::LoginThrottled { .. }) => {
            ("errorpage.too_many", StatusCode::TOO_MANY_REQUESTS)
        }
        Err(AdminError::TwoFactorRequired) => ("passkey.last_required", StatusCode::CONFLICT),
        Err(e) => return Err(e.into()),
    };
    let mut errors = FormErrors::default();
    errors.add("passkey_code", msg);
    account_setting::page(&state, &headers, user, "", errors, status).await
}
