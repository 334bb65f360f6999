//! The rules a form's text and a new password must meet, shared by every
//! domain module that takes them (sign-up, joining, profile, key and store
//! names, password changes and resets).

use web::Secret;

use crate::auth;
use crate::{AccountError, FieldError};

/// A required, visible text of at most `max` characters, trimmed.
pub(crate) fn text_field(
    value: &str,
    field: &'static str,
    max: usize,
) -> Result<String, AccountError> {
    let v = value.trim();
    if v.is_empty() {
        return Err(AccountError::Invalid(FieldError::new(
            field,
            "error.required",
        )));
    }
    if web::text::has_hidden(v) {
        return Err(AccountError::Invalid(FieldError::new(
            field,
            "error.hidden_chars",
        )));
    }
    if v.chars().count() > max {
        return Err(AccountError::Invalid(FieldError::new(
            field,
            "error.too_long",
        )));
    }
    Ok(v.to_owned())
}

/// A new password's length rules.
pub(crate) fn check_password_rules(password: &Secret) -> Result<(), AccountError> {
    let pw_len = password.expose().chars().count();
    if pw_len < auth::MIN_PASSWORD {
        return Err(AccountError::Invalid(FieldError::new(
            "password",
            "error.password_short",
        )));
    }
    if pw_len > auth::MAX_PASSWORD {
        return Err(AccountError::Invalid(FieldError::new(
            "password",
            "error.too_long",
        )));
    }
    Ok(())
}
