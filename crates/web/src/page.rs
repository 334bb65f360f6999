//! What HTML pages of both apps share: the signed-in extractor
//! (`SignedIn`), the not-found fallback and the language switch; and, under
//! one roof, rendering and the layout (`web::layout`), forms and their CSRF
//! check (`web::forms`), the page edge of errors (`PageErr`) and the words of
//! error pages (`web::error_text`).

use std::future::Future;

use axum::extract::{FromRequestParts, State};
use axum::http::request::Parts;
use axum::http::{header, HeaderMap, Uri};
use axum::response::{IntoResponse, Redirect, Response};
use serde::Deserialize;

pub use crate::error::{PageErr, PageResult};
pub use crate::error_text::{ErrorText, PageKind};
pub use crate::forms::{CsrfForm, CsrfSite, FormErrors, NoFields, PageForm};
use crate::i18n::Lang;
pub use crate::layout::{render, Chrome, Page, PageSite};
pub use crate::sessions::{SessionRules, SessionSite};
use crate::Error;

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
}
