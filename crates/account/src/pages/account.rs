//! My Account > Account Information: who you are, Change password, and the
//! browsers you are signed in on, with Sign out other browsers.

use askama::Template;
use axum::extract::{Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Redirect};
use serde::Deserialize;
use web::clock::human;
use web::extract::ClientIp;
use web::i18n::T;
use web::page::{CsrfForm, NoFields, SignedIn};
use web::Secret;

use super::{Chrome, FormErrors, Page, PageResult};
use crate::store::Account;
use crate::{password_change, sessions, AppState};

pub const ACCOUNT: &str = "/account";

pub struct SessionItem {
    browser: String,
    ip: String,
    signed_in: String,
    last_seen: String,
    current: bool,
}

#[derive(Template)]
#[template(path = "account.html")]
struct AccountPage {
    t: T,
    c: Chrome,
    role_label: &'static str,
    notice: &'static str,
    errors: FormErrors,
    sessions: Vec<SessionItem>,
    others: usize,
}

#[derive(Deserialize)]
pub struct NoticeQuery {
    notice: Option<String>,
}

pub async fn show(
    State(state): State<AppState>,
    SignedIn(user): SignedIn<Account>,
    headers: HeaderMap,
    Query(q): Query<NoticeQuery>,
) -> PageResult {
    let notice = match q.notice.as_deref() {
        Some("password_changed") => "account.password_changed",
        Some("sessions_revoked") => "account.sessions_revoked",
        _ => "",
    };
    render(
        &state,
        &headers,
        user,
        notice,
        FormErrors::default(),
        StatusCode::OK,
    )
    .await
}

async fn render(
    state: &AppState,
    headers: &HeaderMap,
    user: Account,
    notice: &'static str,
    errors: FormErrors,
    status: StatusCode,
) -> PageResult {
    let role_label = if user.role.is_owner() {
        "role.owner"
    } else {
        "role.member"
    };
    let current = web::sessions::cookie_hash(state, headers);
    let sessions: Vec<SessionItem> = sessions::list(state, &user, current.as_deref())
        .await?
        .into_iter()
        .map(|s| SessionItem {
            browser: s.browser,
            ip: s.ip,
            signed_in: human(s.created_at),
            last_seen: human(s.last_seen_at),
            current: s.current,
        })
        .collect();
    let others = sessions.iter().filter(|s| !s.current).count();
    let (t, c, cookie) = Page::new(state, headers, Some(user), ACCOUNT).parts();
    let page = AccountPage {
        t,
        c,
        role_label,
        notice,
        errors,
        sessions,
        others,
    };
    Ok(Page::render(cookie, status, &page))
}

#[derive(Deserialize)]
pub struct PasswordForm {
    current_password: Secret,
    new_password: Secret,
}

pub async fn change_password(
    State(state): State<AppState>,
    SignedIn(user): SignedIn<Account>,
    ClientIp(ip): ClientIp,
    headers: HeaderMap,
    CsrfForm(form): CsrfForm<PasswordForm>,
) -> PageResult {
    let Some(session) = web::sessions::cookie_hash(&state, &headers) else {
        return Ok(Redirect::to(ACCOUNT).into_response());
    };
    let changed = password_change::change(
        &state,
        &user,
        &session,
        form.current_password,
        form.new_password,
        ip,
    )
    .await;
    match changed {
        Ok(()) => Ok(Redirect::to(&format!("{ACCOUNT}?notice=password_changed")).into_response()),
        Err(e) => match e.field() {
            Some(fe) => {
                let mut errors = FormErrors::default();
                errors.add(fe.field, fe.msg);
                let status = web::Error::from(e).status();
                render(&state, &headers, user, "", errors, status).await
            }
            None => Err(e.into()),
        },
    }
}

pub async fn revoke_others(
    State(state): State<AppState>,
    SignedIn(user): SignedIn<Account>,
    ClientIp(ip): ClientIp,
    headers: HeaderMap,
    CsrfForm(_): CsrfForm<NoFields>,
) -> PageResult {
    if let Some(session) = web::sessions::cookie_hash(&state, &headers) {
        sessions::revoke_others(&state, &user, &session, ip).await?;
    }
    Ok(Redirect::to(&format!("{ACCOUNT}?notice=sessions_revoked")).into_response())
}
