//! Closing a company (SPEC §9): the owner's page that says what happens and
//! asks for the company's name, and the closing itself.

use askama::Template;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Redirect};
use serde::Deserialize;
use web::extract::Id;
use web::i18n::T;
use web::page::{CsrfForm, SignedIn};

use super::{field_refusal, Chrome, FormErrors, Page, PageResult, COMPANIES};
use crate::store::Account;
use crate::{companies, members, AccountError, AppState};

#[derive(Template)]
#[template(path = "close_company.html")]
struct ClosePage {
    t: T,
    c: Chrome,
    id: String,
    company: String,
    errors: FormErrors,
    form_confirm: String,
}

/// The owner may close `id` only while it is the session's current company
/// (as the closing itself checks): another company of theirs was switched
/// away from, one not theirs is not found.
async fn closable(state: &AppState, user: &Account, id: &str) -> Result<(), AccountError> {
    if id != user.company_id {
        let theirs = companies::list(state, user).await?;
        return Err(if theirs.iter().any(|c| c.id == id) {
            AccountError::StaleCompany
        } else {
            AccountError::CompanyNotFound
        });
    }
    members::require_owner(user)
}

fn close_page(
    state: &AppState,
    headers: &HeaderMap,
    user: Account,
    errors: FormErrors,
    form_confirm: String,
    status: StatusCode,
) -> axum::response::Response {
    let path = format!("{COMPANIES}/{}/close", user.company_id);
    let id = user.company_id.clone();
    let company = user.company_name.clone();
    let (t, c, cookie) = Page::new(state, headers, Some(user), &path).parts();
    let page = ClosePage {
        t,
        c,
        id,
        company,
        errors,
        form_confirm,
    };
    Page::render(cookie, status, &page)
}

/// `GET /account/companies/{id}/close`.
pub async fn confirm(
    State(state): State<AppState>,
    SignedIn(user): SignedIn<Account>,
    headers: HeaderMap,
    Id(id): Id,
) -> PageResult {
    closable(&state, &user, &id).await?;
    Ok(close_page(
        &state,
        &headers,
        user,
        FormErrors::default(),
        String::new(),
        StatusCode::OK,
    ))
}

#[derive(Deserialize)]
pub struct CloseForm {
    #[serde(default)]
    confirm: String,
}

/// `POST /account/companies/{id}/close`: closed, back to the companies
/// left; a name that does not match shows the form again.
pub async fn submit(
    State(state): State<AppState>,
    SignedIn(user): SignedIn<Account>,
    headers: HeaderMap,
    Id(id): Id,
    CsrfForm(form): CsrfForm<CloseForm>,
) -> PageResult {
    match companies::close(&state, &user, &id, &form.confirm).await {
        Ok(()) => Ok(Redirect::to(&format!("{COMPANIES}?notice=closed")).into_response()),
        Err(e) => {
            let refusal = field_refusal(e)?;
            Ok(close_page(
                &state,
                &headers,
                user,
                refusal.errors,
                form.confirm,
                refusal.status,
            ))
        }
    }
}
