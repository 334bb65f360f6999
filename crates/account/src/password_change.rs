//! A signed-in user changes their password: the current one is required,
//! the account's other sessions end (this one stays), the change is audited
//! and a notice is mailed, so a change the owner of the address did not
//! make does not go unnoticed.

use std::net::IpAddr;

use web::Secret;

use crate::audit::action;
use crate::store::{self, Account, NewEvent, NewMessage};
use crate::{auth, fields, AccountError, FieldError, Services};

/// The outbox kind of the notice.
pub const KIND: &str = "password_changed";

/// Changes the password of `user`, whose session (by its id's hash) is
/// `session`. Attempts at the current password count against the sign-in
/// throttle, so a stolen session cannot guess it either.
pub async fn change(
    state: &Services,
    user: &Account,
    session: &str,
    current: Secret,
    new: Secret,
    ip: IpAddr,
) -> Result<(), AccountError> {
    fields::check_password_rules(&new).map_err(|e| match e {
        AccountError::Invalid(fe) => AccountError::Invalid(FieldError::new("new_password", fe.msg)),
        other => other,
    })?;
    let now = state.clock.now();
    let ip = ip.to_string();
    let taken = state
        .limits
        .login
        .reserve(&ip, &user.email, now)
        .await
        .map_err(AccountError::RateLimited)?;
    let stored = store::credentials_by_id(&state.db, &user.id)
        .await?
        .map(|c| c.password_hash);
    if !auth::verify_password(current, stored).await? {
        return Err(AccountError::WrongPassword);
    }
    taken.refund().await;
    let hash = auth::hash_password(new).await?;
    let event = NewEvent {
        ip: Some(&ip),
        ..crate::audit::by_user(user, action::PASSWORD_CHANGED, Some(&user.id), None, now)
    };
    store::set_password(&state.db, &user.id, &hash, Some(session), &event).await?;
    let t = crate::i18n::in_locale(user.locale.as_deref(), web::i18n::Lang::default());
    let body = crate::i18n::letter(
        t,
        [
            t.get("mail.password_changed_body")
                .replace("{email}", &user.email)
                .replace("{date}", &web::clock::human(now)),
            t.get("mail.password_changed_action").to_owned(),
        ],
    );
    store::enqueue_message(
        &state.db,
        &NewMessage {
            company_id: Some(&user.company_id),
            recipient: &user.email,
            kind: KIND,
            subject: t.get("mail.password_changed_subject"),
            body: &body,
            dedupe_key: None,
            at: now,
        },
        None,
    )
    .await?;
    Ok(())
}
