//! The Admin sign-in page.

use askama::Template;
use axum::extract::{Query, State};
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use serde::Deserialize;
use web::extract::ClientIp;
use web::i18n::T;
use web::Secret;

use super::{render, Chrome, Page, PageResult, CHANNEL_PATH};
use crate::auth::{self, MaybeAdmin};
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
}

fn next_or_default(next: Option<&str>) -> String {
    next.and_then(web::safe_local_path)
        .unwrap_or(CHANNEL_PATH)
        .to_owned()
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
    Ok(sign_in_form(
        &state,
        &headers,
        next,
        String::new(),
        "",
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
    match auth::authenticate(&state, &form.username, form.password, ip, device).await? {
        Some(user) => {
            let cookie =
                auth::start_session(&state, &user.id, &web::sessions::Client::new(&headers, ip))
                    .await?;
            let mut res = Redirect::to(&next).into_response();
            res.headers_mut().append(header::SET_COOKIE, cookie);
            let device = state
                .devices
                .set_cookie(&form.username, state.cfg.secure_cookies);
            res.headers_mut().append(header::SET_COOKIE, device);
            Ok(res)
        }
        None => Ok(sign_in_form(
            &state,
            &headers,
            next,
            form.username,
            "login.failed",
            StatusCode::UNAUTHORIZED,
        )),
    }
}

pub async fn logout(
    State(state): State<AppState>,
    headers: HeaderMap,
    CsrfForm(_): CsrfForm<NoFields>,
) -> PageResult {
    let cookie = auth::end_session(&state, &headers).await?;
    let mut res = Redirect::to("/admin/login").into_response();
    res.headers_mut().append(header::SET_COOKIE, cookie);
    Ok(res)
}
