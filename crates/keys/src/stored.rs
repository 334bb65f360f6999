//! A stored value that cannot be read back ([`NotStored`]).

use std::fmt;

/// A stored value that is not what its column should hold (an unknown
/// environment name, a hash that is not 64 hex digits).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NotStored(pub &'static str);

impl fmt::Display for NotStored {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "the stored value is not a valid {}", self.0)
    }
}

impl std::error::Error for NotStored {}
