//! One error type for both apps. JSON routes render it as
//! `{"error": {"code", "message", "request_id"}}` (the error middleware adds
//! the request's id); page routes render their own page from
//! `status()` and `message()`, or the app's error page shows it with its
//! page's words ([`Error::page_text`], chosen by kind when the error is made,
//! never from its code). Causes of 5xx go to the log, never to the client.

use std::borrow::Cow;

use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use serde_json::json;

use crate::error_text::{ErrorText, PageKind};

#[derive(Debug, thiserror::Error)]
#[error("{status} {code}: {message}")]
pub struct Error {
    status: StatusCode,
    code: &'static str,
    message: Cow<'static, str>,
    retry_after: Option<u64>,
    /// The shared error page that shows it on pages.
    page: PageKind,
    /// Its own words on pages instead (catalog keys).
    page_text: Option<ErrorText>,
}

impl Error {
    /// An error shown on pages with the generic page ([`PageKind::Internal`]),
    /// unless [`Error::with_page`] or [`Error::with_page_text`] says otherwise.
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
            page: PageKind::Internal,
            page_text: None,
        }
    }

    /// Shows this error on pages with another of the shared pages.
    pub fn with_page(mut self, page: PageKind) -> Self {
        self.page = page;
        self
    }

    /// Shows this error on pages with its own title and message (catalog keys).
    pub fn with_page_text(mut self, title: &'static str, message: &'static str) -> Self {
        self.page_text = Some(ErrorText { title, message });
        self
    }

    /// Shown with the generic page.
    pub fn bad_request(code: &'static str, message: impl Into<Cow<'static, str>>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, code, message)
    }

    /// Shown with the bad-request page.
    pub fn unprocessable(code: &'static str, message: impl Into<Cow<'static, str>>) -> Self {
        Self::new(StatusCode::UNPROCESSABLE_ENTITY, code, message).with_page(PageKind::BadRequest)
    }

    /// Shown with the generic page.
    pub fn unauthorized(code: &'static str, message: impl Into<Cow<'static, str>>) -> Self {
        Self::new(StatusCode::UNAUTHORIZED, code, message)
    }

    /// Shown with the forbidden page.
    pub fn forbidden(code: &'static str, message: impl Into<Cow<'static, str>>) -> Self {
        Self::new(StatusCode::FORBIDDEN, code, message).with_page(PageKind::Forbidden)
    }

    pub fn not_found(message: impl Into<Cow<'static, str>>) -> Self {
        Self::new(StatusCode::NOT_FOUND, "not_found", message).with_page(PageKind::NotFound)
    }

    /// Shown with the generic page.
    pub fn conflict(code: &'static str, message: impl Into<Cow<'static, str>>) -> Self {
        Self::new(StatusCode::CONFLICT, code, message)
    }

    /// An error answer that carries none of ours (the router's 405, the
    /// timeout layer's 408, the body limit's 413), by its status.
    pub fn of_status(status: StatusCode) -> Self {
        let (code, message, page) = crate::error_text::of_status(status);
        Self::new(status, code, message).with_page(page)
    }

    pub fn too_many_requests(retry_after: u64) -> Self {
        Error {
            retry_after: Some(retry_after.max(1)),
            ..Self::new(
                StatusCode::TOO_MANY_REQUESTS,
                "too_many_requests",
                "Too many attempts. Wait a moment and try again.",
            )
            .with_page(PageKind::TooManyRequests)
        }
    }

    pub fn unavailable() -> Self {
        Self::new(
            StatusCode::SERVICE_UNAVAILABLE,
            "unavailable",
            "The service is temporarily unavailable. Try again shortly.",
        )
        .with_page(PageKind::Unavailable)
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
            .with_page(PageKind::Unavailable)
        }
    }

    /// Text that cannot be stored or read (a NUL byte, invalid UTF-8).
    pub fn invalid_text() -> Self {
        Self::bad_request(
            "invalid_text",
            "The request contains characters that are not allowed (NUL, invalid UTF-8 or invisible formatting).",
        )
        .with_page(PageKind::InvalidText)
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

    /// The words of the error page that shows it (catalog keys).
    pub fn page_text(&self) -> ErrorText {
        self.page_text.unwrap_or_else(|| self.page.text())
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
        let text = self.page_text();
        let error = JsonError {
            code: self.code,
            message: self.message,
        };
        let mut res = (self.status, axum::Json(error.body(None))).into_response();
        // Marks the answer as ours: the error middleware writes it again with
        // the request's id, or shows its page.
        res.extensions_mut().insert(error);
        res.extensions_mut().insert(text);
        if let Some(secs) = self.retry_after {
            if let Ok(v) = HeaderValue::from_str(&secs.to_string()) {
                res.headers_mut().insert(header::RETRY_AFTER, v);
            }
        }
        res
    }
}

pub type Result<T, E = Error> = std::result::Result<T, E>;

/// An error from a page handler (answered with the site's error page by the
/// error middleware, `web::error_pages`).
pub struct PageErr(pub Error);

impl From<Error> for PageErr {
    fn from(e: Error) -> Self {
        PageErr(e)
    }
}

impl From<sqlx::Error> for PageErr {
    fn from(e: sqlx::Error) -> Self {
        PageErr(e.into())
    }
}

impl IntoResponse for PageErr {
    fn into_response(self) -> Response {
        self.0.into_response()
    }
}

pub type PageResult = std::result::Result<Response, PageErr>;
