//! Marketing > Channels > Amazon Sales Channel: the gate, then Store Integration.

use askama::Template;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Redirect};
use serde::Deserialize;
use web::i18n::T;

use super::{render, Chrome, FormErrors, Page, PageResult, CHANNEL_PATH};
use crate::channel::{self, NewStoreInput, MARKETPLACES};
use crate::config::{ScopeRef, ACCOUNT_SITE_URL};
use crate::gate::{Check, KeyStatus};
use crate::store::{self, AdminUser, AmazonStore, Website};
use crate::AppState;
use web::page::{CsrfForm, SignedIn};

pub use crate::gate::{expiring_soon, EXPIRY_WARNING_SECS};

/// The catalog key that says, in plain words, why the gate is closed: the
/// reason's own sentence when one is known, else the status's.
fn explanation(check: &Check) -> &'static str {
    if check.status == KeyStatus::Valid {
        return "";
    }
    if let Some(reason) = check.reason {
        return reason.catalog_key();
    }
    match check.status {
        KeyStatus::Missing => "welcome.missing",
        KeyStatus::Expired => "welcome.expired",
        KeyStatus::Revoked => "welcome.revoked",
        KeyStatus::Unreachable => "welcome.unreachable",
        KeyStatus::Invalid | KeyStatus::Valid => "welcome.invalid",
    }
}

#[derive(Template)]
#[template(path = "channel.html")]
struct ChannelPage {
    t: T,
    c: Chrome,
    status: &'static str,
    /// The reason's code (`sandbox_key`, …), empty when none is known.
    reason: &'static str,
    explanation: &'static str,
    unreachable: bool,
    sign_in_url: String,
    add_key_url: String,
    expiry_warning: String,
    stores: Vec<StoreLine>,
    websites: Vec<Website>,
    marketplaces: &'static [(&'static str, &'static str)],
    errors: FormErrors,
    form: StoreForm,
    saved: bool,
}

struct StoreLine {
    name: String,
    email: String,
    website: String,
    marketplace_label: &'static str,
    status_label: &'static str,
    created: String,
}

fn marketplace_label(code: &str) -> &'static str {
    MARKETPLACES
        .iter()
        .find(|(c, _)| *c == code)
        .map(|(_, l)| *l)
        .unwrap_or("marketplace.unknown")
}

fn store_line(s: AmazonStore) -> StoreLine {
    StoreLine {
        marketplace_label: marketplace_label(&s.marketplace),
        status_label: if s.status == "authorization_pending" {
            "store.status.pending"
        } else {
            "store.status.other"
        },
        created: web::clock::human(s.created_at),
        name: s.name,
        email: s.email,
        website: s.website_name,
    }
}

#[derive(Deserialize, Default)]
pub struct StoreForm {
    #[serde(default)]
    name: String,
    #[serde(default)]
    email: String,
    #[serde(default)]
    website: String,
    #[serde(default)]
    marketplace: String,
}

async fn page(
    state: &AppState,
    headers: &HeaderMap,
    p: Page,
    errors: FormErrors,
    form: StoreForm,
    saved: bool,
) -> PageResult {
    let config = state.config();
    let request_id = web::request_id::of_headers(headers);
    let check = state.gate.check(&config, request_id).await;
    let now = state.clock.now();
    let base = state.gate.base_url(&config).await;
    let site = config
        .get(ACCOUNT_SITE_URL, ScopeRef::DEFAULT)
        .await?
        .unwrap_or(base);
    let valid = check.status == KeyStatus::Valid;
    let (stores, websites) = if valid {
        (
            store::amazon_stores(&state.db)
                .await?
                .into_iter()
                .map(store_line)
                .collect(),
            store::websites(&state.db).await?,
        )
    } else {
        (Vec::new(), Vec::new())
    };
    let (t, c, cookie) = p.parts();
    let expiry_warning = if expiring_soon(&check, now) {
        let date = check
            .expires_at
            .map(web::clock::human_date)
            .unwrap_or_default();
        t.fmt("integration.expiry_warning", "date", &date)
    } else {
        String::new()
    };
    let status = if errors.is_empty() {
        StatusCode::OK
    } else {
        StatusCode::UNPROCESSABLE_ENTITY
    };
    let page = ChannelPage {
        t,
        c,
        status: check.status.as_str(),
        reason: check.reason.map(|r| r.as_str()).unwrap_or_default(),
        explanation: explanation(&check),
        unreachable: check.status == KeyStatus::Unreachable,
        sign_in_url: format!("{site}/account/api-portal"),
        add_key_url: "/admin/config/edit/section/magento_services#api_keys".into(),
        expiry_warning,
        stores,
        websites,
        marketplaces: MARKETPLACES,
        errors,
        form,
        saved,
    };
    Ok(render(cookie, status, &page))
}

#[derive(Deserialize)]
pub struct SavedQuery {
    saved: Option<String>,
}

pub async fn show(
    State(state): State<AppState>,
    SignedIn(user): SignedIn<AdminUser>,
    headers: HeaderMap,
    axum::extract::Query(q): axum::extract::Query<SavedQuery>,
) -> PageResult {
    let p = Page::new(&state, &headers, Some(user), CHANNEL_PATH).active("amazon");
    let form = StoreForm {
        website: "base".into(),
        marketplace: "US".into(),
        ..StoreForm::default()
    };
    page(
        &state,
        &headers,
        p,
        FormErrors::default(),
        form,
        q.saved.is_some(),
    )
    .await
}

pub async fn add_store(
    State(state): State<AppState>,
    SignedIn(user): SignedIn<AdminUser>,
    headers: HeaderMap,
    CsrfForm(form): CsrfForm<StoreForm>,
) -> PageResult {
    // Stores are added only behind a valid key, as the page shows them.
    let request_id = web::request_id::of_headers(&headers);
    let check = state.gate.check(&state.config(), request_id).await;
    if check.status != KeyStatus::Valid {
        return Ok(Redirect::to(CHANNEL_PATH).into_response());
    }
    let input = NewStoreInput {
        name: form.name.clone(),
        email: form.email.clone(),
        website: form.website.clone(),
        marketplace: form.marketplace.clone(),
    };
    let problems = channel::add_store(&state, &input).await?;
    if problems.is_empty() {
        return Ok(Redirect::to(&format!("{CHANNEL_PATH}?saved=1")).into_response());
    }
    let mut errors = FormErrors::default();
    for (field, msg) in problems {
        errors.add(field, msg);
    }
    let p = Page::new(&state, &headers, Some(user), CHANNEL_PATH).active("amazon");
    page(&state, &headers, p, errors, form, false).await
}
