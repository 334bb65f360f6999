//! A key's Settings page (SPEC §10): its name, the services it may be used
//! for and the addresses it may be used from, and switching it off and on
//! again (unlike revoking, disabling can be undone). Viewers see the values;
//! members and owners change them. Another company's key is not found.

use askama::Template;
use axum::extract::{Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Redirect};
use web::extract::Id;
use web::i18n::T;
use web::page::{CsrfForm, SignedIn};

use super::key_policy_form::{self as policy, FormPairs, ServiceBox, SERVICES_SHOWN};
use super::portal::{status_label, PORTAL};
use super::{field_refusal, Chrome, FormErrors, NoticeQuery, Page, PageResult};
use crate::api_keys;
use crate::key_settings::{change_key, KeyChangeInput};
use crate::store::{Account, KeyRow};
use crate::verify::Status;
use crate::AppState;

#[derive(Template)]
#[template(path = "key_settings.html")]
struct SettingsPage {
    t: T,
    c: Chrome,
    id: String,
    /// The key's name as stored (the heading), not as typed.
    name: String,
    hint: String,
    status: Status,
    status_label: &'static str,
    disabled: bool,
    /// Neither revoked nor expired: there is something to change.
    live: bool,
    /// The reader may change it (not a viewer) and it is live.
    can_change: bool,
    notice: &'static str,
    errors: FormErrors,
    form_name: String,
    services: Vec<ServiceBox>,
    form_ips: String,
    /// For reading only: the services' labels (empty: every service) and
    /// the allowed addresses (empty: any).
    services_text: String,
    ips: Vec<String>,
}

fn settings_path(id: &str) -> String {
    format!("{PORTAL}/keys/{id}/settings")
}

/// The page for `key` as it is stored, its form filled in from it.
fn settings_page(
    state: &AppState,
    headers: &HeaderMap,
    user: Account,
    key: KeyRow,
    notice: &'static str,
) -> (SettingsPage, Option<axum::http::HeaderValue>) {
    let status = api_keys::key_status(&key, state.clock.now());
    let live = matches!(status, Status::Valid | Status::Disabled);
    let can_change = live && user.role.can_write();
    let catalog = &state.cfg.services;
    let (t, c, cookie) = Page::new(state, headers, Some(user), &settings_path(&key.id)).parts();
    let page = SettingsPage {
        t,
        c,
        status,
        status_label: status_label(status),
        disabled: key.disabled_at.is_some(),
        live,
        can_change,
        notice,
        errors: FormErrors::default(),
        form_name: key.name.clone(),
        services: policy::boxes_of_key(catalog, key.services.as_deref()),
        form_ips: policy::ips_text(key.allowed_ips.as_deref()),
        services_text: policy::service_labels(catalog, key.services.as_deref()),
        ips: policy::ips_text(key.allowed_ips.as_deref())
            .lines()
            .map(str::to_owned)
            .collect(),
        id: key.id,
        name: key.name,
        hint: key.hint,
    };
    (page, cookie)
}

/// `GET {PORTAL}/keys/{id}/settings`
pub async fn show(
    State(state): State<AppState>,
    SignedIn(user): SignedIn<Account>,
    headers: HeaderMap,
    Id(id): Id,
    Query(q): Query<NoticeQuery>,
) -> PageResult {
    let key = api_keys::company_key(&state, &user.company_id, &id).await?;
    let notice = q.key(&[
        ("saved", "keysettings.saved"),
        ("disabled", "keysettings.disabled_notice"),
        ("enabled", "keysettings.enabled_notice"),
    ]);
    let (page, cookie) = settings_page(&state, &headers, user, key, notice);
    Ok(Page::render(cookie, StatusCode::OK, &page))
}

/// `POST {PORTAL}/keys/{id}/settings`: the settings form (name, services,
/// addresses: a field the form does not carry stays as it is), or the
/// Disable/Enable form (`disabled=on|off`, nothing else changes).
pub async fn save(
    State(state): State<AppState>,
    SignedIn(user): SignedIn<Account>,
    headers: HeaderMap,
    Id(id): Id,
    CsrfForm(form): CsrfForm<FormPairs>,
) -> PageResult {
    crate::members::require_writer(&user)?;
    // Another company's key is not found, whatever the form holds.
    api_keys::company_key(&state, &user.company_id, &id).await?;
    if let Some(switch) = form.get("disabled") {
        let disabled = switch == "on";
        let input = KeyChangeInput {
            disabled: Some(disabled),
            ..KeyChangeInput::default()
        };
        change_key(&state, &user, &id, input).await?;
        let notice = if disabled { "disabled" } else { "enabled" };
        let to = format!("{}?notice={notice}", settings_path(&id));
        return Ok(Redirect::to(&to).into_response());
    }
    let catalog = &state.cfg.services;
    let input = KeyChangeInput {
        name: form.owned("name"),
        disabled: None,
        allowed_ips: form.get("allowed_ips").map(policy::ips_of_text),
        services: form
            .get(SERVICES_SHOWN)
            .map(|_| policy::services_of_form(catalog, &form)),
    };
    // Every field's refusal at once, beside it.
    let errors = policy::field_errors(
        catalog,
        input.name.as_deref(),
        input.allowed_ips.clone().flatten().as_deref(),
        input.services.clone().flatten().as_deref(),
    );
    let (errors, status) = if errors.is_empty() {
        match change_key(&state, &user, &id, input).await {
            Ok(_) => {
                let to = format!("{}?notice=saved", settings_path(&id));
                return Ok(Redirect::to(&to).into_response());
            }
            Err(e) => {
                let refusal = field_refusal(e)?;
                (refusal.errors, refusal.status)
            }
        }
    } else {
        (errors, StatusCode::UNPROCESSABLE_ENTITY)
    };
    // The form again with what was entered, its errors beside the fields.
    let key = api_keys::company_key(&state, &user.company_id, &id).await?;
    let (mut page, cookie) = settings_page(&state, &headers, user, key, "");
    page.errors = errors;
    if let Some(name) = form.owned("name") {
        page.form_name = name;
    }
    if let Some(ips) = form.owned("allowed_ips") {
        page.form_ips = ips;
    }
    if form.get(SERVICES_SHOWN).is_some() {
        page.services = policy::boxes_of_form(catalog, &form);
    }
    Ok(Page::render(cookie, status, &page))
}
