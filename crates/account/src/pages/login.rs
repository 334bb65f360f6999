//! Sign in and sign out.

use askama::Template;
use axum::extract::{Query, State};
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{IntoResponse, Redirect};
use serde::Deserialize;
use web::extract::ClientIp;
use web::i18n::T;
use web::page::CsrfForm;
use web::Secret;

use super::{encode, Chrome, Page, PageResult, COMPANIES};
use crate::auth::{self, MaybePerson};
use crate::two_factor::{self, Next};
use crate::{accounts, AppState};

#[derive(Template)]
#[template(path = "login.html")]
struct LoginPage {
    t: T,
    c: Chrome,
    next: String,
    next_encoded: String,
    email: String,
    error: &'static str,
    from_portal: bool,
    /// "You were removed from {company}", for the browser whose session ended so.
    removed: String,
    /// A catalog key: what just happened (a new password was set).
    notice: &'static str,
}

#[derive(Deserialize)]
pub struct NextQuery {
    next: Option<String>,
    notice: Option<String>,
}

pub async fn show(
    State(state): State<AppState>,
    MaybePerson(person): MaybePerson,
    headers: HeaderMap,
    Query(q): Query<NextQuery>,
) -> PageResult {
    let next = super::next_or_portal(q.next.as_deref());
    if let Some(person) = person {
        // A signed-in user goes straight on; one in no company to the page
        // where they make one (or on to an invitation they opened).
        let to = if person.in_company() || next.starts_with("/join/") {
            next.as_str()
        } else {
            COMPANIES
        };
        return Ok(Redirect::to(to).into_response());
    }
    let removed_from = auth::removed_from(&state, &headers).await?;
    let (t, c, cookie) = Page::new(&state, &headers, None, "/login").parts();
    let removed = removed_from
        .map(|company| t.fmt("login.removed", "company", &company))
        .unwrap_or_default();
    let page = LoginPage {
        t,
        c,
        next_encoded: encode(&next),
        from_portal: q.next.is_some() && removed.is_empty(),
        removed,
        next,
        email: String::new(),
        error: "",
        notice: match q.notice.as_deref() {
            Some("password_reset") => "reset.done",
            Some("two_factor_expired") => "login.two_factor_expired",
            _ => "",
        },
    };
    Ok(Page::render(cookie, StatusCode::OK, &page))
}

#[derive(Deserialize)]
pub struct LoginForm {
    email: String,
    password: Secret,
    next: Option<String>,
}

pub async fn submit(
    State(state): State<AppState>,
    ClientIp(ip): ClientIp,
    headers: HeaderMap,
    CsrfForm(form): CsrfForm<LoginForm>,
) -> PageResult {
    let next = super::next_or_portal(form.next.as_deref());
    let device = state.devices.read(&headers);
    match accounts::authenticate(&state, &form.email, form.password, ip, device).await? {
        Some(account) => {
            // A second step follows on a page of its own, with the pending
            // sign-in's cookie and no session yet.
            let to = match two_factor::after_password(&state, &account).await? {
                Next::Session => None,
                Next::Required(_) => Some((false, super::two_factor::VERIFY)),
                Next::Setup => Some((true, super::two_factor::SETUP)),
            };
            if let Some((setup, page)) = to {
                let cookie = two_factor::begin(&state, &account, &form.email, setup).await?;
                let mut res =
                    Redirect::to(&format!("{page}?next={}", encode(&next))).into_response();
                res.headers_mut().append(header::SET_COOKIE, cookie);
                return Ok(res);
            }
            let cookie = auth::start_session(
                &state,
                &account.id,
                &web::sessions::Client::new(&headers, ip),
            )
            .await?;
            let mut res = Redirect::to(&next).into_response();
            res.headers_mut().append(header::SET_COOKIE, cookie);
            let device = state
                .devices
                .set_cookie(&form.email, state.cfg.secure_cookies);
            res.headers_mut().append(header::SET_COOKIE, device);
            Ok(res)
        }
        None => {
            let (t, c, cookie) = Page::new(&state, &headers, None, "/login").parts();
            let page = LoginPage {
                t,
                c,
                next_encoded: encode(&next),
                next,
                email: form.email,
                error: "login.failed",
                from_portal: false,
                removed: String::new(),
                notice: "",
            };
            Ok(Page::render(cookie, StatusCode::UNAUTHORIZED, &page))
        }
    }
}

#[derive(Deserialize)]
pub struct LogoutForm {
    /// Where to go after signing out (a local path), e.g. back to an
    /// invitation to accept it with another account.
    next: Option<String>,
}

pub async fn logout(
    State(state): State<AppState>,
    headers: HeaderMap,
    CsrfForm(form): CsrfForm<LogoutForm>,
) -> PageResult {
    let cookie = auth::end_session(&state, &headers).await?;
    let next = form
        .next
        .as_deref()
        .and_then(web::safe_local_path)
        .unwrap_or("/login");
    let mut res = Redirect::to(next).into_response();
    res.headers_mut().append(header::SET_COOKIE, cookie);
    Ok(res)
}
