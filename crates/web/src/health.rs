//! Readiness: `/readyz` answers 200 when the database answers `SELECT 1`
//! within a short time, 503 otherwise. `/healthz` stays the cheap liveness
//! answer (the process serves), which touches nothing.

use std::time::Duration;

use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde_json::json;

use crate::db::Db;

/// How long the database has to answer before the app is reported not ready.
pub const READY_TIMEOUT: Duration = Duration::from_secs(2);

/// `GET /readyz`: `{"status":"ready"}`, or 503 with the JSON error
/// `{"error": {"code": "unavailable", ...}}`.
pub async fn readyz(db: &Db) -> Response {
    let ping = sqlx::query("SELECT 1").execute(&db.pool);
    match tokio::time::timeout(READY_TIMEOUT, ping).await {
        Ok(Ok(_)) => Json(json!({"status": "ready"})).into_response(),
        failed => {
            let cause = match failed {
                Ok(Err(e)) => e.to_string(),
                _ => format!("no answer within {} s", READY_TIMEOUT.as_secs()),
            };
            tracing::warn!(error = %cause, "not ready: the database does not answer");
            crate::Error::new(
                StatusCode::SERVICE_UNAVAILABLE,
                "unavailable",
                "Not ready: the database does not answer.",
            )
            .into_response()
        }
    }
}
