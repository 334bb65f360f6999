//! Two-step sign-in on the account site (SPEC §8): what follows a right
//! password, proving the second step, setting up an authenticator app,
//! recovery codes, turning it off, a company's requirement, and the
//! operator's reset. The codes and secrets are the shared core's
//! (`web::two_factor`); the audit events and notices are the site's.
//!
//! The functions take the app as a [`Site`]: the shared core's
//! [`TwoFactorSite`] (which the edge implements) over the [`Services`].

mod notice;
pub mod passkeys;
mod proof;

use proof::{confirm, recovery_code_used};
pub use proof::{either, Confirmation};

use std::net::IpAddr;
use std::ops::Deref;

use axum::http::{HeaderMap, HeaderValue};
use web::two_factor::{self as core, Pending, Proof, Proved, Refusal, TwoFactorRules};
pub use web::two_factor::{Status, TotpSetup, TwoFactorSite};

use crate::audit::{self, action};
use crate::store::{self, Account, NewEvent};
use crate::{AccountError, Services};

/// The pending sign-in's cookie (`__Host-` prefixed over HTTPS).
pub const PENDING_COOKIE: &str = "acct_2fa";

/// The account site's second steps: its tables, the pending sign-in's
/// cookie and the name authenticator apps list it under.
pub static RULES: TwoFactorRules = TwoFactorRules {
    tables: store::TWO_FACTOR,
    pending_cookie: PENDING_COOKIE,
    issuer: "Commerce account",
};

/// The app as the two-step functions need it: the shared core's site over
/// the services.
pub trait Site: TwoFactorSite + Deref<Target = Services> {}

impl<S: TwoFactorSite + Deref<Target = Services>> Site for S {}

/// What a right password leads to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Next {
    /// No second step is needed: the session starts.
    Session,
    /// The account's second step is asked for (`totp`, `recovery_code`).
    Required(Vec<&'static str>),
    /// The company requires a second step the account has not set up.
    Setup,
}

/// What follows the right password of `account`.
pub async fn after_password<S: Site>(site: &S, account: &Account) -> Result<Next, AccountError> {
    let status = core::status(site, &account.id).await?;
    if status.enabled() {
        let mut methods = Vec::new();
        if status.totp {
            methods.push("totp");
        }
        if status.passkeys > 0 {
            methods.push("passkey");
        }
        if status.recovery_codes_left > 0 {
            methods.push("recovery_code");
        }
        return Ok(Next::Required(methods));
    }
    if store::company_requires_two_factor(&site.db, &account.company_id).await? {
        return Ok(Next::Setup);
    }
    Ok(Next::Session)
}

/// Starts the sign-in waiting for `account`'s second step (`setup`: one to
/// be set up first); `email` as typed at sign-in (for the throttles).
/// Returns its cookie (5 minutes).
pub async fn begin<S: Site>(
    site: &S,
    account: &Account,
    email: &str,
    setup: bool,
) -> Result<HeaderValue, AccountError> {
    Ok(core::begin(site, &account.id, email, setup).await?)
}

/// The request's pending sign-in and its account; [`AccountError::SignInExpired`]
/// when there is none (or it is older than five minutes).
pub async fn pending<S: Site>(
    site: &S,
    headers: &HeaderMap,
) -> Result<(Pending, Account), AccountError> {
    let p = core::pending(site, headers)
        .await?
        .ok_or(AccountError::SignInExpired)?;
    let account = store::credentials_by_id(&site.db, &p.row.user_id)
        .await?
        .ok_or(AccountError::SignInExpired)?
        .account;
    Ok((p, account))
}

/// The request's pending sign-in that must set up a second step, and its
/// account; [`AccountError::SignInExpired`] for any other (a sign-in whose
/// account has an authenticator app by now proves it instead of replacing it).
pub async fn pending_setup<S: Site>(
    site: &S,
    headers: &HeaderMap,
) -> Result<(Pending, Account), AccountError> {
    let (p, account) = pending(site, headers).await?;
    if !p.row.setup || core::status(site, &account.id).await?.enabled() {
        return Err(AccountError::SignInExpired);
    }
    Ok((p, account))
}

