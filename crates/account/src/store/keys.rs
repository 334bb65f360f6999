//! API keys: their rows, the verification lookup and every write that changes
//! what a key verifies as.
//!
//! A write that changes a key's verification (roll, revoke, public key)
//! returns a [`KeyChanged`]: it is `#[must_use]` and only
//! `Verifier::forget` consumes it, so a caller cannot leave a stale cache
//! entry behind without the compiler saying so.

use keys::{Environment, KeyHash};
use sqlx::FromRow;
use web::db::Db;

use super::actor::{authorize, Actor, Need, WriteError};
use super::events::{insert_event, NewEvent};
use super::{AnyQuery, DbError};

#[derive(Clone, Debug, FromRow)]
pub struct KeyRow {
    pub id: String,
    pub company_id: String,
    pub created_by_email: String,
    pub name: String,
    #[sqlx(try_from = "String")]
    pub environment: Environment,
    pub hint: String,
    pub created_at: i64,
    pub expires_at: Option<i64>,
    pub revoked_at: Option<i64>,
    pub last_used_at: Option<i64>,
    /// The signing public key (SPKI PEM), when one is registered.
    pub public_key: Option<String>,
    /// The key that replaced this one when it was rolled.
    pub replaced_by: Option<String>,
    /// When the key was switched off (`None`: it is on).
    pub disabled_at: Option<i64>,
    /// Canonical CIDR ranges separated by spaces (`None`: any address).
    pub allowed_ips: Option<String>,
    /// Service names separated by spaces (`None`: every service).
    pub services: Option<String>,
}

impl KeyRow {
    pub fn state(&self) -> KeyState {
        KeyState {
            expires_at: self.expires_at,
            revoked_at: self.revoked_at,
            disabled_at: self.disabled_at,
        }
    }
}

/// What verification needs to know about a key.
#[derive(Clone, Copy, Debug, PartialEq, Eq, FromRow)]
pub struct KeyState {
    pub expires_at: Option<i64>,
    pub revoked_at: Option<i64>,
    pub disabled_at: Option<i64>,
}

pub struct NewKey<'a> {
    pub id: &'a str,
    pub company_id: &'a str,
    pub created_by: &'a str,
    pub name: &'a str,
    pub environment: Environment,
    pub key_hash: &'a KeyHash,
    pub hint: &'a str,
    pub created_at: i64,
    pub expires_at: Option<i64>,
    pub public_key: Option<&'a str>,
    /// The API Portal form's one-time nonce (unique per company).
    pub create_nonce: Option<&'a str>,
    /// Stored form of the allowed addresses (`None`: any).
    pub allowed_ips: Option<&'a str>,
    /// Stored form of the services (`None`: all).
    pub services: Option<&'a str>,
}

/// A form's one-time nonce creates one key per company: a second submission
/// of the same form runs into it. (`key_hash` is unique too: that one is a
/// collision of 256-bit random keys, never a resubmission.)
pub const KEY_NONCE: web::db::Unique = web::db::Unique {
    postgres: "api_keys_create_nonce",
    sqlite: "api_keys.company_id, api_keys.create_nonce",
};

/// A key whose verification answer has just changed in the database: hand it
/// to `Verifier::forget` so no node answers from its cache what was true before.
#[must_use = "pass it to Verifier::forget: the verification cache still holds the old answer"]
#[derive(Debug)]
pub struct KeyChanged(KeyHash);

impl KeyChanged {
    pub fn hash(&self) -> &KeyHash {
        &self.0
    }
}

pub(super) fn changed(hex: String) -> Result<KeyChanged, DbError> {
    KeyHash::try_from(hex)
        .map(KeyChanged)
        .map_err(|e| DbError::Decode(Box::new(e)))
}

/// Inserts a key of the actor's company and its audit event in one
/// transaction, while the actor is a member.
pub async fn insert_key(
    db: &Db,
    actor: &Actor<'_>,
    k: &NewKey<'_>,
    event: &NewEvent<'_>,
) -> Result<(), WriteError> {
    let mut tx = db.pool.begin().await?;
    authorize(&mut tx, actor, Need::Write).await?;
    check_room(&mut tx, k.company_id, k.created_at).await?;
    check_lifetime(&mut tx, k.company_id, k.expires_at, k.created_at).await?;
    insert_key_in(&mut tx, k).await?;
    insert_event(&mut tx, event).await?;
    tx.commit().await?;
    Ok(())
}

/// The most live keys (neither revoked nor expired) a company may hold.
pub const MAX_LIVE_KEYS: i64 = 500;

