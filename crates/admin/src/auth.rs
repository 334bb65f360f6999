//! Admin users and sessions.

use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use axum::http::{HeaderMap, HeaderValue};
use web::{Error, Secret};

use web::two_factor::{self as tf, Pending, Proof, Refusal};

use crate::error::AdminError;
use crate::store::{self, AdminUser};
use crate::two_factor::{self, AfterPassword};
use crate::AppState;

pub use crate::cookies::{CSRF_COOKIE, LANG_COOKIE, SESSION_COOKIE};
pub const SESSION_IDLE_SECS: i64 = 4 * 3600;
pub const SESSION_ABSOLUTE_SECS: i64 = 24 * 3600;
pub const MIN_PASSWORD: usize = 12;
/// The longest password accepted, in bytes of UTF-8.
pub const MAX_PASSWORD: usize = 256;

/// Creates an admin user (the CLI's `admin:user:create` and first start).
pub async fn create_user(
    state_db: &web::db::Db,
    username: &str,
    email: &str,
    password: Secret,
    now: i64,
) -> Result<(), AdminError> {
    let username = username.trim();
    if username.is_empty()
        || username.len() > 40
        || !username
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "._-".contains(c))
    {
        return Err(AdminError::InvalidUsername);
    }
    let email = web::normalize_email(email).ok_or(AdminError::InvalidEmail)?;
    check_password(&password)?;
    let hash = web::password::hash(password)
        .await
        .map_err(AdminError::PasswordCheck)?;
    match store::create_user(
        state_db,
        &keys::random_id("adm"),
        username,
        &email,
        &hash,
        now,
    )
    .await
    {
        Ok(()) => Ok(()),
        Err(e) if web::db::is_unique_violation(&e) => Err(AdminError::UsernameTaken),
        Err(e) => Err(AdminError::Storage(e)),
    }
}

/// The rules for an Admin password: not blank, at least [`MIN_PASSWORD`]
/// characters, at most [`MAX_PASSWORD`] bytes.
pub fn check_password(password: &Secret) -> Result<(), AdminError> {
    let p = password.expose();
    if p.len() > MAX_PASSWORD {
        return Err(AdminError::PasswordTooLong);
    }
    if !p.is_empty() && p.trim().is_empty() {
        return Err(AdminError::PasswordBlank);
    }
    if p.chars().any(char::is_control) {
        return Err(AdminError::PasswordControl);
    }
    if p.chars().count() < MIN_PASSWORD {
        return Err(AdminError::PasswordTooShort);
    }
    Ok(())
}

/// Sets an admin user's password (`commerce admin:user:password`) and ends
/// every session of that user. The username is matched without regard to case.
/// Returns the username as stored.
pub async fn set_password(
    db: &web::db::Db,
    username: &str,
    password: Secret,
) -> Result<String, AdminError> {
    check_password(&password)?;
    let (user, _) = store::user_with_hash(db, username.trim())
        .await?
        .ok_or(AdminError::UnknownUser)?;
    let hash = web::password::hash(password)
        .await
        .map_err(AdminError::PasswordCheck)?;
    if !store::set_password_ending_sessions(db, &user.id, &hash).await? {
        return Err(AdminError::UnknownUser);
    }
    Ok(user.username)
}

/// The signed-in admin changes their own password: the current one is
/// required (its attempts count against the sign-in throttle), the user's
/// other sessions end, this one (`session`, its id's hash) stays, and the
/// change is in the audit log.
pub async fn change_own_password(
    state: &AppState,
    user: &AdminUser,
    session: &str,
    current: Secret,
    new: Secret,
    ip: std::net::IpAddr,
) -> Result<(), AdminError> {
    check_password(&new)?;
    let now = state.clock.now();
    let taken = state
        .login
        .reserve(&ip.to_string(), &user.username, now)
        .await
        .map_err(|retry_after| AdminError::LoginThrottled { retry_after })?;
    let stored = store::user_with_hash(&state.db, &user.username)
        .await?
        .map(|(_, h)| h);
    let ok = web::password::verify(current, stored)
        .await
        .map_err(AdminError::PasswordCheck)?;
    if !ok {
        return Err(AdminError::WrongPassword);
    }
    taken.refund().await;
    let hash = web::password::hash(new)
        .await
        .map_err(AdminError::PasswordCheck)?;
    store::change_password_keeping_session(&state.db, user, &hash, session, now).await?;
    Ok(())
}

