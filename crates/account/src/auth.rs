//! Passwords, sessions and the extractors that say who is asking.

use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use axum::http::HeaderMap;
use web::{cookies, Error, Secret};

use crate::store::{self, Account};
use crate::AppState;

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

/// Starts a session: returns the cookie to set. Only the hash of the id is stored,
/// and a new id is made at every sign-in (no session fixation).
pub async fn start_session(
    state: &AppState,
    account_id: &str,
) -> Result<axum::http::HeaderValue, Error> {
    let sid = cookies::new_token();
    let hash = keys::hash_str(&sid).to_hex();
    web::sessions::create(
        &state.db,
        &store::SESSIONS,
        &hash,
        account_id,
        state.clock.now(),
    )
    .await?;
    Ok(cookies::set(
        &cookies::host_only(SESSION_COOKIE, state.cfg.secure_cookies),
        &sid,
        Some(SESSION_ABSOLUTE_SECS),
        state.cfg.secure_cookies,
    ))
}

pub async fn end_session(
    state: &AppState,
    headers: &HeaderMap,
) -> Result<axum::http::HeaderValue, Error> {
    let name = cookies::host_only(SESSION_COOKIE, state.cfg.secure_cookies);
    if let Some(sid) = cookies::get(headers, &name) {
        web::sessions::delete(&state.db, &store::SESSIONS, &keys::hash_str(sid).to_hex()).await?;
    }
    Ok(cookies::clear(&name, state.cfg.secure_cookies))
}

pub async fn current_account(
    state: &AppState,
    headers: &HeaderMap,
) -> Result<Option<Account>, Error> {
    let name = cookies::host_only(SESSION_COOKIE, state.cfg.secure_cookies);
    let Some(sid) = cookies::get(headers, &name) else {
        return Ok(None);
    };
    if sid.len() != 32 {
        return Ok(None);
    }
    let hash = keys::hash_str(sid).to_hex();
    Ok(store::session_account(
        &state.db,
        &hash,
        state.clock.now(),
        SESSION_IDLE_SECS,
        SESSION_ABSOLUTE_SECS,
    )
    .await?)
}

/// The company this browser's session cookie was removed from by an owner
/// (the session itself ended then): only a browser holding that cookie learns it.
pub async fn removed_from(state: &AppState, headers: &HeaderMap) -> Result<Option<String>, Error> {
    let name = cookies::host_only(SESSION_COOKIE, state.cfg.secure_cookies);
    let Some(sid) = cookies::get(headers, &name).filter(|s| s.len() == 32) else {
        return Ok(None);
    };
    let hash = keys::hash_str(sid).to_hex();
    Ok(store::removed_from(&state.db, &hash, state.clock.now(), SESSION_ABSOLUTE_SECS).await?)
}

/// A signed-in user, or 401 in the JSON error format.
pub struct CurrentUser(pub Account);

impl FromRequestParts<AppState> for CurrentUser {
    type Rejection = Error;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Error> {
        current_account(state, &parts.headers)
            .await?
            .map(CurrentUser)
            .ok_or_else(|| Error::unauthorized("not_signed_in", "Sign in first."))
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

/// Someone who may or may not be signed in (pages).
pub struct MaybeUser(pub Option<Account>);

impl FromRequestParts<AppState> for MaybeUser {
    type Rejection = Error;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Error> {
        Ok(MaybeUser(current_account(state, &parts.headers).await?))
    }
}