/// Refuses a new key of a company at [`MAX_LIVE_KEYS`]. Under the company's
/// write lock ([`authorize`] first), so parallel creations cannot pass it.
async fn check_room(
    conn: &mut sqlx::AnyConnection,
    company_id: &str,
    now: i64,
) -> Result<(), WriteError> {
    let live: i64 = sqlx::query_scalar(
        "SELECT COUNT(*) FROM api_keys WHERE company_id = $1 AND revoked_at IS NULL \
         AND (expires_at IS NULL OR expires_at > $2)",
    )
    .bind(company_id)
    .bind(now)
    .fetch_one(&mut *conn)
    .await?;
    if live >= MAX_LIVE_KEYS {
        return Err(WriteError::TooManyKeys(MAX_LIVE_KEYS));
    }
    Ok(())
}

/// Refuses a new key that outlives the company's maximum key lifetime.
/// Under the company's write lock ([`authorize`] first), so a policy set
/// meanwhile is seen.
async fn check_lifetime(
    conn: &mut sqlx::AnyConnection,
    company_id: &str,
    expires_at: Option<i64>,
    now: i64,
) -> Result<(), WriteError> {
    let max: Option<i64> =
        sqlx::query_scalar("SELECT max_key_lifetime_days FROM companies WHERE id = $1")
            .bind(company_id)
            .fetch_optional(&mut *conn)
            .await?
            .flatten();
    if !crate::key_policy::within_lifetime(max, expires_at, now) {
        return Err(WriteError::LifetimeExceeded(max.unwrap_or_default()));
    }
    Ok(())
}

/// The columns [`bind_key`] binds, in its order.
pub(super) const NEW_KEY_COLUMNS: &str =
    "id, company_id, created_by, name, environment, key_hash, hint, \
     created_at, expires_at, public_key, allowed_ips, services";
/// How many they are.
pub(super) const NEW_KEY_COLUMN_COUNT: usize = 12;

/// Binds a new key's [`NEW_KEY_COLUMNS`], in their order.
pub(super) fn bind_key<'q>(q: AnyQuery<'q>, k: &NewKey<'q>) -> AnyQuery<'q> {
    q.bind(k.id)
        .bind(k.company_id)
        .bind(k.created_by)
        .bind(k.name)
        .bind(k.environment.as_str())
        .bind(k.key_hash.to_hex())
        .bind(k.hint)
        .bind(k.created_at)
        .bind(k.expires_at)
        .bind(k.public_key)
        .bind(k.allowed_ips)
        .bind(k.services)
}

async fn insert_key_in(conn: &mut sqlx::AnyConnection, k: &NewKey<'_>) -> Result<(), DbError> {
    let sql = format!(
        "INSERT INTO api_keys ({NEW_KEY_COLUMNS}, create_nonce) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13)"
    );
    bind_key(sqlx::query(&sql), k)
        .bind(k.create_nonce)
        .execute(conn)
        .await?;
    Ok(())
}

/// Rolls a key: inserts its successor, ends the old key's life at
/// `old_expires_at` (never later than it already was) and names the successor
/// on it, with the audit event, in one transaction. Returns the old key,
/// or `None` when the company has no such key that is live and not already
/// rolled (then nothing is written).
pub async fn roll_key(
    db: &Db,
    actor: &Actor<'_>,
    old_id: &str,
    new: &NewKey<'_>,
    old_expires_at: i64,
    now: i64,
    event: &NewEvent<'_>,
) -> Result<Option<KeyChanged>, WriteError> {
    let company_id = actor.company_id;
    let mut tx = db.pool.begin().await?;
    authorize(&mut tx, actor, Need::Write).await?;
    check_room(&mut tx, company_id, now).await?;
    check_lifetime(&mut tx, company_id, new.expires_at, now).await?;
    insert_key_in(&mut tx, new).await?;
    let hash: Option<String> = sqlx::query_scalar(
        "UPDATE api_keys SET replaced_by = $1, \
         expires_at = CASE WHEN expires_at IS NOT NULL AND expires_at < $2 THEN expires_at ELSE $2 END \
         WHERE company_id = $3 AND id = $4 AND replaced_by IS NULL AND revoked_at IS NULL \
         AND (expires_at IS NULL OR expires_at > $5) RETURNING key_hash",
    )
    .bind(new.id)
    .bind(old_expires_at)
    .bind(company_id)
    .bind(old_id)
    .bind(now)
    .fetch_optional(&mut *tx)
    .await?;
    let Some(hash) = hash else {
        tx.rollback().await?;
        return Ok(None);
    };
    let old = changed(hash)?;
    insert_event(&mut tx, event).await?;
    tx.commit().await?;
    Ok(Some(old))
}

