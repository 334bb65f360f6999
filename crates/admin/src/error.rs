//! The refusals the Admin's domain code makes, by name. The JSON edge maps
//! them with `From<AdminError> for web::Error`, the page edge with
//! `From<AdminError> for PageErr`; both matches are exhaustive, so a new
//! variant does not compile until both edges say what it means.

use std::fmt;

use axum::http::StatusCode;
use web::page::PageErr;
use web::two_factor::passkey::PasskeyRefusal;

/// Why a value cannot be set; `msg` is a catalog key, `Display` is English for the CLI.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConfigError {
    pub path: String,
    pub msg: &'static str,
}

impl fmt::Display for ConfigError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let text = crate::i18n::CATALOG.get(web::i18n::Lang::En, self.msg);
        write!(f, "{}: {}", self.path, text)
    }
}

impl std::error::Error for ConfigError {}

/// How a call to the account service's Amazon stores API did not succeed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RemoteError {
    /// Down, timed out, a 5xx, a redirect or an answer not understood.
    #[error("the account service could not be asked")]
    Unreachable,
    /// `503 amazon_not_configured`: the operator has not set up Amazon.
    #[error("the account service's operator has not set up Amazon authorization")]
    NotConfigured,
    /// The account service does not know the store (or it is another company's).
    #[error("the account service does not know this store")]
    NotFound,
    /// 401: the key was refused (not valid, expired, revoked).
    #[error("the account service refused the API key")]
    KeyRefused,
    /// 401 naming a status of the key's policy (disabled, not from this
    /// address, not for the Amazon Sales Channel): said as the gate says it.
    /// Named by `gate::reason`'s own path: `gate` itself leads back here.
    #[error("the account service refused the API key: {}", .0.status())]
    KeyPolicy(crate::gate::reason::KeyPolicy),
    /// 403 to an unsigned call: the key was made with a key pair, and its
    /// calls must be signed with the private key, which the Admin does not hold.
    #[error("the account service requires calls signed with the key's private key")]
    SignatureRequired,
    /// 403 to a signed call: the signature was refused (another pair's private key).
    #[error("the account service refused the signature")]
    SignatureRejected,
    /// Any other refusal, by its error code.
    #[error("the account service refused the request: {0}")]
    Rejected(String),
}

