//! What may be set: each configuration path with its label, input, scopes,
//! default and whether it is stored encrypted, declared once in [`REGISTRY`].

use crate::scope::Scope;

pub const PRODUCTION_API_KEY: &str =
    "services_connector/services_connector_integration/production_api_key";
pub const SANDBOX_API_KEY: &str =
    "services_connector/services_connector_integration/sandbox_api_key";
pub const PRODUCTION_PRIVATE_KEY: &str =
    "services_connector/services_connector_integration/production_private_key";
pub const SANDBOX_PRIVATE_KEY: &str =
    "services_connector/services_connector_integration/sandbox_private_key";
pub const GATEWAY_URL: &str = "services_connector/production_gateway_url";
pub const ACCOUNT_SITE_URL: &str = "services_connector/account_site_url";
pub const DEFAULT_GATEWAY_URL: &str = "http://127.0.0.1:8080";

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Input {
    Text,
    Url,
    /// A secret on one line: shown masked.
    Obscure,
    /// A secret on several lines (PEM): shown masked.
    SecretArea,
    Select(&'static [(&'static str, &'static str)]),
}

#[derive(Debug)]
pub struct Field {
    pub path: &'static str,
    /// Catalog key of the label.
    pub label: &'static str,
    /// Catalog key of the comment under the field, or "".
    pub comment: &'static str,
    pub input: Input,
    /// The scopes the field can be set at (and is shown at).
    pub scopes: &'static [Scope],
    pub encrypted: bool,
    pub default: &'static str,
}

impl Field {
    pub fn id(&self) -> String {
        self.path.replace('/', "_")
    }

    pub fn is_secret(&self) -> bool {
        matches!(self.input, Input::Obscure | Input::SecretArea)
    }

    pub fn shown_at(&self, scope: Scope) -> bool {
        self.scopes.contains(&scope)
    }
}

#[derive(Debug)]
pub struct Group {
    pub id: &'static str,
    pub label: &'static str,
    pub fields: &'static [Field],
}

#[derive(Debug)]
pub struct Section {
    pub id: &'static str,
    /// Catalog key of the tab (left panel heading) the section sits under.
    pub tab: &'static str,
    pub label: &'static str,
    pub groups: &'static [Group],
}

const ALL_SCOPES: &[Scope] = &[Scope::Default, Scope::Websites, Scope::Stores];
const DEFAULT_ONLY: &[Scope] = &[Scope::Default];
const LOCALES: &[(&str, &str)] = &[("en_US", "locale.en_US"), ("nl_NL", "locale.nl_NL")];

pub static REGISTRY: &[Section] = &[
    Section {
        id: "general",
        tab: "config.tab.general",
        label: "config.section.general",
        groups: &[
            Group {
                id: "store_information",
                label: "config.group.store_information",
                fields: &[Field {
                    path: "general/store_information/name",
                    label: "config.field.store_name",
                    comment: "",
                    input: Input::Text,
                    scopes: ALL_SCOPES,
                    encrypted: false,
                    default: "",
                }],
            },
            Group {
                id: "locale",
                label: "config.group.locale",
                fields: &[Field {
                    path: "general/locale/code",
                    label: "config.field.locale",
                    comment: "",
                    input: Input::Select(LOCALES),
                    scopes: ALL_SCOPES,
                    encrypted: false,
                    default: "en_US",
                }],
            },
        ],
    },
    Section {
        id: "magento_services",
        tab: "config.tab.services",
        label: "config.section.magento_services",
        groups: &[
            Group {
                id: "api_keys",
                label: "config.group.api_keys",
                fields: &[
                    Field {
                        path: PRODUCTION_API_KEY,
                        label: "config.field.production_api_key",
                        comment: "config.comment.api_key",
                        input: Input::Obscure,
                        scopes: DEFAULT_ONLY,
                        encrypted: true,
                        default: "",
                    },
                    Field {
                        path: SANDBOX_API_KEY,
                        label: "config.field.sandbox_api_key",
                        comment: "",
                        input: Input::Obscure,
                        scopes: DEFAULT_ONLY,
                        encrypted: true,
                        default: "",
                    },
                    Field {
                        path: PRODUCTION_PRIVATE_KEY,
                        label: "config.field.production_private_key",
                        comment: "config.comment.private_key",
                        input: Input::SecretArea,
                        scopes: DEFAULT_ONLY,
                        encrypted: true,
                        default: "",
                    },
                    Field {
                        path: SANDBOX_PRIVATE_KEY,
                        label: "config.field.sandbox_private_key",
                        comment: "",
                        input: Input::SecretArea,
                        scopes: DEFAULT_ONLY,
                        encrypted: true,
                        default: "",
                    },
                ],
            },
            Group {
                id: "gateway",
                label: "config.group.gateway",
                fields: &[
                    Field {
                        path: GATEWAY_URL,
                        label: "config.field.gateway_url",
                        comment: "config.comment.gateway_url",
                        input: Input::Url,
                        scopes: DEFAULT_ONLY,
                        encrypted: false,
                        default: DEFAULT_GATEWAY_URL,
                    },
                    Field {
                        path: ACCOUNT_SITE_URL,
                        label: "config.field.account_site_url",
                        comment: "config.comment.account_site_url",
                        input: Input::Url,
                        scopes: DEFAULT_ONLY,
                        encrypted: false,
                        default: "",
                    },
                ],
            },
        ],
    },
];

pub fn field(path: &str) -> Option<&'static Field> {
    REGISTRY
        .iter()
        .flat_map(|s| s.groups)
        .flat_map(|g| g.fields)
        .find(|f| f.path == path)
}

pub fn section(id: &str) -> Option<&'static Section> {
    REGISTRY.iter().find(|s| s.id == id)
}

pub fn all_fields() -> impl Iterator<Item = &'static Field> {
    REGISTRY
        .iter()
        .flat_map(|s| s.groups)
        .flat_map(|g| g.fields)
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn registry_has_the_spec_paths_default_only_and_encrypted() {
        for p in [
            PRODUCTION_API_KEY,
            SANDBOX_API_KEY,
            PRODUCTION_PRIVATE_KEY,
            SANDBOX_PRIVATE_KEY,
        ] {
            let f = field(p).unwrap();
            assert!(f.encrypted && f.is_secret());
            assert_eq!(f.scopes, &[Scope::Default]);
        }
        assert_eq!(field(GATEWAY_URL).unwrap().default, DEFAULT_GATEWAY_URL);
    }
}
