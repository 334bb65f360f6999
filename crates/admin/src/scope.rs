//! Configuration scopes, as Magento names them: default, websites, stores.

use std::fmt;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Scope {
    Default,
    Websites,
    Stores,
}

impl Scope {
    pub fn as_str(self) -> &'static str {
        match self {
            Scope::Default => "default",
            Scope::Websites => "websites",
            Scope::Stores => "stores",
        }
    }

    pub fn parse(s: &str) -> Option<Scope> {
        match s {
            "default" => Some(Scope::Default),
            "websites" | "website" => Some(Scope::Websites),
            "stores" | "store" => Some(Scope::Stores),
            _ => None,
        }
    }
}

impl fmt::Display for Scope {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A scope and the id of its website or store view (0 for default).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ScopeRef {
    pub scope: Scope,
    pub id: i64,
}

impl ScopeRef {
    pub const DEFAULT: ScopeRef = ScopeRef {
        scope: Scope::Default,
        id: 0,
    };
}
