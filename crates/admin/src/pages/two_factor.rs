//! The second step of signing in (**Two-step sign-in**: an authentication
//! code, a recovery code or **Use a passkey**), and setting up an
//! authenticator app or a passkey right after the password when the user
//! has none and one is required: before any other page, since the session
//! starts only then.

use askama::Template;
use axum::extract::{Query, State};
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use serde::Deserialize;
use web::extract::ClientIp;
use web::i18n::T;
use web::two_factor::{self as tf, Pending, Proof, Refusal, Status};
use web::Secret;

use super::passkeys::PasskeyBlock;
use super::{
    encode, next_or_default, render, Chrome, Page, PageResult, TWO_FACTOR_PATH,
    TWO_FACTOR_SETUP_PATH,
};
use crate::auth::{self, MaybeAdmin};
use crate::store::AdminUser;
use crate::two_factor::{self as admin_tf, SetupBy, SetupView};
use crate::AppState;
use web::page::CsrfForm;

#[derive(Template)]
#[template(path = "two_factor.html")]
struct SecondStepPage {
    t: T,
    c: Chrome,
    next: String,
    next_encoded: String,
    /// Asks for a recovery code instead of an authentication code.
    recovery: bool,
    /// The user has an authenticator app (else its code is not asked for).
    totp: bool,
    /// The user has a passkey: **Use a passkey** is offered.
    passkey: bool,
    error: &'static str,
}

#[derive(Template)]
#[template(path = "two_factor_setup.html")]
struct SetupPage {
    t: T,
    c: Chrome,
    next: String,
    next_encoded: String,
    setup: SetupView,
    action: &'static str,
    error: &'static str,
    /// *Add a passkey*, the alternative to the app.
    passkey: PasskeyBlock,
}

/// The recovery codes of a user who just turned two-step sign-in on (or
/// renewed them), shown once.
#[derive(Template)]
#[template(path = "recovery_codes.html")]
pub struct RecoveryCodesPage {
    pub t: T,
    pub c: Chrome,
    pub codes: Vec<String>,
    pub next: String,
}

#[derive(Deserialize)]
pub struct StepQuery {
    next: Option<String>,
    method: Option<String>,
}

/// Sends a visitor without a (fitting) pending sign-in back to sign in.
fn to_sign_in(next: &str, ended: bool) -> Response {
    let ended = if ended { "&ended=1" } else { "" };
    Redirect::to(&format!("/admin/login?next={}{ended}", encode(next))).into_response()
}

fn with_cookies(mut res: Response, cookies: Vec<HeaderValue>) -> Response {
    for c in cookies {
        res.headers_mut().append(header::SET_COOKIE, c);
    }
    res
}

fn second_step_page(
    state: &AppState,
    headers: &HeaderMap,
    next: String,
    (recovery, steps): (bool, Status),
    error: &'static str,
    status: StatusCode,
) -> Response {
    let (t, c, cookie) = Page::new(state, headers, None, TWO_FACTOR_PATH).parts();
    let page = SecondStepPage {
        t,
        c,
        next_encoded: encode(&next),
        next,
        recovery: recovery || !steps.totp,
        totp: steps.totp,
        passkey: steps.passkeys > 0,
        error,
    };
    render(cookie, status, &page)
}

/// The pending sign-in of the request that has a second step to prove.
async fn proving(state: &AppState, headers: &HeaderMap) -> Result<Option<Pending>, web::Error> {
    Ok(tf::pending(state, headers).await?.filter(|p| !p.row.setup))
}

/// `GET /admin/login/two-factor`: the authentication code (or, with
/// `?method=recovery`, a recovery code).
pub async fn show(
    State(state): State<AppState>,
    MaybeAdmin(user): MaybeAdmin,
    headers: HeaderMap,
    Query(q): Query<StepQuery>,
) -> PageResult {
    let next = next_or_default(q.next.as_deref());
    if user.is_some() {
        return Ok(Redirect::to(&next).into_response());
    }
    let Some(p) = proving(&state, &headers).await? else {
        return Ok(to_sign_in(&next, false));
    };
    let recovery = q.method.as_deref() == Some("recovery");
    let steps = tf::status(&state, &p.row.user_id).await?;
    Ok(second_step_page(
        &state,
        &headers,
        next,
        (recovery, steps),
        "",
        StatusCode::OK,
    ))
}

#[derive(Deserialize)]
pub struct StepForm {
    code: Option<Secret>,
    recovery_code: Option<Secret>,
    next: Option<String>,
}

/// `POST /admin/login/two-factor`: the session starts with a right code.
pub async fn submit(
    State(state): State<AppState>,
    ClientIp(ip): ClientIp,
    headers: HeaderMap,
    CsrfForm(form): CsrfForm<StepForm>,
) -> PageResult {
    let next = next_or_default(form.next.as_deref());
    let Some(p) = proving(&state, &headers).await? else {
        return Ok(to_sign_in(&next, true));
    };
    let recovery = form.recovery_code.is_some();
    let proof = match (&form.code, &form.recovery_code) {
        (_, Some(r)) => Proof::Recovery(r.expose()),
        (Some(c), None) => Proof::Totp(c.expose()),
        (None, None) => Proof::Totp(""),
    };
    match auth::prove_second_step(&state, &p, proof, &headers, ip).await? {
        Ok(cookies) => Ok(with_cookies(Redirect::to(&next).into_response(), cookies)),
        Err(r) if !r.still_pending => Ok(with_cookies(
            to_sign_in(&next, true),
            vec![tf::clear_cookie(&state)],
        )),
        Err(r) => {
            let (error, status) = match r.why {
                Refusal::InvalidCode => ("two_factor.wrong_code", StatusCode::UNAUTHORIZED),
                Refusal::Throttled(_) => ("errorpage.too_many", StatusCode::TOO_MANY_REQUESTS),
            };
            let steps = tf::status(&state, &p.row.user_id).await?;
            Ok(second_step_page(
                &state,
                &headers,
                next,
                (recovery, steps),
                error,
                status,
            ))
        }
    }
}

