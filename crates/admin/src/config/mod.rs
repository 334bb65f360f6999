//! The configuration system, modelled on Magento's `core_config_data`: values
//! keyed by (scope, scope id, path), read with fallback store → website →
//! default. What may be set is declared once, in [`REGISTRY`]: the page, the
//! CLI and validation all read it.

mod registry;

use web::db::Db;

use crate::crypto::Crypto;
use crate::error::AdminError;
pub use crate::error::ConfigError;
pub use crate::scope::{Scope, ScopeRef};
use crate::store;
pub use registry::{
    all_fields, field, section, Field, Group, Input, Section, ACCOUNT_SITE_URL,
    DEFAULT_GATEWAY_URL, GATEWAY_URL, PRODUCTION_API_KEY, PRODUCTION_PRIVATE_KEY, REGISTRY,
    SANDBOX_API_KEY, SANDBOX_PRIVATE_KEY,
};

/// What a secret field shows instead of its value; sent back unchanged, it keeps the value.
pub const MASK: &str = "******";

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
