//! Forgotten passwords: a single-use link, valid one hour, mailed through
//! the outbox, that sets a new password and ends every session of the account.
//!
//! As invitation links, the link carries `{id}.{mac}` (an HMAC of the reset's
//! id under the link key, with a purpose of its own): the database holds
//! the id, and the outbox message a placeholder filled in when it is sent.
//!
//! Asking gives the same answer, after the same work, whether or not the
//! email has an account: the throttles, the lookup and the token's
//! derivation always run, and only the writes for a known account (the
//! link, its message, the audit event) happen after the answer, in the
//! background.

use std::net::IpAddr;
use std::ops::Deref;

use web::i18n::Lang;
use web::ratelimit::Limiter;
use web::Secret;

use crate::audit::action;
use crate::link_key::Purpose;
use crate::store::{self, Account, NewEvent, NewMessage, ResetRow};
use crate::{auth, fields, AccountError, FieldError, Services};

/// A reset link works for this long.
pub const RESET_SECS: i64 = 3600;
/// Where the link's token goes in a reset's stored message.
pub const TOKEN_PLACEHOLDER: &str = "{reset_token}";
/// The outbox kind of a reset link's message.
pub const KIND: &str = "password_reset";
/// The page a reset link opens.
pub const PATH: &str = "/password-reset";

/// The path of a reset's page.
pub fn reset_path(state: &Services, reset_id: &str) -> String {
    format!(
        "{PATH}/{}",
        state
            .cfg
            .link_key
            .token_for(Purpose::PasswordReset, reset_id)
    )
}

/// Asks for a reset link for `email`: mailed when the email has an
/// account, nothing otherwise, and the caller cannot tell which. Refused
/// only for what says nothing about the account: a malformed email (422)
/// or a used-up throttle, per client address and per email (429).
pub async fn request<S>(
    state: S,
    email: &str,
    ip: IpAddr,
    base: &str,
    lang: Lang,
) -> Result<(), AccountError>
where
    S: Deref<Target = Services> + Send + Sync + 'static,
{
    let email = web::normalize_email(email).ok_or(AccountError::Invalid(FieldError::new(
        "email",
        "error.email_invalid",
    )))?;
    let now = state.clock.now();
    let ip_key = ip.to_string();
    Limiter::reserve_all(
        &[
            (&state.limits.reset_by_ip, &ip_key),
            (&state.limits.reset_by_email, &email),
        ],
        now,
    )
    .await
    .map_err(AccountError::RateLimited)?;
    let found = store::credentials_by_email(&state.db, &email).await?;
    let reset_id = keys::random_id("pwr");
    // Derived either way, so both answers cost the same.
    std::hint::black_box(reset_path(&state, &reset_id));
    let Some(creds) = found else {
        return Ok(());
    };
    let base = base.to_owned();
    tokio::spawn(async move {
        let account = creds.account;
        if let Err(e) = queue_link(&state, &account, &reset_id, &ip_key, &base, lang).await {
            tracing::error!(error = %e, "could not queue a password reset link");
        }
    });
    Ok(())
}

/// Stores the reset link, its message and the audit event.
async fn queue_link(
    state: &Services,
    account: &Account,
    reset_id: &str,
    ip: &str,
    base: &str,
    lang: Lang,
) -> Result<(), sqlx::Error> {
    let now = state.clock.now();
    let expires_at = now + RESET_SECS;
    let t = crate::i18n::in_locale(account.locale.as_deref(), lang);
    let link = format!("{base}{PATH}/{TOKEN_PLACEHOLDER}");
    let subject = t.get("mail.reset_subject").to_owned();
    let body = crate::i18n::letter(
        t,
        [
            t.get("mail.reset_body").replace("{email}", &account.email),
            t.get("mail.reset_action").replace("{link}", &link),
            t.get("mail.reset_expires")
                .replace("{date}", &web::clock::human(expires_at)),
        ],
    );
    let event = NewEvent {
        ip: Some(ip),
        ..crate::audit::by_user(
            account,
            action::PASSWORD_RESET_REQUESTED,
            Some(&account.id),
            None,
            now,
        )
    };
    let dedupe = format!("reset:{reset_id}");
    store::create_password_reset(
        &state.db,
        &ResetRow {
            id: reset_id.to_owned(),
            account_id: account.id.clone(),
            created_at: now,
            expires_at,
            used_at: None,
        },
        &NewMessage {
            company_id: Some(&account.company_id),
            recipient: &account.email,
            kind: KIND,
            subject: &subject,
            body: &body,
            dedupe_key: Some(&dedupe),
            at: now,
        },
        &event,
    )
    .await
}

/// What a link opens: its reset, while it can still be used. A link not
/// made here, used or expired is refused alike ([`AccountError::ResetLinkExpired`]).
pub async fn open(state: &Services, token: &str) -> Result<ResetRow, AccountError> {
    let id = state
        .cfg
        .link_key
        .check_for(Purpose::PasswordReset, token)
        .ok_or(AccountError::ResetLinkExpired)?;
    let reset = store::get_password_reset(&state.db, id)
        .await?
        .ok_or(AccountError::ResetLinkExpired)?;
    if reset.used_at.is_some() || reset.expires_at <= state.clock.now() {
        return Err(AccountError::ResetLinkExpired);
    }
    Ok(reset)
}

/// Sets a new password with a reset link: the link is used up, every
/// session of the account ends and the change is audited, at once.
pub async fn confirm(
    state: &Services,
    token: &str,
    password: Secret,
    ip: IpAddr,
) -> Result<Account, AccountError> {
    let reset = open(state, token).await?;
    fields::check_password_rules(&password)?;
    let account = store::credentials_by_id(&state.db, &reset.account_id)
        .await?
        .ok_or(AccountError::ResetLinkExpired)?
        .account;
    let hash = auth::hash_password(password).await?;
    let ip = ip.to_string();
    let event = NewEvent {
        ip: Some(&ip),
        ..crate::audit::by_user(
            &account,
            action::PASSWORD_RESET,
            Some(&account.id),
            None,
            state.clock.now(),
        )
    };
    if !store::use_password_reset(&state.db, &reset.id, &account.id, &hash, &event).await? {
        return Err(AccountError::ResetLinkExpired);
    }
    Ok(account)
}
