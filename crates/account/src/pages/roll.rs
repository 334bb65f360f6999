//! Rolling a key from the API Portal: pick the grace period, get the new key once.

use askama::Template;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Redirect};
use serde::Deserialize;
use web::clock::human;
use web::extract::Id;
use web::i18n::T;
use web::page::{CsrfForm, SignedIn};

use super::portal::{key_lines, key_page, CreatedKey, PortalPage, PORTAL};
use super::{Chrome, Page, PageResult};
use crate::api_keys;
use crate::store::{self, Account};
use crate::AccountError;
use crate::AppState;

/// The grace periods offered: now, 1 hour, 24 hours, 7 days (seconds, catalog key).
pub const GRACE_CHOICES: [(i64, &str); 4] = [
    (0, "roll.grace_now"),
    (3600, "roll.grace_hour"),
    (86400, "roll.grace_day"),
    (7 * 86400, "roll.grace_week"),
];

pub struct GraceChoice {
    seconds: i64,
    label: &'static str,
}

#[derive(Template)]
#[template(path = "roll.html")]
struct RollPage {
    t: T,
    c: Chrome,
    id: String,
    name: String,
    hint: String,
    choices: Vec<GraceChoice>,
    selected: i64,
    nonce: String,
    error: &'static str,
}

fn choices() -> Vec<GraceChoice> {
    GRACE_CHOICES
        .iter()
        .map(|&(seconds, label)| GraceChoice { seconds, label })
        .collect()
}

pub async fn confirm(
    State(state): State<AppState>,
    SignedIn(user): SignedIn<Account>,
    headers: HeaderMap,
    Id(id): Id,
) -> PageResult {
    let (key, t, c, cookie) = key_page(&state, &headers, user, &id, "roll").await?;
    let rollable =
        api_keys::key_status(&key, state.clock.now()).is_valid() && key.replaced_by.is_none();
    let page = RollPage {
        t,
        c,
        id: key.id,
        name: key.name,
        hint: key.hint,
        choices: choices(),
        selected: 86400,
        nonce: web::cookies::new_token(),
        error: if rollable { "" } else { "roll.not_rollable" },
    };
    let status = if rollable {
        StatusCode::OK
    } else {
        StatusCode::CONFLICT
    };
    Ok(Page::render(cookie, status, &page))
}

#[derive(Deserialize)]
pub struct RollForm {
    #[serde(default)]
    grace: String,
    nonce: Option<String>,
}

pub async fn submit(
    State(state): State<AppState>,
    SignedIn(user): SignedIn<Account>,
    headers: HeaderMap,
    Id(id): Id,
    CsrfForm(form): CsrfForm<RollForm>,
) -> PageResult {
    // Only the offered periods: anything else is the form's default.
    let grace = form
        .grace
        .trim()
        .parse::<i64>()
        .ok()
        .filter(|g| GRACE_CHOICES.iter().any(|(s, _)| s == g))
        .unwrap_or(86400);
    let nonce = form.nonce.filter(|n| !n.is_empty() && n.len() <= 64);
    let created = match crate::key_roll::roll_key(&state, &user, &id, grace, nonce).await {
        Ok(c) => c,
        Err(AccountError::AlreadySubmitted) => {
            return Ok(Redirect::to(&format!("{PORTAL}?notice=already_created")).into_response());
        }
        Err(AccountError::KeyNotRollable) => {
            let (key, t, c, cookie) = key_page(&state, &headers, user, &id, "roll").await?;
            let page = RollPage {
                t,
                c,
                id: key.id,
                name: key.name,
                hint: key.hint,
                choices: choices(),
                selected: grace,
                nonce: web::cookies::new_token(),
                error: "roll.not_rollable",
            };
            return Ok(Page::render(cookie, StatusCode::CONFLICT, &page));
        }
        Err(e) => return Err(e.into()),
    };
    let old_until = store::get_key(&state.db, &user.company_id, &id)
        .await?
        .and_then(|k| k.expires_at)
        .map(human)
        .unwrap_or_default();
    let keys = key_lines(&state, &user).await?;
    let (t, c, cookie) = Page::new(&state, &headers, Some(user), PORTAL).parts();
    let shown = CreatedKey {
        signed: created.row.public_key.is_some(),
        name: created.row.name,
        key: created.key.expose().to_owned(),
        private_key: String::new(),
        replaces_until: old_until,
    };
    let page = PortalPage::new(t, c, keys, Some(shown), "");
    Ok(Page::render(cookie, StatusCode::OK, &page))
}
