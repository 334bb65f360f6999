//! Stores > Settings > Configuration: the registry's sections rendered as a
//! form per scope, with secrets masked and Save Config.

use std::collections::HashMap;

use askama::Template;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Redirect};
use serde::Deserialize;
use web::i18n::T;
use web::Error;

use super::{render, Chrome, Page, PageResult, CONFIG_PATH};
use crate::config::{self, Input, Scope, ScopeRef, MASK, REGISTRY};
use crate::store::{self, AdminUser, StoreView, Website};
use crate::AppState;
use web::page::{CsrfForm, SignedIn};

struct TabView {
    label: &'static str,
    sections: Vec<(&'static str, &'static str)>,
}

struct FieldView {
    id: String,
    path: &'static str,
    label: &'static str,
    comment: &'static str,
    kind: &'static str,
    value: String,
    /// The value inherited from a wider scope, shown as a placeholder.
    inherited: String,
    options: Vec<(&'static str, &'static str)>,
    scope_label: &'static str,
    error: &'static str,
}

struct GroupView {
    id: &'static str,
    label: &'static str,
    fields: Vec<FieldView>,
}

#[derive(Template)]
#[template(path = "config.html")]
struct ConfigPage {
    t: T,
    c: Chrome,
    tabs: Vec<TabView>,
    section_id: &'static str,
    section_label: &'static str,
    groups: Vec<GroupView>,
    scope_value: String,
    /// (value, label, indented) for the scope switcher: websites, their store views under them.
    scope_options: Vec<(String, String, bool)>,
    saved: bool,
    has_errors: bool,
    form_action: String,
    /// `--account-url`, when it overrides the configured gateway URL.
    gateway_override: String,
    at_default: bool,
}

#[derive(Deserialize, Default)]
pub struct ScopeQuery {
    /// `default`, `websites:CODE` or `stores:CODE`, as the switcher sends it.
    scope: Option<String>,
    saved: Option<String>,
}

async fn scope_from(state: &AppState, q: Option<&str>) -> Result<ScopeRef, Error> {
    let q = q.unwrap_or("default");
    let (scope, code) = match q.split_once(':') {
        Some((s, c)) => (s, Some(c)),
        None => (q, None),
    };
    let scope =
        Scope::parse(scope).ok_or_else(|| Error::bad_request("bad_scope", "Unknown scope."))?;
    config::resolve_scope(&state.db, scope, code)
        .await
        .map_err(|_| Error::not_found("Unknown website or store view."))
}

fn scope_label(f: &config::Field) -> &'static str {
    if f.scopes.contains(&Scope::Stores) {
        "config.scope.store_view"
    } else if f.scopes.contains(&Scope::Websites) {
        "config.scope.website"
    } else {
        "config.scope.global"
    }
}

fn tabs() -> Vec<TabView> {
    let mut tabs: Vec<TabView> = Vec::new();
    for s in REGISTRY {
        match tabs.iter_mut().find(|t| t.label == s.tab) {
            Some(t) => t.sections.push((s.id, s.label)),
            None => tabs.push(TabView {
                label: s.tab,
                sections: vec![(s.id, s.label)],
            }),
        }
    }
    tabs
}

async fn build(
    state: &AppState,
    section: &'static config::Section,
    at: ScopeRef,
    submitted: Option<&HashMap<String, String>>,
    errors: &HashMap<&'static str, &'static str>,
) -> Result<Vec<GroupView>, Error> {
    let cfg = state.config();
    let mut groups = Vec::new();
    for g in section.groups {
        let mut fields = Vec::new();
        for f in g.fields.iter().filter(|f| f.shown_at(at.scope)) {
            let own = cfg.get_at(f.path, at).await?;
            let effective = cfg.get(f.path, at).await?;
            let value = match submitted.and_then(|s| s.get(f.path)) {
                // A re-shown form keeps what was typed, but never echoes a secret.
                Some(v) if !f.is_secret() => v.clone(),
                _ if f.is_secret() => own.as_ref().map(|_| MASK.to_owned()).unwrap_or_default(),
                _ => own.clone().unwrap_or_default(),
            };
            let inherited = if own.is_none() && !f.is_secret() {
                effective.unwrap_or_default()
            } else {
                String::new()
            };
            let (kind, options) = match f.input {
                Input::Text => ("text", Vec::new()),
                Input::Url => ("url", Vec::new()),
                Input::Obscure => ("password", Vec::new()),
                Input::SecretArea => ("textarea", Vec::new()),
                Input::Select(o) => ("select", o.to_vec()),
            };
            fields.push(FieldView {
                id: f.id(),
                path: f.path,
                label: f.label,
                comment: f.comment,
                kind,
                value,
                inherited,
                options,
                scope_label: scope_label(f),
                error: errors.get(f.path).copied().unwrap_or(""),
            });
        }
        if !fields.is_empty() {
            groups.push(GroupView {
                id: g.id,
                label: g.label,
                fields,
            });
        }
    }
    Ok(groups)
}

