//! The mails two-step sign-in sends the account: a recovery code was used,
//! two-step sign-in was turned off, or the operator reset it. Each says
//! what to do when it was not the account's owner.

use crate::store::{self, Account, NewMessage};
use crate::{AccountError, Services};

/// What happened.
pub(super) enum Notice {
    /// With the recovery codes left.
    RecoveryCodeUsed(i64),
    TurnedOff,
    Reset,
}

/// The outbox kinds of the notices.
pub const KIND_RECOVERY_CODE_USED: &str = "recovery_code_used";
pub const KIND_TURNED_OFF: &str = "two_factor_turned_off";
pub const KIND_RESET: &str = "two_factor_reset";

/// Queues the notice for `account`, in its language.
pub(super) async fn send(
    services: &Services,
    account: &Account,
    notice: Notice,
) -> Result<(), AccountError> {
    let now = services.clock.now();
    let t = crate::i18n::in_locale(account.locale.as_deref(), web::i18n::Lang::default());
    let date = web::clock::human(now);
    let fill = |key: &str| {
        t.get(key)
            .replace("{email}", &account.email)
            .replace("{date}", &date)
    };
    let (kind, subject, body) = match notice {
        Notice::RecoveryCodeUsed(left) => (
            KIND_RECOVERY_CODE_USED,
            t.get("mail.recovery_code_used_subject"),
            crate::i18n::letter(
                t,
                [
                    fill("mail.recovery_code_used_body"),
                    t.get("mail.recovery_codes_left")
                        .replace("{count}", &left.to_string()),
                    t.get("mail.two_factor_not_you").to_owned(),
                ],
            ),
        ),
        Notice::TurnedOff => (
            KIND_TURNED_OFF,
            t.get("mail.two_factor_off_subject"),
            crate::i18n::letter(
                t,
                [
                    fill("mail.two_factor_off_body"),
                    t.get("mail.two_factor_not_you").to_owned(),
                ],
            ),
        ),
        Notice::Reset => (
            KIND_RESET,
            t.get("mail.two_factor_reset_subject"),
            crate::i18n::letter(
                t,
                [
                    fill("mail.two_factor_reset_body"),
                    t.get("mail.two_factor_not_you").to_owned(),
                ],
            ),
        ),
    };
    store::enqueue_message(
        &services.db,
        &NewMessage {
            company_id: Some(&account.company_id),
            recipient: &account.email,
            kind,
            subject,
            body: &body,
            dedupe_key: None,
            at: now,
        },
        None,
    )
    .await?;
    Ok(())
}
