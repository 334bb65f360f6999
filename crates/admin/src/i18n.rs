//! The Admin's message catalog (English and Dutch).

use std::sync::LazyLock;

use axum::http::HeaderMap;
use web::i18n::{Catalog, Lang, T};

use crate::store::AdminUser;

pub static CATALOG: LazyLock<Catalog> = LazyLock::new(|| {
    Catalog::new(
        include_str!("../locales/en.txt"),
        include_str!("../locales/nl.txt"),
    )
});

/// The cookie (the latest choice), else the user's saved language, else the browser's.
pub fn for_request(headers: &HeaderMap, user: Option<&AdminUser>) -> T {
    let lang = web::cookies::get(headers, crate::cookies::LANG_COOKIE)
        .and_then(Lang::from_code)
        .or_else(|| {
            user.and_then(|u| u.locale.as_deref())
                .and_then(Lang::from_code)
        })
        .unwrap_or_else(|| Lang::negotiate(headers, crate::cookies::LANG_COOKIE));
    T {
        catalog: &CATALOG,
        lang,
    }
}
