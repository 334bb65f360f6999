//! The account site's HTML pages: sign in, create account, My Account and its
//! API Portal tab.

mod account;
mod amazon;
mod amazon_authorize;
mod audit;
mod close_company;
mod companies;
mod email;
mod join;
mod key_policy_form;
mod key_settings;
mod login;
mod members;
mod outbox;
mod passkeys;
mod password_reset;
mod portal;
mod public_key;
mod revoke;
mod roll;
mod signup;
mod stale_forms;
mod two_factor;
mod two_factor_account;
mod usage;
mod usage_chart;

use askama::Template;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use axum::Router;
use web::i18n::{Lang, T};
pub use web::page::{encode, FormErrors, PageErr, PageResult};

use crate::auth::{self, LANG_COOKIE};
use crate::store::{self, Account};
use crate::AppState;

pub use companies::COMPANIES;
pub use members::MEMBERS;
pub use portal::PORTAL;

/// Where a sign-in goes on: a local `next`, else the API Portal.
fn next_or_portal(next: Option<&str>) -> String {
    next.and_then(web::safe_local_path)
        .unwrap_or(PORTAL)
        .to_owned()
}

/// The pages that show or change keys: a member whose company requires a
/// second step they have not set up is sent to set it up first.
fn key_pages(state: AppState) -> Router<AppState> {
    Router::new()
        .route(
            "/account/api-portal",
            get(portal::show).post(portal::create),
        )
        .route(
            "/account/api-portal/keys/{id}/revoke",
            get(revoke::confirm).post(revoke::submit),
        )
        .route(
            "/account/api-portal/keys/{id}/roll",
            get(roll::confirm).post(roll::submit),
        )
        .route(
            "/account/api-portal/keys/{id}/public-key",
            get(public_key::show).post(public_key::save),
        )
        .route(
            "/account/api-portal/keys/{id}/settings",
            get(key_settings::show).post(key_settings::save),
        )
        .route_layer(axum::middleware::from_fn_with_state(
            state,
            second_step_first,
        ))
}

/// Sends a signed-in member who owes a second step (their company requires
/// one; they have none) to Account Information to set it up.
async fn second_step_first(
    axum::extract::State(state): axum::extract::State<AppState>,
    req: axum::extract::Request,
    next: axum::middleware::Next,
) -> Response {
    if let Ok(Some(user)) = auth::current_account(&state, req.headers()).await {
        match crate::two_factor::setup_owed(&state, &user).await {
            Ok(true) => {
                return Redirect::to(&format!("{}?notice=two_factor_owed", account::ACCOUNT))
                    .into_response()
            }
            Ok(false) => {}
            Err(e) => return web::Error::from(e).into_response(),
        }
    }
    next.run(req).await
}

pub fn router(state: AppState) -> Router<AppState> {
    Router::new()
        .route("/", get(home))
        .route("/login", get(login::show).post(login::submit))
        .route("/logout", post(login::logout))
        .route(
            two_factor::VERIFY,
            get(two_factor::show).post(two_factor::submit),
        )
        .route(
            two_factor::SETUP,
            get(two_factor::show_setup).post(two_factor::submit_setup),
        )
        .route(
            two_factor_account::SETUP,
            get(two_factor_account::show_setup).post(two_factor_account::submit_setup),
        )
        .route(
            "/account/two-factor/recovery-codes",
            post(two_factor_account::regenerate),
        )
        .route(
            "/account/two-factor/passkeys/{id}/remove",
            post(two_factor_account::remove_passkey),
        )
        .route(
            "/account/two-factor/turn-off",
            post(two_factor_account::turn_off),
        )
        .route(
            "/account/members/two-factor",
            post(two_factor_account::set_policy),
        )
        .route(
            "/account/members/key-lifetime",
            post(members::set_key_lifetime),
        )
        .route("/signup", get(signup::show).post(signup::submit))
        .route("/account", get(account::show))
        .route("/account/password", post(account::change_password))
        .route(
            "/account/sessions/revoke-others",
            post(account::revoke_others),
        )
        .route("/account/profile", post(email::save_profile))
        .route("/account/email-verification", post(email::resend))
        .route(
            "/cancel-email-change/{token}",
            get(email::show_cancel).post(email::submit_cancel),
        )
        .route(
            "/confirm-email/{token}",
            get(email::show_link).post(email::submit_link),
        )
        .route(
            "/password-reset",
            get(password_reset::show).post(password_reset::submit),
        )
        .route(
            "/password-reset/{token}",
            get(password_reset::show_link).post(password_reset::submit_link),
        )
        .route("/account/audit", get(audit::show))
        .route("/account/outbox", get(outbox::show))
        .route(usage::USAGE, get(usage::show))
        .route(usage::USAGE_CSV, get(usage::csv))
        .route("/account/members", get(members::show).post(members::invite))
        .route(
            "/account/members/invitations/{id}/withdraw",
            post(members::withdraw),
        )
        .route("/account/members/{id}/role", post(members::change_role))
        .route(
            "/account/members/{id}/remove",
            get(members::confirm_remove).post(members::remove),
        )
        .route("/join/{token}", get(join::show).post(join::submit))
        .merge(key_pages(state.clone()))
        .route("/account/amazon-stores", get(amazon::show))
        .route(
            "/account/amazon-stores/{id}/disconnect",
            post(amazon::disconnect),
        )
        .route("/amazon/connect/{link}", get(amazon_authorize::open_link))
        .route(
            "/amazon/authorize/callback",
            get(amazon_authorize::callback),
        )
        .route(
            "/amazon/authorize/login",
            get(amazon_authorize::login).post(amazon_authorize::login_submit),
        )
        .route(COMPANIES, get(companies::show).post(companies::create))
        .route("/account/companies/{id}/switch", post(companies::switch))
        .route(
            "/account/companies/{id}/close",
            get(close_company::confirm).post(close_company::submit),
        )
        .route("/lang", post(web::page::switch_lang::<AppState>))
        // Forms shown for another company than the session's current one
        // change nothing (SPEC §9).
        .route_layer(axum::middleware::from_fn_with_state(
            state,
            stale_forms::refuse_stale,
        ))
}

