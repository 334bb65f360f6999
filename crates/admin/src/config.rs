//! The configuration system, modelled on Magento's `core_config_data`: values
//! keyed by (scope, scope id, path), read with fallback store → website →
//! default. What may be set is declared once, in [`REGISTRY`]: the page, the
//! CLI and validation all read it.

use web::db::Db;

use crate::crypto::Crypto;
use crate::error::AdminError;
pub use crate::error::ConfigError;
pub use crate::scope::{Scope, ScopeRef};
use crate::store;

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

/// What a secret field shows instead of its value; sent back unchanged, it keeps the value.
pub const MASK: &str = "******";

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

fn invalid(path: &str, msg: &'static str) -> ConfigError {
    ConfigError {
        path: path.to_owned(),
        msg,
    }
}

/// Checks a value for a field; returns the value to store (trimmed), or `None` to clear.
pub fn validate(f: &Field, value: &str) -> Result<Option<String>, ConfigError> {
    let v = if matches!(f.input, Input::SecretArea) {
        value.trim().replace("\r\n", "\n")
    } else {
        value.trim().to_owned()
    };
    if v.is_empty() {
        return Ok(None);
    }
    let max = if matches!(f.input, Input::SecretArea) {
        16 * 1024
    } else {
        1024
    };
    if v.len() > max {
        return Err(invalid(f.path, "config.error.too_long"));
    }
    // No NUL anywhere; one-line values hold no hidden characters either.
    if v.contains('\0') || (!matches!(f.input, Input::SecretArea) && web::text::has_hidden(&v)) {
        return Err(invalid(f.path, "config.error.control"));
    }
    match f.input {
        Input::Url => {
            use crate::outbound::{check_base_url, UrlError};
            check_base_url(&v).map(Some).map_err(|e| {
                invalid(
                    f.path,
                    match e {
                        UrlError::NotHttp => "config.error.url",
                        UrlError::Userinfo => "config.error.url_userinfo",
                        UrlError::QueryOrFragment => "config.error.url_query",
                    },
                )
            })
        }
        Input::Select(options) => {
            if options.iter().any(|(o, _)| *o == v) {
                Ok(Some(v))
            } else {
                Err(invalid(f.path, "config.error.option"))
            }
        }
        _ => Ok(Some(v)),
    }
}

/// Resolves `--scope` / `--scope-code` (or the page's switcher) to a scope and id.
pub async fn resolve_scope(
    db: &Db,
    scope: Scope,
    code: Option<&str>,
) -> Result<ScopeRef, ConfigError> {
    match scope {
        Scope::Default => Ok(ScopeRef::DEFAULT),
        Scope::Websites | Scope::Stores => {
            let code = code.ok_or_else(|| invalid(scope.as_str(), "config.error.scope_code"))?;
            let id = store::scope_id_by_code(db, scope, code)
                .await
                .ok()
                .flatten()
                .ok_or_else(|| invalid(code, "config.error.unknown_scope"))?;
            Ok(ScopeRef { scope, id })
        }
    }
}

/// Reading and writing configuration values, decrypting and encrypting secrets.
pub struct ConfigStore<'a> {
    pub db: &'a Db,
    pub crypto: &'a Crypto,
}

impl ConfigStore<'_> {
    /// Sets (or with an empty value, clears) a value at a scope, after validation.
    /// Returns whether anything changed.
    pub async fn set(
        &self,
        path: &str,
        value: &str,
        at: ScopeRef,
        now: i64,
    ) -> Result<bool, AdminError> {
        let f = field(path)
            .ok_or_else(|| AdminError::InvalidConfig(invalid(path, "config.error.unknown_path")))?;
        if !f.shown_at(at.scope) {
            return Err(AdminError::InvalidConfig(invalid(
                path,
                "config.error.scope_not_allowed",
            )));
        }
        match validate(f, value).map_err(AdminError::InvalidConfig)? {
            None => Ok(store::delete_config(self.db, at, path).await?),
            Some(v) => {
                let stored = if f.encrypted {
                    self.crypto.encrypt(path, &v)
                } else {
                    v
                };
                store::upsert_config(self.db, at, path, &stored, now).await?;
                Ok(true)
            }
        }
    }

    /// `set`, recorded in the configuration audit log as done by `actor` when
    /// the stored value really changed: who, when, path and scope, never the value.
    pub async fn set_by(
        &self,
        actor: &str,
        path: &str,
        value: &str,
        at: ScopeRef,
        now: i64,
    ) -> Result<bool, AdminError> {
        let before = self.get_at(path, at).await?;
        let changed = self.set(path, value, at, now).await?;
        let after = self.get_at(path, at).await?;
        if before != after {
            let change = if after.is_some() { "set" } else { "cleared" };
            store::insert_config_change(self.db, actor, path, at, change, now).await?;
        }
        Ok(changed)
    }

    /// The value set exactly at this scope (no fallback), decrypted.
    pub async fn get_at(&self, path: &str, at: ScopeRef) -> Result<Option<String>, sqlx::Error> {
        let raw = store::config_value(self.db, at, path).await?;
        Ok(raw.and_then(|r| self.reveal(path, &r)))
    }

    /// The effective value at a scope: store view → its website → default → the registry default.
    pub async fn get(&self, path: &str, at: ScopeRef) -> Result<Option<String>, sqlx::Error> {
        for s in store::fallback_chain(self.db, at).await? {
            if let Some(v) = self.get_at(path, s).await? {
                return Ok(Some(v));
            }
        }
        Ok(field(path)
            .map(|f| f.default)
            .filter(|d| !d.is_empty())
            .map(str::to_owned))
    }

    fn reveal(&self, path: &str, raw: &str) -> Option<String> {
        if field(path).is_some_and(|f| f.encrypted) {
            match self.crypto.decrypt(path, raw) {
                Ok(v) => Some(v),
                Err(e) => {
                    tracing::error!(path, error = %e, "a stored secret does not decrypt");
                    None
                }
            }
        } else {
            Some(raw.to_owned())
        }
    }

    /// Every stored value as `(scope, scope id, path, shown value)`; secrets masked.
    pub async fn show_all(&self) -> Result<Vec<(ScopeRef, String, String)>, sqlx::Error> {
        let rows = store::all_config(self.db).await?;
        Ok(rows
            .into_iter()
            .map(|(at, path, raw)| {
                let shown = match field(&path) {
                    Some(f) if f.is_secret() || f.encrypted => MASK.to_owned(),
                    _ => raw,
                };
                (at, path, shown)
            })
            .collect())
    }
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

    #[test]
    fn validation() {
        let url = field(GATEWAY_URL).unwrap();
        assert_eq!(
            validate(url, " http://x.test/ ").unwrap(),
            Some("http://x.test".into())
        );
        assert!(validate(url, "ftp://x").is_err());
        let key = field(PRODUCTION_API_KEY).unwrap();
        assert_eq!(validate(key, "  ").unwrap(), None);
        assert!(validate(key, &"x".repeat(2000)).is_err());
        let locale = field("general/locale/code").unwrap();
        assert!(validate(locale, "xx_XX").is_err());
        assert!(validate(locale, "nl_NL").is_ok());
    }
}
