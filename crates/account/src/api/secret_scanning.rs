//! `POST /api/v1/secret-scanning/verify`: GitHub's secret-scanning partner call.

use axum::body::Bytes;
use axum::extract::rejection::BytesRejection;
use axum::extract::State;
use axum::http::HeaderMap;
use axum::response::{IntoResponse, Response};
use axum::Json;
use utoipa::openapi::schema::ArrayBuilder;
use utoipa::openapi::{RefOr, Schema};
use utoipa::{PartialSchema, ToSchema};
use web::Error;

use crate::secret_scanning::{self, IDENTIFIER_HEADER, MAX_TOKENS, SIGNATURE_HEADER};
use crate::AppState;

use super::openapi::ErrorBody;

/// One reported token, as GitHub sends it (read by `secret_scanning::Report`).
#[derive(ToSchema)]
#[allow(dead_code)] // described only: the body is read from its raw bytes
pub struct LeakReport {
    token: String,
    #[schema(rename = "type")]
    token_type: String,
    url: Option<String>,
    source: Option<String>,
}

/// A report: at most 1000 tokens.
pub struct LeakReports;

impl PartialSchema for LeakReports {
    fn schema() -> RefOr<Schema> {
        ArrayBuilder::new()
            .items(LeakReport::schema())
            .max_items(Some(MAX_TOKENS))
            .into()
    }
}

impl ToSchema for LeakReports {}

/// The answer for one token (written by `secret_scanning::Answer`).
#[derive(ToSchema)]
#[allow(dead_code)] // described only: the domain writes the answer
pub struct LeakAnswer {
    token_raw: String,
    token_type: String,
    #[schema(value_type = LeakLabel)]
    label: &'static str,
}

/// Whether a token is a key we issued.
#[derive(ToSchema)]
#[schema(rename_all = "snake_case")]
#[allow(dead_code)] // described only
pub enum LeakLabel {
    TruePositive,
    FalsePositive,
}

/// GitHub's secret-scanning partner call.
///
/// The raw body must be signed with ECDSA P-256 (SHA-256) by a configured
/// public key: the base64 DER signature in Github-Public-Key-Signature. Every
/// reported key we issued is a true positive; a live one is revoked at once,
/// its company told through the outbox and the event audited. 404 when no
/// public key is configured.
#[utoipa::path(
    post,
    path = "/api/v1/secret-scanning/verify",
    operation_id = "secret_scanning_verify",
    tag = "secret-scanning",
    params(
        ("Github-Public-Key-Identifier" = String, Header, description = "The signing key's identifier."),
        ("Github-Public-Key-Signature" = String, Header, description = "The base64 DER ECDSA signature of the raw body."),
    ),
    request_body(content = inline(LeakReports), content_type = "application/json"),
    responses(
        (status = 200, description = "One answer per token, in order.", body = Vec<LeakAnswer>),
        (status = 400, description = "The body is not a JSON array of reports.", body = ErrorBody),
        (status = 401, description = "Not signed, or the signature does not verify.", body = ErrorBody),
        (status = 404, description = "Secret scanning is not enabled here.", body = ErrorBody),
        (status = 413, description = "The body is too large.", body = ErrorBody),
        (status = 422, description = "More than 1000 tokens.", body = ErrorBody),
    )
)]
pub async fn verify_report(
    State(state): State<AppState>,
    headers: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> Result<Response, Error> {
    let body = body.map_err(web::extract::body_refusal)?;
    let header = |name: &str| headers.get(name).and_then(|v| v.to_str().ok());
    let answers = secret_scanning::handle(
        &state,
        header(IDENTIFIER_HEADER),
        header(SIGNATURE_HEADER),
        &body,
    )
    .await?;
    Ok(Json(answers).into_response())
}
