//! The Admin sign-in page.

use askama::Template;
use axum::extract::{Query, State};
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use serde::Deserialize;
use web::extract::ClientIp;
use web::i18n::T;
use web::Secret;

use super::{
    next_or_default, render, Chrome, Page, PageResult, TWO_FACTOR_PATH, TWO_FACTOR_SETUP_PATH,
};
use crate::auth::{self, MaybeAdmin};
use crate::two_factor::AfterPassword;
use crate::AppState;
use web::page::{CsrfForm, NoFields};

#[derive(Template)]
#[template(path = "login.html")]
struct LoginPage {
    t: T,
    c: Chrome,
    next: String,
    next_encoded: String,
    username: String,
    error: &'static str,
}

#[derive(Deserialize)]
pub struct NextQuery {
    next: Option<String>,
    /// Set when a sign-in waiting for its second step ended (too many
    /// wrong codes, or 5 minutes passed).
    ended: Option<String>,
}

pub async fn show(
    State(state): State<AppState>,
    MaybeAdmin(user): MaybeAdmin,
    headers: HeaderMap,
    Query(q): Query<NextQuery>,
) -> PageResult {
    let next = next_or_default(q.next.as_deref());
    if user.is_some() {
        return Ok(Redirect::to(&next).into_response());
    }
    let error = if q.ended.is_some() {
        "two_factor.ended"
    } else {
        ""
    };
    Ok(sign_in_form(
        &state,
        &headers,
        next,
        String::new(),
        error,
        StatusCode::OK,
    ))
}

/// The sign-in form, with the name typed and the error (catalog key) when a
/// sign-in failed.
fn sign_in_form(
    state: &AppState,
    headers: &HeaderMap,
    next: String,
    username: String,
    error: &'static str,
    status: StatusCode,
) -> Response {
    let (t, c, cookie) = Page::new(state, headers, None, "/admin/login").parts();
    let page = LoginPage {
        t,
        c,
        next_encoded: super::encode(&next),
        next,
        username,
        error,
    };
    render(cookie, status, &page)
}

#[derive(Deserialize)]
pub struct LoginForm {
    username: String,
    password: Secret,
    next: Option<String>,
}

pub async fn submit(
    State(state): State<AppState>,
    ClientIp(ip): ClientIp,
    headers: HeaderMap,
    CsrfForm(form): CsrfForm<LoginForm>,
) -> PageResult {
    let next = next_or_default(form.next.as_deref());
    let device = state.devices.read(&headers);
    let Some(user) = auth::authenticate(&state, &form.username, form.password, ip, device).await?
    else {
        return Ok(sign_in_form(
            &state,
            &headers,
            next,
            form.username,
            "login.failed",
            StatusCode::UNAUTHORIZED,
        ));
    };
    let (to, cookies) =
        match auth::after_password(&state, &user, &form.username, &headers, ip).await? {
            auth::SignIn::Session(cookies) => (next, cookies),
            auth::SignIn::Pending(step, cookie) => {
                let path = match step {
                    AfterPassword::Setup => TWO_FACTOR_SETUP_PATH,
                    _ => TWO_FACTOR_PATH,
                };
                (
                    format!("{path}?next={}", super::encode(&next)),
                    vec![cookie],
                )
            }
        };
    let mut res = Redirect::to(&to).into_response();
    for c in cookies {
        res.headers_mut().append(header::SET_COOKIE, c);
    }
    Ok(res)
}

pub async fn logout(
    State(state): State<AppState>,
    headers: HeaderMap,
    CsrfForm(_): CsrfForm<NoFields>,
) -> PageResult {
    let cookie = auth::end_session(&state, &headers).await?;
    let pending = auth::end_pending(&state, &headers).await?;
    let mut res = Redirect::to("/admin/login").into_response();
    res.headers_mut().append(header::SET_COOKIE, cookie);
    res.headers_mut().append(header::SET_COOKIE, pending);
    Ok(res)
}
