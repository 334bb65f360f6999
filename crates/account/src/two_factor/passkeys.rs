//! Passkeys and security keys as a second step on the account site:
//! adding one (named; the first also makes the recovery codes), signing in
//! with one, confirming a change with one, and removing one. The
//! ceremonies are the shared core's (`web::two_factor::passkey`); the
//! rules, audit and notices are the site's.

use std::net::IpAddr;

use axum::http::HeaderMap;
use web::two_factor::passkey::{self as core_pk, RelyingParty, MAX_NAME};
use web::two_factor::passkey_store::{self, PasskeyRow};
use web::two_factor::{self as core, Pending};

use super::{notice, Site};
use crate::audit::{self, action};
use crate::store::{self, Account, NewEvent};
use crate::{AccountError, FieldError};

/// The relying party of the request: `--public-url`'s host, else the host
/// the page was served from; none on an IP address.
pub fn relying_party<S: Site>(site: &S, headers: &HeaderMap) -> Result<RelyingParty, AccountError> {
    RelyingParty::for_request(
        site.cfg.public_url.as_deref(),
        headers,
        site.cfg.secure_cookies,
    )
    .ok_or(AccountError::PasskeysUnavailable)
}

/// The account's passkeys, oldest first.
pub async fn list<S: Site>(site: &S, account: &Account) -> Result<Vec<PasskeyRow>, AccountError> {
    let t = &store::PASSKEYS;
    Ok(passkey_store::list(&site.db, t, &account.id).await?)
}

/// A passkey's name as given: trimmed, 1 to 60 characters, nothing hidden.
pub fn check_name(name: &str) -> Result<String, AccountError> {
    let name = name.trim();
    if name.is_empty() || name.chars().count() > MAX_NAME || web::text::has_hidden(name) {
        return Err(AccountError::Invalid(FieldError::new(
            "name",
            "error.passkey_name",
        )));
    }
    Ok(name.to_owned())
}

/// Starts adding a passkey: the options for the browser.
pub async fn start_registration<S: Site>(
    site: &S,
    rp: &RelyingParty,
    account: &Account,
) -> Result<serde_json::Value, AccountError> {
    Ok(core_pk::start_registration(site, rp, &account.id, &account.email).await?)
}

/// Adds the passkey the authenticator made, named `name`. When it is the
/// account's first second step, two-step sign-in is on and its recovery
/// codes are returned (shown once). Audited.
pub async fn finish_registration<S: Site>(
    site: &S,
    rp: &RelyingParty,
    account: &Account,
    name: &str,
    answer: &[u8],
    ip: IpAddr,
) -> Result<(PasskeyRow, Option<Vec<String>>), AccountError> {
    let name = check_name(name)?;
    let row = core_pk::finish_registration(site, rp, &account.id, &name, answer)
        .await?
        .map_err(AccountError::Passkey)?;
    let codes = core::first_recovery_codes(site, &account.id).await?;
    let ip = ip.to_string();
    let (act, detail) = match codes {
        Some(_) => (
            action::TWO_FACTOR_ENABLED,
            serde_json::json!({ "method": "passkey", "name": row.name }),
        ),
        None => (
            action::PASSKEY_ADDED,
            serde_json::json!({ "name": row.name }),
        ),
    };
    let detail = detail.to_string();
    let now = site.clock.now();
    let event = NewEvent {
        ip: Some(&ip),
        ..audit::by_user(account, act, Some(&account.id), Some(&detail), now)
    };
    audit::record(site, &event).await;
    Ok((row, codes))
}

/// Starts signing in (or confirming a change) with one of the account's
/// passkeys: the options for the browser.
pub async fn start_sign_in<S: Site>(
    site: &S,
    rp: &RelyingParty,
    account: &Account,
) -> Result<serde_json::Value, AccountError> {
    core_pk::start_authentication(site, rp, &account.id)
        .await?
        .map_err(AccountError::Passkey)
}

/// Proves a pending sign-in's second step with a passkey: the sign-in ends
/// and the caller starts the session. A refused answer counts against the
/// sign-in (it ends after five).
pub async fn finish_sign_in<S: Site>(
    site: &S,
    rp: &RelyingParty,
    pending: &Pending,
    account: &Account,
    answer: &[u8],
) -> Result<(), AccountError> {
    match core_pk::finish_authentication(site, rp, &account.id, answer).await? {
        Ok(_) => {
            if !core::finish(site, pending).await? {
                return Err(AccountError::SignInExpired);
            }
            tracing::info!(outcome = "signed_in", method = "passkey", account = %account.id, "two-step sign-in");
            Ok(())
        }
        Err(refusal) => {
            core::count_wrong(site, pending).await?;
            tracing::info!(outcome = "refused", method = "passkey", account = %account.id, "two-step sign-in");
            Err(AccountError::Passkey(refusal))
        }
    }
}

/// Confirms the signed-in account with a passkey: changes to its second
/// steps need no code for the next 10 minutes.
pub async fn confirm<S: Site>(
    site: &S,
    rp: &RelyingParty,
    headers: &HeaderMap,
    account: &Account,
    answer: &[u8],
) -> Result<(), AccountError> {
    core_pk::finish_authentication(site, rp, &account.id, answer)
        .await?
        .map_err(AccountError::Passkey)?;
    core::step_up(site, headers).await?;
    Ok(())
}

/// Removes one of the account's passkeys, proved by a current code, or by
/// a second step of this session within the last 10 minutes. Removing the
/// last second step turns two-step sign-in off (refused while the company
/// requires it; the other sessions end, a notice is mailed). Audited.
pub async fn remove<S: Site>(
    site: &S,
    headers: &HeaderMap,
    account: &Account,
    passkey_id: &str,
    code: Option<&str>,
    ip: IpAddr,
) -> Result<(), AccountError> {
    let keys = list(site, account).await?;
    let Some(found) = keys.iter().find(|k| k.id == passkey_id) else {
        return Err(AccountError::PasskeyNotFound);
    };
    let status = core::status(site, &account.id).await?;
    let last = !status.totp && status.passkeys <= 1;
    if last && store::company_requires_two_factor(&site.db, &account.company_id).await? {
        return Err(AccountError::TwoFactorRequired);
    }
    let how = match code {
        Some(c) => super::Confirmation::typed(c, headers),
        None => super::Confirmation::RecentStep(headers),
    };
    super::confirm(site, account, ip, how).await?;
    let now = site.clock.now();
    let ip = ip.to_string();
    let detail = serde_json::json!({ "name": found.name }).to_string();
    if last {
        let session = web::sessions::cookie_hash(site, headers).unwrap_or_default();
        let event = NewEvent {
            ip: Some(&ip),
            ..audit::by_user(
                account,
                action::TWO_FACTOR_DISABLED,
                Some(&account.id),
                Some(&detail),
                now,
            )
        };
        store::remove_two_factor(&site.db, &account.id, Some(&session), &event).await?;
        return notice::send(site, account, notice::Notice::TurnedOff).await;
    }
    if !passkey_store::remove(&site.db, &store::PASSKEYS, &account.id, passkey_id).await? {
        return Err(AccountError::PasskeyNotFound);
    }
    let event = NewEvent {
        ip: Some(&ip),
        ..audit::by_user(
            account,
            action::PASSKEY_REMOVED,
            Some(&account.id),
            Some(&detail),
            now,
        )
    };
    audit::record(site, &event).await;
    Ok(())
}
