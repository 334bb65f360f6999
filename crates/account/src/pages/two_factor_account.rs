//! Two-step sign-in on Account Information (set up an authenticator app,
//! new recovery codes, turn it off) and the company's requirement on
//! Members (owner).

use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Redirect};
use serde::Deserialize;
use web::extract::ClientIp;
use web::page::{CsrfForm, SignedIn};
use web::Secret;

use super::account::{self, Form, ACCOUNT};
use super::two_factor::{CodesPage, SetupPage};
use super::{FormErrors, Page, PageResult, MEMBERS};
use crate::store::Account;
use crate::two_factor::{self, passkeys};
use crate::{AccountError, AppState};

pub const SETUP: &str = "/account/two-factor/setup";

/// `GET /account/two-factor/setup`: the secret of a new authenticator app.
pub async fn show_setup(
    State(state): State<AppState>,
    SignedIn(user): SignedIn<Account>,
    headers: HeaderMap,
) -> PageResult {
    let setup = two_factor::setup(&state, &user).await?;
    let (t, c, cookie) = Page::new(&state, &headers, Some(user), SETUP).parts();
    let page = SetupPage::new(
        (t, c),
        SETUP,
        ACCOUNT.to_owned(),
        setup,
        FormErrors::default(),
    );
    Ok(Page::render(cookie, StatusCode::OK, &page))
}

#[derive(Deserialize)]
pub struct CodeForm {
    code: Option<Secret>,
}

/// `POST /account/two-factor/setup`: the app's code puts it in force; the
/// recovery codes are shown once when this turned two-step sign-in on.
pub async fn submit_setup(
    State(state): State<AppState>,
    SignedIn(user): SignedIn<Account>,
    ClientIp(ip): ClientIp,
    headers: HeaderMap,
    CsrfForm(form): CsrfForm<CodeForm>,
) -> PageResult {
    let code = form.code.unwrap_or_default();
    let email = user.email.clone();
    match two_factor::confirm_setup(&state, &user, &email, ip, code.expose()).await {
        Ok(Some(codes)) => {
            let next = format!("{ACCOUNT}?notice=two_factor_on");
            let (t, c, cookie) = Page::new(&state, &headers, Some(user), SETUP).parts();
            let page = CodesPage { t, c, codes, next };
            Ok(Page::render(cookie, StatusCode::OK, &page))
        }
        Ok(None) => {
            Ok(Redirect::to(&format!("{ACCOUNT}?notice=two_factor_app_replaced")).into_response())
        }
        Err(AccountError::InvalidSetupCode) => {
            let mut errors = FormErrors::default();
            errors.add("code", "twofactor.invalid_code");
            let setup = two_factor::setup(&state, &user).await?;
            let (t, c, cookie) = Page::new(&state, &headers, Some(user), SETUP).parts();
            let page = SetupPage::new((t, c), SETUP, ACCOUNT.to_owned(), setup, errors);
            Ok(Page::render(
                cookie,
                StatusCode::UNPROCESSABLE_ENTITY,
                &page,
            ))
        }
        Err(e) => Err(e.into()),
    }
}

/// Account Information again, with `msg` beside the field `field`.
async fn refused(
    state: &AppState,
    headers: &HeaderMap,
    user: Account,
    field: &'static str,
    msg: &'static str,
    status: StatusCode,
) -> PageResult {
    let mut errors = FormErrors::default();
    errors.add(field, msg);
    let form = Form {
        errors,
        ..Form::of(&user)
    };
    account::render(state, headers, user, "", form, status).await
}

