//! The page edge: the error page's text (catalog keys) of every refusal.

use web::Error;

use super::AccountError;

impl AccountError {
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
            E::KeyNotFound | E::MemberNotFound | E::InvitationNotFound | E::AccountNotFound => {
                (NOT_FOUND, "errorpage.not_found")
            }
            E::KeyNotRollable => (REFUSED, "errorpage.key_not_rollable"),
            E::NotMember => (FORBIDDEN, "errorpage.not_member"),
            E::OwnerOnly => (FORBIDDEN, "errorpage.owner_only"),
            E::ReadOnly => (FORBIDDEN, "errorpage.read_only"),
            E::NoCompany => ("companies.none_title", "companies.none"),
            E::CompanyNotFound => (NOT_FOUND, "errorpage.not_found"),
            E::CompanyNameMismatch => (BAD, "error.company_confirm_mismatch"),
            E::StaleCompany => (
                "errorpage.company_switched_title",
                "errorpage.company_switched",
            ),
            E::LastOwner => (REFUSED, "errorpage.last_owner"),
            E::CannotRemoveSelf => (REFUSED, "errorpage.cannot_remove_self"),
            E::CannotChangeOwnRole => (REFUSED, "errorpage.cannot_change_own_role"),
            E::ChangedMeanwhile => (REFUSED, "errorpage.changed_meanwhile"),
            E::TooManyInvitations(_) => (REFUSED, "errorpage.too_many_invitations"),
            E::TooManyKeys(_) => (REFUSED, "errorpage.too_many_keys"),
            E::LifetimeExceeded(_) => (BAD, "error.lifetime_exceeded"),
            E::LinkInvalid => (NOT_FOUND, "join.invalid"),
            E::InvitationUsed | E::InvitationGoneMeanwhile => (REFUSED, "join.used"),
            E::InvitationRevoked => (REFUSED, "join.revoked"),
            E::InvitationExpired => (REFUSED, "join.expired"),
            E::WrongAccount => (FORBIDDEN, "join.wrong_account"),
            E::AlreadyInCompany => (REFUSED, "join.already_member"),
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
            E::InvalidCode | E::InvalidSetupCode => (REFUSED, "errorpage.invalid_code"),
            E::TwoFactorRequired => (REFUSED, "errorpage.two_factor_required"),
            E::Passkey(_) | E::PasskeysUnavailable => (REFUSED, "errorpage.passkey_refused"),
            E::PasskeyNotFound => ("errorpage.not_found_title", "errorpage.passkey_not_found"),
            E::SignInExpired => (
                "errorpage.sign_in_expired_title",
                "errorpage.sign_in_expired",
            ),
            E::RateLimited(_) => ("errorpage.busy_title", "errorpage.too_many"),
            // Their pages are the shared ones their kind shows.
            E::ApiKey(r) => words(Error::from(*r).page_text()),
            E::NotSignedIn => words(super::json::not_signed_in().page_text()),
            E::WrongCredentials => words(super::json::wrong_credentials().page_text()),
            E::Service(e) => words(e.page_text()),
        }
    }
}

/// The page edge: the site's error page with the refusal's own text, in the
/// visitor's language.
fn words(text: web::page::ErrorText) -> (&'static str, &'static str) {
    (text.title, text.message)
}

impl From<AccountError> for web::page::PageErr {
    fn from(e: AccountError) -> Self {
        web::page::PageErr(Error::from(e))
    }
}

#[cfg(test)]
mod tests {
    use super::super::FieldError;
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
            AccountError::LifetimeExceeded(30),
            AccountError::LinkInvalid,
            AccountError::InvitationGoneMeanwhile,
            AccountError::ReadOnly,
            AccountError::NoCompany,
            AccountError::CompanyNameMismatch,
            AccountError::StaleCompany,
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
            AccountError::InvalidCode,
            AccountError::TwoFactorRequired,
            AccountError::SignInExpired,
            AccountError::Passkey(web::two_factor::passkey::PasskeyRefusal::Invalid),
            AccountError::PasskeyNotFound,
            AccountError::PasskeysUnavailable,
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
