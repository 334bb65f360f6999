//! The second step of signing in: *Two-step sign-in* (an authenticator
//! code, or a recovery code), and the setup a company's requirement asks
//! for right after the password, then the recovery codes, shown once.

use askama::Template;
use axum::extract::{Query, State};
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use serde::Deserialize;
use web::extract::ClientIp;
use web::i18n::T;
use web::page::CsrfForm;
use web::two_factor::Proof;
use web::Secret;

use super::{encode, Chrome, FormErrors, Page, PageResult};
use crate::store::Account;
use crate::two_factor::{self, TotpSetup};
use crate::{auth, AccountError, AppState};

pub const VERIFY: &str = "/login/two-factor";
pub const SETUP: &str = "/login/two-factor/setup";

/// Back to the sign-in page, saying the sign-in expired.
fn expired(next: &str) -> Response {
    Redirect::to(&format!(
        "/login?notice=two_factor_expired&next={}",
        encode(next)
    ))
    .into_response()
}

#[derive(Template)]
#[template(path = "two_factor.html")]
struct VerifyPage {
    t: T,
    c: Chrome,
    next: String,
    next_encoded: String,
    /// Asks for a recovery code instead of the app's code.
    recovery: bool,
    /// The account has a passkey: **Use a passkey** is offered.
    passkey: bool,
    /// The account has an authenticator app.
    totp: bool,
    errors: FormErrors,
}

#[derive(Deserialize)]
pub struct VerifyQuery {
    next: Option<String>,
    method: Option<String>,
}

fn verify_page(
    state: &AppState,
    headers: &HeaderMap,
    next: String,
    (recovery, steps): (bool, &web::two_factor::Status),
    errors: FormErrors,
    status: StatusCode,
) -> Response {
    let (t, c, cookie) = Page::new(state, headers, None, VERIFY).parts();
    let page = VerifyPage {
        t,
        c,
        next_encoded: encode(&next),
        next,
        // Without an app, its code is not asked for.
        recovery: recovery || !steps.totp,
        passkey: steps.passkeys > 0,
        totp: steps.totp,
        errors,
    };
    Page::render(cookie, status, &page)
}

/// `GET /login/two-factor`: the second step of a pending sign-in.
pub async fn show(
    State(state): State<AppState>,
    headers: HeaderMap,
    Query(q): Query<VerifyQuery>,
) -> PageResult {
    let next = super::next_or_portal(q.next.as_deref());
    match two_factor::pending(&state, &headers).await {
        Ok((p, _)) if p.row.setup => {
            Ok(Redirect::to(&format!("{SETUP}?next={}", encode(&next))).into_response())
        }
        Ok((_, account)) => {
            let recovery = q.method.as_deref() == Some("recovery");
            let steps = two_factor::status(&state, &account.id).await?;
            let ok = StatusCode::OK;
            Ok(verify_page(
                &state,
                &headers,
                next,
                (recovery, &steps),
                FormErrors::default(),
                ok,
            ))
        }
        Err(AccountError::SignInExpired) => Ok(expired(&next)),
        Err(e) => Err(e.into()),
    }
}

#[derive(Deserialize)]
pub struct VerifyForm {
    code: Option<Secret>,
    recovery_code: Option<Secret>,
    next: Option<String>,
}

/// `POST /login/two-factor`: the code; the session starts when it is right.
pub async fn submit(
    State(state): State<AppState>,
    ClientIp(ip): ClientIp,
    headers: HeaderMap,
    CsrfForm(form): CsrfForm<VerifyForm>,
) -> PageResult {
    let next = super::next_or_portal(form.next.as_deref());
    let (pending, account) = match two_factor::pending(&state, &headers).await {
        Ok(found) => found,
        Err(AccountError::SignInExpired) => return Ok(expired(&next)),
        Err(e) => return Err(e.into()),
    };
    let (proof, recovery, field) = match (&form.recovery_code, &form.code) {
        (Some(r), _) => (Proof::Recovery(r.expose()), true, "recovery_code"),
        (None, Some(c)) => (Proof::Totp(c.expose()), false, "code"),
        (None, None) => (Proof::Totp(""), false, "code"),
    };
    match two_factor::finish_sign_in(&state, &pending, &account, ip, proof).await {
        Ok(()) => {
            let email = pending.row.name.clone();
            signed_in(&state, &headers, ip, &account, &email, &next).await
        }
        Err(AccountError::InvalidCode) => {
            let mut errors = FormErrors::default();
            errors.add(field, "twofactor.invalid_code");
            let status = StatusCode::UNAUTHORIZED;
            let steps = two_factor::status(&state, &account.id).await?;
            Ok(verify_page(
                &state,
                &headers,
                next,
                (recovery, &steps),
                errors,
                status,
            ))
        }
        Err(AccountError::SignInExpired) => Ok(expired(&next)),
        Err(e) => Err(e.into()),
    }
}

/// The session of a sign-in that proved (or set up) its second step, going
/// on to `next`: the session and device cookies set, the pending one cleared.
async fn signed_in(
    state: &AppState,
    headers: &HeaderMap,
    ip: std::net::IpAddr,
    account: &Account,
    email: &str,
    next: &str,
) -> PageResult {
    let mut res = Redirect::to(next).into_response();
    for c in session_cookies(state, headers, ip, account, email).await? {
        res.headers_mut().append(header::SET_COOKIE, c);
    }
    Ok(res)
}