/// Checks a username and password; `None` for an unknown user or a wrong password alike.
/// An attempt is taken per client IP and per (IP, username) before the
/// password is hashed, so parallel requests check no more than the limits;
/// past a limit, 429. A right password gives its attempts back.
///
/// A browser whose device cookie (`device`, as sent) is valid for this
/// username signed in as it before: its attempts count against that device
/// alone, never against the username's throttles.
pub async fn authenticate(
    state: &AppState,
    username: &str,
    password: Secret,
    ip: std::net::IpAddr,
    device: Option<&str>,
) -> Result<Option<AdminUser>, AdminError> {
    let now = state.clock.now();
    let trusted = device.and_then(|d| state.devices.check(d, username));
    let taken = match trusted {
        Some(device) => state.login.reserve_device(device, now).await,
        None => state.login.reserve(&ip.to_string(), username, now).await,
    }
    .map_err(|retry_after| {
        tracing::info!(
            outcome = "throttled",
            known_device = trusted.is_some(),
            "admin sign-in"
        );
        AdminError::LoginThrottled { retry_after }
    })?;
    // A username with a NUL or another hidden character names no one (and
    // PostgreSQL could not even compare it): the dummy hash still runs.
    let found = if web::text::has_hidden(username) || username.len() > 256 {
        None
    } else {
        store::user_with_hash(&state.db, username.trim()).await?
    };
    let (user, hash) = match found {
        Some((u, h)) => (Some(u), Some(h)),
        None => (None, None),
    };
    let ok = web::password::verify(password, hash)
        .await
        .map_err(AdminError::PasswordCheck)?;
    let user = user.filter(|_| ok);
    // The decision, in the request's span (its id); never the password.
    match &user {
        Some(u) => {
            tracing::info!(outcome = "signed_in", user = %u.id, "admin sign-in");
            taken.refund().await;
        }
        None => tracing::info!(outcome = "refused", "admin sign-in"),
    }
    Ok(user)
}

/// The Admin's sessions: `adm_sid`, `admin_sessions`, 4 hours idle, 24 in all.
pub const SESSIONS: web::sessions::SessionRules = web::sessions::SessionRules {
    cookie: SESSION_COOKIE,
    table: store::SESSIONS,
    absolute_secs: SESSION_ABSOLUTE_SECS,
};

/// Starts an admin's session: returns the cookie to set.
pub async fn start_session(
    state: &AppState,
    user_id: &str,
    client: &web::sessions::Client,
) -> Result<HeaderValue, Error> {
    web::sessions::start(state, user_id, client).await
}

/// Ends the request's session: returns the cookie that clears it.
pub async fn end_session(state: &AppState, headers: &HeaderMap) -> Result<HeaderValue, Error> {
    web::sessions::end(state, headers).await
}

pub async fn current_user(
    state: &AppState,
    headers: &HeaderMap,
) -> Result<Option<AdminUser>, Error> {
    web::sessions::current(state, headers).await
}

/// A signed-in admin, or 401 in the JSON error format.
pub struct Admin(pub AdminUser);

impl FromRequestParts<AppState> for Admin {
    type Rejection = Error;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Error> {
        current_user(state, &parts.headers)
            .await?
            .map(Admin)
            .ok_or_else(|| Error::unauthorized("not_signed_in", "Sign in to the Admin first."))
    }
}

/// Someone who may or may not be signed in (pages redirect to sign-in).
pub struct MaybeAdmin(pub Option<AdminUser>);

impl FromRequestParts<AppState> for MaybeAdmin {
    type Rejection = Error;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Error> {
        Ok(MaybeAdmin(current_user(state, &parts.headers).await?))
    }
}

/// The Admin's second steps (see `web::two_factor`): its tables and cookie,
/// the authenticator secrets encrypted under `crypt.key` as configuration
/// secrets are, and wrong codes counted against the sign-in throttles.
impl tf::TwoFactorSite for AppState {
    fn two_factor_rules(&self) -> &'static tf::TwoFactorRules {
        &two_factor::RULES
    }

    fn secret_crypto(&self) -> &web::crypto::Crypto {
        &self.crypto
    }

    fn sign_in_limiter(&self) -> &web::ratelimit::LoginLimiter {
        &self.login
    }

    fn passkey_tables(&self) -> Option<&'static tf::passkey_store::PasskeyTables> {
        Some(&two_factor::PASSKEYS)
    }
}

