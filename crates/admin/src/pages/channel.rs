//! Marketing > Channels > Amazon Sales Channel: the gate, then Store Integration.

use askama::Template;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Redirect};
use serde::Deserialize;
use web::i18n::T;

use super::amazon_stores::{ending_soon, line, StoreLine};
use super::{render, Chrome, FormErrors, Page, PageResult, CHANNEL_PATH};
use crate::amazon_stores::{self, Caller, SyncProblem};
use crate::config::{ScopeRef, ACCOUNT_SITE_URL};
use crate::error::AdminError;
use crate::gate::history::{self, Run};
use crate::gate::{Check, KeyStatus, Reason};
use crate::store::{self, AdminUser, Website};
use crate::store_integration::{NewStoreInput, MARKETPLACES};
use crate::AppState;
use web::page::{CsrfForm, SignedIn};

pub use crate::gate::{expiring_soon, EXPIRY_WARNING_SECS};

/// The **Production Private key** field on the configuration page.
pub const PRIVATE_KEY_FIELD_URL: &str = "/admin/config/edit/section/magento_services#services_connector_services_connector_integration_production_private_key";

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

/// A row of *Last checks*: one check, or a run of checks with the same outcome.
pub struct CheckLine {
    /// The newest check's time, in words and as RFC 3339.
    when: String,
    when_iso: String,
    /// "12 checks in a row since …" for a run; empty for one check.
    run: String,
    count: usize,
    status: &'static str,
    status_label: &'static str,
    /// The reason's code and words (catalog key); empty when none.
    reason: &'static str,
    reason_label: &'static str,
}

impl CheckLine {
    fn new(run: &Run, t: &T) -> Self {
        CheckLine {
            when: web::clock::human(run.last),
            when_iso: web::clock::rfc3339(run.last),
            run: if run.count > 1 {
                t.fmt("channel.checks.run", "n", &run.count.to_string())
                    .replace("{first}", &web::clock::human(run.first))
            } else {
                String::new()
            },
            count: run.count,
            status: run.status.as_str(),
            status_label: history::status_label_key(run.status),
            reason: run.reason.map_or("", Reason::as_str),
            reason_label: run.reason.map_or("", Reason::label_key),
        }
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
    /// The Production Private key field, linked when the key needs it.
    private_key_url: &'static str,
    expiry_warning: String,
    /// "Authorization for X ends on DATE", one per store ending soon.
    store_warnings: Vec<String>,
    /// Why the stores could not be brought up to date (catalog key), empty
    /// when they were; `problem_code` is its code.
    problem: &'static str,
    problem_code: &'static str,
    /// What an unregistered store's row says (catalog key).
    unregistered_hint: &'static str,
    /// What was just done (`saved`, `deactivated`, …), as a catalog key.
    done: &'static str,
    stores: Vec<StoreLine>,
    websites: Vec<Website>,
    marketplaces: &'static [(&'static str, &'static str)],
    errors: FormErrors,
    form: StoreForm,
    /// When the key was last checked (this page's own check), in words and as RFC 3339.
    last_checked: String,
    last_checked_iso: String,
    /// *Last checks*, newest first: at most [`history::SHOWN`] runs.
    checks: Vec<CheckLine>,
}

/// The message of `?done=…` after an action (catalog key), empty for none.
fn done_message(done: Option<&str>) -> &'static str {
    match done {
        Some("saved") => "integration.saved",
        Some("activated") => "amazon.done.activated",
        Some("deactivated") => "amazon.done.deactivated",
        Some("checked") => "amazon.done.checked",
        Some("deleted") => "amazon.done.deleted",
        _ => "",
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

struct Shown<'a> {
    actor: &'a str,
    errors: FormErrors,
    form: StoreForm,
    done: &'static str,
}

async fn page(state: &AppState, headers: &HeaderMap, p: Page, shown: Shown<'_>) -> PageResult {
    let Shown {
        actor,
        errors,
        form,
        done,
    } = shown;
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
    let (t, c, cookie) = p.parts();
    let past = history::last_checks(&state.db, &check, history::KEPT as usize).await;
    let checks = history::runs(&past, history::SHOWN)
        .iter()
        .map(|r| CheckLine::new(r, &t))
        .collect();
    let (mut stores, mut store_warnings, mut problem) = (Vec::new(), Vec::new(), None);
    let mut websites = Vec::new();
    let unreachable = check.status == KeyStatus::Unreachable;
    if valid {
        let listed = amazon_stores::sync(&Caller::new(state, actor, headers)).await?;
        problem = listed.problem;
        for s in listed.stores {
            if ending_soon(&s, now) {
                let date = s
                    .authorization_expires_at
                    .map(web::clock::human_date)
                    .unwrap_or_default();
                store_warnings.push(
                    t.fmt("amazon.ending_warning", "name", &s.name)
                        .replace("{date}", &date),
                );
            }
            stores.push(line(s, now));
        }
        websites = store::websites(&state.db).await?;
    }
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
        unreachable,
        sign_in_url: format!("{site}/account/api-portal"),
        add_key_url: "/admin/config/edit/section/magento_services#api_keys".into(),
        private_key_url: if check.reason == Some(Reason::PrivateKeyMissing) {
            PRIVATE_KEY_FIELD_URL
        } else {
            ""
        },
        expiry_warning,
        store_warnings,
        problem: problem.map_or("", SyncProblem::catalog_key),
        problem_code: problem.map_or("", SyncProblem::code),
        unregistered_hint: problem.map_or("amazon.not_registered", SyncProblem::row_key),
        done,
        stores,
        websites,
        marketplaces: MARKETPLACES,
        errors,
        form,
        last_checked: web::clock::human(check.at),
        last_checked_iso: web::clock::rfc3339(check.at),
        checks,
    };
    Ok(render(cookie, status, &page))
}

