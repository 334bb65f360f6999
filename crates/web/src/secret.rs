//! A string that never shows itself in `Debug` or `Display`.
//!
//! Built on `secrecy`: the value is zeroed when dropped and is read only
//! through `expose()`. No `PartialEq`: compare secrets with `ct_eq`, which
//! takes the same time wherever the first difference is.

use std::fmt;

use secrecy::{ExposeSecret, SecretString};

pub struct Secret(SecretString);

impl Secret {
    pub fn new(s: impl Into<String>) -> Self {
        Secret(SecretString::from(s.into()))
    }

    pub fn expose(&self) -> &str {
        self.0.expose_secret()
    }

    pub fn is_empty(&self) -> bool {
        self.expose().is_empty()
    }

    /// Compares with `other` in constant time (for equal lengths).
    pub fn ct_eq(&self, other: &str) -> bool {
        use subtle::ConstantTimeEq;
        self.expose().as_bytes().ct_eq(other.as_bytes()).into()
    }
}

impl Default for Secret {
    fn default() -> Self {
        Secret::new(String::new())
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Secret([redacted])")
    }
}

impl fmt::Display for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("[redacted]")
    }
}

impl<'de> serde::Deserialize<'de> for Secret {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        String::deserialize(d).map(Secret::new)
    }
}

#[cfg(test)]
mod tests {
    use super::Secret;

    #[test]
    fn redacts() {
        let s = Secret::new("hunter2hunter2");
        assert!(!format!("{s:?} {s}").contains("hunter2"));
        assert_eq!(s.expose(), "hunter2hunter2");
    }

    #[test]
    fn compares_without_partial_eq() {
        let s = Secret::new("hunter2hunter2");
        assert!(s.ct_eq("hunter2hunter2"));
        assert!(!s.ct_eq("hunter2hunter3"));
        assert!(!s.ct_eq("hunter2"));
        assert!(!Secret::default().ct_eq("x"));
    }
}