async fn session_cookies(
    state: &AppState,
    headers: &HeaderMap,
    ip: std::net::IpAddr,
    account: &Account,
    email: &str,
) -> Result<[HeaderValue; 3], web::Error> {
    let client = web::sessions::Client::new(headers, ip);
    Ok([
        auth::start_session_stepped(state, &account.id, &client).await?,
        state.devices.set_cookie(email, state.cfg.secure_cookies),
        two_factor::clear_cookie(state),
    ])
}

/// The setup page: the secret as a QR code and as text, and the code that
/// confirms it. Shared by the sign-in that must set up and Account Information.
#[derive(Template)]
#[template(path = "two_factor_setup.html")]
pub(super) struct SetupPage {
    pub t: T,
    pub c: Chrome,
    /// Where the form posts.
    pub action: &'static str,
    pub next: String,
    /// The company requires it (the sign-in that must set up).
    pub required: bool,
    pub qr: String,
    pub secret: String,
    pub errors: FormErrors,
    /// *Add a passkey* instead (the sign-in that must set up).
    pub passkey: super::passkeys::PasskeyBlock,
}

impl SetupPage {
    pub(super) fn new(
        (t, c): (T, Chrome),
        action: &'static str,
        next: String,
        setup: TotpSetup,
        errors: FormErrors,
    ) -> SetupPage {
        let qr = web::two_factor::qr::svg(&setup.otpauth_uri, t.get("twofactor.qr_label"));
        let passkey = super::passkeys::PasskeyBlock {
            level3: false,
            next: next.clone(),
        };
        SetupPage {
            t,
            c,
            action,
            next,
            required: action == SETUP,
            passkey,
            qr,
            // Shown in groups of four, as apps show keys.
            secret: group(&setup.secret),
            errors,
        }
    }
}

fn group(secret: &str) -> String {
    let chars: Vec<char> = secret.chars().collect();
    chars
        .chunks(4)
        .map(|c| c.iter().collect::<String>())
        .collect::<Vec<_>>()
        .join(" ")
}

/// The recovery codes, shown once, and the way on.
#[derive(Template)]
#[template(path = "recovery_codes.html")]
pub(super) struct CodesPage {
    pub t: T,
    pub c: Chrome,
    pub codes: Vec<String>,
    pub next: String,
}

#[derive(Deserialize)]
pub struct NextQuery {
    next: Option<String>,
}

/// `GET /login/two-factor/setup`: a sign-in whose company requires a second
/// step it does not have sets one up before anything else.
pub async fn show_setup(
    State(state): State<AppState>,
    headers: HeaderMap,
    Query(q): Query<NextQuery>,
) -> PageResult {
    let next = super::next_or_portal(q.next.as_deref());
    let account = match two_factor::pending_setup(&state, &headers).await {
        Ok((_, account)) => account,
        Err(AccountError::SignInExpired) => return Ok(expired(&next)),
        Err(e) => return Err(e.into()),
    };
    let setup = two_factor::setup(&state, &account).await?;
    let (t, c, cookie) = Page::new(&state, &headers, None, SETUP).parts();
    let page = SetupPage::new((t, c), SETUP, next, setup, FormErrors::default());
    Ok(Page::render(cookie, StatusCode::OK, &page))
}

#[derive(Deserialize)]
pub struct CodeForm {
    code: Option<Secret>,
    next: Option<String>,
}

/// `POST /login/two-factor/setup`: the app's code turns two-step sign-in
/// on; the session starts and the recovery codes are shown once.
pub async fn submit_setup(
    State(state): State<AppState>,
    ClientIp(ip): ClientIp,
    headers: HeaderMap,
    CsrfForm(form): CsrfForm<CodeForm>,
) -> PageResult {
    let next = super::next_or_portal(form.next.as_deref());
    let (pending, account) = match two_factor::pending_setup(&state, &headers).await {
        Ok(found) => found,
        Err(AccountError::SignInExpired) => return Ok(expired(&next)),
        Err(e) => return Err(e.into()),
    };
    let code = form.code.unwrap_or_default();
    let name = pending.row.name.clone();
    match two_factor::confirm_setup(&state, &account, &name, ip, code.expose()).await {
        Ok(codes) => {
            if !two_factor::finish_setup(&state, &pending).await? {
                return Ok(expired(&next));
            }
            let cookies = session_cookies(&state, &headers, ip, &account, &name).await?;
            let Some(codes) = codes else {
                // Codes were made before (an app replaced): straight on.
                let mut res = Redirect::to(&next).into_response();
                for c in cookies {
                    res.headers_mut().append(header::SET_COOKIE, c);
                }
                return Ok(res);
            };
            let (t, c, cookie) = Page::new(&state, &headers, Some(account), SETUP).parts();
            let page = CodesPage { t, c, codes, next };
            let mut res = Page::render(cookie, StatusCode::OK, &page);
            for c in cookies {
                res.headers_mut().append(header::SET_COOKIE, c);
            }
            Ok(res)
        }
        Err(AccountError::InvalidSetupCode) => {
            two_factor::count_wrong(&state, &pending).await?;
            let mut errors = FormErrors::default();
            errors.add("code", "twofactor.invalid_code");
            let setup = two_factor::setup(&state, &account).await?;
            let (t, c, cookie) = Page::new(&state, &headers, None, SETUP).parts();
            let page = SetupPage::new((t, c), SETUP, next, setup, errors);
            Ok(Page::render(
                cookie,
                StatusCode::UNPROCESSABLE_ENTITY,
                &page,
            ))
        }
        Err(e) => Err(e.into()),
    }
}
