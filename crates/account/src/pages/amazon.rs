//! My Account > Amazon stores: the company's Amazon stores with their status
//! and seller id; an owner can disconnect one (its refresh token is discarded).

use askama::Template;
use axum::extract::{Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Redirect};
use web::clock::human_date;
use web::extract::Id;
use web::i18n::T;
use web::page::{CsrfForm, NoFields, SignedIn};

use super::{Chrome, NoticeQuery, Page, PageResult};
use crate::amazon::{stores, AuthState};
use crate::store::Account;
use crate::AppState;

pub const AMAZON_STORES: &str = "/account/amazon-stores";

pub struct StoreLine {
    id: String,
    name: String,
    country: &'static str,
    status: &'static str,
    /// The reason's sentence (catalog key), or "".
    reason: &'static str,
    seller_id: String,
    authorized_until: String,
    /// A failed re-authorization the store outlived: its date, or "".
    attempt_date: String,
    /// What went wrong in it (catalog key), or "".
    attempt_reason: &'static str,
    can_disconnect: bool,
}

#[derive(Template)]
#[template(path = "amazon_stores.html")]
struct StoresPage {
    t: T,
    c: Chrome,
    is_owner: bool,
    stores: Vec<StoreLine>,
    notice: &'static str,
}

pub async fn show(
    State(state): State<AppState>,
    SignedIn(user): SignedIn<Account>,
    headers: HeaderMap,
    Query(q): Query<NoticeQuery>,
) -> PageResult {
    let is_owner = user.role.is_owner();
    let stores = stores::list(&state, &user.company_id)
        .await?
        .into_iter()
        .map(|r| {
            // The status's reason says why a store is not authorized; a store
            // that kept its authorization names the attempt that failed.
            let attempt = r.last_attempt().filter(|_| r.reason().is_none());
            StoreLine {
                status: r.status().label(),
                reason: r.reason().map_or("", |x| x.sentence()),
                attempt_date: attempt.map(|(at, _)| human_date(at)).unwrap_or_default(),
                attempt_reason: attempt.map_or("", |(_, x)| x.attempt()),
                country: r.country().code(),
                seller_id: r.seller_id.clone().unwrap_or_default(),
                authorized_until: r
                    .authorization_expires_at
                    .map(human_date)
                    .unwrap_or_default(),
                can_disconnect: is_owner && r.auth() == AuthState::Authorized,
                id: r.id,
                name: r.name,
            }
        })
        .collect();
    let notice = q.key(&[("disconnected", "amazon.disconnected")]);
    let (t, c, cookie) = Page::new(&state, &headers, Some(user), AMAZON_STORES).parts();
    let page = StoresPage {
        t,
        c,
        is_owner,
        stores,
        notice,
    };
    Ok(Page::render(cookie, StatusCode::OK, &page))
}

/// An owner disconnects a store.
pub async fn disconnect(
    State(state): State<AppState>,
    SignedIn(user): SignedIn<Account>,
    Id(id): Id,
    CsrfForm(_): CsrfForm<NoFields>,
) -> PageResult {
    stores::disconnect(&state, &user, &id).await?;
    Ok(Redirect::to(&format!("{AMAZON_STORES}?notice=disconnected")).into_response())
}
