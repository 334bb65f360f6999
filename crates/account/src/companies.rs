//! Shared access (SPEC §9): the companies an account belongs to, making
//! another one, the session's current company, and closing a company.

use crate::audit::{self, action};
use crate::fields::text_field;
use crate::store::{self, Account, CompanyRow, NewMessage};
use crate::{AccountError, Services};

/// The outbox kind of the mail that tells members their company closed.
pub const KIND_COMPANY_CLOSED: &str = "company_closed";

/// The companies `user` belongs to.
pub async fn list(services: &Services, user: &Account) -> Result<Vec<CompanyRow>, AccountError> {
    Ok(store::list_companies(&services.db, &user.id).await?)
}

/// `user` makes a company of their own (named `name`): they are its owner
/// and it becomes the current company of the session `session_hash`.
/// Audited in the new company.
pub async fn create(
    services: &Services,
    user: &Account,
    name: &str,
    session_hash: Option<&str>,
) -> Result<CompanyRow, AccountError> {
    let name = text_field(name, "name", 100)?;
    let id = keys::random_id("co");
    let detail = serde_json::json!({ "company": name }).to_string();
    let event = store::NewEvent {
        company_id: Some(&id),
        ..audit::by_user(
            user,
            action::COMPANY_CREATED,
            Some(&id),
            Some(&detail),
            services.clock.now(),
        )
    };
    store::create_company(&services.db, &user.id, &id, &name, session_hash, &event).await?;
    Ok(CompanyRow {
        id,
        name,
        role: store::Role::Owner,
    })
}

/// Makes `company_id` the current company of the session `session_hash`;
/// a company `user` does not belong to is [`AccountError::CompanyNotFound`].
pub async fn switch(
    services: &Services,
    user: &Account,
    company_id: &str,
    session_hash: Option<&str>,
) -> Result<(), AccountError> {
    if store::switch_company(&services.db, &user.id, company_id, session_hash).await? {
        Ok(())
    } else {
        Err(AccountError::CompanyNotFound)
    }
}

/// The owner closes their current company (`company_id` must be it, and
/// `confirm` its name): every key is revoked at once on every node, its
/// Amazon stores lose their authorization, its invitations are withdrawn
/// and its members are told by mail; the people keep their accounts and
/// their other companies. Audited in the company.
pub async fn close(
    services: &Services,
    user: &Account,
    company_id: &str,
    confirm: &str,
) -> Result<(), AccountError> {
    if company_id != user.company_id {
        // Another company of theirs, or none: switch to it first.
        let theirs = store::list_companies(&services.db, &user.id).await?;
        return Err(match theirs.iter().find(|c| c.id == company_id) {
            Some(_) => AccountError::StaleCompany,
            None => AccountError::CompanyNotFound,
        });
    }
    crate::members::require_owner(user)?;
    if confirm.trim() != user.company_name.trim() {
        return Err(AccountError::CompanyNameMismatch);
    }
    let now = services.clock.now();
    let event = audit::by_user(
        user,
        action::COMPANY_CLOSED,
        Some(&user.company_id),
        Some(&user.company_name),
        now,
    );
    let closed = store::close_company(&services.db, &store::Actor::of(user), now, &event).await?;
    for key in closed.keys {
        services.verifier.forget(key);
    }
    for (email, locale) in &closed.members {
        tell(services, user, email, locale.as_deref(), now).await?;
    }
    tracing::info!(
        company = %user.company_id,
        members = closed.members.len(),
        stores = closed.stores_disconnected,
        invitations = closed.invitations_withdrawn,
        "company closed"
    );
    Ok(())
}

/// Queues the mail that tells a member the company closed, in their language.
async fn tell(
    services: &Services,
    by: &Account,
    email: &str,
    locale: Option<&str>,
    now: i64,
) -> Result<(), AccountError> {
    let t = crate::i18n::in_locale(locale, web::i18n::Lang::default());
    let fill = |key: &str| {
        t.get(key)
            .replace("{company}", &by.company_name)
            .replace("{email}", &by.email)
            .replace("{date}", &web::clock::human(now))
    };
    let subject = fill("mail.company_closed_subject");
    let body = crate::i18n::letter(
        t,
        [
            fill("mail.company_closed_body"),
            t.get("mail.company_closed_after").to_owned(),
        ],
    );
    store::enqueue_message(
        &services.db,
        &NewMessage {
            company_id: Some(&by.company_id),
            recipient: email,
            kind: KIND_COMPANY_CLOSED,
            subject: &subject,
            body: &body,
            dedupe_key: None,
            at: now,
        },
        None,
    )
    .await?;
    Ok(())
}