/// The setup page: `setup` as a QR code and as text, and the code field
/// posting to `action`.
#[allow(clippy::too_many_arguments)]
pub fn setup_page(
    state: &AppState,
    headers: &HeaderMap,
    user: &AdminUser,
    secret: String,
    next: String,
    action: &'static str,
    error: &'static str,
    status: StatusCode,
) -> Response {
    let (t, c, cookie) = Page::new(state, headers, None, TWO_FACTOR_SETUP_PATH).parts();
    let setup = SetupView::new(
        admin_tf::RULES.issuer,
        &user.username,
        secret,
        t.get("two_factor.qr_label"),
    );
    let passkey = PasskeyBlock {
        level3: false,
        next: next.clone(),
    };
    let page = SetupPage {
        t,
        c,
        next_encoded: encode(&next),
        next,
        setup,
        action,
        error,
        passkey,
    };
    render(cookie, status, &page)
}

/// The pending sign-in of the request that must set up.
async fn setting_up(state: &AppState, headers: &HeaderMap) -> Result<Option<SetupBy>, web::Error> {
    let pending = tf::pending(state, headers).await?;
    admin_tf::pending_setup(state, pending).await
}

/// `GET /admin/login/two-factor/setup`: a new secret each time it is shown.
pub async fn show_setup(
    State(state): State<AppState>,
    MaybeAdmin(user): MaybeAdmin,
    headers: HeaderMap,
    Query(q): Query<StepQuery>,
) -> PageResult {
    let next = next_or_default(q.next.as_deref());
    if user.is_some() {
        return Ok(Redirect::to(&next).into_response());
    }
    let Some(by) = setting_up(&state, &headers).await? else {
        return Ok(to_sign_in(&next, false));
    };
    let user = by.user();
    let setup = tf::begin_totp(&state, &user.id, &user.username).await?;
    Ok(setup_page(
        &state,
        &headers,
        user,
        setup.secret,
        next,
        TWO_FACTOR_SETUP_PATH,
        "",
        StatusCode::OK,
    ))
}

#[derive(Deserialize)]
pub struct CodeForm {
    pub code: Secret,
    pub next: Option<String>,
}

/// `POST /admin/login/two-factor/setup`: a right code turns two-step
/// sign-in on, starts the session and shows the recovery codes once.
pub async fn submit_setup(
    State(state): State<AppState>,
    ClientIp(ip): ClientIp,
    headers: HeaderMap,
    CsrfForm(form): CsrfForm<CodeForm>,
) -> PageResult {
    let next = next_or_default(form.next.as_deref());
    let Some(SetupBy::Pending(p, user)) = setting_up(&state, &headers).await? else {
        return Ok(to_sign_in(&next, true));
    };
    let confirmed = tf::confirm_totp(&state, &user.id, &p.row.name, ip, form.code.expose()).await?;
    let codes = match confirmed {
        Ok(codes) => codes,
        Err(why) => {
            if why == Refusal::InvalidCode && !tf::count_wrong(&state, &p).await? {
                return Ok(with_cookies(
                    to_sign_in(&next, true),
                    vec![tf::clear_cookie(&state)],
                ));
            }
            let (error, status) = match why {
                Refusal::InvalidCode => ("two_factor.wrong_code", StatusCode::UNPROCESSABLE_ENTITY),
                Refusal::Throttled(_) => ("errorpage.too_many", StatusCode::TOO_MANY_REQUESTS),
            };
            let secret = match admin_tf::secret_being_set_up(&state, &user.id).await? {
                Some(s) => s,
                None => {
                    tf::begin_totp(&state, &user.id, &user.username)
                        .await?
                        .secret
                }
            };
            return Ok(setup_page(
                &state,
                &headers,
                &user,
                secret,
                next,
                TWO_FACTOR_SETUP_PATH,
                error,
                status,
            ));
        }
    };
    let Some(cookies) = auth::finish_pending(&state, &p, &headers, ip).await? else {
        return Ok(to_sign_in(&next, true));
    };
    tracing::info!(user = %user.id, "admin authenticator app set up at sign-in");
    let res = match codes {
        Some(codes) => recovery_codes_page(&state, &headers, user, codes, next),
        None => Redirect::to(&next).into_response(),
    };
    Ok(with_cookies(res, cookies))
}

/// The recovery codes, shown once, then on to `next`.
pub fn recovery_codes_page(
    state: &AppState,
    headers: &HeaderMap,
    user: AdminUser,
    codes: Vec<String>,
    next: String,
) -> Response {
    let (t, c, cookie) = Page::new(state, headers, Some(user), TWO_FACTOR_SETUP_PATH)
        .active("account")
        .parts();
    let mut res = render(
        cookie,
        StatusCode::OK,
        &RecoveryCodesPage { t, c, codes, next },
    );
    // Shown once: never kept by a cache or the back button.
    res.headers_mut()
        .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    res
}
