//! HTTP clients that follow no redirects, `Set-Cookie` values, and a
//! response read in full, as the tests of every HTTP service look at it.

use reqwest::header::{HeaderMap, CONTENT_TYPE, LOCATION, SET_COOKIE};
use reqwest::StatusCode;
use serde_json::Value;
use std::time::Duration;

/// A response read in full.
#[derive(Debug)]
pub struct Resp {
    pub status: StatusCode,
    pub headers: HeaderMap,
    pub text: String,
}

impl Resp {
    pub async fn read(res: reqwest::Response) -> Resp {
        let status = res.status();
        let headers = res.headers().clone();
        let text = res.text().await.expect("response body");
        Resp {
            status,
            headers,
            text,
        }
    }

    pub fn json(&self) -> Value {
        serde_json::from_str(&self.text)
            .unwrap_or_else(|e| panic!("not JSON ({e}), status {}: {}", self.status, self.text))
    }

    /// The value of header `name`, or "" when it is missing or not text.
    pub fn header(&self, name: impl reqwest::header::AsHeaderName) -> &str {
        self.headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .unwrap_or("")
    }

    /// The value of cookie `name` set by this response, if any.
    pub fn cookie(&self, name: &str) -> Option<String> {
        set_cookie_value(&self.headers, name)
    }

    /// The whole `Set-Cookie` header that sets `name`.
    pub fn set_cookie_line(&self, name: &str) -> Option<String> {
        self.headers
            .get_all(SET_COOKIE)
            .iter()
            .filter_map(|v| v.to_str().ok())
            .find(|l| {
                l.split(';')
                    .next()
                    .and_then(|p| p.split_once('='))
                    .is_some_and(|(k, _)| k.trim() == name)
            })
            .map(str::to_owned)
    }

    pub fn location(&self) -> Option<&str> {
        self.headers.get(LOCATION).and_then(|v| v.to_str().ok())
    }

    pub fn is_redirect(&self) -> bool {
        self.status.is_redirection()
    }

    /// Asserts the JSON error format with a 4xx status; returns the error code.
    pub fn assert_api_error(&self, what: &str) -> String {
        assert!(
            self.status.is_client_error(),
            "{what}: expected a 4xx, got {} with {}",
            self.status,
            self.text
        );
        self.api_error_code(what)
    }

    /// Asserts the JSON error format with this status; returns the error code.
    pub fn assert_api_error_status(&self, status: StatusCode, what: &str) -> String {
        assert_eq!(self.status, status, "{what}: {}", self.text);
        self.api_error_code(what)
    }

    /// Asserts `{"error": {"code", "message"}}` as JSON; returns the code.
    fn api_error_code(&self, what: &str) -> String {
        let ct = self
            .headers
            .get(CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .unwrap_or("");
        assert!(
            ct.starts_with("application/json"),
            "{what}: JSON content type, got {ct:?}"
        );
        let v = self.json();
        let code = v["error"]["code"].as_str().unwrap_or_default();
        let message = v["error"]["message"].as_str().unwrap_or_default();
        assert!(!code.is_empty(), "{what}: error.code in {v}");
        assert!(!message.is_empty(), "{what}: error.message in {v}");
        code.to_owned()
    }
}

/// An HTTP client that does not follow redirects (tests look at them).
pub fn http_client() -> reqwest::Client {
    reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .expect("http client")
}

/// `http_client` with a whole-request timeout, for talking to a child process.
pub fn http_client_with_timeout(timeout: Duration) -> reqwest::Client {
    reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .timeout(timeout)
        .build()
        .expect("http client")
}

/// The value of cookie `name` among `Set-Cookie` headers.
pub fn set_cookie_value(headers: &reqwest::header::HeaderMap, name: &str) -> Option<String> {
    headers
        .get_all(reqwest::header::SET_COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .filter_map(|l| l.split(';').next())
        .filter_map(|p| p.split_once('='))
        .find(|(k, _)| k.trim() == name)
        .map(|(_, v)| v.trim().to_owned())
}
