//! The account site's HTML pages: sign in, create account, My Account and its
//! API Portal tab.

mod login;
mod portal;
mod signup;

use askama::Template;
use axum::extract::{Request, State};
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::middleware::{self, Next};
use axum::response::{Html, IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use axum::{Form, Router};
use serde::Deserialize;
use web::i18n::{Lang, T};
use web::{cookies, csrf, Error};

use crate::auth::{self, MaybeUser, CSRF_COOKIE, LANG_COOKIE};
use crate::store::{self, Account};
use crate::AppState;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/", get(home))
        .route("/login", get(login::show).post(login::submit))
        .route("/logout", post(login::logout))
        .route("/signup", get(signup::show).post(signup::submit))
        .route("/account", get(portal::account))
        .route("/account/api-portal", get(portal::show).post(portal::create))
        .route(
            "/account/api-portal/keys/{id}/revoke",
            get(portal::confirm_revoke).post(portal::revoke),
        )
        .route("/lang", post(switch_lang))
        .layer(middleware::from_fn(error_pages))
}

/// What every page's layout needs: the messages, the CSRF token, who is signed in.
pub struct Chrome {
    pub csrf: String,
    pub user: Option<Account>,
    pub path: String,
    pub langs: [Lang; 2],
}

pub struct Page {
    pub t: T,
    pub c: Chrome,
    set_cookie: Option<HeaderValue>,
}

impl Page {
    pub fn new(state: &AppState, headers: &HeaderMap, user: Option<Account>, path: &str) -> Page {
        let t = crate::i18n::for_request(headers, user.as_ref());
        let (token, set_cookie) = csrf::ensure(headers, CSRF_COOKIE, state.cfg.secure_cookies);
        Page {
            t,
            c: Chrome {
                csrf: token,
                user,
                path: path.to_owned(),
                langs: Lang::ALL,
            },
            set_cookie,
        }
    }

    /// Renders a template; `status` lets a re-shown form answer 422.
    pub fn render(set_cookie: Option<HeaderValue>, status: StatusCode, tpl: &impl Template) -> Response {
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

    /// Splits the page into the parts templates take and the cookie to set.
    pub fn parts(self) -> (T, Chrome, Option<HeaderValue>) {
        (self.t, self.c, self.set_cookie)
    }
}

/// Field errors of a form, by field name; values are catalog keys.
#[derive(Default)]
pub struct FormErrors(Vec<(&'static str, &'static str)>);

impl FormErrors {
    pub fn add(&mut self, field: &'static str, msg: &'static str) {
        self.0.push((field, msg));
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

async fn home() -> Redirect {
    Redirect::to("/account/api-portal")
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

/// The error page of a failed page request, in the visitor's language.
#[derive(Template)]
#[template(path = "error.html")]
struct ErrorPage {
    t: T,
    c: Chrome,
    title: &'static str,
    message: &'static str,
}

/// Marks an error response so `error_pages` renders it as a page.
#[derive(Clone, Copy)]
struct PageError(&'static str);

/// Turns JSON errors of page routes into error pages in the right language.
async fn error_pages(req: Request, next: Next) -> Response {
    let headers = req.headers().clone();
    let res = next.run(req).await;
    let status = res.status();
    if !(status.is_client_error() || status.is_server_error()) || res.extensions().get::<PageError>().is_none() {
        return res;
    }
    let code = res.extensions().get::<PageError>().map(|p| p.0).unwrap_or("internal");
    let (title, message) = match code {
        "csrf" => ("errorpage.csrf_title", "errorpage.csrf"),
        "not_found" => ("errorpage.not_found_title", "errorpage.not_found"),
        "too_many_requests" => ("errorpage.busy_title", "errorpage.too_many"),
        "unavailable" => ("errorpage.busy_title", "errorpage.unavailable"),
        _ => ("errorpage.internal_title", "errorpage.internal"),
    };
    let t = crate::i18n::for_request(&headers, None);
    let (token, _) = csrf::ensure(&headers, CSRF_COOKIE, false);
    let page = ErrorPage {
        t,
        c: Chrome {
            csrf: token,
            user: None,
            path: "/".into(),
            langs: Lang::ALL,
        },
        title,
        message,
    };
    Page::render(None, status, &page)
}

/// An error from a page handler: rendered by `error_pages`.
pub struct PageErr(Error);

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
        res.extensions_mut().insert(PageError(code));
        res
    }
}

pub type PageResult = Result<Response, PageErr>;

#[derive(Deserialize)]
pub struct LangForm {
    csrf: String,
    lang: String,
    next: Option<String>,
}

/// Switches the language, remembered in a cookie and on the account.
async fn switch_lang(
    State(state): State<AppState>,
    MaybeUser(user): MaybeUser,
    headers: HeaderMap,
    Form(form): Form<LangForm>,
) -> PageResult {
    csrf::check(&headers, CSRF_COOKIE, &form.csrf)?;
    let lang = Lang::from_code(&form.lang).unwrap_or_default();
    if let Some(u) = &user {
        store::set_locale(&state.db, &u.id, lang.code()).await?;
    }
    let next = form
        .next
        .as_deref()
        .and_then(web::safe_local_path)
        .unwrap_or("/account/api-portal");
    let mut res = Redirect::to(next).into_response();
    res.headers_mut().append(
        header::SET_COOKIE,
        cookies::set(LANG_COOKIE, lang.code(), Some(365 * 86400), state.cfg.secure_cookies),
    );
    Ok(res)
}

/// Where to go when a signed-out visitor opens a page that needs an account.
pub fn to_login(path: &str) -> Response {
    Redirect::to(&format!("/login?next={}", encode(path))).into_response()
}

pub use auth::SESSION_COOKIE;
