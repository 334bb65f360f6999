//! Passwords, sessions and the extractors that say who is asking.

use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use axum::http::HeaderMap;
use web::{cookies, Error, Secret};

use crate::store::{self, Account};
use crate::{AccountError, AppState};

pub const SESSION_COOKIE: &str = "acct_sid";
pub const CSRF_COOKIE: &str = "acct_csrf";
pub const LANG_COOKIE: &str = "acct_lang";

/// Sessions end after this long without a request…
pub const SESSION_IDLE_SECS: i64 = 12 * 3600;
/// …and after this long in any case.
pub const SESSION_ABSOLUTE_SECS: i64 = 7 * 24 * 3600;

pub const MIN_PASSWORD: usize = 12;
pub const MAX_PASSWORD: usize = 256;

/// argon2id, off the async runtime (see `web::password`).
pub async fn hash_password(password: Secret) -> Result<String, Error> {
    web::password::hash(password).await
}

/// Checks a password; an unknown email (`None`) costs the same time as a wrong password.
pub async fn verify_password(password: Secret, stored: Option<String>) -> Result<bool, Error> {
    web::password::verify(password, stored).await
}

/// The account site's sessions: `acct_sid`, `account_sessions`, 12 hours
/// idle, 7 days in all.
pub const SESSIONS: web::sessions::SessionRules = web::sessions::SessionRules {
    cookie: SESSION_COOKIE,
    table: store::SESSIONS,
    absolute_secs: SESSION_ABSOLUTE_SECS,
};

impl web::page::CsrfSite for AppState {
    fn csrf_cookie(&self) -> &'static str {
        CSRF_COOKIE
    }

    fn secure_cookies(&self) -> bool {
        self.cfg.secure_cookies
    }
}

/// The account site's second steps (see `web::two_factor` and
/// `crate::two_factor`): authenticator secrets are encrypted under the
/// token key, and wrong codes count against the sign-in throttles.
impl web::two_factor::TwoFactorSite for AppState {
    fn two_factor_rules(&self) -> &'static web::two_factor::TwoFactorRules {
        &crate::two_factor::RULES
    }

    fn secret_crypto(&self) -> &web::crypto::Crypto {
        &self.cfg.token_crypto
    }

    fn sign_in_limiter(&self) -> &web::ratelimit::LoginLimiter {
        &self.limits.login
    }

    fn passkey_tables(&self) -> Option<&'static web::two_factor::passkey_store::PasskeyTables> {
        Some(&store::PASSKEYS)
    }
}

/// Starts a session: returns the cookie to set (see `web::sessions::start`).
pub async fn start_session(
    state: &AppState,
    account_id: &str,
    client: &web::sessions::Client,
) -> Result<axum::http::HeaderValue, Error> {
    web::sessions::start(state, account_id, client).await
}

/// Starts the session of a sign-in that proved its second step: the
/// session remembers when (changes to second steps soon after need no new
/// proof).
pub async fn start_session_stepped(
    state: &AppState,
    account_id: &str,
    client: &web::sessions::Client,
) -> Result<axum::http::HeaderValue, Error> {
    web::sessions::start_stepped(state, account_id, client, true).await
}

/// Ends the request's session: returns the cookie that clears it. Pending
/// changes of the account's email end with it (one asked for with a stolen
/// session does not outlive the session).
pub async fn end_session(
    state: &AppState,
    headers: &HeaderMap,
) -> Result<axum::http::HeaderValue, Error> {
    if let Some(account) = current_account(state, headers).await? {
        crate::store::cancel_email_changes(&state.db, &account.id, state.clock.now()).await?;
    }
    web::sessions::end(state, headers).await
}

/// The signed-in account in its session's current company; `None` when
/// no one is signed in, or the account belongs to no company (see
/// [`current_person`]).
pub async fn current_account(
    state: &AppState,
    headers: &HeaderMap,
) -> Result<Option<Account>, Error> {
    web::sessions::current(state, headers).await
}

