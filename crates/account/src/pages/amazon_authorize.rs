//! The browser's side of Seller Central authorization: the connect link,
//! the callback (the redirect URI) and the log-in URI with its store picker.
//! Links, states, codes and tokens are never shown or logged.

use askama::Template;
use axum::extract::{Path, Query, State};
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use serde::Deserialize;
use web::i18n::T;
use web::page::CsrfForm;

use super::{encode, Chrome, Page, PageErr, PageResult};
use crate::amazon::connect::{self, Callback, LoginRequest, Outcome};
use crate::amazon::{stores, STATE_COOKIE, STATE_COOKIE_PATH};
use crate::auth::MaybeUser;
use crate::store::Account;
use crate::{members, AccountError, AppState};

/// The state cookie: HttpOnly, `SameSite=Lax` (the callback is a cross-site
/// top-level GET, which `Strict` would send without it), only under
/// `/amazon/authorize`, 10 minutes.
/// With `--secure-cookies`, `__Host-` prefixed (and so `Path=/`, Secure).
fn state_cookie(state: &AppState, nonce: &str) -> HeaderValue {
    let secure = state.cfg.secure_cookies;
    let name = web::cookies::host_only(STATE_COOKIE, secure);
    let (path, flag) = if secure {
        ("/", "; Secure")
    } else {
        (STATE_COOKIE_PATH, "")
    };
    let max_age = crate::amazon::LINK_SECS;
    HeaderValue::from_str(&format!(
        "{name}={nonce}; Path={path}; HttpOnly; SameSite=Lax; Max-Age={max_age}{flag}"
    ))
    .unwrap_or_else(|_| HeaderValue::from_static(""))
}

fn nonce_of<'a>(state: &AppState, headers: &'a HeaderMap) -> Option<&'a str> {
    web::cookies::get(
        headers,
        &web::cookies::host_only(STATE_COOKIE, state.cfg.secure_cookies),
    )
}

/// A redirect away from our site that must not leak the page's address.
fn see_other(state: &AppState, r: connect::Redirect) -> Response {
    let mut res = Redirect::to(&r.location).into_response();
    let h = res.headers_mut();
    h.append(header::SET_COOKIE, state_cookie(state, r.nonce.expose()));
    h.insert(
        header::REFERRER_POLICY,
        HeaderValue::from_static("no-referrer"),
    );
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    res
}

/// `GET /amazon/connect/{link}`: takes the link and goes to Seller Central.
pub async fn open_link(
    State(state): State<AppState>,
    headers: HeaderMap,
    Path(token): Path<String>,
) -> PageResult {
    let base = members::link_base(&state, &headers)?;
    let r = connect::open_link(&state, &token, &base, nonce_of(&state, &headers)).await?;
    Ok(see_other(&state, r))
}

#[derive(Template)]
#[template(path = "amazon_outcome.html")]
struct OutcomePage {
    t: T,
    c: Chrome,
    title: &'static str,
    store: String,
    /// The status label, or "".
    status: &'static str,
    /// What happened and what to do (catalog key).
    message: &'static str,
    /// Why, when `message` does not say it (catalog key), or "".
    detail: &'static str,
    success: bool,
}

#[derive(Deserialize)]
pub struct CallbackQuery {
    state: Option<String>,
    selling_partner_id: Option<String>,
    spapi_oauth_code: Option<String>,
}

/// `GET /amazon/authorize/callback`: Seller Central sends the merchant back.
pub async fn callback(
    State(state): State<AppState>,
    MaybeUser(user): MaybeUser,
    headers: HeaderMap,
    Query(q): Query<CallbackQuery>,
) -> Response {
    let cb = Callback {
        state: q.state.as_deref(),
        selling_partner_id: q.selling_partner_id.as_deref(),
        code: q.spapi_oauth_code.as_deref(),
    };
    let outcome = connect::callback(&state, cb, nonce_of(&state, &headers)).await;
    let mut res = match outcome {
        Err(e) => PageErr::from(e).into_response(),
        Ok(outcome) => {
            let (t, c, cookie) =
                Page::new(&state, &headers, user, super::amazon::AMAZON_STORES).parts();
            let (title, store, status, message, detail, success, code) = match outcome {
                Outcome::Active(row) => (
                    "amazon.connected_title",
                    row.name.clone(),
                    row.status().label(),
                    if row.enabled != 0 {
                        "amazon.connected"
                    } else {
                        "amazon.connected_inactive"
                    },
                    "",
                    true,
                    StatusCode::OK,
                ),
                Outcome::Failed(row, reason) => (
                    "amazon.failed_title",
                    row.name.clone(),
                    row.status().label(),
                    reason.sentence(),
                    "",
                    false,
                    StatusCode::OK,
                ),
                // The store works as before: the page says so, and why the
                // new authorization was not granted.
                Outcome::Kept(row, reason) => (
                    "amazon.reauth_failed_title",
                    row.name.clone(),
                    row.status().label(),
                    "amazon.reauth_kept",
                    reason.attempt(),
                    false,
                    StatusCode::OK,
                ),
                Outcome::StoreGone => (
                    "amazon.failed_title",
                    String::new(),
                    "",
                    "amazon.store_gone",
                    "",
                    false,
                    StatusCode::GONE,
                ),
            };
            let page = OutcomePage {
                t,
                c,
                title,
                store,
                status,
                message,
                detail,
                success,
            };
            Page::render(cookie, code, &page)
        }
    };
    // The address held the code and the state: no page it links to sees it.
    res.headers_mut().insert(
        header::REFERRER_POLICY,
        HeaderValue::from_static("no-referrer"),
    );
    res
}

