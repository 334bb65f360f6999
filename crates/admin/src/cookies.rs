//! The Admin's cookie names, in one place: the session, the CSRF token, the
//! language, the device cookie (`web::device`) and a sign-in waiting for
//! its second step.

pub const SESSION_COOKIE: &str = "adm_sid";
pub const CSRF_COOKIE: &str = "adm_csrf";
pub const LANG_COOKIE: &str = "adm_lang";
pub const DEVICE_COOKIE: &str = "adm_device";
/// A sign-in waiting for its second step (`web::two_factor`, 5 minutes).
pub const PENDING_COOKIE: &str = "adm_2fa";