/// The cookie that clears the pending sign-in.
pub fn clear_cookie<S: Site>(site: &S) -> HeaderValue {
    core::clear_cookie(site)
}

/// Proves the second step of a pending sign-in: the sign-in ends and the
/// caller starts the session. A wrong code counts against the sign-in (it
/// ends after five) and the sign-in throttles.
pub async fn finish_sign_in<S: Site>(
    site: &S,
    pending: &Pending,
    account: &Account,
    ip: IpAddr,
    proof: Proof<'_>,
) -> Result<(), AccountError> {
    match core::check(site, &account.id, &pending.row.name, ip, proof).await? {
        Ok(proved) => {
            // Two requests with right codes: one session.
            if !core::finish(site, pending).await? {
                return Err(AccountError::SignInExpired);
            }
            if proved == Proved::Recovery {
                recovery_code_used(site, account, ip).await;
            }
            tracing::info!(outcome = "signed_in", account = %account.id, "two-step sign-in");
            Ok(())
        }
        Err(Refusal::InvalidCode) => {
            core::count_wrong(site, pending).await?;
            tracing::info!(outcome = "refused", account = %account.id, "two-step sign-in");
            Err(AccountError::InvalidCode)
        }
        Err(Refusal::Throttled(wait)) => Err(AccountError::RateLimited(wait)),
    }
}

/// Ends the pending sign-in that set up its second step: true for the one
/// request that ends it (it starts the session).
pub async fn finish_setup<S: Site>(site: &S, pending: &Pending) -> Result<bool, AccountError> {
    Ok(core::finish(site, pending).await?)
}

/// Counts a wrong code of a pending setup against it.
pub async fn count_wrong<S: Site>(site: &S, pending: &Pending) -> Result<(), AccountError> {
    core::count_wrong(site, pending).await?;
    Ok(())
}

/// The secret being set up for `account`, as shown again (the page
/// reloaded, a wrong code); a new one when none is waiting.
pub async fn setup<S: Site>(site: &S, account: &Account) -> Result<TotpSetup, AccountError> {
    if let Some(shown) = core::pending_totp(site, &account.id, &account.email).await? {
        return Ok(shown);
    }
    new_setup(site, account).await
}

/// A new secret for `account`'s authenticator app, not in force until
/// [`confirm_setup`].
pub async fn new_setup<S: Site>(site: &S, account: &Account) -> Result<TotpSetup, AccountError> {
    Ok(core::begin_totp(site, &account.id, &account.email).await?)
}

/// Confirms the new authenticator app with a code from it (`name`: the
/// name the throttles count it under). `Some(codes)` when this turned
/// two-step sign-in on: the recovery codes, shown once. Audited.
pub async fn confirm_setup<S: Site>(
    site: &S,
    account: &Account,
    name: &str,
    ip: IpAddr,
    code: &str,
) -> Result<Option<Vec<String>>, AccountError> {
    let codes = match core::confirm_totp(site, &account.id, name, ip, code).await? {
        Ok(codes) => codes,
        Err(Refusal::InvalidCode) => return Err(AccountError::InvalidSetupCode),
        Err(Refusal::Throttled(wait)) => return Err(AccountError::RateLimited(wait)),
    };
    let ip = ip.to_string();
    let detail = serde_json::json!({ "method": "totp", "replaced": codes.is_none() }).to_string();
    let event = NewEvent {
        ip: Some(&ip),
        ..audit::by_user(
            account,
            action::TWO_FACTOR_ENABLED,
            Some(&account.id),
            Some(&detail),
            site.clock.now(),
        )
    };
    audit::record(site, &event).await;
    Ok(codes)
}

