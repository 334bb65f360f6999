//! The company's audit trail: `GET /api/v1/audit`, newest first, a page at a time.

use axum::extract::rejection::QueryRejection;
use axum::extract::{Query, State};
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use web::clock::rfc3339;
use web::Error;

use crate::auth::CurrentUser;
use crate::store::EventRow;
use crate::AppState;
use crate::{AccountError, FieldError};

use super::openapi::ErrorBody;

pub const DEFAULT_PAGE: i64 = 50;
pub const MAX_PAGE: i64 = 200;

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct AuditQuery {
    /// Events per page: 1 to 200 (default 50).
    #[param(minimum = 1, maximum = 200, default = 50)]
    limit: Option<i64>,
    /// Only events older than this event id: the `next_before` of the previous page.
    #[param(minimum = 1)]
    before: Option<i64>,
}

#[derive(Serialize, ToSchema)]
pub struct EventView {
    id: i64,
    action: String,
    #[schema(required = true)]
    actor: Option<String>,
    #[schema(required = true)]
    target: Option<String>,
    #[schema(value_type = Object)]
    detail: serde_json::Value,
    #[schema(required = true)]
    ip: Option<String>,
    #[schema(format = DateTime)]
    created_at: String,
}

impl From<EventRow> for EventView {
    fn from(e: EventRow) -> Self {
        EventView {
            id: e.id,
            action: e.action,
            actor: e.actor,
            target: e.target,
            detail: e
                .detail
                .as_deref()
                .and_then(|d| serde_json::from_str(d).ok())
                .unwrap_or_else(|| serde_json::json!({})),
            ip: e.ip,
            created_at: rfc3339(e.created_at),
        }
    }
}

/// A page of the audit trail: `{"events": [...], "next_before": id or null}`.
#[derive(Serialize, ToSchema)]
pub struct EventPage {
    events: Vec<EventView>,
    /// The `before` of the next page; `null` on the last page.
    next_before: Option<i64>,
}

/// The company's audit trail, newest first.
#[utoipa::path(
    get,
    path = "/api/v1/audit",
    operation_id = "list_audit_events",
    tag = "audit",
    security(("session" = [])),
    params(AuditQuery),
    responses(
        (status = 200, description = "A page of events.", body = EventPage),
        (status = 400, description = "The query is not integers.", body = ErrorBody),
        (status = 401, description = "Not signed in.", body = ErrorBody),
        (status = 403, description = "The role may not read the audit trail.", body = ErrorBody),
        (status = 422, description = "limit or before is out of range.", body = ErrorBody),
    )
)]
pub async fn list_events(
    State(state): State<AppState>,
    CurrentUser(user): CurrentUser,
    query: Result<Query<AuditQuery>, QueryRejection>,
) -> Result<Response, Error> {
    let Query(q) = query.map_err(|_| {
        Error::bad_request(
            "invalid_query",
            "Use limit (1 to 200) and before (an event id), both integers.",
        )
    })?;
    let limit = q.limit.unwrap_or(DEFAULT_PAGE);
    if !(1..=MAX_PAGE).contains(&limit) {
        return Err(AccountError::Invalid(FieldError::new("limit", "error.audit_limit")).into());
    }
    if q.before.is_some_and(|b| b < 1) {
        return Err(AccountError::Invalid(FieldError::new("before", "error.audit_before")).into());
    }
    let (rows, next) = crate::audit::events_page(&state, &user, q.before, limit).await?;
    let events: Vec<EventView> = rows.into_iter().map(EventView::from).collect();
    Ok(Json(EventPage {
        events,
        next_before: next,
    })
    .into_response())
}
