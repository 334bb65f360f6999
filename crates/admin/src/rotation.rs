//! `encryption:key:change`: a new data key, and every stored secret
//! re-encrypted under it.
//!
//! One rotation at a time: it holds the key file's lock
//! ([`KeyFileLock`]: a second run on the same data dir is refused at once)
//! and, inside its transaction, the database's (PostgreSQL: an advisory
//! lock, refused when taken; SQLite: the write lock, taken before the key
//! file is touched), so nodes that share a database cannot rotate at once
//! either. The new version is numbered under both.
//!
//! The order makes an interruption harmless. The key file gets its new last
//! line first (appended and synced), keeping every older line; only then
//! are the values re-encrypted, all in one transaction. Stopped before the
//! transaction commits, the values are still under older versions, which
//! the file still holds (and a run that fails before committing takes its
//! line out again); committed, they are under the new one.

use std::path::Path;

use sqlx::{Any, Row, Transaction};
use web::db::Db;

use crate::config::field;
use crate::crypto::{Crypto, CryptoError, KeyFileLock};

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
    /// Another rotation holds the database's lock (another node).
    #[error("another encryption:key:change is running on this database; nothing was changed")]
    Busy,
    #[error("database error: {0}")]
    Db(#[from] sqlx::Error),
}

/// Adds a key version to `key_file`, then re-encrypts every stored secret
/// under it in one transaction. Returns the keys to use from now on.
pub async fn change_key(db: &Db, key_file: &Path) -> Result<(Crypto, Rotated), RotateError> {
    let lock = KeyFileLock::acquire(key_file)?;
    let mut tx = db.pool.begin().await?;
    lock_database(&mut tx, db.backend).await?;
    let (crypto, len_before) = lock.add_key()?;
    let reencrypted = match reencrypt(&mut tx, &crypto).await {
        Ok(n) => n,
        Err(e) => {
            // Nothing was committed under the new version: take it out again.
            drop(tx);
            if let Err(undo) = lock.undo(len_before) {
                tracing::warn!(error = %undo, "the unused key version could not be taken out");
            }
            return Err(e);
        }
    };
    // A failed commit keeps the new line: the commit may have happened.
    tx.commit().await?;
    let rotated = Rotated {
        version: crypto.current_version(),
        reencrypted,
    };
    Ok((crypto, rotated))
}

/// The key for PostgreSQL's advisory lock of rotations ("crypt.key" in ASCII).
const ROTATION_LOCK: i64 = 0x6372_7970_742e_6b65;

/// Takes the database's rotation lock for the rest of `tx`.
pub async fn lock_database(
    tx: &mut Transaction<'_, Any>,
    backend: web::db::Backend,
) -> Result<(), RotateError> {
    match backend {
        web::db::Backend::Postgres => {
            let taken: bool = sqlx::query_scalar("SELECT pg_try_advisory_xact_lock($1)")
                .bind(ROTATION_LOCK)
                .fetch_one(&mut **tx)
                .await?;
            if !taken {
                return Err(RotateError::Busy);
            }
        }
        // A write statement takes SQLite's one write lock now, not at the
        // first re-encrypted value (another writer waits for it, or fails).
        web::db::Backend::Sqlite => {
            sqlx::query("UPDATE core_config_data SET value = value WHERE 1 = 0")
                .execute(&mut **tx)
                .await?;
        }
    }
    Ok(())
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
