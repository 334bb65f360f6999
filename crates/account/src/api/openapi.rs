//! The OpenAPI document of the JSON API, served at `/api/openapi.json`. It is
//! written by hand and kept honest by tests (every documented operation is
//! routed) and by schemathesis in the test command (answers match it).

use axum::http::header;
use axum::response::IntoResponse;

pub const DOCUMENT: &str = include_str!("../../openapi.json");

pub async fn openapi_json() -> impl IntoResponse {
    ([(header::CONTENT_TYPE, "application/json")], DOCUMENT)
}

/// Every error answer of the JSON API: `{"error": {"code", "message"}}`, as
/// `web::Error` writes it. Described once here and referenced by every
/// documented error status.
#[derive(serde::Serialize, utoipa::ToSchema)]
pub struct ErrorBody {
    pub error: ErrorDetail,
}

#[derive(serde::Serialize, utoipa::ToSchema)]
pub struct ErrorDetail {
    /// A stable, machine-readable code, e.g. `invalid_credentials`.
    pub code: String,
    /// A sentence for people.
    pub message: String,
}
