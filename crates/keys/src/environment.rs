//! The environment a key belongs to (production or sandbox), named in its prefix.

use std::fmt;

use crate::stored::NotStored;

/// Which environment a key belongs to; encoded in its prefix.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Environment {
    Production,
    Sandbox,
}

impl Environment {
    pub fn prefix(self) -> &'static str {
        match self {
            Environment::Production => "cmk_live_",
            Environment::Sandbox => "cmk_test_",
        }
    }

    /// The name used in the JSON API and the database.
    pub fn as_str(self) -> &'static str {
        match self {
            Environment::Production => "production",
            Environment::Sandbox => "sandbox",
        }
    }

    pub fn from_name(name: &str) -> Option<Self> {
        match name {
            "production" => Some(Environment::Production),
            "sandbox" => Some(Environment::Sandbox),
            _ => None,
        }
    }
}

impl TryFrom<String> for Environment {
    type Error = NotStored;

    /// Reads the stored name (`sqlx(try_from = "String")` on a row field).
    fn try_from(name: String) -> Result<Self, NotStored> {
        Environment::from_name(&name).ok_or(NotStored("environment"))
    }
}

impl fmt::Display for Environment {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}
