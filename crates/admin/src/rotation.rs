//! `encryption:key:change`: a new data key, and every stored secret
//! re-encrypted under it.
//!
//! The order makes an interruption harmless. The key file gets its new last
//! line first (atomically, see [`Crypto::add_key`]), keeping every older line;
//! only then are the values re-encrypted, all in one transaction. Stopped
//! before the transaction commits, the values are still under older versions,
//! which the file still holds; committed, they are under the new one.

use std::path::Path;

use sqlx::{Any, Row, Transaction};
use web::db::Db;

use crate::config::field;
use crate::crypto::{Crypto, CryptoError};

/// What a rotation did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Rotated {
    /// The version of the new key (its line in the key file).
    pub version: usize,
    /// How many stored values were re-encrypted under it.
    pub reencrypted: usize,
}

#[derive(Debug, thiserror::Error)]
pub enum RotateError {
    #[error(transparent)]
    KeyFile(#[from] CryptoError),
    /// Names where, never the value.
    #[error(
        "the stored value of {path} ({scope} {scope_id}) does not decrypt ({cause}): \
         nothing was re-encrypted"
    )]
    Undecryptable {
        path: String,
        scope: String,
        scope_id: i64,
        cause: CryptoError,
    },
    #[error("database error: {0}")]
    Db(#[from] sqlx::Error),
}

/// Adds a key version to `key_file`, then re-encrypts every stored secret
/// under it in one transaction. Returns the keys to use from now on.
pub async fn change_key(db: &Db, key_file: &Path) -> Result<(Crypto, Rotated), RotateError> {
    let crypto = Crypto::add_key(key_file)?;
    let mut tx = db.pool.begin().await?;
    let reencrypted = reencrypt(&mut tx, &crypto).await?;
    tx.commit().await?;
    let rotated = Rotated {
        version: crypto.current_version(),
        reencrypted,
    };
    Ok((crypto, rotated))
}

/// Re-encrypts, inside `tx`, every encrypted configuration value not yet
/// under `crypto`'s current key. Returns how many it rewrote. A value that
/// does not decrypt stops it (the caller's transaction then rolls back).
pub async fn reencrypt(
    tx: &mut Transaction<'_, Any>,
    crypto: &Crypto,
) -> Result<usize, RotateError> {
    let current = format!("{}:", crypto.current_version());
    let rows = sqlx::query("SELECT scope, scope_id, path, value FROM core_config_data")
        .fetch_all(&mut **tx)
        .await?;
    let mut done = 0;
    for r in &rows {
        let path: String = r.try_get("path")?;
        if !field(&path).is_some_and(|f| f.encrypted) {
            continue;
        }
        let scope: String = r.try_get("scope")?;
        let scope_id: i64 = r.try_get("scope_id")?;
        let old: String = r.try_get("value")?;
        if old.starts_with(&current) {
            continue;
        }
        let plain = match crypto.decrypt(&path, &old) {
            Ok(p) => web::Secret::new(p),
            Err(cause) => {
                return Err(RotateError::Undecryptable {
                    path,
                    scope,
                    scope_id,
                    cause,
                })
            }
        };
        let new = crypto.encrypt(&path, plain.expose());
        // `value = old`: a value saved meanwhile by a running Admin is left
        // as it was written (under a version the file still holds).
        sqlx::query(
            "UPDATE core_config_data SET value = $1 \
             WHERE scope = $2 AND scope_id = $3 AND path = $4 AND value = $5",
        )
        .bind(&new)
        .bind(&scope)
        .bind(scope_id)
        .bind(&path)
        .bind(&old)
        .execute(&mut **tx)
        .await?;
        done += 1;
    }
    Ok(done)
}
