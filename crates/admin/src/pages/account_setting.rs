//! System > Account Setting: the signed-in admin changes their own password
//! (the current one required). The user's other sessions end, this one
//! stays, and the change is in the audit log. Its **Two-step sign-in**
//! section shows the user's second steps (the app, the passkeys with
//! **Add a passkey**, the recovery codes); its forms are in
//! `account_two_factor.rs`.

use askama::Template;
use axum::extract::{Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Redirect};
use serde::Deserialize;
use web::extract::ClientIp;
use web::i18n::T;
use web::page::{CsrfForm, FormErrors, SignedIn};

use super::passkeys::{PasskeyBlock, PasskeyItem};
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
    two_factor: TwoFactorSection,
    /// *Add a passkey*.
    passkey: PasskeyBlock,
}

/// The Two-step sign-in section.
struct TwoFactorSection {
    on: bool,
    /// An authenticator app is set up.
    totp: bool,
    passkeys: Vec<PasskeyItem>,
    codes_left: String,
    /// Turning it off is offered only when second steps are optional.
    may_turn_off: bool,
}

#[derive(Deserialize)]
pub struct NoticeQuery {
    notice: Option<String>,
}

/// The page, with `notice` (a catalog key) and the field errors of a form.
pub(super) async fn page(
    state: &AppState,
    headers: &HeaderMap,
    user: AdminUser,
    notice: &'static str,
    errors: FormErrors,
    status: StatusCode,
) -> PageResult {
    let st = web::two_factor::status(state, &user.id).await?;
    let keys = crate::two_factor::passkeys::list(state, &user.id).await?;
    let two_factor = TwoFactorSection {
        on: st.enabled(),
        totp: st.totp,
        passkeys: keys.iter().map(PasskeyItem::from).collect(),
        codes_left: st.recovery_codes_left.to_string(),
        may_turn_off: !state.cfg.two_factor.is_required(),
    };
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
            two_factor,
            passkey: PasskeyBlock {
                level3: true,
                next: format!("{PATH}?notice=passkey_added"),
            },
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
        Some("app_replaced") => "two_factor.app_replaced",
        Some("two_factor_off") => "two_factor.turned_off",
        Some("passkey_added") => "passkey.added",
        Some("passkey_removed") => "passkey.removed",
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
    .await
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
                page(&state, &headers, user, "", errors, status).await
            }
            None => Err(e.into()),
        },
    }
}