/// `POST /account/two-factor/recovery-codes`: new codes for a current code,
/// shown once.
pub async fn regenerate(
    State(state): State<AppState>,
    SignedIn(user): SignedIn<Account>,
    ClientIp(ip): ClientIp,
    headers: HeaderMap,
    CsrfForm(form): CsrfForm<CodeForm>,
) -> PageResult {
    let code = form.code.unwrap_or_default();
    let how = two_factor::Confirmation::typed(code.expose(), &headers);
    match two_factor::regenerate_recovery_codes(&state, &user, ip, how).await {
        Ok(codes) => {
            let next = format!("{ACCOUNT}?notice=recovery_codes_new");
            let (t, c, cookie) = Page::new(&state, &headers, Some(user), ACCOUNT).parts();
            let page = CodesPage { t, c, codes, next };
            Ok(Page::render(cookie, StatusCode::OK, &page))
        }
        Err(AccountError::InvalidCode) => {
            let (field, msg) = ("regen_code", "twofactor.invalid_code");
            refused(&state, &headers, user, field, msg, StatusCode::UNAUTHORIZED).await
        }
        Err(e) => Err(e.into()),
    }
}

/// `POST /account/two-factor/turn-off`: off, for a current code; the other
/// browsers are signed out. Refused while the company requires it.
pub async fn turn_off(
    State(state): State<AppState>,
    SignedIn(user): SignedIn<Account>,
    ClientIp(ip): ClientIp,
    headers: HeaderMap,
    CsrfForm(form): CsrfForm<CodeForm>,
) -> PageResult {
    let Some(session) = web::sessions::cookie_hash(&state, &headers) else {
        return Ok(Redirect::to(ACCOUNT).into_response());
    };
    let code = form.code.unwrap_or_default();
    let how = two_factor::Confirmation::typed(code.expose(), &headers);
    match two_factor::turn_off(&state, &user, &session, ip, how).await {
        Ok(()) => Ok(Redirect::to(&format!("{ACCOUNT}?notice=two_factor_off")).into_response()),
        Err(AccountError::InvalidCode) => {
            let (field, msg) = ("off_code", "twofactor.invalid_code");
            refused(&state, &headers, user, field, msg, StatusCode::UNAUTHORIZED).await
        }
        Err(AccountError::TwoFactorRequired) => {
            let (field, msg) = ("off_code", "twofactor.turn_off_refused");
            refused(&state, &headers, user, field, msg, StatusCode::CONFLICT).await
        }
        Err(e) => Err(e.into()),
    }
}

#[derive(Deserialize)]
pub struct PolicyForm {
    require: Option<String>,
}

/// `POST /account/members/two-factor`: the owner requires a second step of
/// every member (`require=on`) or stops requiring it (`off`).
pub async fn set_policy(
    State(state): State<AppState>,
    SignedIn(user): SignedIn<Account>,
    CsrfForm(form): CsrfForm<PolicyForm>,
) -> PageResult {
    let require = form.require.as_deref() == Some("on");
    two_factor::set_company_requirement(&state, &user, require).await?;
    let notice = if require {
        "two_factor_required"
    } else {
        "two_factor_optional"
    };
    Ok(Redirect::to(&format!("{MEMBERS}?notice={notice}")).into_response())
}

#[derive(Deserialize)]
pub struct RemoveForm {
    code: Option<Secret>,
}

/// `POST /account/two-factor/passkeys/{id}/remove`: removed for a current
/// code, or without one within 10 minutes of a second step.
pub async fn remove_passkey(
    State(state): State<AppState>,
    SignedIn(user): SignedIn<Account>,
    ClientIp(ip): ClientIp,
    headers: HeaderMap,
    Path(id): Path<String>,
    CsrfForm(form): CsrfForm<RemoveForm>,
) -> PageResult {
    let code = form.code.as_ref().map(Secret::expose);
    match passkeys::remove(&state, &headers, &user, &id, code, ip).await {
        Ok(()) => Ok(Redirect::to(&format!("{ACCOUNT}?notice=passkey_removed")).into_response()),
        Err(AccountError::InvalidCode) => {
            let (field, msg) = ("passkey_code", "twofactor.invalid_code");
            refused(&state, &headers, user, field, msg, StatusCode::UNAUTHORIZED).await
        }
        Err(AccountError::TwoFactorRequired) => {
            let (field, msg) = ("passkey_code", "twofactor.turn_off_refused");
            refused(&state, &headers, user, field, msg, StatusCode::CONFLICT).await
        }
        Err(e) => Err(e.into()),
    }
}
