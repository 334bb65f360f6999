//! System > Account Setting: the signed-in admin changes their own password
//! (the current one required). The user's other sessions end, this one
//! stays, and the change is in the audit log.

use askama::Template;
use axum::extract::{Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Redirect};
use serde::Deserialize;
use web::extract::ClientIp;
use web::i18n::T;
use web::page::{CsrfForm, FormErrors, SignedIn};

use super::{render, Chrome, Page, PageResult};
use crate::store::AdminUser;
use crate::{auth, AppState};

pub const PATH: &str = "/admin/system/account";

#[derive(Template)]
#[template(path = "account_setting.html")]
struct AccountSettingPage {
    t: T,
    c: Chrome,
    notice: &'static str,
    errors: FormErrors,
}

#[derive(Deserialize)]
pub struct NoticeQuery {
    notice: Option<String>,
}

fn page(
    state: &AppState,
    headers: &HeaderMap,
    user: AdminUser,
    notice: &'static str,
    errors: FormErrors,
    status: StatusCode,
) -> PageResult {
    let (t, c, cookie) = Page::new(state, headers, Some(user), PATH)
        .active("account")
        .parts();
    Ok(render(
        cookie,
        status,
        &AccountSettingPage {
            t,
            c,
            notice,
            errors,
        },
    ))
}

pub async fn show(
    State(state): State<AppState>,
    SignedIn(user): SignedIn<AdminUser>,
    headers: HeaderMap,
    Query(q): Query<NoticeQuery>,
) -> PageResult {
    let notice = match q.notice.as_deref() {
        Some("changed") => "account_setting.changed",
        _ => "",
    };
    page(
        &state,
        &headers,
        user,
        notice,
        FormErrors::default(),
        StatusCode::OK,
    )
}

pub async fn save(
    State(state): State<AppState>,
    SignedIn(user): SignedIn<AdminUser>,
    ClientIp(ip): ClientIp,
    headers: HeaderMap,
    CsrfForm(form): CsrfForm<web::password::ChangeForm>,
) -> PageResult {
    let Some(session) = web::sessions::cookie_hash(&state, &headers) else {
        return Ok(Redirect::to(PATH).into_response());
    };
    let changed = auth::change_own_password(
        &state,
        &user,
        &session,
        form.current_password,
        form.new_password,
        ip,
    )
    .await;
    match changed {
        Ok(()) => Ok(Redirect::to(&format!("{PATH}?notice=changed")).into_response()),
        Err(e) => match e.password_field_msg() {
            Some(msg) => {
                let mut errors = FormErrors::default();
                let field = if matches!(e, crate::error::AdminError::WrongPassword) {
                    "current_password"
                } else {
                    "new_password"
                };
                errors.add(field, msg);
                let status = web::Error::from(e).status();
                page(&state, &headers, user, "", errors, status)
            }
            None => Err(e.into()),
        },
    }
}
