//! Device cookies (OWASP, "Slow Down Online Guessing Attacks with Device
//! Cookies"): a browser that signed in to an account before carries a
//! cookie that says so, bound to that account's sign-in name and signed
//! with a server key. Its sign-ins count against its own throttle only, so
//! strangers guessing the password from many addresses (which locks the
//! name for everyone else) never lock its owner out.
//!
//! The value is `{nonce}.{mac}`: a random nonce (the device's id for its
//! throttle) and HMAC-SHA256 over the nonce and the lower-cased name. It
//! holds no account id and no secret, and is refreshed at each sign-in.

use axum::http::{HeaderMap, HeaderValue};
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use hmac::{Hmac, Mac};
use sha2::Sha256;

use crate::cookies;

/// A device cookie lives this long (refreshed at each sign-in).
pub const MAX_AGE_SECS: i64 = 365 * 86400;

const NONCE_CHARS: usize = 22;
const MAC_BYTES: usize = 16;

/// The key that signs one app's device cookies, and the cookie's name.
#[derive(Clone)]
pub struct DeviceCookies {
    key: [u8; 32],
    name: &'static str,
}

impl std::fmt::Debug for DeviceCookies {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "DeviceCookies({}, key redacted)", self.name)
    }
}

/// HMAC-SHA256 of `label` under `secret`: a key of its own for one use,
/// derived from a server secret that has other uses.
pub fn derive_key(secret: &[u8], label: &str) -> [u8; 32] {
    let mut mac = <Hmac<Sha256> as Mac>::new_from_slice(secret)
        .unwrap_or_else(|_| unreachable!("HMAC takes a key of any length"));
    mac.update(label.as_bytes());
    mac.finalize().into_bytes().into()
}

impl DeviceCookies {
    pub fn new(key: [u8; 32], name: &'static str) -> Self {
        DeviceCookies { key, name }
    }

    fn mac(&self, nonce: &str, login_name: &str) -> Hmac<Sha256> {
        let mut mac = <Hmac<Sha256> as Mac>::new_from_slice(&self.key)
            .unwrap_or_else(|_| unreachable!("HMAC takes a key of any length"));
        mac.update(nonce.as_bytes());
        mac.update(b"\n");
        mac.update(login_name.trim().to_lowercase().as_bytes());
        mac
    }

    /// A new cookie value for a browser that just signed in as `login_name`.
    pub fn issue(&self, login_name: &str) -> String {
        let nonce = keys::random_base62(NONCE_CHARS);
        let tag = self.mac(&nonce, login_name).finalize().into_bytes();
        format!("{nonce}.{}", URL_SAFE_NO_PAD.encode(&tag[..MAC_BYTES]))
    }

    /// The device's id (its nonce) when `value` is a cookie this key issued
    /// for `login_name`; `None` for anything else (another name, altered).
    pub fn check<'a>(&self, value: &'a str, login_name: &str) -> Option<&'a str> {
        let (nonce, tag) = value.split_once('.')?;
        if nonce.len() != NONCE_CHARS || !nonce.bytes().all(|b| b.is_ascii_alphanumeric()) {
            return None;
        }
        let tag = URL_SAFE_NO_PAD.decode(tag).ok()?;
        if tag.len() != MAC_BYTES {
            return None;
        }
        self.mac(nonce, login_name)
            .verify_truncated_left(&tag)
            .ok()
            .map(|()| nonce)
    }

    /// The request's device cookie, as sent (not yet checked).
    pub fn read<'a>(&self, headers: &'a HeaderMap) -> Option<&'a str> {
        cookies::get(headers, self.name)
    }

    /// The `Set-Cookie` of a fresh device cookie for `login_name`.
    pub fn set_cookie(&self, login_name: &str, secure: bool) -> HeaderValue {
        cookies::set(
            self.name,
            &self.issue(login_name),
            Some(MAX_AGE_SECS),
            secure,
        )
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn a_cookie_opens_only_for_its_name_and_key() {
        let d = DeviceCookies::new(derive_key(b"secret", "device v1"), "x_device");
        let v = d.issue("Owner@Example.com");
        let id = d.check(&v, " owner@example.com").expect("its own name");
        assert_eq!(id.len(), NONCE_CHARS);
        assert!(v.starts_with(id));
        assert!(d.check(&v, "other@example.com").is_none(), "another name");
        let other = DeviceCookies::new(derive_key(b"other secret", "device v1"), "x_device");
        assert!(
            other.check(&v, "owner@example.com").is_none(),
            "another key"
        );
        let (nonce, tag) = v.split_once('.').unwrap();
        let forged = format!("{}{}.{tag}", &nonce[..NONCE_CHARS - 1], "Z");
        assert!(d.check(&forged, "owner@example.com").is_none() || forged == v);
        for junk in ["", ".", "abc", &format!("{nonce}."), &format!("{nonce}.!!")] {
            assert!(d.check(junk, "owner@example.com").is_none(), "{junk:?}");
        }
        assert_ne!(
            d.issue("a@b.c"),
            d.issue("a@b.c"),
            "a fresh nonce each time"
        );
        assert!(!format!("{d:?}").contains("secret"));
    }
}
