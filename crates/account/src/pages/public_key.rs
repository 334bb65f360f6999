//! A key's signing public key page: shows its fingerprint, replaces it.

use askama::Template;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Redirect};
use serde::Deserialize;
use web::extract::Id;
use web::i18n::T;
use web::page::{CsrfForm, SignedIn};

use super::portal::{key_page, PORTAL};
use super::{Chrome, Page, PageResult};
use crate::api_keys;
use crate::store::Account;
use crate::{AccountError, AppState};

#[derive(Template)]
#[template(path = "public_key.html")]
struct PublicKeyPage {
    t: T,
    c: Chrome,
    id: String,
    name: String,
    fingerprint: String,
    value: String,
    error: &'static str,
}

pub async fn show(
    State(state): State<AppState>,
    SignedIn(user): SignedIn<Account>,
    headers: HeaderMap,
    Id(id): Id,
) -> PageResult {
    let (key, t, c, cookie) = key_page(&state, &headers, user, &id, "public-key").await?;
    let page = PublicKeyPage {
        t,
        c,
        fingerprint: api_keys::fingerprint(key.public_key.as_deref()).unwrap_or_default(),
        id: key.id,
        name: key.name,
        value: String::new(),
        error: "",
    };
    Ok(Page::render(cookie, StatusCode::OK, &page))
}

#[derive(Deserialize)]
pub struct PublicKeyForm {
    public_key: String,
}

pub async fn save(
    State(state): State<AppState>,
    SignedIn(user): SignedIn<Account>,
    headers: HeaderMap,
    Id(id): Id,
    CsrfForm(form): CsrfForm<PublicKeyForm>,
) -> PageResult {
    match api_keys::set_public_key(&state, &user, &id, Some(&form.public_key)).await {
        Ok(()) => Ok(Redirect::to(&format!("{PORTAL}?notice=public_key")).into_response()),
        Err(AccountError::Invalid(fe)) => {
            let (key, t, c, cookie) = key_page(&state, &headers, user, &id, "public-key").await?;
            let page = PublicKeyPage {
                t,
                c,
                fingerprint: api_keys::fingerprint(key.public_key.as_deref()).unwrap_or_default(),
                id: key.id,
                name: key.name,
                value: form.public_key,
                error: fe.msg,
            };
            Ok(Page::render(
                cookie,
                StatusCode::UNPROCESSABLE_ENTITY,
                &page,
            ))
        }
        Err(e) => Err(e.into()),
    }
}