#[derive(Deserialize)]
pub struct LoginQuery {
    amazon_callback_uri: Option<String>,
    amazon_state: Option<String>,
    selling_partner_id: Option<String>,
}

pub struct StoreChoice {
    id: String,
    name: String,
    country: &'static str,
    status: &'static str,
    selected: bool,
}

#[derive(Template)]
#[template(path = "amazon_login.html")]
struct LoginPage {
    t: T,
    c: Chrome,
    amazon_callback_uri: String,
    amazon_state: String,
    stores: Vec<StoreChoice>,
    /// A viewer sees the stores and picks none.
    can_write: bool,
}

/// `GET /amazon/authorize/login`: an authorization started in Seller
/// Central. The merchant signs in (and comes back here), then picks the store.
pub async fn login(
    State(state): State<AppState>,
    MaybeUser(user): MaybeUser,
    headers: HeaderMap,
    uri: axum::http::Uri,
    Query(q): Query<LoginQuery>,
) -> PageResult {
    let (cfg, _) = stores::configured(&state)?;
    let request = LoginRequest {
        amazon_callback_uri: q.amazon_callback_uri.as_deref().unwrap_or(""),
        amazon_state: q.amazon_state.as_deref().unwrap_or(""),
    };
    connect::check_login(cfg, &request)?;
    // Where sign-in and the language switch come back to.
    let here = uri.path_and_query().map_or("", |p| p.as_str());
    let here = web::safe_local_path(here).ok_or(AccountError::AmazonCallbackUri)?;
    let Some(user) = user else {
        return Ok(Redirect::to(&format!("/login?next={}", encode(here))).into_response());
    };
    let seller = q.selling_partner_id.as_deref().unwrap_or("");
    let rows = stores::list(&state, &user.company_id).await?;
    // The seller's store when it is known, the only one when there is one;
    // otherwise the merchant chooses (no guess that could authorize another store).
    let preselect = rows
        .iter()
        .position(|r| !seller.is_empty() && r.seller_id.as_deref() == Some(seller))
        .or((rows.len() == 1).then_some(0));
    let choices = rows
        .into_iter()
        .enumerate()
        .map(|(i, r)| StoreChoice {
            selected: Some(i) == preselect,
            status: r.status().label(),
            country: r.country().code(),
            id: r.id,
            name: r.name,
        })
        .collect();
    let can_write = user.role.can_write();
    let (t, c, cookie) = Page::new(&state, &headers, Some(user), here).parts();
    let page = LoginPage {
        can_write,
        t,
        c,
        amazon_callback_uri: request.amazon_callback_uri.to_owned(),
        amazon_state: request.amazon_state.to_owned(),
        stores: choices,
    };
    let mut res = Page::render(cookie, StatusCode::OK, &page);
    // The form's answer redirects to Seller Central: the policy must allow it.
    if let Some((scheme, host)) = crate::amazon::config::origin_of(request.amazon_callback_uri) {
        let csp = web::headers::CSP.replace(
            "form-action 'self'",
            &format!("form-action 'self' {scheme}://{host}"),
        );
        if let Ok(v) = HeaderValue::from_str(&csp) {
            res.headers_mut().insert(header::CONTENT_SECURITY_POLICY, v);
        }
    }
    Ok(res)
}

#[derive(Deserialize)]
pub struct LoginForm {
    amazon_callback_uri: String,
    amazon_state: String,
    store_id: Option<String>,
}

/// The picked store: a new state for this browser, and back to Seller Central.
pub async fn login_submit(
    State(state): State<AppState>,
    web::page::SignedIn(user): web::page::SignedIn<Account>,
    headers: HeaderMap,
    CsrfForm(form): CsrfForm<LoginForm>,
) -> PageResult {
    // A viewer authorizes nothing.
    crate::members::require_writer(&user)?;
    let base = members::link_base(&state, &headers)?;
    let store_id = form
        .store_id
        .filter(|s| web::extract::is_id(s))
        .ok_or(AccountError::AmazonStoreNotFound)?;
    let request = LoginRequest {
        amazon_callback_uri: &form.amazon_callback_uri,
        amazon_state: &form.amazon_state,
    };
    let r = connect::login_redirect(
        &state,
        &user.company_id,
        &store_id,
        &request,
        &base,
        nonce_of(&state, &headers),
    )
    .await?;
    Ok(see_other(&state, r))
}
