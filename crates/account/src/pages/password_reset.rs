//! Forgot your password?: ask for a link by email, then open it and set a
//! new password. A link that was used, has expired or was not made here gets
//! its own page.

use askama::Template;
use axum::extract::State;
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{IntoResponse, Redirect};
use serde::Deserialize;
use web::extract::{ClientIp, Id};
use web::i18n::T;
use web::page::CsrfForm;
use web::Secret;

use super::{field_refusal, Chrome, FormErrors, Page, PageResult};
use crate::auth::{self, MaybeUser};
use crate::password_reset::{self, PATH};
use crate::{members, AppState};

#[derive(Template)]
#[template(path = "password_reset.html")]
struct RequestPage {
    t: T,
    c: Chrome,
    email: String,
    errors: FormErrors,
    /// The request was taken: the page says to look in the mailbox.
    sent: bool,
}

pub async fn show(
    State(state): State<AppState>,
    MaybeUser(user): MaybeUser,
    headers: HeaderMap,
) -> PageResult {
    let (t, c, cookie) = Page::new(&state, &headers, user, PATH).parts();
    let page = RequestPage {
        t,
        c,
        email: String::new(),
        errors: FormErrors::default(),
        sent: false,
    };
    Ok(Page::render(cookie, StatusCode::OK, &page))
}

#[derive(Deserialize)]
pub struct RequestForm {
    email: String,
}

pub async fn submit(
    State(state): State<AppState>,
    MaybeUser(user): MaybeUser,
    ClientIp(ip): ClientIp,
    headers: HeaderMap,
    CsrfForm(form): CsrfForm<RequestForm>,
) -> PageResult {
    let base = members::link_base(&state, &headers)?;
    let lang = crate::i18n::for_request(&headers, user.as_ref()).lang;
    let asked = password_reset::request(state.clone(), &form.email, ip, &base, lang).await;
    let (mut errors, mut status) = (FormErrors::default(), StatusCode::ACCEPTED);
    match asked {
        Ok(()) => {}
        Err(e) => {
            errors = field_refusal(e)?.errors;
            status = StatusCode::UNPROCESSABLE_ENTITY;
        }
    }
    let (t, c, cookie) = Page::new(&state, &headers, user, PATH).parts();
    let page = RequestPage {
        t,
        c,
        sent: errors.is_empty(),
        email: form.email,
        errors,
    };
    Ok(Page::render(cookie, status, &page))
}

#[derive(Template)]
#[template(path = "password_reset_confirm.html")]
struct ConfirmPage {
    t: T,
    c: Chrome,
    token: String,
    email: String,
    errors: FormErrors,
}

async fn confirm_page(
    state: &AppState,
    headers: &HeaderMap,
    token: String,
    errors: FormErrors,
    status: StatusCode,
) -> PageResult {
    let reset = password_reset::open(state, &token).await?;
    let email = crate::store::credentials_by_id(&state.db, &reset.account_id)
        .await?
        .map(|c| c.account.email)
        .unwrap_or_default();
    let (t, c, cookie) = Page::new(state, headers, None, PATH).parts();
    let page = ConfirmPage {
        t,
        c,
        token,
        email,
        errors,
    };
    Ok(Page::render(cookie, status, &page))
}

pub async fn show_link(
    State(state): State<AppState>,
    headers: HeaderMap,
    Id(token): Id,
) -> PageResult {
    confirm_page(
        &state,
        &headers,
        token,
        FormErrors::default(),
        StatusCode::OK,
    )
    .await
}

#[derive(Deserialize)]
pub struct ConfirmForm {
    password: Secret,
}

pub async fn submit_link(
    State(state): State<AppState>,
    ClientIp(ip): ClientIp,
    headers: HeaderMap,
    Id(token): Id,
    CsrfForm(form): CsrfForm<ConfirmForm>,
) -> PageResult {
    match password_reset::confirm(&state, &token, form.password, ip).await {
        Ok(_) => {
            // Every session of the account ended, this browser's too.
            let cookie = auth::end_session(&state, &headers).await?;
            let mut res = Redirect::to("/login?notice=password_reset").into_response();
            res.headers_mut().append(header::SET_COOKIE, cookie);
            Ok(res)
        }
        Err(e) => {
            let errors = field_refusal(e)?.errors;
            confirm_page(
                &state,
                &headers,
                token,
                errors,
                StatusCode::UNPROCESSABLE_ENTITY,
            )
            .await
        }
    }
}
