//! Store Integration's table of Amazon stores and what each row offers:
//! **Connect store** / **Re-authorize** (a form that opens the account
//! site's single-use link in a new tab), **Deactivate** / **Activate**,
//! **Check**, and **Delete** with a confirmation step.

use askama::Template;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Redirect};
use serde::Deserialize;
use web::i18n::T;
use web::page::{CsrfForm, NoFields, SignedIn};

use super::{render, Chrome, Page, PageResult, CHANNEL_PATH};
use crate::amazon_stores::{self, Caller};
use crate::store::{AdminUser, AmazonStore};
use crate::store_integration::marketplace_label;
use crate::AppState;

/// A store's authorization is named on the page, and **Re-authorize**
/// offered, from this long before it ends.
pub const REAUTHORIZE_WARNING_SECS: i64 = 30 * 86400;

/// One row of the table.
pub struct StoreLine {
    pub id: String,
    pub name: String,
    pub email: String,
    pub website: String,
    pub marketplace_label: &'static str,
    /// The status code (SPEC §5), for `data-status`.
    pub status: String,
    pub status_label: &'static str,
    pub badge: &'static str,
    /// The reason's sentence (catalog key), empty when none.
    pub reason_label: &'static str,
    pub reason: String,
    pub seller_id: String,
    /// Until when the authorization lasts, when authorized.
    pub expires: String,
    pub created: String,
    pub registered: bool,
    /// `amazon.connect`, `amazon.reauthorize` or empty.
    pub connect_label: &'static str,
    pub can_deactivate: bool,
    pub can_activate: bool,
    pub can_check: bool,
}

pub fn status_label(status: &str) -> &'static str {
    match status {
        "authorization_pending" => "store.status.authorization_pending",
        "active" => "store.status.active",
        "inactive" => "store.status.inactive",
        "authorization_failed" => "store.status.authorization_failed",
        "reauthorization_required" => "store.status.reauthorization_required",
        _ => "store.status.other",
    }
}

fn badge(status: &str) -> &'static str {
    match status {
        "active" => "valid",
        "inactive" => "expired",
        "authorization_failed" | "reauthorization_required" => "invalid",
        _ => "pending",
    }
}

/// The sentence that says what went wrong and what to do.
pub fn reason_label(reason: &str) -> &'static str {
    match reason {
        "invalid_grant" => "amazon.reason.invalid_grant",
        "invalid_client" => "amazon.reason.invalid_client",
        "unsupported_grant_type" => "amazon.reason.unsupported_grant_type",
        "token_endpoint_unreachable" => "amazon.reason.token_endpoint_unreachable",
        "missing_code" => "amazon.reason.missing_code",
        "expired" => "amazon.reason.expired",
        "revoked" => "amazon.reason.revoked",
        _ => "amazon.reason.other",
    }
}

/// Whether an active store's authorization ends within the warning window.
pub fn ending_soon(s: &AmazonStore, now: i64) -> bool {
    s.status == "active"
        && s.authorization_expires_at
            .is_some_and(|e| e - now <= REAUTHORIZE_WARNING_SECS)
}

pub fn line(s: AmazonStore, now: i64) -> StoreLine {
    let status = s.status.as_str();
    let connect_label = match status {
        "authorization_pending" | "authorization_failed" => "amazon.connect",
        "reauthorization_required" => "amazon.reauthorize",
        "active" if ending_soon(&s, now) => "amazon.reauthorize",
        _ => "",
    };
    let reason = s.reason.clone().unwrap_or_default();
    StoreLine {
        marketplace_label: marketplace_label(&s.marketplace),
        status_label: status_label(status),
        badge: badge(status),
        reason_label: if reason.is_empty() {
            ""
        } else {
            reason_label(&reason)
        },
        reason,
        seller_id: s.seller_id.clone().unwrap_or_default(),
        expires: match (status, s.authorization_expires_at) {
            ("active" | "inactive", Some(e)) => web::clock::human_date(e),
            _ => String::new(),
        },
        created: web::clock::human(s.created_at),
        registered: s.remote_id.is_some(),
        connect_label,
        can_deactivate: status != "inactive",
        can_activate: status == "inactive",
        can_check: status == "active",
        status: s.status,
        id: s.id,
        name: s.name,
        email: s.email,
        website: s.website_name,
    }
}

