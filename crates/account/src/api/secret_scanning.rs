//! `POST /api/v1/secret-scanning/verify`: GitHub's secret-scanning partner call.

use axum::body::Bytes;
use axum::extract::rejection::BytesRejection;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use web::Error;

use crate::secret_scanning::{self, IDENTIFIER_HEADER, SIGNATURE_HEADER};
use crate::AppState;

pub async fn verify_report(
    State(state): State<AppState>,
    headers: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> Result<Response, Error> {
    let body = body.map_err(|e| {
        if e.status() == StatusCode::PAYLOAD_TOO_LARGE {
            Error::new(
                e.status(),
                "payload_too_large",
                "The request body is too large.",
            )
        } else {
            Error::bad_request("bad_body", "The request body could not be read.")
        }
    })?;
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
