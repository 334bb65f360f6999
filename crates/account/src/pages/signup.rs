//! Create account: a new company with the user as its owner.

use askama::Template;
use axum::extract::{Query, State};
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{IntoResponse, Redirect};
use serde::Deserialize;
use web::extract::ClientIp;
use web::i18n::T;
use web::page::CsrfForm;
use web::Secret;

use super::{encode, field_refusal, Chrome, FormErrors, Page, PageResult};
use crate::accounts::{self, SignupInput};
use crate::auth;
use crate::AppState;

#[derive(Template)]
#[template(path = "signup.html")]
struct SignupPage {
    t: T,
    c: Chrome,
    next: String,
    next_encoded: String,
    name: String,
    company: String,
    email: String,
    errors: FormErrors,
}

#[derive(Deserialize)]
pub struct NextQuery {
    next: Option<String>,
}

pub async fn show(
    State(state): State<AppState>,
    headers: HeaderMap,
    Query(q): Query<NextQuery>,
) -> PageResult {
    let next = q
        .next
        .as_deref()
        .and_then(web::safe_local_path)
        .unwrap_or("/account/api-portal")
        .to_owned();
    let (t, c, cookie) = Page::new(&state, &headers, None, "/signup").parts();
    let page = SignupPage {
        t,
        c,
        next_encoded: encode(&next),
        next,
        name: String::new(),
        company: String::new(),
        email: String::new(),
        errors: FormErrors::default(),
    };
    Ok(Page::render(cookie, StatusCode::OK, &page))
}

#[derive(Deserialize)]
pub struct SignupForm {
    name: String,
    company: String,
    email: String,
    password: Secret,
    next: Option<String>,
}

pub async fn submit(
    State(state): State<AppState>,
    ClientIp(ip): ClientIp,
    headers: HeaderMap,
    CsrfForm(form): CsrfForm<SignupForm>,
) -> PageResult {
    let next = form
        .next
        .as_deref()
        .and_then(web::safe_local_path)
        .unwrap_or("/account/api-portal")
        .to_owned();
    let lang = crate::i18n::for_request(&headers, None).lang;
    let all = accounts::signup_field_errors(
        Some(&form.email),
        &form.password,
        &form.name,
        Some(&form.company),
    );
    if !all.is_empty() {
        let errors = super::field_errors(all);
        let (t, c, cookie) = Page::new(&state, &headers, None, "/signup").parts();
        let page = SignupPage {
            t,
            c,
            next_encoded: encode(&next),
            next,
            name: form.name,
            company: form.company,
            email: form.email,
            errors,
        };
        return Ok(Page::render(
            cookie,
            StatusCode::UNPROCESSABLE_ENTITY,
            &page,
        ));
    }
    let input = SignupInput {
        ip,
        email: form.email.clone(),
        password: form.password,
        name: form.name.clone(),
        company: form.company.clone(),
        link_base: crate::members::link_base(&state, &headers)?,
    };
    match accounts::signup(&state, input, lang.code()).await {
        Ok(account) => {
            let cookie = auth::start_session(
                &state,
                &account.id,
                &web::sessions::Client::new(&headers, ip),
            )
            .await?;
            let mut res = Redirect::to(&next).into_response();
            res.headers_mut().append(header::SET_COOKIE, cookie);
            Ok(res)
        }
        Err(e) => {
            let errors = field_refusal(e)?.errors;
            let (t, c, cookie) = Page::new(&state, &headers, None, "/signup").parts();
            let page = SignupPage {
                t,
                c,
                next_encoded: encode(&next),
                next,
                name: form.name,
                company: form.company,
                email: form.email,
                errors,
            };
            Ok(Page::render(
                cookie,
                StatusCode::UNPROCESSABLE_ENTITY,
                &page,
            ))
        }
    }
}