#[derive(Deserialize)]
pub struct SavedQuery {
    saved: Option<String>,
    done: Option<String>,
}

pub async fn show(
    State(state): State<AppState>,
    SignedIn(user): SignedIn<AdminUser>,
    headers: HeaderMap,
    axum::extract::Query(q): axum::extract::Query<SavedQuery>,
) -> PageResult {
    let actor = user.username.clone();
    let p = Page::new(&state, &headers, Some(user), CHANNEL_PATH).active("amazon");
    let form = StoreForm {
        website: "base".into(),
        marketplace: "US".into(),
        ..StoreForm::default()
    };
    let done = match q.saved {
        Some(_) => "integration.saved",
        None => done_message(q.done.as_deref()),
    };
    let shown = Shown {
        actor: &actor,
        errors: FormErrors::default(),
        form,
        done,
    };
    page(&state, &headers, p, shown).await
}

pub async fn add_store(
    State(state): State<AppState>,
    SignedIn(user): SignedIn<AdminUser>,
    headers: HeaderMap,
    CsrfForm(form): CsrfForm<StoreForm>,
) -> PageResult {
    // Stores are added only behind a valid key, as the page shows them, or
    // while the account service cannot say (the store is registered later).
    let request_id = web::request_id::of_headers(&headers);
    let check = state.gate.check(&state.config(), request_id).await;
    if !matches!(check.status, KeyStatus::Valid | KeyStatus::Unreachable) {
        return Ok(Redirect::to(CHANNEL_PATH).into_response());
    }
    let input = NewStoreInput {
        name: form.name.clone(),
        email: form.email.clone(),
        website: form.website.clone(),
        marketplace: form.marketplace.clone(),
    };
    let actor = user.username.clone();
    let caller = Caller::new(&state, &actor, &headers);
    let problems = match amazon_stores::add(&caller, &input).await {
        // A store that could not be registered is saved: the page then says why.
        Ok(_) => return Ok(Redirect::to(&format!("{CHANNEL_PATH}?saved=1")).into_response()),
        Err(AdminError::InvalidStore(problems)) => problems,
        Err(e) => return Err(e.into()),
    };
    let mut errors = FormErrors::default();
    for (field, msg) in problems {
        errors.add(field, msg);
    }
    let p = Page::new(&state, &headers, Some(user), CHANNEL_PATH).active("amazon");
    let shown = Shown {
        actor: &actor,
        errors,
        form,
        done: "",
    };
    page(&state, &headers, p, shown).await
}
