//! My Account > Account Information: who you are (Change name and email,
//! Confirm your email), Change password, and the browsers you are signed in
//! on, with Sign out other browsers.

use askama::Template;
use axum::extract::{Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Redirect};
use web::clock::human;
use web::extract::ClientIp;
use web::i18n::T;
use web::page::{CsrfForm, NoFields, SignedIn};

use super::{field_refusal, Chrome, FormErrors, NoticeQuery, Page, PageResult};
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

/// The page's forms as shown: the name and email fields (the account's, or
/// what was sent) and the fields' errors.
pub struct Form {
    pub name: String,
    pub email: String,
    pub errors: FormErrors,
}

impl Form {
    pub(super) fn of(user: &Account) -> Form {
        Form {
            name: user.name.clone(),
            email: user.email.clone(),
            errors: FormErrors::default(),
        }
    }
}

#[derive(Template)]
#[template(path = "account.html")]
struct AccountPage {
    t: T,
    c: Chrome,
    role_label: &'static str,
    notice: &'static str,
    form: Form,
    verified: bool,
    sessions: Vec<SessionItem>,
    others: usize,
    two_factor: TwoFactorSection,
    passkey: super::passkeys::PasskeyBlock,
}

/// The section *Two-step sign-in*: whether it is on, the recovery codes
/// left, and whether the company requires it (it cannot be turned off then).
pub struct TwoFactorSection {
    enabled: bool,
    totp: bool,
    codes_left: String,
    required: bool,
    passkeys: Vec<super::passkeys::PasskeyItem>,
}

pub async fn show(
    State(state): State<AppState>,
    SignedIn(user): SignedIn<Account>,
    headers: HeaderMap,
    Query(q): Query<NoticeQuery>,
) -> PageResult {
    let notice = q.key(&[
        ("password_changed", "account.password_changed"),
        ("sessions_revoked", "account.sessions_revoked"),
        ("verification_sent", "account.verification_sent"),
        ("email_change_sent", "account.email_change_sent"),
        ("email_confirmed", "account.email_confirmed"),
        ("profile_saved", "account.profile_saved"),
        ("two_factor_on", "account.two_factor_on"),
        ("two_factor_off", "account.two_factor_off"),
        ("two_factor_app_replaced", "account.two_factor_app_replaced"),
        ("recovery_codes_new", "account.recovery_codes_new"),
        ("passkey_added", "account.passkey_added"),
        ("two_factor_owed", "account.two_factor_owed"),
        ("passkey_confirmed", "account.passkey_confirmed"),
        ("passkey_removed", "account.passkey_removed"),
    ]);
    let form = Form::of(&user);
    render(&state, &headers, user, notice, form, StatusCode::OK).await
}

pub(super) async fn render(
    state: &AppState,
    headers: &HeaderMap,
    user: Account,
    notice: &'static str,
    form: Form,
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
    let verified = user.email_verified_at.is_some();
    let steps = crate::two_factor::status(state, &user.id).await?;
    let required = crate::store::company_requires_two_factor(&state.db, &user.company_id).await?;
    let keys = crate::two_factor::passkeys::list(state, &user).await?;
    let two_factor = TwoFactorSection {
        enabled: steps.enabled(),
        totp: steps.totp,
        codes_left: steps.recovery_codes_left.to_string(),
        required,
        passkeys: keys.iter().map(Into::into).collect(),
    };
    let passkey = super::passkeys::PasskeyBlock {
        level3: true,
        next: format!("{ACCOUNT}?notice=passkey_added"),
    };
    let (t, c, cookie) = Page::new(state, headers, Some(user), ACCOUNT).parts();
    let page = AccountPage {
        t,
        c,
        role_label,
        notice,
        form,
        verified,
        sessions,
        others,
        two_factor,
        passkey,
    };
    Ok(Page::render(cookie, status, &page))
}

pub async fn change_password(
    State(state): State<AppState>,
    SignedIn(user): SignedIn<Account>,
    ClientIp(ip): ClientIp,
    headers: HeaderMap,
    CsrfForm(form): CsrfForm<web::password::ChangeForm>,
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
        Err(e) => {
            let refused = field_refusal(e)?;
            let form = Form {
                errors: refused.errors,
                ..Form::of(&user)
            };
            render(&state, &headers, user, "", form, refused.status).await
        }
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
