//! Proving a signed-in account's second step before a change to it: a
//! current code, or a second step of the session within 10 minutes; and
//! the notice and audit of a used recovery code.

use std::net::IpAddr;

use axum::http::HeaderMap;
use web::two_factor::{self as core, Proof, Proved, Refusal};

use super::{notice, Site};
use crate::audit::{self, action};
use crate::store::{Account, NewEvent};
use crate::AccountError;

/// A code typed where either kind is taken: six digits are an
/// authenticator code, anything else a recovery code.
pub fn either(code: &str) -> Proof<'_> {
    let digits = code.chars().filter(|c| !c.is_whitespace()).count();
    if digits == web::two_factor::totp::DIGITS
        && code
            .chars()
            .all(|c| c.is_ascii_digit() || c.is_whitespace())
    {
        Proof::Totp(code)
    } else {
        Proof::Recovery(code)
    }
}

/// Proves a signed-in account's second step (a current authenticator code
/// or a recovery code) before a change to it.
async fn prove<S: Site>(
    site: &S,
    account: &Account,
    ip: IpAddr,
    code: &str,
) -> Result<(), AccountError> {
    match core::check(site, &account.id, &account.email, ip, either(code)).await? {
        Ok(Proved::Recovery) => {
            recovery_code_used(site, account, ip).await;
            Ok(())
        }
        Ok(Proved::Totp) => Ok(()),
        Err(Refusal::InvalidCode) => Err(AccountError::InvalidCode),
        Err(Refusal::Throttled(wait)) => Err(AccountError::RateLimited(wait)),
    }
}

/// How a change to second steps is confirmed.
pub enum Confirmation<'a> {
    /// A current authenticator code or a recovery code.
    Code(&'a str),
    /// The request's session proved a second step (a passkey, a code)
    /// within the last 10 minutes (the pages, with no code typed).
    RecentStep(&'a HeaderMap),
}

impl<'a> Confirmation<'a> {
    /// A code as typed on a page: empty means the session's recent step.
    pub fn typed(code: &'a str, headers: &'a HeaderMap) -> Confirmation<'a> {
        if code.trim().is_empty() {
            Confirmation::RecentStep(headers)
        } else {
            Confirmation::Code(code)
        }
    }
}

/// Checks a confirmation of a change to `account`'s second steps.
pub(super) async fn confirm<S: Site>(
    site: &S,
    account: &Account,
    ip: IpAddr,
    how: Confirmation<'_>,
) -> Result<(), AccountError> {
    match how {
        Confirmation::Code(code) => prove(site, account, ip, code).await,
        Confirmation::RecentStep(headers) if core::recently_stepped_up(site, headers).await? => {
            Ok(())
        }
        Confirmation::RecentStep(_) => Err(AccountError::InvalidCode),
    }
}

/// A recovery code was used: audited, and the account is told (a code
/// used by someone else does not go unnoticed).
pub(super) async fn recovery_code_used<S: Site>(site: &S, account: &Account, ip: IpAddr) {
    let now = site.clock.now();
    let ip = ip.to_string();
    let left = core::status(site, &account.id)
        .await
        .map(|s| s.recovery_codes_left)
        .unwrap_or_default();
    let detail = serde_json::json!({ "recovery_codes_left": left }).to_string();
    let event = NewEvent {
        ip: Some(&ip),
        ..audit::by_user(
            account,
            action::RECOVERY_CODE_USED,
            Some(&account.id),
            Some(&detail),
            now,
        )
    };
    audit::record(site, &event).await;
    if let Err(e) = notice::send(site, account, notice::Notice::RecoveryCodeUsed(left)).await {
        tracing::error!(error = %e, "could not queue the notice of a used recovery code");
    }
}
