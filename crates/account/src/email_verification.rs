//! Confirm your email: a mailed single-use link proves the address is the
//! account's. Sign-up mails one (an unconfirmed account still signs in and
//! creates keys); *Resend* mails another. A new address asked for on
//! Account Information takes effect only when its link is used, and the
//! old address is told.
//!
//! As reset links, the link carries `{id}.{mac}` under a purpose of its
//! own; the database holds the id, the outbox message a placeholder.

use std::net::IpAddr;

use web::Secret;

use crate::audit::action;
use crate::link_key::Purpose;
use crate::store::{self, Account, NewMessage, VerificationRow};
use crate::{AccountError, FieldError, Services};

/// A confirmation link works for this long.
pub const VERIFY_SECS: i64 = 3 * 86400;
/// Where the link's token goes in a confirmation's stored message.
pub const TOKEN_PLACEHOLDER: &str = "{verification_token}";
/// Where the cancel link's token goes in the old address's notice.
pub const CANCEL_PLACEHOLDER: &str = "{email_change_cancel_token}";
/// The page the old address's cancel link opens.
pub const CANCEL_PATH: &str = "/cancel-email-change";
/// The outbox kind of the old address's notice at request time.
pub const REQUESTED_KIND: &str = "email_change_requested";
/// The outbox kinds: a confirmation link, and the old address's notice.
pub const KIND: &str = "email_verification";
pub const CHANGED_KIND: &str = "email_changed";
/// The page a confirmation link opens.
pub const PATH: &str = "/confirm-email";

/// Mails `email` a link that confirms it for `account`: its own address
/// (sign-up, *Resend*) or the new one it asked to change to. Links per
/// account are throttled (429).
pub async fn send(
    state: &Services,
    account: &Account,
    email: &str,
    base: &str,
) -> Result<(), AccountError> {
    let now = state.clock.now();
    state
        .limits
        .verification_mail
        .reserve(&account.id, now)
        .await
        .map_err(AccountError::RateLimited)?;
    let id = keys::random_id("emv");
    let expires_at = now + VERIFY_SECS;
    let t = crate::i18n::in_locale(account.locale.as_deref(), Default::default());
    let changing = email != account.email;
    let link = format!("{base}{PATH}/{TOKEN_PLACEHOLDER}");
    let (subject, intro) = if changing {
        ("mail.email_change_subject", "mail.email_change_body")
    } else {
        ("mail.verify_subject", "mail.verify_body")
    };
    let body = crate::i18n::letter(
        t,
        [
            t.get(intro)
                .replace("{email}", email)
                .replace("{old}", &account.email),
            t.get("mail.verify_action").replace("{link}", &link),
            t.get("mail.verify_expires")
                .replace("{date}", &web::clock::human(expires_at)),
        ],
    );
    let dedupe = format!("verify:{id}");
    // A change is told to the old address at once, with a link that cancels it.
    let notice_body = crate::i18n::letter(
        t,
        [
            t.get("mail.email_change_requested_body")
                .replace("{email}", email)
                .replace("{old}", &account.email)
                .replace("{date}", &web::clock::human(now)),
            t.get("mail.email_change_cancel_action").replace(
                "{link}",
                &format!("{base}{CANCEL_PATH}/{CANCEL_PLACEHOLDER}"),
            ),
        ],
    );
    let notice = changing.then(|| NewMessage {
        company_id: Some(&account.company_id),
        recipient: &account.email,
        kind: REQUESTED_KIND,
        subject: t.get("mail.email_change_requested_subject"),
        body: &notice_body,
        dedupe_key: None,
        at: now,
    });
    store::create_email_verification(
        &state.db,
        &VerificationRow {
            id,
            account_id: account.id.clone(),
            email: email.to_owned(),
            created_at: now,
            expires_at,
            used_at: None,
        },
        &NewMessage {
            company_id: Some(&account.company_id),
            recipient: email,
            kind: KIND,
            subject: t.get(subject),
            body: &body,
            dedupe_key: Some(&dedupe),
            at: now,
        },
        notice.as_ref(),
    )
    .await?;
    Ok(())
}

/// What a link opens: its confirmation, while it can still be used. A link
/// not made here, used or expired is refused alike.
pub async fn open(state: &Services, token: &str) -> Result<VerificationRow, AccountError> {
    let id = state
        .cfg
        .link_key
        .check_for(Purpose::EmailVerification, token)
        .ok_or(AccountError::EmailLinkExpired)?;
    let row = store::get_email_verification(&state.db, id)
        .await?
        .ok_or(AccountError::EmailLinkExpired)?;
    if row.used_at.is_some() || row.expires_at <= state.clock.now() {
        return Err(AccountError::EmailLinkExpired);
    }
    Ok(row)
}

