//! The account site's message catalog (English and Dutch).

use std::sync::LazyLock;

use axum::http::HeaderMap;
use web::i18n::{Catalog, Lang, T};

use crate::store::Account;

pub static CATALOG: LazyLock<Catalog> = LazyLock::new(|| {
    // One file per area and language, read as one catalog.
    Catalog::new(
        concat!(
            include_str!("../locales/en.txt"),
            include_str!("../locales/key_policy.en.txt"),
            include_str!("../locales/usage.en.txt"),
        ),
        concat!(
            include_str!("../locales/nl.txt"),
            include_str!("../locales/key_policy.nl.txt"),
            include_str!("../locales/usage.nl.txt"),
        ),
    )
});

/// The texts in a saved language (an account's `locale`), else in `fallback`.
pub fn in_locale(locale: Option<&str>, fallback: Lang) -> T {
    T {
        catalog: &CATALOG,
        lang: locale.and_then(Lang::from_code).unwrap_or(fallback),
    }
}

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

/// A mail's body: its paragraphs, then the signature, a blank line apart.
pub fn letter<const N: usize>(t: web::i18n::T, paragraphs: [String; N]) -> String {
    let mut body = paragraphs.join("\n\n");
    body.push_str("\n\n");
    body.push_str(t.get("mail.signature"));
    body
}
