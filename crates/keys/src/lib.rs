//! The API key format. Pure: no I/O apart from the OS random source.
//!
//! A key looks like `cmk_live_` or `cmk_test_` followed by 36 base62 characters:
//! 30 random characters (≈178 bits from the OS CSPRNG) and a 6-character
//! checksum, the CRC32 of everything before it, in base62, zero-padded.
//!
//! ```text
//! cmk_live_4Qx4m0RsyBfDdVnx2Lp9WcCzT1uH7kJa3eSg0b2L
//! └──┬───┘ └────────────┬─────────────┘└──┬─┘
//!  prefix      30 random base62 chars   checksum
//! ```
//!
//! A secret scanner finds keys with `\bcmk_(live|test)_[0-9A-Za-z]{36}\b` ([`KEY_REGEX`]).
//! Because the checksum covers the prefix too, a key whose environment was edited,
//! or that was mistyped or truncated, is rejected by [`ApiKey::parse`] offline,
//! without a storage lookup.
//!
//! The service stores only [`ApiKey::hash`] (SHA-256 of the whole key).

mod environment;
mod hash;
pub mod jwt;
mod random;
mod stored;

use std::fmt;

pub use environment::Environment;
pub use hash::{hash_parts, hash_str, KeyHash};
use random::BASE62;
pub use random::{random_base62, random_id};
pub use stored::NotStored;

/// The regex a secret scanner uses to find leaked keys.
pub const KEY_REGEX: &str = r"\bcmk_(live|test)_[0-9A-Za-z]{36}\b";

const RANDOM_LEN: usize = 30;
const CHECKSUM_LEN: usize = 6;
const PREFIX_LEN: usize = 9; // "cmk_live_" / "cmk_test_"
/// Total length of a key.
pub const KEY_LEN: usize = PREFIX_LEN + RANDOM_LEN + CHECKSUM_LEN;

/// Why a string is not a well-formed key.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ParseError {
    Length,
    Prefix,
    Alphabet,
    Checksum,
}

impl fmt::Display for ParseError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            ParseError::Length => "the key has the wrong length",
            ParseError::Prefix => "the key does not start with cmk_live_ or cmk_test_",
            ParseError::Alphabet => "the key contains characters that are not letters or digits",
            ParseError::Checksum => "the key's checksum does not match (mistyped or truncated)",
        })
    }
}

impl std::error::Error for ParseError {}

/// A well-formed API key. Its `Debug` and `Display` never show the secret.
#[derive(Clone, PartialEq, Eq)]
pub struct ApiKey {
    text: String,
    environment: Environment,
}

impl ApiKey {
    /// A new key from the OS CSPRNG.
    pub fn generate(environment: Environment) -> Self {
        let body = random_base62(RANDOM_LEN);
        Self::from_parts(environment, &body)
    }

    /// Builds a key from its prefix and random part, appending the checksum.
    /// Exposed so benchmarks and tests can make keys from a seeded source.
    pub fn from_parts(environment: Environment, random: &str) -> Self {
        let mut text = String::with_capacity(KEY_LEN);
        text.push_str(environment.prefix());
        text.push_str(random);
        let sum = checksum(text.as_bytes());
        text.push_str(&sum);
        ApiKey { text, environment }
    }

    /// Parses a key, checking length, prefix, alphabet and checksum. No I/O.
    pub fn parse(s: &str) -> Result<Self, ParseError> {
        let s = s.trim();
        let environment = check_format(s)?;
        Ok(ApiKey {
            text: s.to_owned(),
            environment,
        })
    }

    /// What verification needs of a presented key, without copying it: the
    /// environment and the hash, after the same checks as [`ApiKey::parse`].
    pub fn check(s: &str) -> Result<(Environment, KeyHash), ParseError> {
        let s = s.trim();
        let environment = check_format(s)?;
        Ok((environment, hash_str(s)))
    }

    pub fn environment(&self) -> Environment {
        self.environment
    }

    /// The full secret. Call only to show it once or to send it.
    pub fn expose(&self) -> &str {
        &self.text
    }

    pub fn hash(&self) -> KeyHash {
        hash_str(&self.text)
    }

    /// A non-secret hint: the prefix and the last four characters.
    pub fn hint(&self) -> String {
        format!(
            "{}…{}",
            self.environment.prefix(),
            &self.text[KEY_LEN - 4..]
        )
    }
}

/// Length, prefix, alphabet and checksum of a trimmed key.
fn check_format(s: &str) -> Result<Environment, ParseError> {
    if s.len() != KEY_LEN {
        return Err(ParseError::Length);
    }
    let environment = if s.starts_with("cmk_live_") {
        Environment::Production
    } else if s.starts_with("cmk_test_") {
        Environment::Sandbox
    } else {
        return Err(ParseError::Prefix);
    };
    let bytes = s.as_bytes();
    if !bytes[PREFIX_LEN..].iter().all(u8::is_ascii_alphanumeric) {
        return Err(ParseError::Alphabet);
    }
    let (head, sum) = bytes.split_at(KEY_LEN - CHECKSUM_LEN);
    if checksum_bytes(head) != sum {
        return Err(ParseError::Checksum);
    }
    Ok(environment)
}

impl fmt::Debug for ApiKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "ApiKey({})", self.hint())
    }
}

impl fmt::Display for ApiKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.hint())
    }
}

