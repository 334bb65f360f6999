//! The JSON edge: the status, code and English message of every refusal.

use axum::http::StatusCode;
use web::Error;

use super::{AccountError, KeyRefusal};
use crate::verify::{SignatureRefusal, Status};

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
            E::ReadOnly => Error::forbidden(
                "read_only",
                "Your role in this company is viewer: you can see its keys, members and audit, and change nothing.",
            ),
            E::NoCompany => Error::forbidden(
                "no_company",
                "You belong to no company. Create one, or accept an invitation.",
            ),
            E::CompanyNotFound => Error::not_found("You belong to no company with this id."),
            E::CompanyNameMismatch => Error::unprocessable("invalid_field", field_text(&e)),
            E::StaleCompany => Error::conflict(
                "company_switched",
                "This form was shown for another company than the one you are working in now. Nothing changed.",
            ),
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
            E::LifetimeExceeded(days) => Error::unprocessable(
                "lifetime_exceeded",
                format!("expires_at: keys of this company must expire within {days} days."),
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
            E::InvalidCode => Error::unauthorized(
                "invalid_code",
                "The code is not right, has been used already or has expired.",
            ),
            E::InvalidSetupCode => Error::unprocessable(
                "invalid_code",
                "The code is not right: enter the code your authenticator app shows now.",
            ),
            E::TwoFactorRequired => Error::conflict(
                "two_factor_required",
                "Your company requires two-step sign-in: it cannot be turned off.",
            ),
            E::SignInExpired => Error::unauthorized(
                "sign_in_expired",
                "No sign-in is waiting for its second step (it lasts 5 minutes). Sign in again with your email and password.",
            ),
            E::AccountNotFound => Error::not_found("No account has this email."),
            E::PasskeyNotFound => Error::not_found("No passkey of yours has this id."),
            E::PasskeysUnavailable => Error::conflict(
                "passkeys_unavailable",
                "Passkeys work on a host name, not an IP address: open the site by its name.",
            ),
            E::Passkey(r) => {
                use web::two_factor::passkey::PasskeyRefusal as R;
                match r {
                    R::NoCeremony => Error::conflict(
                        "passkey_expired",
                        "No passkey request is waiting (it lasts 5 minutes): start again.",
                    ),
                    R::Invalid => Error::unprocessable(
                        "passkey_refused",
                        "The passkey's answer is not valid for this site.",
                    ),
                    R::Duplicate => Error::conflict(
                        "passkey_registered",
                        "This passkey is registered already.",
                    ),
                    R::NoPasskey => Error::conflict("no_passkey", "The account has no passkey."),
                }
            }
            E::RateLimited(secs) => Error::too_many_requests(secs),
            // Made on JSON routes only: their pages are their kind's.
            E::ApiKey(r) => return r.into(),
            E::NotSignedIn => return not_signed_in(),
            E::WrongCredentials => return wrong_credentials(),
            E::Service(e) => return e,
        };
        // Pages show the refusal's own text, whichever edge made the error.
        json.with_page_text(title, message)
    }
}

pub(super) fn not_signed_in() -> Error {
    Error::unauthorized("not_signed_in", "Sign in first.")
}

pub(super) fn wrong_credentials() -> Error {
    Error::unauthorized(
        "invalid_credentials",
        "The email or password is not correct.",
    )
}

