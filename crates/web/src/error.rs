//! One error type for both apps. JSON routes render it as
//! `{"error": {"code", "message", "request_id"}}` (the error middleware adds
//! the request's id); page routes render their own page from
//! `status()` and `message()`. Causes of 5xx go to the log, never to the client.

use std::borrow::Cow;

use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use serde_json::json;

#[derive(Debug, thiserror::Error)]
#[error("{status} {code}: {message}")]
pub struct Error {
    status: StatusCode,
    code: &'static str,
    message: Cow<'static, str>,
    retry_after: Option<u64>,
    /// The error page's text when a page shows it (catalog keys); `None`
    /// takes the text of `code`.
    page_text: Option<crate::page::ErrorText>,
}

impl Error {
    pub fn new(
        status: StatusCode,
        code: &'static str,
        message: impl Into<Cow<'static, str>>,
    ) -> Self {
        Error {
            status,
            code,
            message: message.into(),
            retry_after: None,
            page_text: None,
        }
    }

    /// Shows this error on pages with its own title and message (catalog keys).
    pub fn with_page_text(mut self, title: &'static str, message: &'static str) -> Self {
        self.page_text = Some(crate::page::ErrorText { title, message });
        self
    }

    pub fn bad_request(code: &'static str, message: impl Into<Cow<'static, str>>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, code, message)
    }

    pub fn unprocessable(code: &'static str, message: impl Into<Cow<'static, str>>) -> Self {
        Self::new(StatusCode::UNPROCESSABLE_ENTITY, code, message)
    }

    pub fn unauthorized(code: &'static str, message: impl Into<Cow<'static, str>>) -> Self {
        Self::new(StatusCode::UNAUTHORIZED, code, message)
    }

    pub fn forbidden(code: &'static str, message: impl Into<Cow<'static, str>>) -> Self {
        Self::new(StatusCode::FORBIDDEN, code, message)
    }

    pub fn not_found(message: impl Into<Cow<'static, str>>) -> Self {
        Self::new(StatusCode::NOT_FOUND, "not_found", message)
    }

    pub fn conflict(code: &'static str, message: impl Into<Cow<'static, str>>) -> Self {
        Self::new(StatusCode::CONFLICT, code, message)
    }

    pub fn too_many_requests(retry_after: u64) -> Self {
        Error {
            retry_after: Some(retry_after.max(1)),
            ..Self::new(
                StatusCode::TOO_MANY_REQUESTS,
                "too_many_requests",
                "Too many attempts. Wait a moment and try again.",
            )
        }
    }

    pub fn unavailable() -> Self {
        Self::new(
            StatusCode::SERVICE_UNAVAILABLE,
            "unavailable",
            "The service is temporarily unavailable. Try again shortly.",
        )
    }

    /// Too much work at once (password hashing): retry after a moment.
    pub fn busy(retry_after: u64) -> Self {
        Error {
            retry_after: Some(retry_after.max(1)),
            ..Self::new(
                StatusCode::SERVICE_UNAVAILABLE,
                "busy",
                "The service is busy. Wait a moment and try again.",
            )
        }
    }

    /// Text that cannot be stored or read (a NUL byte, invalid UTF-8).
    pub fn invalid_text() -> Self {
        Self::bad_request(
            "invalid_text",
            "The request contains characters that are not allowed (NUL, invalid UTF-8 or invisible formatting).",
        )
    }

    /// An unexpected failure: the cause is logged here, the client sees a generic message.
    pub fn internal(cause: impl std::fmt::Display) -> Self {
        tracing::error!(%cause, "internal error");
        Self::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            "internal",
            "Something went wrong on our side.",
        )
    }

    pub fn status(&self) -> StatusCode {
        self.status
    }

    pub fn code(&self) -> &'static str {
        self.code
    }

    pub fn message(&self) -> &str {
        &self.message
    }

    pub fn retry_after(&self) -> Option<u64> {
        self.retry_after
    }
}

impl From<sqlx::Error> for Error {
    fn from(e: sqlx::Error) -> Self {
        // The database is down, restarting or saturated: a retryable 503, not a 500.
        if is_unavailable(&e) {
            tracing::warn!(cause = %e, "database unavailable");
            Error::unavailable()
        } else if is_invalid_text(&e) {
            // Input validation should have caught it; the database refusing a
            // NUL byte or an unencodable character is the client's fault.
            tracing::debug!("database refused the text of a request");
            Error::invalid_text()
        } else {
            Error::internal(e)
        }
    }
}

/// PostgreSQL's "invalid byte sequence" (22021, a NUL byte in text) and
/// "untranslatable character" (22P05).
fn is_invalid_text(e: &sqlx::Error) -> bool {
    matches!(e, sqlx::Error::Database(db)
        if db.code().is_some_and(|c| matches!(c.as_ref(), "22021" | "22P05")))
}

fn is_unavailable(e: &sqlx::Error) -> bool {
    match e {
        sqlx::Error::PoolTimedOut
        | sqlx::Error::Io(_)
        | sqlx::Error::PoolClosed
        | sqlx::Error::WorkerCrashed => true,
        // PostgreSQL going away under a connection: connection exceptions
        // (class 08), shutdown or startup (57P01 admin_shutdown, 57P02
        // crash_shutdown, 57P03 cannot_connect_now), too many connections.
        sqlx::Error::Database(db) => db.code().is_some_and(|c| {
            c.starts_with("08") || matches!(c.as_ref(), "57P01" | "57P02" | "57P03" | "53300")
        }),
        _ => false,
    }
}

/// A JSON error answer's code and message, kept on the response so that the
/// error middleware can write it again with the request's id.
#[derive(Clone, Debug)]
pub struct JsonError {
    pub code: &'static str,
    pub message: Cow<'static, str>,
}

impl JsonError {
    /// `{"error": {"code", "message"[, "request_id"]}}`.
    pub fn body(&self, request_id: Option<&str>) -> serde_json::Value {
        match request_id {
            Some(id) => {
                json!({"error": {"code": self.code, "message": self.message, "request_id": id}})
            }
            None => json!({"error": {"code": self.code, "message": self.message}}),
        }
    }
}

impl IntoResponse for Error {
    fn into_response(self) -> Response {
        let error = JsonError {
            code: self.code,
            message: self.message,
        };
        let mut res = (self.status, axum::Json(error.body(None))).into_response();
        // Marks the answer as ours, so the error middleware knows its code.
        res.extensions_mut()
            .insert(crate::page::ErrorCode(self.code));
        res.extensions_mut().insert(error);
        if let Some(text) = self.page_text {
            res.extensions_mut().insert(text);
        }
        if let Some(secs) = self.retry_after {
            if let Ok(v) = HeaderValue::from_str(&secs.to_string()) {
                res.headers_mut().insert(header::RETRY_AFTER, v);
            }
        }
        res
    }
}

pub type Result<T, E = Error> = std::result::Result<T, E>;