/// What a right password answers with.
pub enum SignIn {
    /// Signed in: the cookies to set (the session and the device cookie).
    Session(Vec<HeaderValue>),
    /// A second step, or its setup, comes first: the pending sign-in's
    /// cookie, and no session.
    Pending(AfterPassword, HeaderValue),
}

/// After a right password (`name`: the username as typed): the session
/// when no second step is needed, else a pending sign-in.
pub async fn after_password(
    state: &AppState,
    user: &AdminUser,
    name: &str,
    headers: &HeaderMap,
    ip: std::net::IpAddr,
) -> Result<SignIn, Error> {
    match two_factor::after_password(state, &user.id, state.cfg.two_factor).await? {
        AfterPassword::Session => Ok(SignIn::Session(
            signed_in(state, &user.id, name, headers, (ip, false)).await?,
        )),
        step => {
            let setup = step == AfterPassword::Setup;
            let cookie = tf::begin(state, &user.id, name, setup).await?;
            Ok(SignIn::Pending(step, cookie))
        }
    }
}

/// Starts `user_id`'s session: its cookie and the device cookie. A session
/// that proved a second step (`stepped`) remembers when.
async fn signed_in(
    state: &AppState,
    user_id: &str,
    name: &str,
    headers: &HeaderMap,
    (ip, stepped): (std::net::IpAddr, bool),
) -> Result<Vec<HeaderValue>, Error> {
    let client = web::sessions::Client::new(headers, ip);
    let session = web::sessions::start_stepped(state, user_id, &client, stepped).await?;
    let device = state.devices.set_cookie(name, state.cfg.secure_cookies);
    Ok(vec![session, device])
}

/// Ends a pending sign-in whose second step was proved (or set up) and
/// starts its session: the cookies to set, or `None` when another request
/// ended it first.
pub async fn finish_pending(
    state: &AppState,
    p: &Pending,
    headers: &HeaderMap,
    ip: std::net::IpAddr,
) -> Result<Option<Vec<HeaderValue>>, Error> {
    if !tf::finish(state, p).await? {
        return Ok(None);
    }
    tracing::info!(outcome = "signed_in", user = %p.row.user_id, "admin second step");
    let mut cookies = signed_in(state, &p.row.user_id, &p.row.name, headers, (ip, true)).await?;
    cookies.push(tf::clear_cookie(state));
    Ok(Some(cookies))
}

/// A refused code: why, and whether the pending sign-in may try again.
pub struct Refused {
    pub why: Refusal,
    pub still_pending: bool,
}

/// Proves a pending sign-in's second step: the session's cookies, or why not.
pub async fn prove_second_step(
    state: &AppState,
    p: &Pending,
    proof: Proof<'_>,
    headers: &HeaderMap,
    ip: std::net::IpAddr,
) -> Result<Result<Vec<HeaderValue>, Refused>, Error> {
    let refused = |why| Refused {
        why,
        still_pending: true,
    };
    // A sign-in that must set up has nothing to prove yet.
    if p.row.setup {
        return Ok(Err(refused(Refusal::InvalidCode)));
    }
    match tf::check(state, &p.row.user_id, &p.row.name, ip, proof).await? {
        Ok(_) => Ok(finish_pending(state, p, headers, ip)
            .await?
            .ok_or(refused(Refusal::InvalidCode))),
        Err(Refusal::InvalidCode) => {
            tracing::info!(outcome = "refused", "admin second step");
            let still_pending = tf::count_wrong(state, p).await?;
            Ok(Err(Refused {
                why: Refusal::InvalidCode,
                still_pending,
            }))
        }
        Err(why) => Ok(Err(refused(why))),
    }
}

/// Ends the request's pending sign-in, if any: returns the cookie that clears it.
pub async fn end_pending(state: &AppState, headers: &HeaderMap) -> Result<HeaderValue, Error> {
    if let Some(p) = tf::pending(state, headers).await? {
        tf::finish(state, &p).await?;
    }
    Ok(tf::clear_cookie(state))
}
