//! What HTML pages of both apps share: rendering, form errors, error marking.

use askama::Template;
use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{Html, IntoResponse, Response};

pub use crate::error_pages::{error_page_keys, ERROR_PAGE_CODES};
use crate::Error;

/// Renders a template with `Cache-Control: no-store` (pages may show secrets once)
/// and an optional cookie to set.
pub fn render(
    set_cookie: Option<HeaderValue>,
    status: StatusCode,
    tpl: &impl Template,
) -> Response {
    match tpl.render() {
        Ok(html) => {
            let mut res = (status, Html(html)).into_response();
            if let Some(c) = set_cookie {
                res.headers_mut().append(header::SET_COOKIE, c);
            }
            res.headers_mut()
                .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
            res
        }
        Err(e) => Error::internal(e).into_response(),
    }
}

/// Field errors of a form, by field name; values are catalog keys.
#[derive(Default, Debug)]
pub struct FormErrors(Vec<(&'static str, &'static str)>);

impl FormErrors {
    pub fn add(&mut self, field: &'static str, msg: &'static str) {
        if self.get(field).is_empty() {
            self.0.push((field, msg));
        }
    }

    pub fn get(&self, field: &str) -> &'static str {
        self.0
            .iter()
            .find(|(f, _)| *f == field)
            .map(|(_, m)| *m)
            .unwrap_or("")
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

/// Marks an error response of a page route, so the app's error-page
/// middleware renders it as a page in the visitor's language.
#[derive(Clone, Copy, Debug)]
pub struct ErrorCode(pub &'static str);

/// The catalog keys of an error page's title and message.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ErrorText {
    pub title: &'static str,
    pub message: &'static str,
}

impl ErrorText {
    /// The text of an error code that has no text of its own.
    pub fn of_code(code: &str) -> ErrorText {
        let (title, message) = error_page_keys(code);
        ErrorText { title, message }
    }
}

/// An error from a page handler.
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
        let code = self.0.code();
        let mut res = self.0.into_response();
        res.extensions_mut().insert(ErrorCode(code));
        res
    }
}

pub type PageResult = Result<Response, PageErr>;

/// A submitted HTML form. Unlike `axum::Form`, a form that cannot be read
/// (a field missing or of the wrong kind, another content type) is answered
/// with the site's error page, not a plain-text line.
pub struct PageForm<T>(pub T);

impl<T, S> axum::extract::FromRequest<S> for PageForm<T>
where
    T: serde::de::DeserializeOwned,
    S: Send + Sync,
{
    type Rejection = PageErr;

    async fn from_request(req: axum::extract::Request, state: &S) -> Result<Self, PageErr> {
        let (parts, body) = req.into_parts();
        let bytes = axum::body::Bytes::from_request(
            axum::extract::Request::from_parts(parts.clone(), body),
            state,
        )
        .await
        .map_err(|r| {
            PageErr(Error::new(
                r.status(),
                "invalid_form",
                "The form could not be read.",
            ))
        })?;
        // A form parser turns invalid UTF-8 into U+FFFD and keeps NUL bytes:
        // refuse both rather than store them.
        if !crate::text::form_is_text(&bytes) {
            return Err(PageErr(Error::new(
                StatusCode::UNPROCESSABLE_ENTITY,
                "invalid_text",
                "The form holds characters that are not allowed.",
            )));
        }
        let req = axum::extract::Request::from_parts(parts, axum::body::Body::from(bytes));
        match axum::Form::<T>::from_request(req, state).await {
            Ok(axum::Form(v)) => Ok(PageForm(v)),
            Err(rejection) => {
                // The reason names fields only, never values.
                tracing::debug!(status = %rejection.status(), "unreadable form");
                Err(PageErr(Error::new(
                    rejection.status(),
                    "invalid_form",
                    "The form could not be read. Reload the page and try again.",
                )))
            }
        }
    }
}

/// What an app tells [`CsrfForm`]: the name of its CSRF cookie and whether
/// its cookies are `Secure`.
pub trait CsrfSite {
    fn csrf_cookie(&self) -> &'static str;
    fn secure_cookies(&self) -> bool;
}

/// A form that echoes the CSRF token (its `csrf` field).
pub trait CsrfToken {
    fn csrf_token(&self) -> &str;
}

impl CsrfToken for std::collections::HashMap<String, String> {
    fn csrf_token(&self) -> &str {
        self.get("csrf").map(String::as_str).unwrap_or("")
    }
}

/// A state-changing form: read as [`PageForm`] (an unreadable form, a missing
/// `csrf` field included, gets the site's error page with the form's status),
/// then refused with 403 `csrf` unless its token matches the cookie and it
/// comes from this site.
pub struct CsrfForm<T>(pub T);

impl<T, S> axum::extract::FromRequest<S> for CsrfForm<T>
where
    T: serde::de::DeserializeOwned + CsrfToken,
    S: CsrfSite + Send + Sync,
{
    type Rejection = PageErr;

    async fn from_request(req: axum::extract::Request, state: &S) -> Result<Self, PageErr> {
        let headers = req.headers().clone();
        let PageForm(form) = PageForm::<T>::from_request(req, state).await?;
        crate::csrf::check(
            &headers,
            state.csrf_cookie(),
            state.secure_cookies(),
            form.csrf_token(),
        )?;
        Ok(CsrfForm(form))
    }
}

/// Percent-encodes a local path for a query string.
pub fn encode(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || b"-_.~/".contains(&b) {
            out.push(char::from(b));
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn encodes_queries() {
        assert_eq!(encode("/a b?c=d&e"), "/a%20b%3Fc%3Dd%26e");
    }

    #[test]
    fn first_error_per_field_wins() {
        let mut e = FormErrors::default();
        e.add("name", "a");
        e.add("name", "b");
        assert_eq!(e.get("name"), "a");
        assert_eq!(e.get("other"), "");
    }
}
