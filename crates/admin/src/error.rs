//! The refusals the Admin's domain code makes, by name. The JSON edge maps
//! them with `From<AdminError> for web::Error`, the page edge with
//! `From<AdminError> for PageErr`; both matches are exhaustive, so a new
//! variant does not compile until both edges say what it means.

use web::page::PageErr;

#[derive(Debug, thiserror::Error)]
pub enum AdminError {
    /// Too many sign-in attempts from this address or for this name.
    #[error("too many sign-in attempts; retry in {retry_after}s")]
    LoginThrottled { retry_after: u64 },
    /// The password hashing pool is saturated or failed.
    #[error("password check failed: {}", .0.message())]
    PasswordCheck(web::Error),
    /// The database refused or is unreachable.
    #[error("storage: {0}")]
    Storage(#[from] sqlx::Error),
}

impl From<AdminError> for web::Error {
    fn from(e: AdminError) -> Self {
        match e {
            AdminError::LoginThrottled { retry_after } => {
                web::Error::too_many_requests(retry_after)
            }
            AdminError::PasswordCheck(e) => e,
            AdminError::Storage(e) => e.into(),
        }
    }
}

impl From<AdminError> for PageErr {
    fn from(e: AdminError) -> Self {
        // Each refusal gets the site's error page for its status; the
        // page's words come from the catalog by the error's code.
        match e {
            AdminError::LoginThrottled { retry_after } => {
                PageErr(web::Error::too_many_requests(retry_after))
            }
            AdminError::PasswordCheck(e) => PageErr(e),
            AdminError::Storage(e) => PageErr(e.into()),
        }
    }
}
