//! The Admin's pages: sign-in, the Amazon Sales Channel, Configuration.

mod audit;
pub mod channel;
mod config;
mod login;

use askama::Template;
use axum::extract::State;
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use axum::Router;
use serde::Deserialize;
use web::i18n::{Lang, T};
pub use web::page::{encode, FormErrors, PageErr, PageResult};
use web::{cookies, csrf};

use crate::auth::MaybeAdmin;
use crate::cookies::{CSRF_COOKIE, LANG_COOKIE};
use crate::store::{self, AdminUser};
use crate::AppState;
use web::page::{CsrfForm, CsrfToken};

pub const CHANNEL_PATH: &str = "/admin/amazon";
pub const CONFIG_PATH: &str = "/admin/config/edit/section";

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/", get(|| async { Redirect::to(CHANNEL_PATH) }))
        .route("/admin", get(|| async { Redirect::to(CHANNEL_PATH) }))
        .route("/admin/login", get(login::show).post(login::submit))
        .route("/admin/logout", post(login::logout))
        .route("/admin/lang", post(switch_lang))
        .route(CHANNEL_PATH, get(channel::show))
        .route("/admin/amazon/stores", post(channel::add_store))
        .route(audit::AUDIT_PATH, get(audit::show))
        .route(
            "/admin/config",
            get(|| async { Redirect::to("/admin/config/edit/section/general") }),
        )
        .route(
            "/admin/config/edit/section/{section}",
            get(config::show).post(config::save),
        )
}

/// Unknown paths: a JSON 404 under `/api/`, the not-found page elsewhere.
pub async fn fallback(uri: axum::http::Uri) -> Response {
    let err = web::Error::not_found("There is nothing at this address.");
    if uri.path().starts_with("/api/") || uri.path().starts_with("/admin/api/") {
        err.into_response()
    } else {
        PageErr(err).into_response()
    }
}

/// What the Admin layout needs.
pub struct Chrome {
    pub csrf: String,
    pub user: Option<AdminUser>,
    pub path: String,
    pub langs: [Lang; 2],
    /// Which sidebar entry is current: "amazon", "config" or "audit".
    pub active: &'static str,
}

pub struct Page {
    pub t: T,
    pub c: Chrome,
    pub set_cookie: Option<HeaderValue>,
}

impl Page {
    pub fn new(
        state: &AppState,
        headers: &HeaderMap,
        user: Option<AdminUser>,
        path: &str,
        active: &'static str,
    ) -> Page {
        let t = crate::i18n::for_request(headers, user.as_ref());
        let (token, set_cookie) = csrf::ensure(headers, CSRF_COOKIE, state.cfg.secure_cookies);
        Page {
            t,
            c: Chrome {
                csrf: token,
                user,
                path: path.to_owned(),
                langs: Lang::ALL,
                active,
            },
            set_cookie,
        }
    }

    pub fn parts(self) -> (T, Chrome, Option<HeaderValue>) {
        (self.t, self.c, self.set_cookie)
    }
}

pub fn render(
    set_cookie: Option<HeaderValue>,
    status: StatusCode,
    tpl: &impl Template,
) -> Response {
    web::page::render(set_cookie, status, tpl)
}

/// Where a signed-out admin goes.
pub fn to_login(path: &str) -> Response {
    Redirect::to(&format!("/admin/login?next={}", encode(path))).into_response()
}

#[derive(Template)]
#[template(path = "error.html")]
struct ErrorPage {
    t: T,
    c: Chrome,
    title: &'static str,
    message: &'static str,
}

/// The Admin's error page, in the admin's language.
impl web::error_pages::ErrorPages for AppState {
    async fn error_page(
        &self,
        headers: HeaderMap,
        text: web::page::ErrorText,
        status: StatusCode,
    ) -> Response {
        let web::page::ErrorText { title, message } = text;
        // The header shows who is signed in, as on every other page.
        let user = crate::auth::current_user(self, &headers)
            .await
            .ok()
            .flatten();
        let t = crate::i18n::for_request(&headers, user.as_ref());
        // The page's language form needs the CSRF cookie.
        let (token, set_cookie) = csrf::ensure(&headers, CSRF_COOKIE, self.cfg.secure_cookies);
        let page = ErrorPage {
            t,
            c: Chrome {
                csrf: token,
                user,
                path: "/admin".into(),
                langs: Lang::ALL,
                active: "",
            },
            title,
            message,
        };
        render(set_cookie, status, &page)
    }
}

#[derive(Deserialize)]
pub struct LangForm {
    csrf: String,
    lang: String,
    next: Option<String>,
}

impl CsrfToken for LangForm {
    fn csrf_token(&self) -> &str {
        &self.csrf
    }
}

async fn switch_lang(
    State(state): State<AppState>,
    MaybeAdmin(user): MaybeAdmin,
    CsrfForm(form): CsrfForm<LangForm>,
) -> PageResult {
    let lang = Lang::from_code(&form.lang).unwrap_or_default();
    if let Some(u) = &user {
        store::set_user_locale(&state.db, &u.id, lang.code()).await?;
    }
    let next = form
        .next
        .as_deref()
        .and_then(web::safe_local_path)
        .unwrap_or(CHANNEL_PATH);
    let mut res = Redirect::to(next).into_response();
    res.headers_mut().append(
        header::SET_COOKIE,
        cookies::set(
            LANG_COOKIE,
            lang.code(),
            Some(365 * 86400),
            state.cfg.secure_cookies,
        ),
    );
    Ok(res)
}
