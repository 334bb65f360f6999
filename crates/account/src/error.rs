//! Every refusal of the account service, as one type. The JSON edge
//! (`From<AccountError> for web::Error`) and the page edge (`page_text`) each
//! match every variant, so a new refusal does not compile until both say how
//! it is shown.

use axum::http::StatusCode;
use web::Error;

/// A validation failure tied to a form field; `msg` is a catalog key.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct FieldError {
    pub field: &'static str,
    pub msg: &'static str,
}

impl FieldError {
    pub fn new(field: &'static str, msg: &'static str) -> Self {
        FieldError { field, msg }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum AccountError {
    /// A form field's value is not acceptable.
    #[error("invalid field {}", .0.field)]
    Invalid(FieldError),
    /// Sign-up with an email that has an account.
    #[error("email taken")]
    EmailTaken,
    /// An invitation's new account: its email has an account already.
    #[error("invited email has an account")]
    InviteEmailTaken,
    /// An invitation's new account with another email than the invited one.
    #[error("invited email mismatch")]
    InviteEmailMismatch,
    /// Inviting someone who is in the company already.
    #[error("already a member")]
    AlreadyMember,
    /// A form submitted twice with the same one-time nonce.
    #[error("form already submitted")]
    AlreadySubmitted,

    #[error("no such key")]
    KeyNotFound,
    #[error("key not rollable")]
    KeyNotRollable,
    #[error("no such member")]
    MemberNotFound,
    #[error("no such invitation")]
    InvitationNotFound,

    #[error("not a member any more")]
    NotMember,
    #[error("owner only")]
    OwnerOnly,
    #[error("the company would have no owner")]
    LastOwner,
    #[error("owners cannot remove themselves")]
    CannotRemoveSelf,
    #[error("owners cannot change their own role")]
    CannotChangeOwnRole,
    #[error("changed meanwhile")]
    ChangedMeanwhile,
    #[error("too many pending invitations (at most {0})")]
    TooManyInvitations(i64),
    /// The company holds the most live keys it may (revoke some first).
    #[error("at most {0} live keys per company")]
    TooManyKeys(i64),

    /// An invitation link that was not made here.
    #[error("invalid invitation link")]
    LinkInvalid,
    #[error("invitation used")]
    InvitationUsed,
    #[error("invitation withdrawn")]
    InvitationRevoked,
    #[error("invitation expired")]
    InvitationExpired,
    /// Used or withdrawn between opening and accepting.
    #[error("invitation gone meanwhile")]
    InvitationGoneMeanwhile,
    #[error("invitation for another account")]
    WrongAccount,
    #[error("already in the inviting company")]
    AlreadyInCompany,
    #[error("owner of a company with other members")]
    OwnerHasMembers,
    #[error("owner of a company with working keys")]
    OwnerHasKeys,

    /// A password reset link that was used, has expired or was not made here.
    #[error("reset link used, expired or not valid")]
    ResetLinkExpired,
    /// An email confirmation link that was used, has expired or was not made here.
    #[error("confirmation link used, expired or not valid")]
    EmailLinkExpired,
    /// The old address's link to cancel an email change, once the change
    /// was confirmed or cancelled, or expired, or not made here.
    #[error("email change link used, expired or not valid")]
    EmailChangeLinkExpired,
    /// The current password, asked for to change it, is not right.
    #[error("wrong current password")]
    WrongPassword,

    /// Amazon authorization is not set up on this service (no application id
    /// or LWA credentials).
    #[error("amazon not configured")]
    AmazonNotConfigured,
    #[error("no such amazon store")]
    AmazonStoreNotFound,
    /// A connect link that is unknown, used or expired.
    #[error("connect link {0:?}")]
    AmazonLink(crate::store::NotTaken),
    /// A callback or log-in `state` that cannot be used; nothing changed.
    #[error("state {0:?}")]
    AmazonState(crate::amazon::StateRefusal),
    /// A log-in URI whose `amazon_callback_uri` is not on a Seller Central host.
    #[error("callback uri not allowed")]
    AmazonCallbackUri,

    /// The request names no usable host and no public URL is configured.
    #[error("no usable host")]
    NoHost,
    /// A throttle: retry after this many seconds.
    #[error("rate limited for {0} s")]
    RateLimited(u64),
    /// The service itself failed (storage, busy hashing, internal): shown
    /// with its own status and code; causes are logged where it was made.
    #[error(transparent)]
    Service(Error),
}

impl From<sqlx::Error> for AccountError {
    fn from(e: sqlx::Error) -> Self {
        AccountError::Service(e.into())
    }
}

impl From<Error> for AccountError {
    fn from(e: Error) -> Self {
        AccountError::Service(e)
    }
}

impl AccountError {
    /// The form field this refusal belongs to, for pages that show it beside
    /// the field instead of an error page.
    pub fn field(&self) -> Option<FieldError> {
        use AccountError as E;
        let (field, msg) = match self {
            E::Invalid(fe) => return Some(*fe),
            E::EmailTaken => ("email", "error.email_taken"),
            E::InviteEmailTaken => ("email", "error.invite_email_taken"),
            E::InviteEmailMismatch => ("email", "error.invite_email_mismatch"),
            E::AlreadyMember => ("email", "error.already_member"),
            E::AlreadySubmitted => ("nonce", "portal.already_created"),
            E::WrongPassword => ("current_password", "error.current_password_wrong"),
            _ => return None,
        };
        Some(FieldError { field, msg })
    }

    /// The catalog keys (title, message) of the error page that shows it.
    pub fn page_text(&self) -> (&'static str, &'static str) {
        use AccountError as E;
        const REFUSED: &str = "errorpage.refused_title";
        const FORBIDDEN: &str = "errorpage.forbidden_title";
        const NOT_FOUND: &str = "errorpage.not_found_title";
        const BAD: &str = "errorpage.bad_request_title";
        match self {
            E::Invalid(_)
            | E::EmailTaken
            | E::InviteEmailTaken
            | E::InviteEmailMismatch
            | E::AlreadyMember => (BAD, "errorpage.bad_request"),
            E::AlreadySubmitted => (REFUSED, "portal.already_created"),
            E::KeyNotFound | E::MemberNotFound | E::InvitationNotFound => {
                (NOT_FOUND, "errorpage.not_found")
            }
            E::KeyNotRollable => (REFUSED, "errorpage.key_not_rollable"),
            E::NotMember => (FORBIDDEN, "errorpage.not_member"),
            E::OwnerOnly => (FORBIDDEN, "errorpage.owner_only"),
            E::LastOwner => (REFUSED, "errorpage.last_owner"),
            E::CannotRemoveSelf => (REFUSED, "errorpage.cannot_remove_self"),
            E::CannotChangeOwnRole => (REFUSED, "errorpage.cannot_change_own_role"),
            E::ChangedMeanwhile => (REFUSED, "errorpage.changed_meanwhile"),
            E::TooManyInvitations(_) => (REFUSED, "errorpage.too_many_invitations"),
            E::TooManyKeys(_) => (REFUSED, "errorpage.too_many_keys"),
            E::LinkInvalid => (NOT_FOUND, "join.invalid"),
            E::InvitationUsed | E::InvitationGoneMeanwhile => (REFUSED, "join.used"),
            E::InvitationRevoked => (REFUSED, "join.revoked"),
            E::InvitationExpired => (REFUSED, "join.expired"),
            E::WrongAccount => (FORBIDDEN, "join.wrong_account"),
            E::AlreadyInCompany => (REFUSED, "join.already_member"),
            E::OwnerHasMembers => (REFUSED, "join.owner_has_members"),
            E::OwnerHasKeys => (REFUSED, "join.owner_has_keys"),
            E::ResetLinkExpired => ("reset.expired_title", "reset.expired"),
            E::WrongPassword => (FORBIDDEN, "error.current_password_wrong"),
            E::EmailLinkExpired => ("confirm.expired_title", "confirm.expired"),
            E::EmailChangeLinkExpired => ("cancel_email.expired_title", "cancel_email.expired"),
            E::NoHost => (BAD, "errorpage.bad_request"),
            E::AmazonNotConfigured => ("amazon.not_configured_title", "amazon.not_configured"),
            E::AmazonStoreNotFound => (NOT_FOUND, "amazon.store_not_found"),
            E::AmazonLink(n) => (
                "amazon.link_title",
                match n {
                    crate::store::NotTaken::Unknown => "amazon.link_unknown",
                    crate::store::NotTaken::Used => "amazon.link_used",
                    crate::store::NotTaken::Expired => "amazon.link_expired",
                },
            ),
            E::AmazonState(r) => ("amazon.state_title", r.message()),
            E::AmazonCallbackUri => (BAD, "amazon.callback_uri_invalid"),
            E::RateLimited(_) => ("errorpage.busy_title", "errorpage.too_many"),
            E::Service(e) => web::page::error_page_keys(e.code()),
        }
    }
}

/// The JSON edge: status, code and English message of every refusal.
impl From<AccountError> for Error {
    fn from(e: AccountError) -> Self {
        use AccountError as E;
        // Field refusals name the field and its message in English.
        let field_text = |e: &AccountError| {
            e.field().map_or_else(String::new, |fe| {
                let text = crate::i18n::CATALOG.get(web::i18n::Lang::En, fe.msg);
                format!("{}: {}", fe.field, text)
            })
        };
        let gone = |code, msg| Error::new(StatusCode::GONE, code, msg);
        let not_found = "Your company has no member with this id.";
        let (title, message) = e.page_text();
        let json = match e {
            E::Invalid(_) | E::AlreadySubmitted => {
                Error::unprocessable("invalid_field", field_text(&e))
            }
            E::EmailTaken | E::InviteEmailTaken => Error::conflict("email_taken", field_text(&e)),
            E::InviteEmailMismatch => Error::forbidden("wrong_account", field_text(&e)),
            E::AlreadyMember => Error::conflict("already_member", field_text(&e)),
            E::KeyNotFound => Error::not_found("No key with this id."),
            E::KeyNotRollable => Error::conflict(
                "key_not_rollable",
                "Only a valid key that has not been rolled already can be rolled.",
            ),
            E::MemberNotFound => Error::not_found(not_found),
            E::InvitationNotFound => {
                Error::not_found("No pending invitation of your company has this id.")
            }
            E::NotMember => {
                Error::forbidden("not_member", "You are no longer a member of this company.")
            }
            E::OwnerOnly => Error::forbidden(
                "owner_only",
                "Only the company's owner manages its members.",
            ),
            E::LastOwner => {
                Error::conflict("last_owner", "The company must keep at least one owner.")
            }
            E::CannotRemoveSelf => Error::conflict(
                "cannot_remove_self",
                "Owners cannot remove themselves: the company needs its owner. Make another member an owner and ask them to make you a member first.",
            ),
            E::CannotChangeOwnRole => Error::conflict(
                "cannot_change_own_role",
                "You cannot change your own role: the company needs its owner.",
            ),
            E::ChangedMeanwhile => Error::conflict(
                "changed_meanwhile",
                "The member changed or left meanwhile. Reload and try again.",
            ),
            E::TooManyInvitations(max) => Error::conflict(
                "too_many_invitations",
                format!("At most {max} invitations can wait at a time; revoke some first."),
            ),
            E::TooManyKeys(max) => Error::conflict(
                "too_many_keys",
                format!("A company can hold at most {max} live keys; revoke keys it no longer uses first."),
            ),
            E::LinkInvalid => Error::not_found("This invitation link is not valid."),
            E::InvitationUsed => gone(
                "invitation_used",
                "This invitation has been used already. Sign in to continue.",
            ),
            E::InvitationRevoked => gone(
                "invitation_revoked",
                "This invitation was withdrawn. Ask the company's owner for a new one.",
            ),
            E::InvitationExpired => gone(
                "invitation_expired",
                "This invitation has expired. Ask the company's owner for a new one.",
            ),
            E::InvitationGoneMeanwhile => gone(
                "invitation_used",
                "This invitation has been used or withdrawn meanwhile.",
            ),
            E::WrongAccount => Error::forbidden(
                "wrong_account",
                "This invitation is for another email address. Sign in with that address.",
            ),
            E::AlreadyInCompany => Error::conflict(
                "already_member",
                "You are a member of this company already.",
            ),
            E::OwnerHasMembers => Error::conflict(
                "owner_has_members",
                "You own a company that has other members. Remove them before you join another company.",
            ),
            E::OwnerHasKeys => Error::conflict(
                "owner_has_keys",
                "Your company still has keys that work. Revoke them before you join another company, or they could no longer be managed.",
            ),
            E::ResetLinkExpired => gone(
                "link_expired",
                "This password reset link has been used, has expired or is not valid. Ask for a new one.",
            ),
            E::WrongPassword => Error::forbidden("wrong_password", field_text(&e)),
            E::EmailLinkExpired => gone(
                "link_expired",
                "This confirmation link has been used, has expired or is not valid. Ask for a new one on Account Information.",
            ),
            E::EmailChangeLinkExpired => gone(
                "link_expired",
                "The change was already confirmed or cancelled, or this link has expired or is not valid.",
            ),
            E::NoHost => Error::bad_request(
                "no_host",
                "The request has no usable Host header, and no public URL is configured.",
            ),
            E::AmazonNotConfigured => Error::new(
                StatusCode::SERVICE_UNAVAILABLE,
                "amazon_not_configured",
                "The service operator has not set up Amazon authorization (application id and LWA credentials).",
            ),
            E::AmazonStoreNotFound => Error::not_found("No Amazon store of your company has this id."),
            E::AmazonLink(crate::store::NotTaken::Unknown) => {
                Error::not_found("This connect link is not valid.")
            }
            E::AmazonLink(crate::store::NotTaken::Used) => gone(
                "link_used",
                "This connect link has been used already. Start again from the Admin.",
            ),
            E::AmazonLink(crate::store::NotTaken::Expired) => gone(
                "link_expired",
                "This connect link has expired. Start again from the Admin.",
            ),
            E::AmazonState(r) => Error::bad_request(
                "invalid_state",
                match r {
                    crate::amazon::StateRefusal::Unknown => "The state is not one this service issued.",
                    crate::amazon::StateRefusal::Used => "The state has been used already.",
                    crate::amazon::StateRefusal::Expired => "The state has expired.",
                    crate::amazon::StateRefusal::OtherBrowser => {
                        "The state was issued to another browser."
                    }
                },
            ),
            E::AmazonCallbackUri => Error::bad_request(
                "invalid_callback_uri",
                "amazon_callback_uri must be a Seller Central address this service is set up for.",
            ),
            E::RateLimited(secs) => Error::too_many_requests(secs),
            E::Service(e) => return e,
        };
        // Pages show the refusal's own text, whichever edge made the error.
        json.with_page_text(title, message)
    }
}

impl From<crate::store::WriteError> for AccountError {
    fn from(e: crate::store::WriteError) -> Self {
        use crate::store::WriteError as W;
        match e {
            W::NotMember => AccountError::NotMember,
            W::NotOwner => AccountError::OwnerOnly,
            W::LastOwner => AccountError::LastOwner,
            W::RateLimited(secs) => AccountError::RateLimited(secs),
            W::TooManyPending(max) => AccountError::TooManyInvitations(max),
            W::TooManyKeys(max) => AccountError::TooManyKeys(max),
            W::Db(e) => e.into(),
        }
    }
}

impl From<crate::store::WriteError> for Error {
    fn from(e: crate::store::WriteError) -> Self {
        AccountError::from(e).into()
    }
}

/// The page edge: the site's error page with the refusal's own text, in the
/// visitor's language.
impl From<AccountError> for web::page::PageErr {
    fn from(e: AccountError) -> Self {
        web::page::PageErr(Error::from(e))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_page_text_is_in_both_catalogs() {
        use web::i18n::Lang;
        let all = [
            AccountError::Invalid(FieldError::new("name", "error.required")),
            AccountError::AlreadySubmitted,
            AccountError::KeyNotRollable,
            AccountError::NotMember,
            AccountError::OwnerOnly,
            AccountError::LastOwner,
            AccountError::CannotRemoveSelf,
            AccountError::CannotChangeOwnRole,
            AccountError::ChangedMeanwhile,
            AccountError::TooManyInvitations(100),
            AccountError::TooManyKeys(500),
            AccountError::LinkInvalid,
            AccountError::InvitationGoneMeanwhile,
            AccountError::OwnerHasKeys,
            AccountError::RateLimited(3),
            AccountError::ResetLinkExpired,
            AccountError::WrongPassword,
            AccountError::EmailLinkExpired,
            AccountError::EmailChangeLinkExpired,
            AccountError::AmazonNotConfigured,
            AccountError::AmazonStoreNotFound,
            AccountError::AmazonLink(crate::store::NotTaken::Unknown),
            AccountError::AmazonLink(crate::store::NotTaken::Used),
            AccountError::AmazonLink(crate::store::NotTaken::Expired),
            AccountError::AmazonState(crate::amazon::StateRefusal::Unknown),
            AccountError::AmazonState(crate::amazon::StateRefusal::Used),
            AccountError::AmazonState(crate::amazon::StateRefusal::Expired),
            AccountError::AmazonState(crate::amazon::StateRefusal::OtherBrowser),
            AccountError::AmazonCallbackUri,
        ];
        for e in all {
            let (title, message) = e.page_text();
            for lang in Lang::ALL {
                for key in [title, message] {
                    let text = crate::i18n::CATALOG.get(lang, key);
                    assert!(!text.is_empty() && text != key, "{key} in {lang:?}");
                }
            }
        }
    }
}
