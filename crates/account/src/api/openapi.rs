//! The OpenAPI document of the JSON API, served at `/api/openapi.json`. It is
//! generated from the handlers' `#[utoipa::path]` and the answer types, with
//! the path list taken from the router itself (`super::routes`), so routes
//! and document cannot drift; tests snapshot it, and schemathesis in the
//! test command checks the answers against it.

use std::sync::LazyLock;

use axum::http::header;
use axum::response::IntoResponse;
use utoipa::openapi::security::{ApiKey, ApiKeyValue, SecurityScheme};
use utoipa::{Modify, OpenApi, ToSchema};

/// The document's frame: info, servers, the session security scheme, and
/// the two routes documented here because they are routed outside the API
/// (`/healthz` and `/readyz`, in `crate::router`).
#[derive(OpenApi)]
#[openapi(
    info(
        title = "Commerce account service",
        version = "1.0.0",
        description = "Accounts, companies, API keys and their verification for the Amazon Sales Channel. Errors are {\"error\": {\"code\", \"message\"}}. Authentication is the session cookie `acct_sid` set by signup or login; state-changing cookie requests must be same-origin JSON.",
    ),
    servers((url = "/")),
    paths(healthz, readyz),
    modifiers(&SessionCookie),
)]
pub struct ApiDoc;

struct SessionCookie;

impl Modify for SessionCookie {
    fn modify(&self, doc: &mut utoipa::openapi::OpenApi) {
        let components = doc.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "session",
            SecurityScheme::ApiKey(ApiKey::Cookie(ApiKeyValue::new("acct_sid"))),
        );
        // A sign-in waiting for its second step (`POST /api/v1/login`).
        components.add_security_scheme(
            "pending_sign_in",
            SecurityScheme::ApiKey(ApiKey::Cookie(ApiKeyValue::new("acct_2fa"))),
        );
        // The Amazon routes: the company's API key, as the gateway checks it.
        components.add_security_scheme(
            "api_key",
            SecurityScheme::ApiKey(ApiKey::Header(ApiKeyValue::new("x-api-key"))),
        );
    }
}

/// Whether the service is up: `ok` (routed by `crate::router`).
#[utoipa::path(
    get,
    path = "/healthz",
    operation_id = "healthz",
    tag = "health",
    responses((status = 200, description = "The service is up.", body = String, content_type = "text/plain"))
)]
#[allow(dead_code)] // described only: the route is `crate::healthz`
async fn healthz() {}

/// Whether the service can serve: its database answers (routed by `crate::router`).
#[utoipa::path(
    get,
    path = "/readyz",
    operation_id = "readyz",
    tag = "health",
    responses(
        (status = 200, description = "Ready: `{\"status\": \"ready\"}`.", body = ReadyAnswer),
        (status = 503, description = "The database does not answer within 2 s.", body = ErrorBody),
    )
)]
#[allow(dead_code)] // described only: the route is `web::health::readyz`
async fn readyz() {}

/// The readiness answer.
#[derive(ToSchema)]
#[allow(dead_code)] // described only: written by `web::health::readyz`
pub struct ReadyAnswer {
    /// Always `ready`.
    status: String,
}

/// The generated document, serialized once.
static DOCUMENT: LazyLock<Vec<u8>> = LazyLock::new(|| {
    let (_, doc) = super::routes().split_for_parts();
    // The types are ours: serializing them cannot fail.
    doc.to_pretty_json()
        .map(String::into_bytes)
        .unwrap_or_default()
});

/// The OpenAPI document as JSON text.
pub fn document() -> &'static [u8] {
    &DOCUMENT
}

pub async fn openapi_json() -> impl IntoResponse {
    ([(header::CONTENT_TYPE, "application/json")], document())
}

/// Every error answer of the JSON API: `{"error": {"code", "message", "request_id"}}`, as
/// `web::Error` writes it. Described once here and referenced by every
/// documented error status.
#[derive(serde::Serialize, ToSchema)]
pub struct ErrorBody {
    pub error: ErrorDetail,
}

#[derive(serde::Serialize, ToSchema)]
pub struct ErrorDetail {
    /// A stable, machine-readable code, e.g. `invalid_credentials`.
    pub code: String,
    /// A sentence for people.
    pub message: String,
    /// The request's `x-request-id` (the one the client sent when valid, else
    /// a fresh one), as in the answer's header and the service's log.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub request_id: Option<String>,
}

/// A key's environment.
#[derive(ToSchema)]
#[schema(rename_all = "lowercase")]
#[allow(dead_code)] // described only: environments travel as text
pub enum Environment {
    Production,
    Sandbox,
}
