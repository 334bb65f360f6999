//! What HTML pages of both apps share: rendering, form errors, error marking.

use askama::Template;
use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{Html, IntoResponse, Response};

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

/// The catalog keys (title, message) of an error page for an error code.
pub fn error_page_keys(code: &str) -> (&'static str, &'static str) {
    match code {
        "csrf" => ("errorpage.csrf_title", "errorpage.csrf"),
        "invalid_form" => ("errorpage.csrf_title", "errorpage.invalid_form"),
        "not_found" => ("errorpage.not_found_title", "errorpage.not_found"),
        "too_many_requests" => ("errorpage.busy_title", "errorpage.too_many"),
        "unavailable" => ("errorpage.busy_title", "errorpage.unavailable"),
        _ => ("errorpage.internal_title", "errorpage.internal"),
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
