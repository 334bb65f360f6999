//! The verification lookup: what a key verifies as, read by its hash, one
//! key or a batch at a time.

use keys::KeyHash;
use sqlx::FromRow;
use web::db::Db;

use super::keys::KeyState;
use super::DbError;

/// What verification loads for a key: its id, state, public key and policy.
#[derive(Clone, FromRow)]
pub struct StoredKey {
    pub id: String,
    #[sqlx(flatten)]
    pub state: KeyState,
    pub public_key: Option<String>,
    pub allowed_ips: Option<String>,
    pub services: Option<String>,
}

/// The verification lookup: one indexed read by hash.
pub async fn key_state(db: &Db, key_hash: &KeyHash) -> Result<Option<StoredKey>, DbError> {
    sqlx::query_as(
        "SELECT id, expires_at, revoked_at, disabled_at, public_key, allowed_ips, services \
         FROM api_keys WHERE key_hash = $1",
    )
    .bind(key_hash.to_hex())
    .fetch_optional(&db.pool)
    .await
}

/// A stored key found by [`key_states`], with the hash it was found by.
#[derive(FromRow)]
pub struct FoundKey {
    pub key_hash: String,
    #[sqlx(flatten)]
    pub key: StoredKey,
}

/// The verification lookup of many keys at once: one indexed read per
/// batch of hashes (at most [`KEY_STATES_MAX`]); keys not stored are left out.
pub async fn key_states(db: &Db, hashes: &[KeyHash]) -> Result<Vec<FoundKey>, DbError> {
    if hashes.is_empty() {
        return Ok(Vec::new());
    }
    let mut sql = String::from(
        "SELECT key_hash, id, expires_at, revoked_at, disabled_at, public_key, allowed_ips, services \
         FROM api_keys WHERE key_hash IN (",
    );
    for i in 0..hashes.len().min(KEY_STATES_MAX) {
        if i > 0 {
            sql.push(',');
        }
        sql.push('$');
        sql.push_str(&(i + 1).to_string());
    }
    sql.push(')');
    let mut q = sqlx::query_as(&sql);
    for h in hashes.iter().take(KEY_STATES_MAX) {
        q = q.bind(h.to_hex());
    }
    q.fetch_all(&db.pool).await
}

/// The most hashes one [`key_states`] call reads.
pub const KEY_STATES_MAX: usize = 64;
