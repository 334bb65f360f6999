//! What every page's layout needs, for both sites: the messages in the
//! visitor's language, the CSRF token of the page's forms, who is signed in,
//! where the page is, the languages offered and which navigation entry is
//! current. Each app names its catalog through [`PageSite`].

use askama::Template;
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{Html, IntoResponse, Response};

use crate::i18n::{Lang, T};
use crate::sessions::SessionSite;
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

/// A site whose pages share one layout.
pub trait PageSite: SessionSite {
    /// The messages in the visitor's language: their saved choice, the
    /// language cookie, else the browser's.
    fn texts(&self, headers: &HeaderMap, user: Option<&Self::User>) -> T;
}

/// The layout's part of every page template (`c` in the templates).
pub struct Chrome<U> {
    pub csrf: String,
    pub user: Option<U>,
    pub path: String,
    pub langs: [Lang; 2],
    /// Which navigation entry is current ("" for none).
    pub active: &'static str,
}

/// A page being built: its messages, its layout, and the CSRF cookie to set
/// when the visitor had none.
pub struct Page<U> {
    pub t: T,
    pub c: Chrome<U>,
    pub set_cookie: Option<HeaderValue>,
}

impl<U> Page<U> {
    pub fn new<S>(site: &S, headers: &HeaderMap, user: Option<U>, path: &str) -> Page<U>
    where
        S: PageSite<User = U>,
    {
        let t = site.texts(headers, user.as_ref());
        let (token, set_cookie) =
            crate::csrf::ensure(headers, site.csrf_cookie(), site.secure_cookies());
        Page {
            t,
            c: Chrome {
                csrf: token,
                user,
                path: path.to_owned(),
                langs: Lang::ALL,
                active: "",
            },
            set_cookie,
        }
    }

    /// Marks the navigation entry this page belongs to.
    pub fn active(mut self, entry: &'static str) -> Self {
        self.c.active = entry;
        self
    }

    /// Renders a template; `status` lets a re-shown form answer 422.
    pub fn render(
        set_cookie: Option<HeaderValue>,
        status: StatusCode,
        tpl: &impl Template,
    ) -> Response {
        render(set_cookie, status, tpl)
    }

    /// Splits the page into the parts templates take and the cookie to set.
    pub fn parts(self) -> (T, Chrome<U>, Option<HeaderValue>) {
        (self.t, self.c, self.set_cookie)
    }
}
