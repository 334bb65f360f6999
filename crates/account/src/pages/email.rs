//! Confirm your email (*Resend*, and the mailed link's page) and *Change
//! name and email* on Account Information.

use askama::Template;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Redirect};
use serde::Deserialize;
use web::extract::Id;
use web::i18n::T;
use web::page::{CsrfForm, NoFields, SignedIn};

use super::account::{render, Form, ACCOUNT};
use super::{field_refusal, Chrome, Page, PageResult};
use crate::auth::MaybeUser;
use crate::email_verification::{self, ProfileChange, CANCEL_PATH, PATH};
use crate::store::Account;
use crate::{members, AppState};
use web::extract::ClientIp;

/// *Resend*: another confirmation link to the account's own email.
pub async fn resend(
    State(state): State<AppState>,
    SignedIn(user): SignedIn<Account>,
    headers: HeaderMap,
    CsrfForm(_): CsrfForm<NoFields>,
) -> PageResult {
    if user.email_verified_at.is_none() {
        let base = members::link_base(&state, &headers)?;
        email_verification::send(&state, &user, &user.email, &base).await?;
    }
    Ok(Redirect::to(&format!("{ACCOUNT}?notice=verification_sent")).into_response())
}

#[derive(Deserialize)]
pub struct ProfileForm {
    name: String,
    email: String,
    /// Needed only to change the email.
    #[serde(default)]
    profile_password: Option<web::Secret>,
}

/// *Change name and email*: the name at once, the email once confirmed.
pub async fn save_profile(
    State(state): State<AppState>,
    SignedIn(user): SignedIn<Account>,
    ClientIp(ip): ClientIp,
    headers: HeaderMap,
    CsrfForm(form): CsrfForm<ProfileForm>,
) -> PageResult {
    let base = members::link_base(&state, &headers)?;
    let change = ProfileChange {
        name: &form.name,
        email: &form.email,
        password: form.profile_password,
        base: &base,
    };
    match email_verification::update_profile(&state, &user, change, ip).await {
        Ok(true) => {
            Ok(Redirect::to(&format!("{ACCOUNT}?notice=email_change_sent")).into_response())
        }
        Ok(false) => Ok(Redirect::to(&format!("{ACCOUNT}?notice=profile_saved")).into_response()),
        Err(e) => {
            let refused = field_refusal(e)?;
            let form = Form {
                name: form.name,
                email: form.email,
                errors: refused.errors,
            };
            render(&state, &headers, user, "", form, refused.status).await
        }
    }
}

#[derive(Template)]
#[template(path = "confirm_email.html")]
struct ConfirmPage {
    t: T,
    c: Chrome,
    token: String,
    email: String,
}

/// The mailed link's page: it confirms only when its button is pressed (a
/// mail scanner opening links confirms nothing).
pub async fn show_link(
    State(state): State<AppState>,
    MaybeUser(user): MaybeUser,
    headers: HeaderMap,
    Id(token): Id,
) -> PageResult {
    let row = email_verification::open(&state, &token).await?;
    let (t, c, cookie) = Page::new(&state, &headers, user, PATH).parts();
    let page = ConfirmPage {
        t,
        c,
        token,
        email: row.email,
    };
    Ok(Page::render(cookie, StatusCode::OK, &page))
}

pub async fn submit_link(
    State(state): State<AppState>,
    Id(token): Id,
    CsrfForm(_): CsrfForm<NoFields>,
) -> PageResult {
    email_verification::confirm(&state, &token).await?;
    Ok(Redirect::to(&format!("{ACCOUNT}?notice=email_confirmed")).into_response())
}

#[derive(Template)]
#[template(path = "cancel_email.html")]
struct CancelPage {
    t: T,
    c: Chrome,
    token: String,
    email: String,
    done: bool,
}

/// The old address's link: it cancels the pending change only when its
/// button is pressed (a mail scanner opening links cancels nothing).
pub async fn show_cancel(
    State(state): State<AppState>,
    MaybeUser(user): MaybeUser,
    headers: HeaderMap,
    Id(token): Id,
) -> PageResult {
    let row = email_verification::open_cancel(&state, &token).await?;
    let (t, c, cookie) = Page::new(&state, &headers, user, CANCEL_PATH).parts();
    let page = CancelPage {
        t,
        c,
        token,
        email: row.email,
        done: false,
    };
    Ok(Page::render(cookie, StatusCode::OK, &page))
}

pub async fn submit_cancel(
    State(state): State<AppState>,
    MaybeUser(user): MaybeUser,
    headers: HeaderMap,
    Id(token): Id,
    CsrfForm(_): CsrfForm<NoFields>,
) -> PageResult {
    email_verification::cancel(&state, &token).await?;
    let (t, c, cookie) = Page::new(&state, &headers, user, CANCEL_PATH).parts();
    let page = CancelPage {
        t,
        c,
        token: String::new(),
        email: String::new(),
        done: true,
    };
    Ok(Page::render(cookie, StatusCode::OK, &page))
}
