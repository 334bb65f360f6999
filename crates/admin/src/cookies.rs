//! The Admin's cookie names, in one place: the session, the CSRF token and the language.

pub const SESSION_COOKIE: &str = "adm_sid";
pub const CSRF_COOKIE: &str = "adm_csrf";
pub const LANG_COOKIE: &str = "adm_lang";
