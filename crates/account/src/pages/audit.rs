//! My Account > Audit log: who did what to the company's keys, sessions and members.

use askama::Template;
use axum::extract::{Query, State};
use axum::http::{HeaderMap, StatusCode};
use serde::Deserialize;
use web::clock::human;
use web::i18n::T;

use super::{Chrome, Page, PageResult};
use crate::audit;
use crate::store::{Account, EventRow};
use crate::AppState;
use web::page::SignedIn;

const AUDIT: &str = "/account/audit";
const PAGE_SIZE: i64 = 50;

pub struct EventLine {
    when: String,
    actor: String,
    label: &'static str,
    summary: String,
}

#[derive(Template)]
#[template(path = "audit.html")]
struct AuditPage {
    t: T,
    c: Chrome,
    events: Vec<EventLine>,
    next_before: Option<i64>,
}

#[derive(Deserialize)]
pub struct AuditQuery {
    before: Option<String>,
}

/// The non-secret facts of an event in one line: the key's name and hint, where
/// a leak was found, the sign-in's address.
fn summary(e: &EventRow, t: T) -> String {
    let detail: serde_json::Value = e
        .detail
        .as_deref()
        .and_then(|d| serde_json::from_str(d).ok())
        .unwrap_or_default();
    let mut parts: Vec<String> = Vec::new();
    for field in ["name", "hint", "email", "role", "company", "url"] {
        if let Some(v) = detail.get(field).and_then(|v| v.as_str()) {
            parts.push(match (field, v) {
                ("role", "owner") => t.get("role.owner").to_owned(),
                ("role", "member") => t.get("role.member").to_owned(),
                _ => v.to_owned(),
            });
        }
    }
    if let Some(h) = detail.get("new_hint").and_then(|v| v.as_str()) {
        parts.push(format!("→ {h}"));
    }
    if let Some(ip) = &e.ip {
        parts.push(ip.clone());
    }
    parts.join(" · ")
}

pub async fn show(
    State(state): State<AppState>,
    SignedIn(user): SignedIn<Account>,
    headers: HeaderMap,
    Query(q): Query<AuditQuery>,
) -> PageResult {
    let before = q
        .before
        .as_deref()
        .and_then(|b| b.parse::<i64>().ok())
        .filter(|b| *b > 0);
    let (rows, next_before) = audit::events_page(&state, &user, before, PAGE_SIZE).await?;
    let (t, c, cookie) = Page::new(&state, &headers, Some(user), AUDIT).parts();
    let events = rows
        .iter()
        .map(|e| EventLine {
            when: human(e.created_at),
            actor: e.actor.clone().unwrap_or_default(),
            label: audit::label(&e.action),
            summary: summary(e, t),
        })
        .collect();
    let page = AuditPage {
        t,
        c,
        events,
        next_before,
    };
    Ok(Page::render(cookie, StatusCode::OK, &page))
}
