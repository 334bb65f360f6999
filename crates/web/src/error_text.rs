//! The words of an error page: which of the shared pages shows an error
//! ([`PageKind`], chosen when the error is made) and the catalog keys of its
//! title and message ([`ErrorText`]).

use axum::http::StatusCode;

/// The catalog keys of an error page's title and message.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ErrorText {
    pub title: &'static str,
    pub message: &'static str,
}

/// `(title, message)`.
impl From<ErrorText> for (&'static str, &'static str) {
    fn from(t: ErrorText) -> Self {
        (t.title, t.message)
    }
}

/// The shared error pages; an error shows one of them unless it has words of
/// its own (`web::Error::with_page_text`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PageKind {
    /// A form whose CSRF token does not match.
    Csrf,
    /// A form that cannot be read.
    InvalidForm,
    /// Characters that cannot be stored (NUL, invalid UTF-8, invisible formatting).
    InvalidText,
    NotFound,
    TooManyRequests,
    /// Down or busy: try again shortly.
    Unavailable,
    RequestTimeout,
    Forbidden,
    BadRequest,
    /// Something went wrong; also the page of any refusal with no page of its own.
    Internal,
}

impl PageKind {
    /// Every shared page (the catalogs must have their keys).
    pub const ALL: [PageKind; 10] = [
        PageKind::Csrf,
        PageKind::InvalidForm,
        PageKind::InvalidText,
        PageKind::NotFound,
        PageKind::TooManyRequests,
        PageKind::Unavailable,
        PageKind::RequestTimeout,
        PageKind::Forbidden,
        PageKind::BadRequest,
        PageKind::Internal,
    ];

    /// The page's title and message (catalog keys).
    pub fn text(self) -> ErrorText {
        let (title, message) = match self {
            PageKind::Csrf => ("errorpage.csrf_title", "errorpage.csrf"),
            PageKind::InvalidForm => ("errorpage.csrf_title", "errorpage.invalid_form"),
            PageKind::InvalidText => ("errorpage.bad_request_title", "errorpage.invalid_text"),
            PageKind::NotFound => ("errorpage.not_found_title", "errorpage.not_found"),
            PageKind::TooManyRequests => ("errorpage.busy_title", "errorpage.too_many"),
            PageKind::Unavailable => ("errorpage.busy_title", "errorpage.unavailable"),
            PageKind::RequestTimeout => ("errorpage.bad_request_title", "errorpage.timeout"),
            PageKind::Forbidden => ("errorpage.forbidden_title", "errorpage.forbidden"),
            PageKind::BadRequest => ("errorpage.bad_request_title", "errorpage.bad_request"),
            PageKind::Internal => ("errorpage.internal_title", "errorpage.internal"),
        };
        ErrorText { title, message }
    }
}

/// An error answer that carries none of ours (the router's 405, the timeout
/// layer's 408, the body limit's 413): its code, its English message for
/// JSON routes, and its page.
pub fn of_status(status: StatusCode) -> (&'static str, &'static str, PageKind) {
    const UNREADABLE: &str = "The request could not be read.";
    const OURS: &str = "Something went wrong on our side.";
    match status.as_u16() {
        401 | 403 => ("forbidden", UNREADABLE, PageKind::Forbidden),
        404 => (
            "not_found",
            "There is nothing at this address.",
            PageKind::NotFound,
        ),
        405 => (
            "method_not_allowed",
            "This method is not allowed here.",
            PageKind::BadRequest,
        ),
        408 => (
            "request_timeout",
            "The request took too long.",
            PageKind::RequestTimeout,
        ),
        413 => (
            "payload_too_large",
            "The request body is too large.",
            PageKind::BadRequest,
        ),
        415 => ("unsupported_media_type", UNREADABLE, PageKind::BadRequest),
        429 => ("too_many_requests", UNREADABLE, PageKind::TooManyRequests),
        400..=499 => ("bad_request", UNREADABLE, PageKind::BadRequest),
        503 => ("unavailable", OURS, PageKind::Unavailable),
        _ => ("internal", OURS, PageKind::Internal),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_page_has_catalog_keys() {
        for kind in PageKind::ALL {
            let ErrorText { title, message } = kind.text();
            assert!(title.starts_with("errorpage.") && message.starts_with("errorpage."));
        }
    }

    #[test]
    fn bare_statuses() {
        assert_eq!(
            of_status(StatusCode::REQUEST_TIMEOUT),
            (
                "request_timeout",
                "The request took too long.",
                PageKind::RequestTimeout
            )
        );
        assert_eq!(of_status(StatusCode::IM_A_TEAPOT).2, PageKind::BadRequest);
        assert_eq!(of_status(StatusCode::BAD_GATEWAY).0, "internal");
    }
}
