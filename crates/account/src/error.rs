//! Every refusal of the account service, as one type. The JSON edge
//! (`From<AccountError> for web::Error`, in `json`) and the page edge
//! (`page_text`, in `page`) each match every variant, so a new refusal does
//! not compile until both say how it is shown.

mod json;
mod page;

use web::Error;

use crate::verify::{SignatureRefusal, Status};

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
    /// A viewer asked for a change: 403.
    #[error("viewers change nothing")]
    ReadOnly,
    /// A signed-in account that belongs to no company asked for something
    /// of a company: 403.
    #[error("in no company")]
    NoCompany,
    /// None of the account's companies has this id: 404.
    #[error("no such company")]
    CompanyNotFound,
    /// Closing a company without typing its name: 422 on `confirm`.
    #[error("confirmation does not match the company's name")]
    CompanyNameMismatch,
    /// A page form shown for another company than the session's current
    /// one (it was switched in another tab): nothing changed.
    #[error("form for another company")]
    StaleCompany,
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
    /// A new key would outlive the company's maximum key lifetime (days): 422.
    #[error("keys must expire within {0} days")]
    LifetimeExceeded(i64),

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

    /// A call authenticated by an API key (verification, the signed ping,
    /// the Amazon store routes) that is refused.
    #[error("api key refused: {0:?}")]
    ApiKey(KeyRefusal),
    /// A JSON call that needs a session, without one.
    #[error("not signed in")]
    NotSignedIn,
    /// Signing in with an unknown email or a wrong password (alike).
    #[error("wrong email or password")]
    WrongCredentials,

    /// A second step's code (authenticator or recovery) that is wrong, was
    /// used before or has expired: 401.
    #[error("invalid code")]
    InvalidCode,
    /// The code confirming a new authenticator app is not right: 422.
    #[error("invalid setup code")]
    InvalidSetupCode,
    /// Turning off two-step sign-in while the company requires it.
    #[error("the company requires two-step sign-in")]
    TwoFactorRequired,
    /// A second step without a sign-in waiting for it (none, or older than
    /// five minutes, or ended after too many wrong codes).
    #[error("no pending sign-in")]
    SignInExpired,
    /// A passkey ceremony that did not succeed.
    #[error("passkey refused: {0:?}")]
    Passkey(web::two_factor::passkey::PasskeyRefusal),
    /// No passkey of the account has this id.
    #[error("no such passkey")]
    PasskeyNotFound,
    /// Passkeys cannot be used on this host (an IP address).
    #[error("passkeys unavailable here")]
    PasskeysUnavailable,
    /// No account has this email (the operator's commands).
    #[error("no such account")]
    AccountNotFound,

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

/// Why a call authenticated by an API key is refused. Only JSON routes make
/// these: their pages are their code's.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum KeyRefusal {
    /// `POST /api/v1/keys/verify` without `X-Api-Key`: 400.
    MissingToVerify,
    /// The signed ping without a key: 401.
    MissingToPing,
    /// The Amazon store routes without a key: 401.
    MissingToStores,
    /// The gateway check: no key, or one that is not valid; exactly 401.
    GatewayNotValid,
    /// A key that is not valid: 401, the code names its status.
    NotValid(Status),
    /// The signed ping's signature is not acceptable: 403.
    Signature(SignatureRefusal),
    /// A store route called by a key with a public key, without an
    /// acceptable signature: 403.
    Unsigned,
    /// `X-Service` is not a service name: 400 on the JSON route.
    BadService,
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
            E::CompanyNameMismatch => ("confirm", "error.company_confirm_mismatch"),
            E::LifetimeExceeded(_) => ("expires_at", "error.lifetime_exceeded"),
            _ => return None,
        };
        Some(FieldError { field, msg })
    }
}

impl From<crate::store::WriteError> for AccountError {
    fn from(e: crate::store::WriteError) -> Self {
        use crate::store::WriteError as W;
        match e {
            W::NotMember => AccountError::NotMember,
            W::NotOwner => AccountError::OwnerOnly,
            W::ReadOnly => AccountError::ReadOnly,
            W::LastOwner => AccountError::LastOwner,
            W::RateLimited(secs) => AccountError::RateLimited(secs),
            W::TooManyPending(max) => AccountError::TooManyInvitations(max),
            W::TooManyKeys(max) => AccountError::TooManyKeys(max),
            W::LifetimeExceeded(days) => AccountError::LifetimeExceeded(days),
            W::Db(e) => e.into(),
        }
    }
}

impl From<crate::store::WriteError> for Error {
    fn from(e: crate::store::WriteError) -> Self {
        AccountError::from(e).into()
    }
}
