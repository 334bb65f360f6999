//! The Admin's cookie names, in one place: the session, the CSRF token, the
//! language and the device cookie (`web::device`).

pub const SESSION_COOKIE: &str = "adm_sid";
pub const CSRF_COOKIE: &str = "adm_csrf";
pub const LANG_COOKIE: &str = "adm_lang";
pub const DEVICE_COOKIE: &str = "adm_device";
