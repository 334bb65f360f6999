//! Shared access (SPEC §9): the signed-in account's companies, making one,
//! switching the session's current company, and closing one.

use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use web::extract::{ApiJson, Id};
use web::Error;

use super::openapi::ErrorBody;
use crate::auth::{self, check_same_origin, CurrentPerson, CurrentUserWrite};
use crate::store::{CompanyRow, Role};
use crate::{companies, AppState};

/// A company the account belongs to.
#[derive(Serialize, ToSchema)]
pub struct CompanyMembership {
    id: String,
    name: String,
    /// The account's role in it.
    role: Role,
    /// Whether it is the session's current company.
    current: bool,
}

impl CompanyMembership {
    fn of(c: CompanyRow, current: &str) -> CompanyMembership {
        CompanyMembership {
            current: c.id == current,
            id: c.id,
            name: c.name,
            role: c.role,
        }
    }
}

/// The account's companies.
#[derive(Serialize, ToSchema)]
pub struct CompanyList {
    companies: Vec<CompanyMembership>,
}

/// The signed-in account's companies, by name; `current` marks the
/// session's. An account in no company gets an empty list.
#[utoipa::path(
    get,
    path = "/api/v1/companies",
    operation_id = "list_companies",
    tag = "account",
    security(("session" = [])),
    responses(
        (status = 200, description = "The account's companies.", body = CompanyList),
        (status = 401, description = "Not signed in.", body = ErrorBody),
    )
)]
pub async fn list_companies(
    State(state): State<AppState>,
    CurrentPerson(user): CurrentPerson,
) -> Result<Response, Error> {
    let companies = companies::list(&state, &user)
        .await?
        .into_iter()
        .map(|c| CompanyMembership::of(c, &user.company_id))
        .collect();
    Ok(Json(CompanyList { companies }).into_response())
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewCompany {
    /// 1 to 100 characters.
    name: String,
}

/// Makes a company: the account is its owner, and it becomes the session's
/// current company.
#[utoipa::path(
    post,
    path = "/api/v1/companies",
    operation_id = "create_company",
    tag = "account",
    security(("session" = [])),
    request_body(content = inline(NewCompany)),
    responses(
        (status = 201, description = "The new company.", body = CompanyMembership),
        (status = 400, description = "The body is not JSON.", body = ErrorBody),
        (status = 401, description = "Not signed in.", body = ErrorBody),
        (status = 403, description = "Cross-origin request.", body = ErrorBody),
        (status = 413, description = "The body is too large.", body = ErrorBody),
        (status = 415, description = "The body is not application/json.", body = ErrorBody),
        (status = 422, description = "`name` is missing, empty or too long.", body = ErrorBody),
    )
)]
pub async fn create_company(
    State(state): State<AppState>,
    headers: HeaderMap,
    CurrentPerson(user): CurrentPerson,
    ApiJson(body): ApiJson<NewCompany>,
) -> Result<Response, Error> {
    check_same_origin(&headers, state.cfg.secure_cookies)?;
    let hash = auth::session_hash(&state, &headers);
    let made = companies::create(&state, &user, &body.name, hash.as_deref()).await?;
    let view = CompanyMembership {
        current: true,
        ..CompanyMembership::of(made, "")
    };
    Ok((StatusCode::CREATED, Json(view)).into_response())
}

/// Makes the company the session's current one: every route acts on it
/// from now on.
#[utoipa::path(
    post,
    path = "/api/v1/companies/{id}/switch",
    operation_id = "switch_company",
    tag = "account",
    security(("session" = [])),
    params(("id" = String, Path, description = "The company's id.")),
    responses(
        (status = 204, description = "It is the session's current company."),
        (status = 401, description = "Not signed in.", body = ErrorBody),
        (status = 403, description = "Cross-origin request.", body = ErrorBody),
        (status = 404, description = "The account belongs to no company with this id.", body = ErrorBody),
    )
)]
pub async fn switch_company(
    State(state): State<AppState>,
    headers: HeaderMap,
    CurrentPerson(user): CurrentPerson,
    Id(id): Id,
) -> Result<Response, Error> {
    check_same_origin(&headers, state.cfg.secure_cookies)?;
    let hash = auth::session_hash(&state, &headers);
    companies::switch(&state, &user, &id, hash.as_deref()).await?;
    Ok(StatusCode::NO_CONTENT.into_response())
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CloseCompany {
    /// The company's name, typed to confirm.
    confirm: String,
}

/// The owner closes the session's current company: its keys are revoked at
/// once on every node, its Amazon stores disconnected, its invitations
/// withdrawn and its members told by mail. The people keep their accounts
/// and their other companies.
#[utoipa::path(
    delete,
    path = "/api/v1/companies/{id}",
    operation_id = "close_company",
    tag = "account",
    security(("session" = [])),
    params(("id" = String, Path, description = "The company's id (the session's current company).")),
    request_body(content = inline(CloseCompany)),
    responses(
        (status = 204, description = "Closed."),
        (status = 400, description = "The body is not JSON.", body = ErrorBody),
        (status = 401, description = "Not signed in.", body = ErrorBody),
        (status = 403, description = "Cross-origin request, `owner_only`, or `no_company`.", body = ErrorBody),
        (status = 404, description = "The account belongs to no company with this id.", body = ErrorBody),
        (status = 409, description = "`company_switched`: it is not the session's current company.", body = ErrorBody),
        (status = 413, description = "The body is too large.", body = ErrorBody),
        (status = 415, description = "The body is not application/json.", body = ErrorBody),
        (status = 422, description = "`confirm` is not the company's name.", body = ErrorBody),
    )
)]
pub async fn close_company(
    State(state): State<AppState>,
    CurrentUserWrite(user): CurrentUserWrite,
    Id(id): Id,
    ApiJson(body): ApiJson<CloseCompany>,
) -> Result<Response, Error> {
    companies::close(&state, &user, &id, &body.confirm).await?;
    Ok(StatusCode::NO_CONTENT.into_response())
}
