//! What HTML pages of both apps share: rendering, form errors, error
//! marking, the form extractors (`PageForm`, `CsrfForm`), the signed-in
//! extractor (`SignedIn`), the not-found fallback and the language switch.

use std::future::Future;

use askama::Template;
use axum::body::{Body, Bytes};
use axum::extract::{FromRequest, FromRequestParts, Request, State};
use axum::http::request::Parts;
use axum::http::{header, HeaderMap, HeaderValue, Method, StatusCode, Uri};
use axum::response::{Html, IntoResponse, Redirect, Response};
use serde::de::DeserializeOwned;
use serde::Deserialize;

pub use crate::error_pages::{error_page_keys, ERROR_PAGE_CODES};
use crate::i18n::Lang;
pub use crate::layout::{Chrome, Page, PageSite};
pub use crate::sessions::{SessionRules, SessionSite};
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
            Err(PageErr(Error::new(
                rejection.status(),
                "invalid_form",
                "The form could not be read. Reload the page and try again.",
            )))
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

/// A request whose body `axum::Form` reads as a form.
fn is_form_post(parts: &Parts) -> bool {
    let form_type = parts
        .headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split(';').next())
        .is_some_and(|v| {
            v.trim()
                .eq_ignore_ascii_case("application/x-www-form-urlencoded")
        });
    form_type && parts.method != Method::GET && parts.method != Method::HEAD
}

/// A signed-in user, for pages: a visitor who is not signed in (or whose
/// session ended) is sent to the site's sign-in page (303) with `?next=` the
/// page to come back to.
pub struct SignedIn<U>(pub U);

impl<S: SessionSite> FromRequestParts<S> for SignedIn<S::User> {
    type Rejection = Response;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Response> {
        match crate::sessions::current(state, &parts.headers).await {
            Ok(Some(user)) => Ok(SignedIn(user)),
            Ok(None) => Err(to_sign_in(state, parts.uri.path())),
            Err(e) => Err(PageErr(e).into_response()),
        }
    }
}

/// Sends a visitor from `path` to the site's sign-in page, to come back after.
pub fn to_sign_in<S: SessionSite>(site: &S, path: &str) -> Response {
    let next = encode(site.return_path(path));
    Redirect::to(&format!("{}?next={next}", site.sign_in_path())).into_response()
}

/// Unknown paths: a JSON 404 under `/api/` and `/admin/api/`, the site's
/// not-found page elsewhere.
pub async fn fallback(uri: Uri) -> Response {
    let err = Error::not_found("There is nothing at this address.");
    if uri.path().starts_with("/api/") || uri.path().starts_with("/admin/api/") {
        err.into_response()
    } else {
        PageErr(err).into_response()
    }
}

/// What an app tells [`switch_lang`]: its language cookie, where to go by
/// default, and how to remember a signed-in user's choice.
pub trait LangSite: SessionSite + Clone + 'static {
    fn lang_cookie(&self) -> &'static str;
    /// Where the switch returns to when the form names no (local) page.
    fn home_path(&self) -> &'static str;
    fn save_locale(
        &self,
        user: &Self::User,
        lang: Lang,
    ) -> impl Future<Output = Result<(), Error>> + Send;
}

#[derive(Deserialize)]
pub struct LangForm {
    lang: String,
    next: Option<String>,
}

/// The language switch (a form on every page): the choice is remembered in
/// a cookie for a year and, when someone is signed in, on their user.
pub async fn switch_lang<S: LangSite>(
    State(state): State<S>,
    headers: HeaderMap,
    CsrfForm(form): CsrfForm<LangForm>,
) -> PageResult {
    let lang = Lang::from_code(&form.lang).unwrap_or_default();
    if let Some(user) = crate::sessions::current(&state, &headers).await? {
        state.save_locale(&user, lang).await?;
    }
    let next = form
        .next
        .as_deref()
        .and_then(crate::safe_local_path)
        .unwrap_or(state.home_path());
    let mut res = Redirect::to(next).into_response();
    res.headers_mut().append(
        header::SET_COOKIE,
        crate::cookies::set(
            state.lang_cookie(),
            lang.code(),
            Some(365 * 86400),
            state.secure_cookies(),
        ),
    );
    Ok(res)
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
