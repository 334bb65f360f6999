//! Shared access (SPEC §9): the page of the account's companies, where the
//! session's current company is switched and another company made. It
//! works for a signed-in person in no company too (removed from their last
//! one, or it closed): they make one here. Closing one is `close_company`.

use askama::Template;
use axum::extract::{Query, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use serde::Deserialize;
use web::extract::Id;
use web::i18n::T;
use web::page::{to_sign_in, CsrfForm};
use web::Error;

use super::members::role_label;
use super::{field_refusal, Chrome, FormErrors, Page, PageResult, PORTAL};
use crate::auth;
use crate::companies;
use crate::store::Account;
use crate::AppState;

pub const COMPANIES: &str = "/account/companies";

/// One of the account's companies, as the page lists it.
pub struct CompanyLine {
    id: String,
    name: String,
    role_label: &'static str,
    /// The session's current company.
    current: bool,
    /// The account owns it (and may close it once it is current).
    owner: bool,
}

#[derive(Template)]
#[template(path = "companies.html")]
struct CompaniesPage {
    t: T,
    c: Chrome,
    companies: Vec<CompanyLine>,
    notice: &'static str,
    errors: FormErrors,
    form_name: String,
    /// A local page the switch forms go on to, or "" for the API Portal.
    next: String,
    /// The company an owner removed this browser's session from, told to a
    /// person left in no company; or "".
    removed_from: String,
}

#[derive(Deserialize)]
pub struct CompaniesQuery {
    notice: Option<String>,
    next: Option<String>,
}

/// The signed-in person, in a company or in none; `None` answers the
/// redirect to sign in (and back to `path`).
async fn person(state: &AppState, headers: &HeaderMap, path: &str) -> Result<Account, Response> {
    match auth::current_person(state, headers).await {
        Ok(Some(p)) => Ok(p),
        Ok(None) => Err(to_sign_in(state, path)),
        Err(e) => Err(super::PageErr(e).into_response()),
    }
}

async fn companies_page(
    state: &AppState,
    headers: &HeaderMap,
    person: Account,
    notice: &'static str,
    errors: FormErrors,
    form_name: String,
    next: String,
) -> Result<(CompaniesPage, Option<HeaderValue>), Error> {
    let companies: Vec<CompanyLine> = companies::list(state, &person)
        .await?
        .into_iter()
        .map(|co| CompanyLine {
            current: co.id == person.company_id,
            owner: co.role.is_owner(),
            role_label: role_label(co.role),
            id: co.id,
            name: co.name,
        })
        .collect();
    let removed_from = if companies.is_empty() {
        auth::removed_from(state, headers)
            .await?
            .unwrap_or_default()
    } else {
        String::new()
    };
    let (t, c, cookie) = Page::new(state, headers, Some(person), COMPANIES).parts();
    let page = CompaniesPage {
        t,
        c,
        companies,
        notice,
        errors,
        form_name,
        next,
        removed_from,
    };
    Ok((page, cookie))
}

/// `GET /account/companies`.
pub async fn show(
    State(state): State<AppState>,
    headers: HeaderMap,
    Query(q): Query<CompaniesQuery>,
) -> PageResult {
    let person = match person(&state, &headers, COMPANIES).await {
        Ok(p) => p,
        Err(res) => return Ok(res),
    };
    let notice = match q.notice.as_deref() {
        Some("closed") => "companies.closed",
        Some("left") => "companies.left",
        _ => "",
    };
    let next = q
        .next
        .as_deref()
        .and_then(web::safe_local_path)
        .unwrap_or("")
        .to_owned();
    let (page, cookie) = companies_page(
        &state,
        &headers,
        person,
        notice,
        FormErrors::default(),
        String::new(),
        next,
    )
    .await?;
    Ok(Page::render(cookie, StatusCode::OK, &page))
}

#[derive(Deserialize)]
pub struct CreateForm {
    #[serde(default)]
    name: String,
}

/// `POST /account/companies`: a company of the person's own, their current
/// one from now on; on to the API Portal.
pub async fn create(
    State(state): State<AppState>,
    headers: HeaderMap,
    CsrfForm(form): CsrfForm<CreateForm>,
) -> PageResult {
    let person = match person(&state, &headers, COMPANIES).await {
        Ok(p) => p,
        Err(res) => return Ok(res),
    };
    let hash = auth::session_hash(&state, &headers);
    match companies::create(&state, &person, &form.name, hash.as_deref()).await {
        Ok(_) => Ok(Redirect::to(&format!("{PORTAL}?notice=company_created")).into_response()),
        Err(e) => {
            let refusal = field_refusal(e)?;
            let (page, cookie) = companies_page(
                &state,
                &headers,
                person,
                "",
                refusal.errors,
                form.name,
                String::new(),
            )
            .await?;
            Ok(Page::render(cookie, refusal.status, &page))
        }
    }
}

#[derive(Deserialize)]
pub struct SwitchForm {
    next: Option<String>,
}

/// `POST /account/companies/{id}/switch`: the session's current company
/// becomes `id` (one the account belongs to, else not found); on to a
/// local `next`, else the API Portal.
pub async fn switch(
    State(state): State<AppState>,
    headers: HeaderMap,
    Id(id): Id,
    CsrfForm(form): CsrfForm<SwitchForm>,
) -> PageResult {
    let person = match person(&state, &headers, COMPANIES).await {
        Ok(p) => p,
        Err(res) => return Ok(res),
    };
    let hash = auth::session_hash(&state, &headers);
    companies::switch(&state, &person, &id, hash.as_deref()).await?;
    let to = form
        .next
        .as_deref()
        .filter(|n| !n.is_empty())
        .and_then(web::safe_local_path)
        .map_or_else(|| format!("{PORTAL}?notice=switched"), str::to_owned);
    Ok(Redirect::to(&to).into_response())
}