/// Turns two-step sign-in off with a current code: every second step goes,
/// the recovery codes are void and the account's other sessions (but
/// `session`, its id's hash) end. Refused while the company requires it.
pub async fn turn_off<S: Site>(
    site: &S,
    account: &Account,
    session: &str,
    ip: IpAddr,
    how: Confirmation<'_>,
) -> Result<(), AccountError> {
    if store::company_requires_two_factor(&site.db, &account.company_id).await? {
        return Err(AccountError::TwoFactorRequired);
    }
    confirm(site, account, ip, how).await?;
    let ip = ip.to_string();
    let event = NewEvent {
        ip: Some(&ip),
        ..audit::by_user(
            account,
            action::TWO_FACTOR_DISABLED,
            Some(&account.id),
            None,
            site.clock.now(),
        )
    };
    store::remove_two_factor(&site.db, &account.id, Some(session), &event).await?;
    notice::send(site, account, notice::Notice::TurnedOff).await
}

/// New recovery codes, asked for with a current code; the old ones are
/// void. Shown once. Audited.
pub async fn regenerate_recovery_codes<S: Site>(
    site: &S,
    account: &Account,
    ip: IpAddr,
    how: Confirmation<'_>,
) -> Result<Vec<String>, AccountError> {
    confirm(site, account, ip, how).await?;
    let codes = core::new_recovery_codes(site, &account.id).await?;
    let ip = ip.to_string();
    let event = NewEvent {
        ip: Some(&ip),
        ..audit::by_user(
            account,
            action::RECOVERY_CODES_REGENERATED,
            Some(&account.id),
            None,
            site.clock.now(),
        )
    };
    audit::record(site, &event).await;
    Ok(codes)
}

/// Whether `account` owes a second step: its company requires one and it
/// has none (it is sent to set one up before any key is shown).
pub async fn setup_owed<S: Site>(site: &S, account: &Account) -> Result<bool, AccountError> {
    Ok(
        store::company_requires_two_factor(&site.db, &account.company_id).await?
            && !core::status(site, &account.id).await?.enabled(),
    )
}

/// The account's second steps.
pub async fn status<S: Site>(site: &S, account_id: &str) -> Result<Status, AccountError> {
    Ok(core::status(site, account_id).await?)
}

/// The owner requires a second step of every member of the company (or
/// stops requiring it). Members without one set it up at their next
/// sign-in. Audited.
pub async fn set_company_requirement(
    services: &Services,
    user: &Account,
    require: bool,
) -> Result<(), AccountError> {
    if !user.role.is_owner() {
        return Err(AccountError::OwnerOnly);
    }
    let detail = serde_json::json!({ "require_two_factor": require }).to_string();
    let event = audit::by_user(
        user,
        action::TWO_FACTOR_POLICY_CHANGED,
        Some(&user.company_id),
        Some(&detail),
        services.clock.now(),
    );
    store::set_company_requires_two_factor(&services.db, &store::Actor::of(user), require, &event)
        .await?;
    Ok(())
}

/// The service operator removes every second step of the account of
/// `email` (it lost its authenticator and recovery codes): its sessions
/// all end, and it sets one up again at its next sign-in when its company
/// requires one. Audited (actor `operator`) and mailed. Returns the account.
pub async fn operator_reset(services: &Services, email: &str) -> Result<Account, AccountError> {
    let email = web::normalize_email(email).ok_or(AccountError::AccountNotFound)?;
    let account = store::credentials_by_email(&services.db, &email)
        .await?
        .ok_or(AccountError::AccountNotFound)?
        .account;
    let event = NewEvent {
        company_id: Some(&account.company_id),
        actor_id: None,
        actor: Some("operator"),
        action: action::TWO_FACTOR_RESET,
        target: Some(&account.id),
        detail: None,
        ip: None,
        at: services.clock.now(),
    };
    store::remove_two_factor(&services.db, &account.id, None, &event).await?;
    notice::send(services, &account, notice::Notice::Reset).await?;
    Ok(account)
}
