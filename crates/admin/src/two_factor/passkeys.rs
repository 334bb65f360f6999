//! Passkeys and security keys as a second step in the Admin, as on the
//! account site: adding one (named; the first second step also makes the
//! recovery codes), signing in with one, and removing one. The ceremonies
//! are the shared core's (`web::two_factor::passkey`); the rules are the
//! Admin's.
//!
//! The relying party is the host the Admin was served from (it has no
//! public URL): `https://` behind secure cookies, else `http://`. WebAuthn
//! takes no IP address: opened by one, the Admin offers no passkeys.

use std::net::IpAddr;

use axum::http::HeaderMap;
use web::two_factor::passkey::{self as core_pk, RelyingParty, MAX_NAME};
use web::two_factor::passkey_store::{self, PasskeyRow};
use web::two_factor::{self as tf, Pending, Refusal, TwoFactorSite};

use super::{check_own_code, turn_off, Policy, PASSKEYS};
use crate::error::AdminError;
use crate::store::AdminUser;

/// The relying party of the request: the host it was sent to.
pub fn relying_party(headers: &HeaderMap, secure: bool) -> Result<RelyingParty, AdminError> {
    RelyingParty::for_request(None, headers, secure).ok_or(AdminError::PasskeysUnavailable)
}

/// The user's passkeys, oldest first.
pub async fn list<S: TwoFactorSite>(
    site: &S,
    user_id: &str,
) -> Result<Vec<PasskeyRow>, AdminError> {
    Ok(passkey_store::list(site.session_db(), &PASSKEYS, user_id).await?)
}

/// A passkey's name as given: trimmed, 1 to 60 characters, nothing hidden.
pub fn check_name(name: &str) -> Result<String, AdminError> {
    let name = name.trim();
    if name.is_empty() || name.chars().count() > MAX_NAME || web::text::has_hidden(name) {
        return Err(AdminError::PasskeyName);
    }
    Ok(name.to_owned())
}

/// Starts adding a passkey for `user`: the options for the browser.
pub async fn start_registration<S: TwoFactorSite>(
    site: &S,
    rp: &RelyingParty,
    user: &AdminUser,
) -> Result<serde_json::Value, AdminError> {
    Ok(core_pk::start_registration(site, rp, &user.id, &user.username).await?)
}

/// Adds the passkey the authenticator made, named `name`. When it is the
/// user's first second step, two-step sign-in is on and its recovery codes
/// are returned (shown once).
pub async fn finish_registration<S: TwoFactorSite>(
    site: &S,
    rp: &RelyingParty,
    user: &AdminUser,
    name: &str,
    answer: &[u8],
) -> Result<(PasskeyRow, Option<Vec<String>>), AdminError> {
    let name = check_name(name)?;
    let row = core_pk::finish_registration(site, rp, &user.id, &name, answer)
        .await?
        .map_err(AdminError::Passkey)?;
    let codes = tf::first_recovery_codes(site, &user.id).await?;
    tracing::info!(user = %user.id, passkey = %row.id, first = codes.is_some(), "admin passkey added");
    Ok((row, codes))
}

/// Starts proving a pending sign-in's second step with one of the user's
/// passkeys: the options for the browser. A sign-in that must set up has
/// nothing to prove.
pub async fn start_sign_in<S: TwoFactorSite>(
    site: &S,
    rp: &RelyingParty,
    pending: &Pending,
) -> Result<serde_json::Value, AdminError> {
    if pending.row.setup {
        return Err(AdminError::Passkey(core_pk::PasskeyRefusal::NoPasskey));
    }
    core_pk::start_authentication(site, rp, &pending.row.user_id)
        .await?
        .map_err(AdminError::Passkey)
}

/// Checks a pending sign-in's answer from a passkey; the caller ends the
/// sign-in and starts the session. A refused answer counts against the
/// sign-in (it ends after five).
pub async fn finish_sign_in<S: TwoFactorSite>(
    site: &S,
    rp: &RelyingParty,
    pending: &Pending,
    answer: &[u8],
) -> Result<(), AdminError> {
    let user_id = &pending.row.user_id;
    if pending.row.setup {
        return Err(AdminError::Passkey(core_pk::PasskeyRefusal::NoPasskey));
    }
    match core_pk::finish_authentication(site, rp, user_id, answer).await? {
        Ok(_) => Ok(()),
        Err(refusal) => {
            tf::count_wrong(site, pending).await?;
            tracing::info!(outcome = "refused", method = "passkey", user = %user_id, "admin second step");
            Err(AdminError::Passkey(refusal))
        }
    }
}

/// What removing a passkey did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Removed {
    /// The passkey is gone; other second steps remain.
    One,
    /// It was the last second step: two-step sign-in is off (recovery
    /// codes void, the other sessions ended).
    TurnedOff,
}

/// Removes one of `user`'s passkeys, proved by a current code (an
/// authenticator or a recovery code), or by a second step of this session
/// within the last 10 minutes. The last second step is refused while
/// `policy` requires one; else removing it turns two-step sign-in off.
pub async fn remove<S: TwoFactorSite>(
    site: &S,
    policy: Policy,
    (headers, ip): (&HeaderMap, IpAddr),
    user: &AdminUser,
    passkey_id: &str,
    code: Option<&str>,
) -> Result<Removed, AdminError> {
    if !list(site, &user.id)
        .await?
        .iter()
        .any(|k| k.id == passkey_id)
    {
        return Err(AdminError::PasskeyNotFound);
    }
    let status = tf::status(site, &user.id).await?;
    let last = !status.totp && status.passkeys <= 1;
    if last && policy.is_required() {
        return Err(AdminError::TwoFactorRequired);
    }
    if !tf::recently_stepped_up(site, headers).await? {
        let code = code
            .filter(|c| !c.trim().is_empty())
            .ok_or(AdminError::InvalidCode)?;
        match check_own_code(site, user, ip, code).await? {
            Ok(()) => {}
            Err(Refusal::InvalidCode) => return Err(AdminError::InvalidCode),
            Err(Refusal::Throttled(retry_after)) => {
                return Err(AdminError::LoginThrottled { retry_after })
            }
        }
    }
    if last {
        let keep = web::sessions::cookie_hash(site, headers).unwrap_or_default();
        turn_off(site, user, &keep).await?;
        return Ok(Removed::TurnedOff);
    }
    if !passkey_store::remove(site.session_db(), &PASSKEYS, &user.id, passkey_id).await? {
        return Err(AdminError::PasskeyNotFound);
    }
    tracing::info!(user = %user.id, passkey = %passkey_id, "admin passkey removed");
    Ok(Removed::One)
}
