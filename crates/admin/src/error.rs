//! The refusals the Admin's domain code makes, by name. The JSON edge maps
//! them with `From<AdminError> for web::Error`, the page edge with
//! `From<AdminError> for PageErr`; both matches are exhaustive, so a new
//! variant does not compile until both edges say what it means.

use std::fmt;

use web::page::PageErr;

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
    /// The database refused or is unreachable.
    #[error("storage: {0}")]
    Storage(#[from] sqlx::Error),
}

impl AdminError {
    /// The catalog key of a refusal a form shows beside its field (the
    /// password rules and a wrong current password), or `None`.
    pub fn password_field_msg(&self) -> Option<&'static str> {
        match self {
            AdminError::PasswordTooShort => Some("account_setting.password_short"),
            AdminError::PasswordBlank => Some("account_setting.password_blank"),
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
            | AdminError::PasswordTooLong => web::Error::unprocessable("invalid_field", text),
            AdminError::UsernameTaken => web::Error::conflict("username_taken", text),
            AdminError::UnknownUser => web::Error::not_found(text),
            AdminError::WrongPassword => web::Error::forbidden("wrong_password", text),
            AdminError::LoginThrottled { retry_after } => {
                web::Error::too_many_requests(retry_after)
            }
            AdminError::PasswordCheck(e) => e,
            AdminError::InvalidConfig(e) => {
                web::Error::unprocessable("invalid_field", e.to_string())
            }
            AdminError::Storage(e) => e.into(),
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
            | AdminError::PasswordTooLong => {
                PageErr(web::Error::unprocessable("invalid_field", text))
            }
            AdminError::UsernameTaken => PageErr(web::Error::conflict("username_taken", text)),
            AdminError::UnknownUser => PageErr(web::Error::not_found(text)),
            AdminError::WrongPassword => PageErr(web::Error::forbidden("wrong_password", text)),
            AdminError::InvalidConfig(e) => {
                PageErr(web::Error::unprocessable("invalid_field", e.to_string()))
            }
            AdminError::Storage(e) => PageErr(e.into()),
        }
    }
}