/// The signed-in account, in a company or in none (see
/// [`Account::in_company`]): for what works without a company (the list
/// of companies, making one, accepting an invitation).
pub async fn current_person(
    state: &AppState,
    headers: &HeaderMap,
) -> Result<Option<Account>, Error> {
    match web::sessions::cookie_hash(state, headers) {
        Some(hash) => session_person(state, &hash).await,
        None => Ok(None),
    }
}

/// The account of the live session with this id hash, in a company or in
/// none (the pages' `SessionSite::session_user` keeps only the former).
pub async fn session_person(state: &AppState, id_hash: &str) -> Result<Option<Account>, Error> {
    Ok(store::session_account(
        &state.db,
        id_hash,
        state.clock.now(),
        SESSION_IDLE_SECS,
        SESSION_ABSOLUTE_SECS,
    )
    .await?)
}

/// The hash of the request's session cookie (the session's row), if any.
pub fn session_hash(state: &AppState, headers: &HeaderMap) -> Option<String> {
    web::sessions::cookie_hash(state, headers)
}

/// The company this browser's session cookie was removed from by an owner
/// (the session itself ended then): only a browser holding that cookie learns it.
pub async fn removed_from(state: &AppState, headers: &HeaderMap) -> Result<Option<String>, Error> {
    let Some(hash) = web::sessions::cookie_hash(state, headers) else {
        return Ok(None);
    };
    Ok(store::removed_from(&state.db, &hash, state.clock.now(), SESSION_ABSOLUTE_SECS).await?)
}

/// A signed-in user, or 401 in the JSON error format.
pub struct CurrentUser(pub Account);

impl FromRequestParts<AppState> for CurrentUser {
    type Rejection = Error;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Error> {
        match current_person(state, &parts.headers).await? {
            Some(a) if a.in_company() => Ok(CurrentUser(a)),
            Some(_) => Err(AccountError::NoCompany.into()),
            None => Err(AccountError::NotSignedIn.into()),
        }
    }
}

/// A signed-in user, in a company or in none (see [`current_person`]), or
/// 401 in the JSON error format.
pub struct CurrentPerson(pub Account);

impl FromRequestParts<AppState> for CurrentPerson {
    type Rejection = Error;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Error> {
        current_person(state, &parts.headers)
            .await?
            .map(CurrentPerson)
            .ok_or_else(|| AccountError::NotSignedIn.into())
    }
}

/// A signed-in user whose cookie-authenticated request changes state: it must
/// also be same-origin JSON, which a cross-site form cannot forge.
pub struct CurrentUserWrite(pub Account);

impl FromRequestParts<AppState> for CurrentUserWrite {
    type Rejection = Error;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Error> {
        check_same_origin(&parts.headers, state.cfg.secure_cookies)?;
        let CurrentUser(a) = CurrentUser::from_request_parts(parts, state).await?;
        Ok(CurrentUserWrite(a))
    }
}

/// Refuses cross-origin requests (by `Origin`); state-changing JSON routes call it.
pub fn check_same_origin(headers: &HeaderMap, secure: bool) -> Result<(), Error> {
    if cookies::origin_matches_host(headers, secure) {
        Ok(())
    } else {
        Err(Error::forbidden(
            "cross_origin",
            "Cross-origin requests are not allowed.",
        ))
    }
}

/// Someone who may or may not be signed in, in a company or in none (the
/// invitation page).
pub struct MaybePerson(pub Option<Account>);

impl FromRequestParts<AppState> for MaybePerson {
    type Rejection = Error;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Error> {
        Ok(MaybePerson(current_person(state, &parts.headers).await?))
    }
}

/// Someone who may or may not be signed in (pages).
pub struct MaybeUser(pub Option<Account>);

impl FromRequestParts<AppState> for MaybeUser {
    type Rejection = Error;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Error> {
        Ok(MaybeUser(current_account(state, &parts.headers).await?))
    }
}
