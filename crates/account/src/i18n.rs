//! The account site's message catalog (English and Dutch).

use std::sync::LazyLock;

use axum::http::HeaderMap;
use web::i18n::{Catalog, Lang, T};

use crate::store::Account;

pub static CATALOG: LazyLock<Catalog> = LazyLock::new(|| {
    Catalog::new(
        include_str!("../locales/en.txt"),
        include_str!("../locales/nl.txt"),
    )
});

/// The user's saved language, else the cookie, else the browser's.
pub fn for_request(headers: &HeaderMap, account: Option<&Account>) -> T {
    let lang = web::cookies::get(headers, crate::auth::LANG_COOKIE)
        .and_then(Lang::from_code)
        .or_else(|| {
            account
                .and_then(|a| a.locale.as_deref())
                .and_then(Lang::from_code)
        })
        .unwrap_or_else(|| Lang::negotiate(headers, crate::auth::LANG_COOKIE));
    T {
        catalog: &CATALOG,
        lang,
    }
}
