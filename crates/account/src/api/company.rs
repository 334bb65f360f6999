//! The signed-in account's company and its settings.

use axum::extract::State;
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use web::extract::ApiJson;
use web::Error;

use crate::auth::CurrentUserWrite;
use crate::{key_settings, store, two_factor, AppState};

use super::openapi::ErrorBody;

/// The settings to change; a field left out stays as it is.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CompanyChange {
    /// Every member must sign in with a second step; members without one
    /// set it up at their next sign-in, and none can turn theirs off.
    require_two_factor: Option<bool>,
    /// New keys must expire within this many days (1 to 3660); `null`: no
    /// limit. Keys that exist keep their expiry.
    #[serde(default, deserialize_with = "super::key_settings::nullable")]
    #[schema(value_type = Option<i64>, minimum = 1, maximum = 3660)]
    max_key_lifetime_days: Option<Option<i64>>,
}

/// A company and its settings.
#[derive(Serialize, ToSchema)]
pub struct CompanySettings {
    id: String,
    name: String,
    require_two_factor: bool,
    /// New keys must expire within this many days (`null`: no limit).
    #[schema(required = true)]
    max_key_lifetime_days: Option<i64>,
}

/// The owner changes the company's settings.
#[utoipa::path(
    patch,
    path = "/api/v1/company",
    operation_id = "update_company",
    tag = "account",
    security(("session" = [])),
    request_body(content = inline(CompanyChange)),
    responses(
        (status = 200, description = "The company, as it is now.", body = CompanySettings),
        (status = 400, description = "The body is not JSON.", body = ErrorBody),
        (status = 401, description = "Not signed in.", body = ErrorBody),
        (status = 403, description = "Cross-origin request, or `owner_only`.", body = ErrorBody),
        (status = 413, description = "The body is too large.", body = ErrorBody),
        (status = 415, description = "The body is not application/json.", body = ErrorBody),
        (status = 422, description = "A field is not valid.", body = ErrorBody),
    )
)]
pub async fn update_company(
    State(state): State<AppState>,
    CurrentUserWrite(user): CurrentUserWrite,
    ApiJson(body): ApiJson<CompanyChange>,
) -> Result<Response, Error> {
    if !user.role.is_owner() {
        return Err(crate::AccountError::OwnerOnly.into());
    }
    if let Some(days) = body.max_key_lifetime_days {
        key_settings::set_max_lifetime(&state, &user, days).await?;
    }
    if let Some(require) = body.require_two_factor {
        two_factor::set_company_requirement(&state, &user, require).await?;
    }
    let require_two_factor =
        store::company_requires_two_factor(&state.db, &user.company_id).await?;
    let max_key_lifetime_days = store::key_lifetime(&state.db, &user.company_id).await?;
    Ok(Json(CompanySettings {
        id: user.company_id,
        name: user.company_name,
        require_two_factor,
        max_key_lifetime_days,
    })
    .into_response())
}