pub use web::page::fallback;

/// The account site's sessions (see `web::sessions`): who is signed in, and
/// where a signed-out visitor comes back to after signing in.
impl web::sessions::SessionSite for AppState {
    type User = Account;

    fn session_rules(&self) -> &'static web::sessions::SessionRules {
        &auth::SESSIONS
    }

    fn session_db(&self) -> &web::db::Db {
        &self.db
    }

    fn now(&self) -> i64 {
        self.clock.now()
    }

    /// The account in its session's current company; one in no company
    /// is not handed to the company's pages (see `auth::current_person`).
    async fn session_user(&self, id_hash: &str) -> Result<Option<Account>, web::Error> {
        Ok(auth::session_person(self, id_hash)
            .await?
            .filter(Account::in_company))
    }

    fn sign_in_path(&self) -> &'static str {
        "/login"
    }

    /// The pages of one key come back to the API Portal, those of one
    /// member or invitation to Members, those of one company to Companies.
    fn return_path<'a>(&self, path: &'a str) -> &'a str {
        if path.starts_with(PORTAL) {
            PORTAL
        } else if path.starts_with(MEMBERS) {
            MEMBERS
        } else if path.starts_with(COMPANIES) {
            COMPANIES
        } else {
            path
        }
    }
}

/// The account site's page and layout (see `web::layout`).
pub type Page = web::page::Page<Account>;
pub type Chrome = web::page::Chrome<Account>;

impl web::page::PageSite for AppState {
    fn texts(&self, headers: &HeaderMap, user: Option<&Account>) -> T {
        crate::i18n::for_request(headers, user)
    }
}

async fn home() -> Redirect {
    Redirect::to("/account/api-portal")
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

/// The account site's error page, in the visitor's language.
impl web::error_pages::ErrorPages for AppState {
    async fn error_page(
        &self,
        headers: HeaderMap,
        text: web::page::ErrorText,
        status: StatusCode,
    ) -> Response {
        let web::page::ErrorText { title, message } = text;
        // The header shows who is signed in, as on every other page.
        let user = crate::auth::current_account(self, &headers)
            .await
            .ok()
            .flatten();
        // The page's language form needs the CSRF cookie.
        let (t, c, set_cookie) = Page::new(self, &headers, user, "/").parts();
        let page = ErrorPage {
            t,
            c,
            title,
            message,
        };
        Page::render(set_cookie, status, &page)
    }
}

/// Field errors of the domain as a form's errors (the first per field).
pub fn field_errors(all: Vec<crate::FieldError>) -> FormErrors {
    let mut errors = FormErrors::default();
    for fe in all {
        errors.add(fe.field, fe.msg);
    }
    errors
}

/// A refusal that belongs beside a form's field, for the form shown again
/// with the values entered: its errors, and the status the refusal answers with.
pub struct FieldRefusal {
    pub errors: FormErrors,
    pub status: StatusCode,
}

/// The refusal as its form's field error; any other refusal is the error page's.
pub fn field_refusal(e: crate::AccountError) -> Result<FieldRefusal, PageErr> {
    let Some(fe) = e.field() else {
        return Err(e.into());
    };
    let mut errors = FormErrors::default();
    errors.add(fe.field, fe.msg);
    let status = web::Error::from(e).status();
    Ok(FieldRefusal { errors, status })
}

/// `?notice=` after a redirect: which message the page shows above its
/// content. Only the notices a page names are shown; anything else is none.
#[derive(serde::Deserialize)]
pub struct NoticeQuery {
    notice: Option<String>,
}

impl NoticeQuery {
    /// The catalog key of the notice, from the page's (notice, key) pairs.
    pub fn key(&self, known: &[(&str, &'static str)]) -> &'static str {
        let Some(asked) = self.notice.as_deref() else {
            return "";
        };
        known
            .iter()
            .find(|(name, _)| *name == asked)
            .map_or("", |(_, key)| key)
    }
}

pub use auth::SESSION_COOKIE;

/// The account site's language switch: `acct_lang`, back to the API Portal
/// by default, and the signed-in account's own choice.
impl web::page::LangSite for AppState {
    fn lang_cookie(&self) -> &'static str {
        LANG_COOKIE
    }

    fn home_path(&self) -> &'static str {
        PORTAL
    }

    async fn save_locale(&self, user: &Account, lang: Lang) -> Result<(), web::Error> {
        Ok(store::set_locale(&self.db, &user.id, lang.code()).await?)
    }
}
