//! HTML forms of both apps: reading a posted form ([`PageForm`]), checking
//! its CSRF token first ([`CsrfForm`]), and the errors of its fields
//! ([`FormErrors`]).

use axum::body::{Body, Bytes};
use axum::extract::{FromRequest, Request};
use axum::http::request::Parts;
use axum::http::{header, Method, StatusCode};
use serde::de::DeserializeOwned;
use serde::Deserialize;

use crate::error::PageErr;
use crate::error_text::PageKind;
use crate::Error;

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

/// A submitted HTML form. Unlike `axum::Form`, a form that cannot be read
/// (a field missing or of the wrong kind, another content type) is answered
/// with the site's error page, not a plain-text line.
pub struct PageForm<T>(pub T);

impl<T, S> FromRequest<S> for PageForm<T>
where
    T: DeserializeOwned,
    S: Send + Sync,
{
    type Rejection = PageErr;

    async fn from_request(req: Request, state: &S) -> Result<Self, PageErr> {
        let (parts, bytes) = read_form(req, state).await?;
        Ok(PageForm(parse_form(parts, bytes, state).await?))
    }
}

/// The body of a form post, refused when it cannot be read or holds
/// characters a form must not.
async fn read_form<S: Send + Sync>(req: Request, state: &S) -> Result<(Parts, Bytes), PageErr> {
    let (parts, body) = req.into_parts();
    let bytes = Bytes::from_request(Request::from_parts(parts.clone(), body), state)
        .await
        .map_err(|r| {
            PageErr(
                Error::new(r.status(), "invalid_form", "The form could not be read.")
                    .with_page(PageKind::InvalidForm),
            )
        })?;
    // A form parser turns invalid UTF-8 into U+FFFD and keeps NUL bytes:
    // refuse both rather than store them.
    if !crate::text::form_is_text(&bytes) {
        return Err(PageErr(
            Error::new(
                StatusCode::UNPROCESSABLE_ENTITY,
                "invalid_text",
                "The form holds characters that are not allowed.",
            )
            .with_page(PageKind::InvalidText),
        ));
    }
    Ok((parts, bytes))
}

/// Reads a form's fields as `T` (another content type: 415, a field
/// missing or of the wrong kind: 422).
async fn parse_form<T: DeserializeOwned, S: Send + Sync>(
    parts: Parts,
    bytes: Bytes,
    state: &S,
) -> Result<T, PageErr> {
    let req = Request::from_parts(parts, Body::from(bytes));
    match axum::Form::<T>::from_request(req, state).await {
        Ok(axum::Form(v)) => Ok(v),
        Err(rejection) => {
            // The reason names fields only, never values.
            tracing::debug!(status = %rejection.status(), "unreadable form");
            Err(PageErr(
                Error::new(
                    rejection.status(),
                    "invalid_form",
                    "The form could not be read. Reload the page and try again.",
                )
                .with_page(PageKind::InvalidForm),
            ))
        }
    }
}

/// What an app tells [`CsrfForm`]: the name of its CSRF cookie and whether
/// its cookies are `Secure`.
pub trait CsrfSite {
    fn csrf_cookie(&self) -> &'static str;
    fn secure_cookies(&self) -> bool;
}

/// The `csrf` field of a form, whatever else it holds.
#[derive(Deserialize)]
struct CsrfField {
    #[serde(default)]
    csrf: String,
}

/// A state-changing form: its `csrf` field must match the CSRF cookie and
/// the post come from this site, or it is refused with 403 `csrf` (a
/// missing field too), before its other fields are read as [`PageForm`]
/// reads them (a form that cannot be read gets the site's error page with
/// the form's status). A body that is not text is refused first (422), as is
/// a post that is not a form (415).
pub struct CsrfForm<T>(pub T);

impl<T, S> FromRequest<S> for CsrfForm<T>
where
    T: DeserializeOwned,
    S: CsrfSite + Send + Sync,
{
    type Rejection = PageErr;

    async fn from_request(req: Request, state: &S) -> Result<Self, PageErr> {
        let (parts, bytes) = read_form(req, state).await?;
        let token = if is_form_post(&parts) {
            parse_form::<CsrfField, S>(parts.clone(), bytes.clone(), state)
                .await
                .map(|f| f.csrf)
                .unwrap_or_default()
        } else {
            // Not a form post: the form reader's own refusal, never a pass.
            parse_form::<T, S>(parts.clone(), bytes.clone(), state).await?;
            String::new()
        };
        crate::csrf::check(
            &parts.headers,
            state.csrf_cookie(),
            state.secure_cookies(),
            &token,
        )?;
        Ok(CsrfForm(parse_form(parts, bytes, state).await?))
    }
}

/// A form with no fields but its CSRF token: `CsrfForm<NoFields>`.
#[derive(Deserialize)]
pub struct NoFields {}

/// Whether the headers say the body is an HTML form
/// (`application/x-www-form-urlencoded`).
pub fn is_form(headers: &axum::http::HeaderMap) -> bool {
    headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split(';').next())
        .is_some_and(|v| {
            v.trim()
                .eq_ignore_ascii_case("application/x-www-form-urlencoded")
        })
}

/// A request whose body `axum::Form` reads as a form.
fn is_form_post(parts: &Parts) -> bool {
    is_form(&parts.headers) && parts.method != Method::GET && parts.method != Method::HEAD
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Clone)]
    struct Site;

    impl CsrfSite for Site {
        fn csrf_cookie(&self) -> &'static str {
            "t_csrf"
        }

        fn secure_cookies(&self) -> bool {
            false
        }
    }

    #[derive(Deserialize, Debug)]
    struct NameForm {
        name: String,
    }

    const TOKEN: &str = "abcdefghijklmnopqrstuvwxyz012345";

    async fn post(content_type: &str, body: &str) -> Result<String, StatusCode> {
        let req = Request::post("/x")
            .header(header::CONTENT_TYPE, content_type)
            .header(header::COOKIE, format!("t_csrf={TOKEN}"))
            .body(Body::from(body.to_owned()))
            .expect("a request");
        CsrfForm::<NameForm>::from_request(req, &Site)
            .await
            .map(|CsrfForm(f)| f.name)
            .map_err(|e| e.0.status())
    }

    #[tokio::test]
    async fn csrf_form_checks_the_token_before_the_fields() {
        let form = "application/x-www-form-urlencoded";
        assert_eq!(
            post(form, &format!("csrf={TOKEN}&name=a")).await,
            Ok("a".into())
        );
        // No token, a wrong one, two: forbidden, whatever else is missing.
        for body in [
            "name=a",
            "",
            "csrf=x&name=a",
            &format!("csrf={TOKEN}&csrf=x"),
        ] {
            assert_eq!(post(form, body).await, Err(StatusCode::FORBIDDEN), "{body}");
        }
        // The right token and a field missing: the form cannot be read.
        assert_eq!(
            post(form, &format!("csrf={TOKEN}")).await,
            Err(StatusCode::UNPROCESSABLE_ENTITY)
        );
        // Not a form, or not text: refused as before, never a pass.
        assert_eq!(
            post("application/json", &format!("csrf={TOKEN}&name=a")).await,
            Err(StatusCode::UNSUPPORTED_MEDIA_TYPE)
        );
        assert_eq!(
            post(form, &format!("csrf={TOKEN}&name=a%00")).await,
            Err(StatusCode::UNPROCESSABLE_ENTITY)
        );
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
