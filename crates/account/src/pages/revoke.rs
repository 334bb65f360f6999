//! Revoking a key: the page that asks, and the revocation.

use askama::Template;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Redirect};
use web::extract::Id;
use web::i18n::T;
use web::page::{CsrfForm, NoFields, SignedIn};

use super::portal::{key_page, PORTAL};
use super::{Chrome, Page, PageResult};
use crate::api_keys;
use crate::store::Account;
use crate::AppState;

#[derive(Template)]
#[template(path = "revoke.html")]
struct RevokePage {
    t: T,
    c: Chrome,
    id: String,
    name: String,
    hint: String,
}

pub async fn confirm(
    State(state): State<AppState>,
    SignedIn(user): SignedIn<Account>,
    headers: HeaderMap,
    Id(id): Id,
) -> PageResult {
    let (key, t, c, cookie) = key_page(&state, &headers, user, &id, "revoke").await?;
    let page = RevokePage {
        t,
        c,
        id: key.id,
        name: key.name,
        hint: key.hint,
    };
    Ok(Page::render(cookie, StatusCode::OK, &page))
}

pub async fn submit(
    State(state): State<AppState>,
    SignedIn(user): SignedIn<Account>,
    Id(id): Id,
    CsrfForm(_): CsrfForm<NoFields>,
) -> PageResult {
    api_keys::revoke_key(&state, &user, &id).await?;
    Ok(Redirect::to(&format!("{PORTAL}?notice=revoked")).into_response())
}