fn scope_options(websites: &[Website], stores: &[StoreView]) -> Vec<(String, String, bool)> {
    let mut out = Vec::new();
    for w in websites {
        out.push((format!("websites:{}", w.code), w.name.clone(), false));
        for s in stores.iter().filter(|s| s.website_id == w.id) {
            out.push((format!("stores:{}", s.code), s.name.clone(), true));
        }
    }
    out
}

fn scope_value(at: ScopeRef, websites: &[Website], stores: &[StoreView]) -> String {
    match at.scope {
        Scope::Default => "default".into(),
        Scope::Websites => websites
            .iter()
            .find(|w| w.id == at.id)
            .map(|w| format!("websites:{}", w.code))
            .unwrap_or_default(),
        Scope::Stores => stores
            .iter()
            .find(|s| s.id == at.id)
            .map(|s| format!("stores:{}", s.code))
            .unwrap_or_default(),
    }
}

#[allow(clippy::too_many_arguments)]
async fn respond(
    state: &AppState,
    headers: &HeaderMap,
    p: Page,
    section: &'static config::Section,
    at: ScopeRef,
    submitted: Option<&HashMap<String, String>>,
    errors: HashMap<&'static str, &'static str>,
    saved: bool,
) -> PageResult {
    let _ = headers;
    let groups = build(state, section, at, submitted, &errors).await?;
    let websites = store::websites(&state.db).await?;
    let stores = store::store_views(&state.db).await?;
    let scope_value = scope_value(at, &websites, &stores);
    let (t, c, cookie) = p.parts();
    let has_errors = !errors.is_empty();
    let page = ConfigPage {
        t,
        c,
        tabs: tabs(),
        section_id: section.id,
        section_label: section.label,
        groups,
        form_action: format!(
            "{CONFIG_PATH}/{}?scope={}",
            section.id,
            web::page::encode(&scope_value)
        ),
        scope_value,
        scope_options: scope_options(&websites, &stores),
        saved,
        has_errors,
        gateway_override: state.cfg.account_url.clone().unwrap_or_default(),
        at_default: at.scope == Scope::Default,
    };
    let status = if has_errors {
        StatusCode::UNPROCESSABLE_ENTITY
    } else {
        StatusCode::OK
    };
    Ok(render(cookie, status, &page))
}

pub async fn show(
    State(state): State<AppState>,
    SignedIn(user): SignedIn<AdminUser>,
    headers: HeaderMap,
    Path(section_id): Path<String>,
    Query(q): Query<ScopeQuery>,
) -> PageResult {
    let path = format!("{CONFIG_PATH}/{section_id}");
    let section =
        config::section(&section_id).ok_or_else(|| Error::not_found("No such section."))?;
    let at = scope_from(&state, q.scope.as_deref()).await?;
    let p = Page::new(&state, &headers, Some(user), &path).active("config");
    respond(
        &state,
        &headers,
        p,
        section,
        at,
        None,
        HashMap::new(),
        q.saved.is_some(),
    )
    .await
}

pub async fn save(
    State(state): State<AppState>,
    SignedIn(user): SignedIn<AdminUser>,
    headers: HeaderMap,
    Path(section_id): Path<String>,
    Query(q): Query<ScopeQuery>,
    CsrfForm(form): CsrfForm<HashMap<String, String>>,
) -> PageResult {
    let path = format!("{CONFIG_PATH}/{section_id}");
    let section =
        config::section(&section_id).ok_or_else(|| Error::not_found("No such section."))?;
    let at = scope_from(&state, q.scope.as_deref()).await?;
    let fields: Vec<&config::Field> = section
        .groups
        .iter()
        .flat_map(|g| g.fields)
        .filter(|f| f.shown_at(at.scope))
        .collect();
    // Validate everything first: a form with an error saves nothing.
    let mut errors = HashMap::new();
    for f in &fields {
        if let Some(v) = form.get(f.path) {
            if f.is_secret() && v == MASK {
                continue;
            }
            if let Err(e) = config::validate(f, v) {
                errors.insert(f.path, e.msg);
            }
        }
    }
    if !errors.is_empty() {
        let p = Page::new(&state, &headers, Some(user), &path).active("config");
        return respond(&state, &headers, p, section, at, Some(&form), errors, false).await;
    }
    let cfg = state.config();
    let now = state.clock.now();
    for f in &fields {
        let Some(v) = form.get(f.path) else { continue };
        if f.is_secret() && v == MASK {
            continue; // the mask sent back unchanged keeps the stored value
        }
        match cfg.set_by(&user.username, f.path, v, at, now).await {
            Ok(_) => {}
            Err(e) => return Err(e.into()),
        }
    }
    tracing::info!(user = %user.username, section = section.id, scope = %at.scope, "configuration saved");
    let scope = q.scope.as_deref().unwrap_or("default");
    Ok(Redirect::to(&format!(
        "{path}?scope={}&saved=1",
        web::page::encode(scope)
    ))
    .into_response())
}