/// CRC32 of `data` as 6 base62 digits (62^6 > 2^32).
fn checksum_bytes(data: &[u8]) -> [u8; CHECKSUM_LEN] {
    let mut n = u64::from(crc32fast::hash(data));
    let mut out = [b'0'; CHECKSUM_LEN];
    for slot in out.iter_mut().rev() {
        *slot = BASE62[(n % 62) as usize];
        n /= 62;
    }
    out
}

fn checksum(data: &[u8]) -> String {
    checksum_bytes(data)
        .iter()
        .map(|&b| char::from(b))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn generated_keys_round_trip() {
        for env in [Environment::Production, Environment::Sandbox] {
            let key = ApiKey::generate(env);
            assert_eq!(key.expose().len(), KEY_LEN);
            let parsed = ApiKey::parse(key.expose()).unwrap();
            assert_eq!(parsed, key);
            assert_eq!(parsed.environment(), env);
            assert_eq!(parsed.hash(), key.hash());
        }
    }

    #[test]
    fn prefix_tells_environment() {
        assert!(ApiKey::generate(Environment::Production)
            .expose()
            .starts_with("cmk_live_"));
        assert!(ApiKey::generate(Environment::Sandbox)
            .expose()
            .starts_with("cmk_test_"));
    }

    #[test]
    fn two_keys_differ() {
        let a = ApiKey::generate(Environment::Production);
        let b = ApiKey::generate(Environment::Production);
        assert_ne!(a, b);
        assert_ne!(a.hash(), b.hash());
    }

    #[test]
    fn debug_and_display_hide_the_secret() {
        let key = ApiKey::generate(Environment::Production);
        let secret_part = &key.expose()[PREFIX_LEN..KEY_LEN - 4];
        assert!(!format!("{key:?}").contains(secret_part));
        assert!(!format!("{key}").contains(secret_part));
        assert!(key.hint().ends_with(&key.expose()[KEY_LEN - 4..]));
    }

    #[test]
    fn switching_the_environment_breaks_the_checksum() {
        let key = ApiKey::generate(Environment::Production);
        let swapped = key.expose().replacen("cmk_live_", "cmk_test_", 1);
        assert_eq!(ApiKey::parse(&swapped), Err(ParseError::Checksum));
    }

    #[test]
    fn rejects_garbage() {
        assert_eq!(ApiKey::parse(""), Err(ParseError::Length));
        assert_eq!(ApiKey::parse("not a key"), Err(ParseError::Length));
        let key = ApiKey::generate(Environment::Sandbox);
        let other_prefix = key.expose().replacen("cmk_", "xyz_", 1);
        assert_eq!(ApiKey::parse(&other_prefix), Err(ParseError::Prefix));
        let mut bad_char = key.expose().to_owned();
        bad_char.replace_range(20..21, "-");
        assert_eq!(ApiKey::parse(&bad_char), Err(ParseError::Alphabet));
    }

    #[test]
    fn check_agrees_with_parse() {
        let key = ApiKey::generate(Environment::Sandbox);
        assert_eq!(
            ApiKey::check(key.expose()),
            Ok((Environment::Sandbox, key.hash()))
        );
        assert_eq!(ApiKey::check("cmk_live_short"), Err(ParseError::Length));
    }

    #[test]
    fn hash_hex_round_trips() {
        let h = ApiKey::generate(Environment::Production).hash();
        assert_eq!(KeyHash::from_hex(&h.to_hex()), Some(h));
        assert_eq!(KeyHash::from_hex("zz"), None);
    }

    #[test]
    fn regex_shape_matches_format() {
        // The documented regex's character classes, checked by hand (no regex crate).
        let key = ApiKey::generate(Environment::Production);
        assert!(KEY_REGEX.contains("{36}"));
        assert_eq!(key.expose().len() - PREFIX_LEN, 36);
    }

    fn any_key() -> impl Strategy<Value = ApiKey> {
        (
            prop_oneof![Just(Environment::Production), Just(Environment::Sandbox)],
            "[0-9A-Za-z]{30}",
        )
            .prop_map(|(env, body)| ApiKey::from_parts(env, &body))
    }

    proptest! {
        #[test]
        fn round_trip(key in any_key()) {
            prop_assert_eq!(ApiKey::parse(key.expose()).unwrap(), key);
        }

        #[test]
        fn any_changed_character_is_rejected(key in any_key(), pos in 0usize..KEY_LEN, c in "[0-9A-Za-z_]") {
            let mut s = key.expose().to_owned();
            let c = c.chars().next().unwrap();
            prop_assume!(s.as_bytes()[pos] != c as u8);
            s.replace_range(pos..pos + 1, &c.to_string());
            prop_assert!(ApiKey::parse(&s).is_err());
        }

        #[test]
        fn any_dropped_character_is_rejected(key in any_key(), pos in 0usize..KEY_LEN) {
            let mut s = key.expose().to_owned();
            s.remove(pos);
            prop_assert!(ApiKey::parse(&s).is_err());
        }

        #[test]
        fn any_added_character_is_rejected(key in any_key(), pos in 0usize..=KEY_LEN, c in "[0-9A-Za-z]") {
            let mut s = key.expose().to_owned();
            s.insert_str(pos, &c);
            prop_assert!(ApiKey::parse(&s).is_err());
        }

        #[test]
        fn parse_never_panics(s in "\\PC{0,80}") {
            let _ = ApiKey::parse(&s);
        }
    }
}
