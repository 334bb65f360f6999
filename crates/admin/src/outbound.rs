//! The Admin's calls to the account service, bounded: only an absolute
//! http(s) base URL without userinfo, query or fragment is ever asked; no
//! redirect is followed (a 3xx is a bad answer, so the key never goes to
//! another host); an answer body is read up to [`MAX_ANSWER`] bytes and no
//! further.

use std::time::Duration;

/// The most of an answer body the Admin reads from the account service.
pub const MAX_ANSWER: usize = 64 * 1024;

/// Why a base URL (`--account-url`, the gateway URL) is refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum UrlError {
    #[error("must be an absolute http:// or https:// URL, e.g. https://keys.example.com")]
    NotHttp,
    #[error("must not contain a user name or password")]
    Userinfo,
    #[error("must not contain a query (?…) or a fragment (#…)")]
    QueryOrFragment,
}

/// Checks a base URL and returns it normalised, without a trailing slash.
pub fn check_base_url(raw: &str) -> Result<String, UrlError> {
    let raw = raw.trim();
    // The URL parser drops tabs and newlines and trims spaces silently: refuse them first.
    if raw.is_empty() || raw.chars().any(|c| c.is_whitespace() || c.is_control()) {
        return Err(UrlError::NotHttp);
    }
    let lower = raw.to_ascii_lowercase();
    let authority = lower
        .strip_prefix("http://")
        .or_else(|| lower.strip_prefix("https://"))
        .ok_or(UrlError::NotHttp)?;
    // The parser would read `http:///x` or `http:\\x` as the host `x`.
    if authority.is_empty() || authority.starts_with(['/', '\\']) || raw.contains('\\') {
        return Err(UrlError::NotHttp);
    }
    let url = reqwest::Url::parse(raw).map_err(|_| UrlError::NotHttp)?;
    if !matches!(url.scheme(), "http" | "https") || url.host_str().is_none_or(str::is_empty) {
        return Err(UrlError::NotHttp);
    }
    if !url.username().is_empty() || url.password().is_some() || raw.contains('@') {
        return Err(UrlError::Userinfo);
    }
    if url.query().is_some() || url.fragment().is_some() || raw.contains(['?', '#']) {
        return Err(UrlError::QueryOrFragment);
    }
    Ok(url.as_str().trim_end_matches('/').to_owned())
}

/// Whether a link the account service hands over (a connect link, a
/// website URL) is an absolute http(s) URL without userinfo or control
/// characters, at most 2048 bytes: the only kind the Admin passes on.
pub fn check_link(raw: &str) -> bool {
    if raw.len() > 2048 || raw.chars().any(|c| c.is_whitespace() || c.is_control()) {
        return false;
    }
    let lower = raw.to_ascii_lowercase();
    let Some(authority) = lower
        .strip_prefix("http://")
        .or_else(|| lower.strip_prefix("https://"))
    else {
        return false;
    };
    // The parser would read `http:///x` as the host `x`.
    if authority.is_empty() || authority.starts_with('/') || raw.contains('\\') {
        return false;
    }
    match reqwest::Url::parse(raw) {
        Ok(url) => {
            matches!(url.scheme(), "http" | "https")
                && url.host_str().is_some_and(|h| !h.is_empty())
                && url.username().is_empty()
                && url.password().is_none()
        }
        Err(_) => false,
    }
}

/// The HTTP client of the gate: bounded in time, following no redirect.
pub fn client(connect_timeout: Duration, total_timeout: Duration) -> reqwest::Client {
    reqwest::Client::builder()
        .connect_timeout(connect_timeout)
        .timeout(total_timeout)
        .pool_idle_timeout(Duration::from_secs(30))
        .redirect(reqwest::redirect::Policy::none())
        .user_agent(concat!("commerce-admin/", env!("CARGO_PKG_VERSION")))
        .build()
        .unwrap_or_else(|e| {
            // Without this client the gate would send keys along redirects: stop.
            panic!("cannot build the Admin's HTTP client: {e}")
        })
}

#[derive(Debug, thiserror::Error)]
pub enum BodyError {
    #[error("the answer is larger than {MAX_ANSWER} bytes")]
    TooLarge,
    #[error("the answer could not be read: {0}")]
    Read(reqwest::Error),
}

/// Reads an answer body chunk by chunk, stopping (and dropping the
/// connection) as soon as it passes `max` bytes.
pub async fn read_limited(mut res: reqwest::Response, max: usize) -> Result<Vec<u8>, BodyError> {
    if res
        .content_length()
        .is_some_and(|n| n > u64::try_from(max).unwrap_or(u64::MAX))
    {
        return Err(BodyError::TooLarge);
    }
    let mut body = Vec::new();
    while let Some(chunk) = res.chunk().await.map_err(BodyError::Read)? {
        if body.len() + chunk.len() > max {
            return Err(BodyError::TooLarge);
        }
        body.extend_from_slice(&chunk);
    }
    Ok(body)
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn base_urls() {
        for (ok, want) in [
            ("http://127.0.0.1:8080", "http://127.0.0.1:8080"),
            ("https://keys.example.com/", "https://keys.example.com"),
            (
                "HTTPS://Keys.Example.com/base/",
                "https://keys.example.com/base",
            ),
            (" http://[::1]:9/ ", "http://[::1]:9"),
        ] {
            assert_eq!(check_base_url(ok).as_deref(), Ok(want), "{ok:?}");
        }
        for (bad, why) in [
            ("", UrlError::NotHttp),
            ("keys.example.com", UrlError::NotHttp),
            ("/relative", UrlError::NotHttp),
            ("ftp://keys.example.com", UrlError::NotHttp),
            ("file:///etc/passwd", UrlError::NotHttp),
            ("http://", UrlError::NotHttp),
            ("http:///x", UrlError::NotHttp),
            ("http://\\\\x", UrlError::NotHttp),
            ("http://x\\y", UrlError::NotHttp),
            ("http://a b.test", UrlError::NotHttp),
            ("http://a\tb.test", UrlError::NotHttp),
            ("http://a.test\n/x", UrlError::NotHttp),
            ("http://user:pw@evil.test", UrlError::Userinfo),
            ("http://user@evil.test", UrlError::Userinfo),
            ("http://good.test@evil.test", UrlError::Userinfo),
            ("http://keys.test/?x=1", UrlError::QueryOrFragment),
            ("http://keys.test/?", UrlError::QueryOrFragment),
            ("http://keys.test#frag", UrlError::QueryOrFragment),
            ("http://keys.test/#", UrlError::QueryOrFragment),
        ] {
            assert_eq!(check_base_url(bad), Err(why), "{bad:?}");
        }
    }

    #[test]
    fn links() {
        for ok in [
            "http://127.0.0.1:8080/amazon/connect/abc",
            "https://accounts.example.com/amazon/connect/abc?x=1",
        ] {
            assert!(check_link(ok), "{ok}");
        }
        for bad in [
            "",
            "javascript:alert(1)",
            "/amazon/connect/abc",
            "//evil.test/x",
            "https://user:pw@evil.test/",
            "https://a.test/x y",
            "https://a.test/\n",
            "data:text/html,x",
            "http:///x",
        ] {
            assert!(!check_link(bad), "{bad:?}");
        }
        assert!(!check_link(&format!("https://a.test/{}", "x".repeat(2048))));
    }
}