pub(super) const KEY_COLUMNS: &str =
    "k.id, k.company_id, a.email AS created_by_email, k.name, k.environment, k.hint, \
     k.created_at, k.expires_at, k.revoked_at, k.last_used_at, k.public_key, k.replaced_by, \
     k.disabled_at, k.allowed_ips, k.services";

/// A company's keys, newest first.
/// One page of a company's keys, newest first: at most `limit` from the
/// `offset`th.
pub async fn list_keys(
    db: &Db,
    company_id: &str,
    limit: i64,
    offset: i64,
) -> Result<Vec<KeyRow>, DbError> {
    let sql = format!(
        "SELECT {KEY_COLUMNS} FROM api_keys k JOIN accounts a ON a.id = k.created_by \
         WHERE k.company_id = $1 ORDER BY k.created_at DESC, k.id LIMIT $2 OFFSET $3"
    );
    sqlx::query_as(&sql)
        .bind(company_id)
        .bind(limit)
        .bind(offset)
        .fetch_all(&db.pool)
        .await
}

/// One key of a company; another company's key is `None`, as if it did not exist.
pub async fn get_key(db: &Db, company_id: &str, id: &str) -> Result<Option<KeyRow>, DbError> {
    let sql = format!(
        "SELECT {KEY_COLUMNS} FROM api_keys k JOIN accounts a ON a.id = k.created_by \
         WHERE k.company_id = $1 AND k.id = $2"
    );
    sqlx::query_as(&sql)
        .bind(company_id)
        .bind(id)
        .fetch_optional(&db.pool)
        .await
}

/// Any stored key by the hash of its secret, whatever its company or state.
pub async fn key_by_hash(db: &Db, key_hash: &KeyHash) -> Result<Option<KeyRow>, DbError> {
    let sql = format!(
        "SELECT {KEY_COLUMNS} FROM api_keys k JOIN accounts a ON a.id = k.created_by \
         WHERE k.key_hash = $1"
    );
    sqlx::query_as(&sql)
        .bind(key_hash.to_hex())
        .fetch_optional(&db.pool)
        .await
}

/// Revokes a company's key and records the event (when this call revoked it)
/// in one transaction. Returns the key and whether it was live until now
/// (`None`: the company has no such key). Revoking twice keeps the first
/// revocation time. `by` is the member revoking it (checked in the
/// transaction); `None` when the service itself revokes (a leaked key).
pub async fn revoke_key(
    db: &Db,
    company_id: &str,
    by: Option<&Actor<'_>>,
    id: &str,
    now: i64,
    event: &NewEvent<'_>,
) -> Result<Option<(KeyChanged, bool)>, WriteError> {
    let mut tx = db.pool.begin().await?;
    if let Some(actor) = by {
        authorize(&mut tx, actor, Need::Write).await?;
    }
    let revoked: Option<String> = sqlx::query_scalar(
        "UPDATE api_keys SET revoked_at = $1 \
         WHERE company_id = $2 AND id = $3 AND revoked_at IS NULL RETURNING key_hash",
    )
    .bind(now)
    .bind(company_id)
    .bind(id)
    .fetch_optional(&mut *tx)
    .await?;
    let found = match revoked {
        Some(hash) => {
            insert_event(&mut tx, event).await?;
            Some((changed(hash)?, true))
        }
        None => {
            let hash: Option<String> = sqlx::query_scalar(
                "SELECT key_hash FROM api_keys WHERE company_id = $1 AND id = $2",
            )
            .bind(company_id)
            .bind(id)
            .fetch_optional(&mut *tx)
            .await?;
            hash.map(changed).transpose()?.map(|k| (k, false))
        }
    };
    tx.commit().await?;
    Ok(found)
}

/// Replaces a company's key's public key; `None` if the company has no such key.
pub async fn set_public_key(
    db: &Db,
    actor: &Actor<'_>,
    id: &str,
    pem: Option<&str>,
) -> Result<Option<KeyChanged>, WriteError> {
    let mut tx = db.pool.begin().await?;
    authorize(&mut tx, actor, Need::Write).await?;
    let hash: Option<String> = sqlx::query_scalar(
        "UPDATE api_keys SET public_key = $1 WHERE company_id = $2 AND id = $3 RETURNING key_hash",
    )
    .bind(pem)
    .bind(actor.company_id)
    .bind(id)
    .fetch_optional(&mut *tx)
    .await?;
    let key = hash.map(changed).transpose()?;
    tx.commit().await?;
    Ok(key)
}