/// **Connect store** / **Re-authorize**: 303 to the account site's
/// single-use link. The form opens this in a new tab, so a refusal (Amazon
/// not set up, the account service down) is an error page in that tab.
pub async fn connect(
    State(state): State<AppState>,
    SignedIn(user): SignedIn<AdminUser>,
    headers: HeaderMap,
    Path(id): Path<String>,
    CsrfForm(_): CsrfForm<NoFields>,
) -> PageResult {
    let caller = Caller::new(&state, &user.username, &headers);
    let url = amazon_stores::connect(&caller, &id).await?;
    // Not a redirect: the Admin's `form-action 'self'` also governs where a
    // form submission may be redirected, so the new tab goes on to the account
    // site (and from there to Seller Central) from a page of its own.
    let (t, c, cookie) = Page::new(&state, &headers, Some(user.clone()), CHANNEL_PATH)
        .active("amazon")
        .parts();
    Ok(render(cookie, StatusCode::OK, &ConnectPage { t, c, url }))
}

#[derive(Template)]
#[template(path = "amazon_store_connect.html")]
struct ConnectPage {
    t: T,
    c: Chrome,
    url: String,
}

#[derive(Deserialize)]
pub struct ActiveForm {
    active: bool,
}

/// **Activate** / **Deactivate**.
pub async fn set_active(
    State(state): State<AppState>,
    SignedIn(user): SignedIn<AdminUser>,
    headers: HeaderMap,
    Path(id): Path<String>,
    CsrfForm(form): CsrfForm<ActiveForm>,
) -> PageResult {
    let caller = Caller::new(&state, &user.username, &headers);
    amazon_stores::set_active(&caller, &id, form.active).await?;
    let done = if form.active {
        "activated"
    } else {
        "deactivated"
    };
    Ok(Redirect::to(&format!("{CHANNEL_PATH}?done={done}")).into_response())
}

/// **Check**: the account service proves the authorization now.
pub async fn check(
    State(state): State<AppState>,
    SignedIn(user): SignedIn<AdminUser>,
    headers: HeaderMap,
    Path(id): Path<String>,
    CsrfForm(_): CsrfForm<NoFields>,
) -> PageResult {
    let caller = Caller::new(&state, &user.username, &headers);
    amazon_stores::check(&caller, &id).await?;
    Ok(Redirect::to(&format!("{CHANNEL_PATH}?done=checked")).into_response())
}

#[derive(Template)]
#[template(path = "amazon_store_delete.html")]
struct DeletePage {
    t: T,
    c: Chrome,
    id: String,
    question: String,
}

/// **Delete**, first step: what will be removed, and the button that does it.
pub async fn confirm_delete(
    State(state): State<AppState>,
    SignedIn(user): SignedIn<AdminUser>,
    headers: HeaderMap,
    Path(id): Path<String>,
) -> PageResult {
    let caller = Caller::new(&state, &user.username, &headers);
    let s = amazon_stores::find(&caller, &id).await?;
    let (t, c, cookie) = Page::new(&state, &headers, Some(user.clone()), CHANNEL_PATH)
        .active("amazon")
        .parts();
    let page = DeletePage {
        question: t.fmt("amazon.delete.question", "name", &s.name),
        t,
        c,
        id: s.id,
    };
    Ok(render(cookie, StatusCode::OK, &page))
}

/// **Delete**, confirmed.
pub async fn delete(
    State(state): State<AppState>,
    SignedIn(user): SignedIn<AdminUser>,
    headers: HeaderMap,
    Path(id): Path<String>,
    CsrfForm(_): CsrfForm<NoFields>,
) -> PageResult {
    let caller = Caller::new(&state, &user.username, &headers);
    amazon_stores::delete(&caller, &id).await?;
    Ok(Redirect::to(&format!("{CHANNEL_PATH}?done=deleted")).into_response())
}
