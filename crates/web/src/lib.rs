//! What the account service and the Commerce Admin share.

pub mod assets;
pub mod clock;
pub mod cookies;
pub mod crypto;
pub mod csrf;
pub mod db;
pub mod device;
pub mod drain;
pub mod edge;
pub mod error;
pub mod error_format;
pub mod error_pages;
pub mod error_text;
pub mod extract;
pub mod forms;
pub mod headers;
pub mod health;
pub mod hosts;
pub mod i18n;
pub mod layout;
pub mod metrics;
pub mod page;
pub mod password;
pub mod proxies;
pub mod ratelimit;
pub mod request_id;
pub mod secret;
pub mod server;
pub mod sessions;
pub mod text;
pub mod timeout;
pub mod two_factor;

pub use clock::{Clock, ManualClock, SystemClock};
pub use error::Error;
pub use secret::Secret;

/// A path on this site, safe to redirect to after sign-in: no scheme, no host,
/// no `//` or `/\` that a browser would read as another host.
pub fn safe_local_path(next: &str) -> Option<&str> {
    let ok = next.starts_with('/')
        && !next.starts_with("//")
        && !next.starts_with("/\\")
        && next.len() <= 512
        && !next.chars().any(|c| c.is_control() || c == '\\');
    ok.then_some(next)
}

/// A loosely checked email: one `@`, something on both sides, a dot in the domain,
/// no spaces. Lower-cased so that emails compare case-insensitively.
pub fn normalize_email(email: &str) -> Option<String> {
    let email = email.trim();
    let (local, domain) = email.split_once('@')?;
    // Dots only between characters; invisible or format characters never
    // (an address that reads like another); each dot-separated label in
    // one script (no Cyrillic "а" among Latin letters).
    let dotted =
        |s: &str| !s.is_empty() && !s.starts_with('.') && !s.ends_with('.') && !s.contains("..");
    let ok = dotted(local)
        && dotted(domain)
        && domain.contains('.')
        && !domain.contains('@')
        && email.len() <= 254
        && !email
            .chars()
            .any(|c| c.is_whitespace() || text::is_hidden(c))
        && local
            .split('.')
            .chain(domain.split('.'))
            .all(text::one_script);
    ok.then(|| email.to_lowercase())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn local_paths_only() {
        assert_eq!(
            safe_local_path("/account/api-portal"),
            Some("/account/api-portal")
        );
        assert_eq!(safe_local_path("//evil.example"), None);
        assert_eq!(safe_local_path("/\\evil.example"), None);
        assert_eq!(safe_local_path("https://evil.example"), None);
        assert_eq!(safe_local_path("evil"), None);
        assert_eq!(safe_local_path("/a\nb"), None);
    }

    #[test]
    fn emails() {
        assert_eq!(
            normalize_email(" A@Example.COM "),
            Some("a@example.com".into())
        );
        assert_eq!(normalize_email("no-at.example.com"), None);
        assert_eq!(normalize_email("a@b"), None);
        assert_eq!(normalize_email("a b@c.de"), None);
        assert_eq!(normalize_email("@c.de"), None);
        // Invisible and format characters, consecutive dots, mixed scripts.
        for bad in [
            "a\u{200b}b@c.de",
            "ab@c\u{202e}d.de",
            "a\u{00ad}b@c.de",
            "a..b@c.de",
            ".a@c.de",
            "a.@c.de",
            "a@c..de",
            "a@p\u{0430}ypal.com",
            "p\u{0430}y@c.de",
        ] {
            assert_eq!(normalize_email(bad), None, "{bad:?}");
        }
        // One script per label is fine, also not Latin.
        for good in ["jan.de.vries@c.de", "\u{0438}\u{0432}\u{0430}\u{043d}@\u{043f}\u{0440}\u{0438}\u{043c}\u{0435}\u{0440}.\u{0440}\u{0444}", "jos\u{e9}@caf\u{e9}.fr", "a-1+x@b-2.c3.de"] {
            assert!(normalize_email(good).is_some(), "{good:?}");
        }
    }
}
