//! CSRF protection for HTML forms: a random token in a cookie (double submit)
//! that every state-changing form must echo in its `csrf` field. With
//! SameSite cookies and the `Origin` check this refuses cross-site posts.

use axum::http::{HeaderMap, HeaderValue};

use crate::{cookies, Error};

/// The token to put in forms, and the cookie to set when the visitor had none.
pub fn ensure(
    headers: &HeaderMap,
    cookie_name: &str,
    secure: bool,
) -> (String, Option<HeaderValue>) {
    let name = cookies::host_only(cookie_name, secure);
    match cookies::get(headers, &name) {
        Some(t) if t.len() == 32 && t.bytes().all(|b| b.is_ascii_alphanumeric()) => {
            (t.to_owned(), None)
        }
        _ => {
            let t = cookies::new_token();
            let c = cookies::set(&name, &t, None, secure);
            (t, Some(c))
        }
    }
}

/// Refuses a form whose token does not match the cookie, or that comes from another origin.
pub fn check(
    headers: &HeaderMap,
    cookie_name: &str,
    secure: bool,
    form_token: &str,
) -> Result<(), Error> {
    let cookie = cookies::get(headers, &cookies::host_only(cookie_name, secure)).unwrap_or("");
    if cookies::tokens_match(cookie, form_token) && cookies::origin_matches_host(headers, secure) {
        Ok(())
    } else {
        Err(Error::forbidden(
            "csrf",
            "This form has expired or did not come from this site. Reload the page and try again.",
        )
        .with_page(crate::error_text::PageKind::Csrf))
    }
}