/// Uses a confirmation link: the account's address is confirmed, or the new
/// address takes its place (confirmed) and the old one is told. Audited.
/// Returns the account as it is now.
pub async fn confirm(state: &Services, token: &str) -> Result<Account, AccountError> {
    let row = open(state, token).await?;
    let mut account = store::credentials_by_id(&state.db, &row.account_id)
        .await?
        .ok_or(AccountError::EmailLinkExpired)?
        .account;
    let now = state.clock.now();
    let old = account.email.clone();
    let changing = row.email != old;
    let detail = serde_json::json!({"email": row.email, "previous_email": old}).to_string();
    let event = crate::audit::by_user(
        &account,
        if changing {
            action::EMAIL_CHANGED
        } else {
            action::EMAIL_VERIFIED
        },
        Some(&account.id),
        changing.then_some(detail.as_str()),
        now,
    );
    let new_email = changing.then_some(row.email.as_str());
    match store::use_email_verification(&state.db, &row.id, &account.id, new_email, &event).await {
        Ok(true) => {}
        Ok(false) => return Err(AccountError::EmailLinkExpired),
        Err(e) if web::db::on_unique(&e, &store::ACCOUNT_EMAIL) => {
            return Err(AccountError::EmailTaken)
        }
        Err(e) => return Err(e.into()),
    }
    account.email_verified_at = Some(now);
    if changing {
        account.email = row.email.clone();
        let t = crate::i18n::in_locale(account.locale.as_deref(), Default::default());
        let body = crate::i18n::letter(
            t,
            [
                t.get("mail.email_changed_body")
                    .replace("{old}", &old)
                    .replace("{email}", &account.email)
                    .replace("{date}", &web::clock::human(now)),
                t.get("mail.password_changed_action").to_owned(),
            ],
        );
        store::enqueue_message(
            &state.db,
            &NewMessage {
                company_id: Some(&account.company_id),
                recipient: &old,
                kind: CHANGED_KIND,
                subject: t.get("mail.email_changed_subject"),
                body: &body,
                dedupe_key: None,
                at: now,
            },
            None,
        )
        .await?;
    }
    Ok(account)
}

/// *Change name and email* on Account Information: the name changes at
/// once; a new email needs the current password (attempts count against
/// the sign-in throttle, as a password change's do), gets a confirmation
/// link, and changes only when it is used. Returns whether a link was sent.
pub async fn update_profile(
    state: &Services,
    user: &Account,
    change: ProfileChange<'_>,
    ip: IpAddr,
) -> Result<bool, AccountError> {
    let name = crate::fields::text_field(change.name, "name", 100)?;
    let email = web::normalize_email(change.email).ok_or(AccountError::Invalid(
        FieldError::new("email", "error.email_invalid"),
    ))?;
    let changing = email != user.email;
    if changing {
        check_password(state, user, change.password, ip).await?;
        if store::credentials_by_email(&state.db, &email)
            .await?
            .is_some()
        {
            return Err(AccountError::EmailTaken);
        }
    }
    if name != user.name {
        let detail = serde_json::json!({"name": name, "previous_name": user.name}).to_string();
        let event = crate::audit::by_user(
            user,
            action::NAME_CHANGED,
            Some(&user.id),
            Some(&detail),
            state.clock.now(),
        );
        store::set_name(&state.db, &user.id, &name, &event).await?;
    }
    if changing {
        send(state, user, &email, change.base).await?;
    }
    Ok(changing)
}

/// What *Change name and email* sends.
pub struct ProfileChange<'a> {
    pub name: &'a str,
    pub email: &'a str,
    /// The current password: needed to change the email.
    pub password: Option<Secret>,
    /// The account site's base URL, for the mailed links.
    pub base: &'a str,
}

/// The current password of `user`, as a change of email needs it.
async fn check_password(
    state: &Services,
    user: &Account,
    password: Option<Secret>,
    ip: IpAddr,
) -> Result<(), AccountError> {
    let Some(password) = password.filter(|p| !p.expose().is_empty()) else {
        return Err(AccountError::Invalid(FieldError::new(
            "profile_password",
            "error.profile_password_required",
        )));
    };
    let taken = state
        .limits
        .login
        .reserve(&ip.to_string(), &user.email, state.clock.now())
        .await
        .map_err(AccountError::RateLimited)?;
    let stored = store::credentials_by_id(&state.db, &user.id)
        .await?
        .map(|c| c.password_hash);
    if !crate::auth::verify_password(password, stored).await? {
        return Err(AccountError::Invalid(FieldError::new(
            "profile_password",
            "error.current_password_wrong",
        )));
    }
    taken.refund().await;
    Ok(())
}

/// The old address's link: what it would cancel, while it still can.
pub async fn open_cancel(state: &Services, token: &str) -> Result<VerificationRow, AccountError> {
    let id = state
        .cfg
        .link_key
        .check_for(Purpose::EmailChangeCancel, token)
        .ok_or(AccountError::EmailChangeLinkExpired)?;
    let row = store::get_email_verification(&state.db, id)
        .await?
        .ok_or(AccountError::EmailChangeLinkExpired)?;
    if row.used_at.is_some() || row.expires_at <= state.clock.now() {
        return Err(AccountError::EmailChangeLinkExpired);
    }
    Ok(row)
}

/// Uses the old address's link: the pending change ends (its confirmation
/// link no longer works). Audited.
pub async fn cancel(state: &Services, token: &str) -> Result<(), AccountError> {
    let row = open_cancel(state, token).await?;
    let account = store::credentials_by_id(&state.db, &row.account_id)
        .await?
        .ok_or(AccountError::EmailChangeLinkExpired)?
        .account;
    let detail = serde_json::json!({"email": row.email}).to_string();
    let event = crate::audit::by_user(
        &account,
        action::EMAIL_CHANGE_CANCELLED,
        Some(&account.id),
        Some(&detail),
        state.clock.now(),
    );
    if !store::cancel_email_change(&state.db, &row.id, &account.id, &event).await? {
        return Err(AccountError::EmailChangeLinkExpired);
    }
    Ok(())
}
