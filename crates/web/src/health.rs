//! Readiness: `/readyz` answers 200 when the database answers `SELECT 1`
//! within a short time, 503 otherwise. With `--redis-url` it also says
//! whether Redis answers (`"redis": "ok"` or `"down"`), still with 200: the
//! throttles then count in each process, the service still serves.
//! `/healthz` stays the cheap liveness answer (the process serves), which
//! touches nothing.

use std::time::Duration;

use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde_json::json;

use crate::db::Db;
use crate::ratelimit::SharedCounters;

/// How long the database has to answer before the app is reported not ready.
pub const READY_TIMEOUT: Duration = Duration::from_secs(2);

/// `GET /readyz`: `{"status":"ready"}`, or 503 with the JSON error
/// `{"error": {"code": "unavailable", ...}}`.
pub async fn readyz(db: &Db, redis: Option<&SharedCounters>) -> Response {
    let ping = sqlx::query("SELECT 1").execute(&db.pool);
    match tokio::time::timeout(READY_TIMEOUT, ping).await {
        Ok(Ok(_)) => match redis {
            None => Json(json!({"status": "ready"})).into_response(),
            Some(r) => {
                let redis = if r.ping().await { "ok" } else { "down" };
                Json(json!({"status": "ready", "redis": redis})).into_response()
            }
        },
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
            .with_page(crate::error_text::PageKind::Unavailable)
            .into_response()
        }
    }
}