impl From<KeyRefusal> for Error {
    fn from(r: KeyRefusal) -> Self {
        use SignatureRefusal as S;
        let not_valid = "The API key is not valid.";
        match r {
            KeyRefusal::MissingToVerify => Error::bad_request(
                "missing_api_key",
                "Send the key in the X-Api-Key header.",
            ),
            KeyRefusal::MissingToPing => {
                Error::unauthorized("invalid", "Send the key in the x-api-key header.")
            }
            KeyRefusal::MissingToStores => Error::unauthorized(
                "missing_api_key",
                "Send the company's API key in the x-api-key header.",
            ),
            KeyRefusal::GatewayNotValid => Error::unauthorized("invalid_api_key", not_valid),
            KeyRefusal::BadService => Error::bad_request(
                "invalid_service",
                "X-Service must name a service: 1 to 64 of a-z, 0-9 and _, starting with a letter.",
            ),
            // The code names the status, so our Admin can say which case it is.
            KeyRefusal::NotValid(status) => Error::unauthorized(
                status.as_str(),
                match status {
                    Status::Disabled => "The API key is disabled.",
                    Status::IpNotAllowed => "The API key may not be used from this address.",
                    Status::InsufficientScope => "The API key may not be used for this service.",
                    _ => not_valid,
                },
            ),
            KeyRefusal::Signature(why) => Error::forbidden(
                "invalid_signature",
                match why {
                    S::Missing => {
                        "Send an RS256 JWT signed with the key's private key in x-gw-signature."
                    }
                    S::NoPublicKey => "This API key has no signing public key registered.",
                    S::Expired => "The signature has expired.",
                    S::TooFarAhead => "The signature's expiry is more than 10 minutes ahead.",
                    S::NotYetValid => "The signature is not valid yet (its nbf is ahead).",
                    S::Critical => {
                        "The signature names critical header extensions that are not supported."
                    }
                    S::Algorithm => "Only RS256 signatures are accepted.",
                    S::Signature => "The signature does not verify with this key's public key.",
                    S::Malformed => "The signature is not a well-formed JWT.",
                },
            ),
            KeyRefusal::Unsigned => Error::forbidden(
                "invalid_signature",
                "This key has a public key: send an RS256 JWT signed with its private key in x-gw-signature.",
            ),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::verify::Status;

    /// The key refusals' answers, word for word: stores and our Admin read them.
    #[test]
    fn key_refusals_answer_as_before() {
        use SignatureRefusal as S;
        let not_valid = "The API key is not valid.";
        let signed = "Send an RS256 JWT signed with the key's private key in x-gw-signature.";
        let cases: [(KeyRefusal, u16, &str, &str); 17] = [
            (KeyRefusal::MissingToVerify, 400, "missing_api_key", "Send the key in the X-Api-Key header."),
            (KeyRefusal::MissingToPing, 401, "invalid", "Send the key in the x-api-key header."),
            (KeyRefusal::MissingToStores, 401, "missing_api_key", "Send the company's API key in the x-api-key header."),
            (KeyRefusal::GatewayNotValid, 401, "invalid_api_key", not_valid),
            (KeyRefusal::NotValid(Status::Invalid), 401, "invalid", not_valid),
            (KeyRefusal::NotValid(Status::Expired), 401, "expired", not_valid),
            (KeyRefusal::NotValid(Status::Revoked), 401, "revoked", not_valid),
            (KeyRefusal::Signature(S::Missing), 403, "invalid_signature", signed),
            (KeyRefusal::Signature(S::NoPublicKey), 403, "invalid_signature", "This API key has no signing public key registered."),
            (KeyRefusal::Signature(S::Expired), 403, "invalid_signature", "The signature has expired."),
            (KeyRefusal::Signature(S::TooFarAhead), 403, "invalid_signature", "The signature's expiry is more than 10 minutes ahead."),
            (KeyRefusal::Signature(S::NotYetValid), 403, "invalid_signature", "The signature is not valid yet (its nbf is ahead)."),
            (KeyRefusal::Signature(S::Critical), 403, "invalid_signature", "The signature names critical header extensions that are not supported."),
            (KeyRefusal::Signature(S::Algorithm), 403, "invalid_signature", "Only RS256 signatures are accepted."),
            (KeyRefusal::Signature(S::Signature), 403, "invalid_signature", "The signature does not verify with this key's public key."),
            (KeyRefusal::Signature(S::Malformed), 403, "invalid_signature", "The signature is not a well-formed JWT."),
            (KeyRefusal::Unsigned, 403, "invalid_signature", "This key has a public key: send an RS256 JWT signed with its private key in x-gw-signature."),
        ];
        for (refusal, status, code, message) in cases {
            let e = Error::from(AccountError::ApiKey(refusal));
            assert_eq!(
                (e.status().as_u16(), e.code(), e.message()),
                (status, code, message),
                "{refusal:?}"
            );
        }
    }
}
