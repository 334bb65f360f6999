//! The Admin's pages: sign-in, the Amazon Sales Channel, Configuration.

mod account_setting;
mod account_two_factor;
mod amazon_stores;
mod audit;
pub mod channel;
mod config;
mod login;
mod passkeys;
mod two_factor;

use askama::Template;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{Redirect, Response};
use axum::routing::{get, post};
use axum::Router;
use web::i18n::{Lang, T};
pub use web::page::{encode, FormErrors, PageErr, PageResult};

use crate::auth;
use crate::cookies::LANG_COOKIE;
use crate::store::{self, AdminUser};
use crate::AppState;

pub const CHANNEL_PATH: &str = "/admin/amazon";
pub const CONFIG_PATH: &str = "/admin/config/edit/section";
/// The second step of a sign-in, and setting one up before the first session.
pub const TWO_FACTOR_PATH: &str = "/admin/login/two-factor";
pub const TWO_FACTOR_SETUP_PATH: &str = "/admin/login/two-factor/setup";

/// Where a sign-in goes on to: a local path, else the channel page.
pub fn next_or_default(next: Option<&str>) -> String {
    next.and_then(web::safe_local_path)
        .unwrap_or(CHANNEL_PATH)
        .to_owned()
}

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/", get(|| async { Redirect::to(CHANNEL_PATH) }))
        .route("/admin", get(|| async { Redirect::to(CHANNEL_PATH) }))
        .route("/admin/login", get(login::show).post(login::submit))
        .route(
            TWO_FACTOR_PATH,
            get(two_factor::show).post(two_factor::submit),
        )
        .route(
            TWO_FACTOR_SETUP_PATH,
            get(two_factor::show_setup).post(two_factor::submit_setup),
        )
        .route("/admin/logout", post(login::logout))
        .route("/admin/lang", post(web::page::switch_lang::<AppState>))
        .route(CHANNEL_PATH, get(channel::show))
        .route("/admin/amazon/stores", post(channel::add_store))
        .route(
            "/admin/amazon/stores/{id}/connect",
            post(amazon_stores::connect),
        )
        .route(
            "/admin/amazon/stores/{id}/active",
            post(amazon_stores::set_active),
        )
        .route(
            "/admin/amazon/stores/{id}/check",
            post(amazon_stores::check),
        )
        .route(
            "/admin/amazon/stores/{id}/delete",
            get(amazon_stores::confirm_delete).post(amazon_stores::delete),
        )
        .route(audit::AUDIT_PATH, get(audit::show))
        .route(
            account_setting::PATH,
            get(account_setting::show).post(account_setting::save),
        )
        .route(
            account_two_factor::SETUP_PATH,
            post(account_two_factor::begin),
        )
        .route(
            account_two_factor::CONFIRM_PATH,
            post(account_two_factor::confirm),
        )
        .route(
            account_two_factor::RECOVERY_PATH,
            post(account_two_factor::renew_codes),
        )
        .route(
            account_two_factor::OFF_PATH,
            post(account_two_factor::turn_off),
        )
        .route(
            account_two_factor::REMOVE_PASSKEY_PATH,
            post(account_two_factor::remove_passkey),
        )
        .route(
            "/admin/config",
            get(|| async { Redirect::to("/admin/config/edit/section/general") }),
        )
        .route(
            "/admin/config/edit/section/{section}",
            get(config::show).post(config::save),
        )
}

pub use web::page::fallback;

/// The Admin's sessions (see `web::sessions`): who is signed in, and where a
/// signed-out admin comes back to after signing in.
impl web::sessions::SessionSite for AppState {
    type User = AdminUser;

    fn session_rules(&self) -> &'static web::sessions::SessionRules {
        &auth::SESSIONS
    }

    fn session_db(&self) -> &web::db::Db {
        &self.db
    }

    fn now(&self) -> i64 {
        self.clock.now()
    }

    async fn session_user(&self, id_hash: &str) -> Result<Option<AdminUser>, web::Error> {
        Ok(store::session_user(
            &self.db,
            id_hash,
            self.clock.now(),
            (auth::SESSION_IDLE_SECS, auth::SESSION_ABSOLUTE_SECS),
            self.cfg.two_factor.is_required(),
        )
        .await?)
    }

    fn sign_in_path(&self) -> &'static str {
        "/admin/login"
    }

    /// A post to Store Integration comes back to the channel page.
    fn return_path<'a>(&self, path: &'a str) -> &'a str {
        if path.starts_with(CHANNEL_PATH) {
            CHANNEL_PATH
        } else {
            path
        }
    }
}

/// The Admin's page and layout (see `web::layout`); `c.active` names the
/// current sidebar entry: "amazon", "config", "audit" or "account".
pub type Page = web::page::Page<AdminUser>;
pub type Chrome = web::page::Chrome<AdminUser>;

impl web::page::PageSite for AppState {
    fn texts(&self, headers: &HeaderMap, user: Option<&AdminUser>) -> T {
        crate::i18n::for_request(headers, user)
    }
}

pub use web::page::render;

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
        // The page's language form needs the CSRF cookie.
        let (t, c, set_cookie) = Page::new(self, &headers, user, "/admin").parts();
        let page = ErrorPage {
            t,
            c,
            title,
            message,
        };
        render(set_cookie, status, &page)
    }
}

/// The Admin's language switch: `adm_lang`, back to the channel page by
/// default, and the signed-in admin's own choice.
impl web::page::LangSite for AppState {
    fn lang_cookie(&self) -> &'static str {
        LANG_COOKIE
    }

    fn home_path(&self) -> &'static str {
        CHANNEL_PATH
    }

    async fn save_locale(&self, user: &AdminUser, lang: Lang) -> Result<(), web::Error> {
        Ok(store::set_user_locale(&self.db, &user.id, lang.code()).await?)
    }
}
