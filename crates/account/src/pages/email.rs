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
use super::{Chrome, FormErrors, Page, PageResult};
use crate::auth::MaybeUser;
use crate::email_verification::{self, PATH};
use crate::store::Account;
use crate::{members, AppState};

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
}

/// *Change name and email*: the name at once, the email once confirmed.
pub async fn save_profile(
    State(state): State<AppState>,
    SignedIn(user): SignedIn<Account>,
    headers: HeaderMap,
    CsrfForm(form): CsrfForm<ProfileForm>,
) -> PageResult {
    let base = members::link_base(&state, &headers)?;
    match email_verification::update_profile(&state, &user, &form.name, &form.email, &base).await {
        Ok(true) => {
            Ok(Redirect::to(&format!("{ACCOUNT}?notice=email_change_sent")).into_response())
        }
        Ok(false) => Ok(Redirect::to(&format!("{ACCOUNT}?notice=profile_saved")).into_response()),
        Err(e) => match e.field() {
            Some(fe) => {
                let mut errors = FormErrors::default();
                errors.add(fe.field, fe.msg);
                let status = web::Error::from(e).status();
                let form = Form {
                    name: form.name,
                    email: form.email,
                    errors,
                };
                render(&state, &headers, user, "", form, status).await
            }
            None => Err(e.into()),
        },
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