#[derive(Debug, thiserror::Error)]
pub enum AdminError {
    /// Too many sign-in attempts from this address or for this name.
    #[error("too many sign-in attempts; retry in {retry_after}s")]
    LoginThrottled { retry_after: u64 },
    /// The password hashing pool is saturated or failed.
    #[error("password check failed: {}", .0.message())]
    PasswordCheck(web::Error),
    #[error("username must be 1 to 40 letters, digits, dots, dashes or underscores")]
    InvalidUsername,
    #[error("email is invalid")]
    InvalidEmail,
    #[error("the password must be at least 12 characters long")]
    PasswordTooShort,
    #[error("the password must not be blank (only spaces)")]
    PasswordBlank,
    #[error("the password must not hold a NUL byte or another control character")]
    PasswordControl,
    #[error("the password must be at most 256 bytes long")]
    PasswordTooLong,
    #[error("an admin user with this username already exists")]
    UsernameTaken,
    #[error("there is no admin user with this username")]
    UnknownUser,
    /// The current password, asked for to change it, is not right.
    #[error("the current password is not correct")]
    WrongPassword,
    /// A configuration value (or its path or scope) that is not accepted;
    /// its message is a catalog key.
    #[error("{0}")]
    InvalidConfig(ConfigError),
    /// There is no Amazon store with this (Admin) id.
    #[error("there is no Amazon store with this id")]
    AmazonStoreNotFound,
    /// An Amazon store's fields that are not accepted: (field, catalog key).
    #[error("{}", field_errors(.0))]
    InvalidStore(Vec<(&'static str, &'static str)>),
    /// The account service cannot be asked with the stored configuration
    /// (no Production key, a Sandbox or malformed key, an unusable private
    /// key or account service URL); the words say which.
    #[error("the Amazon Sales Channel cannot ask the account service: {0}")]
    KeyNotUsable(&'static str),
    /// The account service did not do what was asked about an Amazon store.
    #[error("{0}")]
    Amazon(#[from] RemoteError),
    /// A passkey ceremony that did not succeed.
    #[error("{}", passkey_refusal(*.0))]
    Passkey(PasskeyRefusal),
    /// WebAuthn takes no IP address, and the Admin was opened by one.
    #[error("passkeys work on a host name, not an IP address: open the Admin by its name")]
    PasskeysUnavailable,
    #[error("you have no passkey with this id")]
    PasskeyNotFound,
    #[error("give the passkey a name of 1 to 60 characters")]
    PasskeyName,
    /// An authenticator or recovery code that is wrong, expired or used, or
    /// none where one is needed.
    #[error("the code is not correct, has expired or was used before")]
    InvalidCode,
    /// The last second step, while every Admin user needs one.
    #[error("two-step sign-in is required for every Admin user")]
    TwoFactorRequired,
    /// The database refused or is unreachable.
    #[error("storage: {0}")]
    Storage(#[from] sqlx::Error),
    /// What the shared code (`web`) refused or failed with, as it says.
    #[error("{}", .0.message())]
    Service(#[from] web::Error),
}

fn passkey_refusal(r: PasskeyRefusal) -> &'static str {
    match r {
        PasskeyRefusal::NoCeremony => {
            "no passkey request is waiting (it lasts 5 minutes): start again"
        }
        PasskeyRefusal::Invalid => "the passkey's answer is not valid for this site",
        PasskeyRefusal::Duplicate => "this passkey is registered already",
        PasskeyRefusal::NoPasskey => "the user has no passkey",
    }
}

/// The second step's refusals at both edges (the page shows their words).
fn second_step_error(e: AdminError) -> web::Error {
    let text = e.to_string();
    let refused = ("errorpage.passkey_title", "errorpage.passkey_refused");
    let (json, (title, message)) = match e {
        AdminError::Passkey(PasskeyRefusal::NoCeremony) => {
            (web::Error::conflict("passkey_expired", text), refused)
        }
        AdminError::Passkey(PasskeyRefusal::Invalid) => {
            (web::Error::unprocessable("passkey_refused", text), refused)
        }
        AdminError::Passkey(PasskeyRefusal::Duplicate) => {
            (web::Error::conflict("passkey_registered", text), refused)
        }
        AdminError::Passkey(PasskeyRefusal::NoPasskey) => {
            (web::Error::conflict("no_passkey", text), refused)
        }
        AdminError::PasskeysUnavailable => (
            web::Error::conflict("passkeys_unavailable", text),
            ("errorpage.passkey_title", "errorpage.passkeys_unavailable"),
        ),
        AdminError::PasskeyNotFound => return web::Error::not_found(text),
        AdminError::PasskeyName => return web::Error::unprocessable("invalid_field", text),
        AdminError::InvalidCode => (
            web::Error::unauthorized("invalid_code", text),
            ("errorpage.passkey_title", "two_factor.wrong_code"),
        ),
        AdminError::TwoFactorRequired => (
            web::Error::conflict("two_factor_required", text),
            ("errorpage.passkey_title", "two_factor.required_note"),
        ),
        other => return web::Error::internal(format!("not a second step's refusal: {other}")),
    };
    json.with_page_text(title, message)
}

/// Field errors in English: `name: Name is required; email: …`.
fn field_errors(errors: &[(&'static str, &'static str)]) -> String {
    errors
        .iter()
        .map(|(field, msg)| {
            let text = crate::i18n::CATALOG.get(web::i18n::Lang::En, msg);
            format!("{field}: {text}")
        })
        .collect::<Vec<_>>()
        .join("; ")
}

/// What the account service's refusals about an Amazon store are at both
/// edges: the JSON error, and the error page's words (catalog keys).
fn remote_error(e: RemoteError) -> web::Error {
    let text = e.to_string();
    match e {
        RemoteError::Unreachable => web::Error::new(
            StatusCode::SERVICE_UNAVAILABLE,
            "account_service_unreachable",
            "The account service could not be reached or did not answer in time. Nothing was changed; try again in a moment.",
        )
        .with_page_text("amazon.error.unreachable_title", "amazon.error.unreachable"),
        RemoteError::NotConfigured => web::Error::new(
            StatusCode::SERVICE_UNAVAILABLE,
            "amazon_not_configured",
            "The service operator has not set up Amazon authorization on the account service yet, so stores cannot be connected. Try again later or contact the operator.",
        )
        .with_page_text(
            "amazon.error.not_configured_title",
            "amazon.error.not_configured",
        ),
        RemoteError::NotFound => web::Error::conflict(
            "amazon_store_unknown",
            "The account service no longer knows this store. Delete it and add it again.",
        )
        .with_page_text("amazon.error.unknown_title", "amazon.error.unknown"),
        RemoteError::KeyRefused => web::Error::conflict(
            "key_refused",
            "The account service refused the stored API key. Open the Amazon Sales Channel to see why.",
        )
        .with_page_text("amazon.error.key_title", "amazon.error.key_refused"),
        RemoteError::KeyPolicy(policy) => {
            let reason = policy.reason();
            web::Error::conflict(reason.as_str(), reason.sentence())
                .with_page_text("amazon.error.key_title", reason.catalog_key())
        }
        RemoteError::SignatureRequired => web::Error::conflict(
            "signature_required",
            "The stored API key was made with a key pair: the account service accepts only calls signed with its private key. Store it in Production Private key.",
        )
        .with_page_text("amazon.error.key_title", "amazon.sync.signature_required"),
        RemoteError::SignatureRejected => web::Error::conflict(
            "signature_rejected",
            "The account service refused the signature: the Production Private key does not belong to the stored API key's key pair.",
        )
        .with_page_text("amazon.error.key_title", "amazon.sync.signature_rejected"),
        RemoteError::Rejected(_) => web::Error::new(
            StatusCode::BAD_GATEWAY,
            "account_service_refused",
            text,
        )
        .with_page_text("amazon.error.refused_title", "amazon.error.refused"),
    }
}

fn key_not_usable(text: String) -> web::Error {
    web::Error::conflict("key_not_usable", text)
        .with_page_text("amazon.error.key_title", "amazon.error.key_not_usable")
}

impl AdminError {
    /// The catalog key of a refusal a form shows beside its field (the
    /// password rules and a wrong current password), or `None`.
    pub fn password_field_msg(&self) -> Option<&'static str> {
        match self {
            AdminError::PasswordTooShort => Some("account_setting.password_short"),
            AdminError::PasswordBlank => Some("account_setting.password_blank"),
            AdminError::PasswordControl => Some("account_setting.password_control"),
            AdminError::PasswordTooLong => Some("account_setting.password_long"),
            AdminError::WrongPassword => Some("account_setting.current_wrong"),
            _ => None,
        }
    }
}

impl From<AdminError> for web::Error {
    fn from(e: AdminError) -> Self {
        let text = e.to_string();
        match e {
            AdminError::InvalidUsername
            | AdminError::InvalidEmail
            | AdminError::PasswordTooShort
            | AdminError::PasswordBlank
            | AdminError::PasswordControl
            | AdminError::PasswordTooLong => web::Error::unprocessable("invalid_field", text),
            AdminError::UsernameTaken => web::Error::conflict("username_taken", text),
            AdminError::UnknownUser => web::Error::not_found(text),
            AdminError::WrongPassword => web::Error::forbidden("wrong_password", text)
                .with_page(web::page::PageKind::Internal),
            AdminError::LoginThrottled { retry_after } => {
                web::Error::too_many_requests(retry_after)
            }
            AdminError::PasswordCheck(e) => e,
            AdminError::InvalidConfig(e) => {
                web::Error::unprocessable("invalid_field", e.to_string())
            }
            AdminError::AmazonStoreNotFound => web::Error::not_found(text),
            AdminError::InvalidStore(_) => web::Error::unprocessable("invalid_field", text),
            AdminError::KeyNotUsable(_) => key_not_usable(text),
            AdminError::Amazon(e) => remote_error(e),
            e @ (AdminError::Passkey(_)
            | AdminError::PasskeysUnavailable
            | AdminError::PasskeyNotFound
            | AdminError::PasskeyName
            | AdminError::InvalidCode
            | AdminError::TwoFactorRequired) => second_step_error(e),
            AdminError::Storage(e) => e.into(),
            AdminError::Service(e) => e,
        }
    }
}

impl From<AdminError> for PageErr {
    fn from(e: AdminError) -> Self {
        let text = e.to_string();
        // Each refusal gets the site's error page for its status; the
        // page's words come from the catalog by the error's code.
        match e {
            AdminError::LoginThrottled { retry_after } => {
                PageErr(web::Error::too_many_requests(retry_after))
            }
            AdminError::PasswordCheck(e) => PageErr(e),
            AdminError::InvalidUsername
            | AdminError::InvalidEmail
            | AdminError::PasswordTooShort
            | AdminError::PasswordBlank
            | AdminError::PasswordControl
            | AdminError::PasswordTooLong => {
                PageErr(web::Error::unprocessable("invalid_field", text))
            }
            AdminError::UsernameTaken => PageErr(web::Error::conflict("username_taken", text)),
            AdminError::UnknownUser => PageErr(web::Error::not_found(text)),
            AdminError::WrongPassword => PageErr(
                web::Error::forbidden("wrong_password", text)
                    .with_page(web::page::PageKind::Internal),
            ),
            AdminError::InvalidConfig(e) => {
                PageErr(web::Error::unprocessable("invalid_field", e.to_string()))
            }
            AdminError::AmazonStoreNotFound => PageErr(web::Error::not_found(text)),
            AdminError::InvalidStore(_) => {
                PageErr(web::Error::unprocessable("invalid_field", text))
            }
            AdminError::KeyNotUsable(_) => PageErr(key_not_usable(text)),
            AdminError::Amazon(e) => PageErr(remote_error(e)),
            e @ (AdminError::Passkey(_)
            | AdminError::PasskeysUnavailable
            | AdminError::PasskeyNotFound
            | AdminError::PasskeyName
            | AdminError::InvalidCode
            | AdminError::TwoFactorRequired) => PageErr(second_step_error(e)),
            AdminError::Storage(e) => PageErr(e.into()),
            AdminError::Service(e) => PageErr(e),
        }
    }
}
