//! Connect links and OAuth `state` values of Amazon stores: single use,
//! short-lived, and stored only as SHA-256 hashes (of the link, the state and
//! the browser's cookie nonce).

use sqlx::FromRow;
use web::db::Db;

use super::super::DbError;

pub async fn insert_connect_link(
    db: &Db,
    hash: &str,
    store_id: &str,
    now: i64,
    expires_at: i64,
) -> Result<(), DbError> {
    sqlx::query(
        "INSERT INTO amazon_connect_links (hash, store_id, created_at, expires_at) \
         VALUES ($1, $2, $3, $4)",
    )
    .bind(hash)
    .bind(store_id)
    .bind(now)
    .bind(expires_at)
    .execute(&db.pool)
    .await?;
    Ok(())
}

/// What became of a link or a state that could not be taken.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum NotTaken {
    Unknown,
    Used,
    Expired,
}

/// Takes a connect link (single use): the store it is for.
pub async fn take_connect_link(
    db: &Db,
    hash: &str,
    now: i64,
) -> Result<Result<String, NotTaken>, DbError> {
    let taken: Option<String> = sqlx::query_scalar(
        "UPDATE amazon_connect_links SET used_at = $1 \
         WHERE hash = $2 AND used_at IS NULL AND expires_at > $1 RETURNING store_id",
    )
    .bind(now)
    .bind(hash)
    .fetch_optional(&db.pool)
    .await?;
    if let Some(store_id) = taken {
        return Ok(Ok(store_id));
    }
    let row: Option<(i64, Option<i64>)> =
        sqlx::query_as("SELECT expires_at, used_at FROM amazon_connect_links WHERE hash = $1")
            .bind(hash)
            .fetch_optional(&db.pool)
            .await?;
    Ok(Err(match row {
        None => NotTaken::Unknown,
        Some((_, Some(_))) => NotTaken::Used,
        Some(_) => NotTaken::Expired,
    }))
}

pub struct NewState<'a> {
    pub hash: &'a str,
    pub store_id: &'a str,
    pub browser_hash: &'a str,
    pub redirect_uri: &'a str,
    pub now: i64,
    pub expires_at: i64,
}

pub async fn insert_amazon_state(db: &Db, s: &NewState<'_>) -> Result<(), DbError> {
    sqlx::query(
        "INSERT INTO amazon_states (hash, store_id, browser_hash, redirect_uri, created_at, expires_at) \
         VALUES ($1, $2, $3, $4, $5, $6)",
    )
    .bind(s.hash)
    .bind(s.store_id)
    .bind(s.browser_hash)
    .bind(s.redirect_uri)
    .bind(s.now)
    .bind(s.expires_at)
    .execute(&db.pool)
    .await?;
    Ok(())
}

#[derive(Clone, Debug, FromRow)]
pub struct StateRow {
    pub store_id: String,
    pub browser_hash: String,
    pub redirect_uri: String,
    pub expires_at: i64,
    pub used_at: Option<i64>,
}

/// A state as stored (not taken).
pub async fn get_amazon_state(db: &Db, hash: &str) -> Result<Option<StateRow>, DbError> {
    sqlx::query_as(
        "SELECT store_id, browser_hash, redirect_uri, expires_at, used_at FROM amazon_states \
         WHERE hash = $1",
    )
    .bind(hash)
    .fetch_optional(&db.pool)
    .await
}

/// Takes a state (single use) of this browser; false when it was taken meanwhile.
pub async fn take_amazon_state(
    db: &Db,
    hash: &str,
    browser_hash: &str,
    now: i64,
) -> Result<bool, DbError> {
    let done = sqlx::query(
        "UPDATE amazon_states SET used_at = $1 WHERE hash = $2 AND browser_hash = $3 \
         AND used_at IS NULL AND expires_at > $1",
    )
    .bind(now)
    .bind(hash)
    .bind(browser_hash)
    .execute(&db.pool)
    .await?;
    Ok(done.rows_affected() == 1)
}

/// Deletes links and states that ended before `before`.
pub async fn purge_amazon(db: &Db, before: i64) -> Result<(), DbError> {
    for table in ["amazon_connect_links", "amazon_states"] {
        sqlx::query(&format!("DELETE FROM {table} WHERE expires_at <= $1"))
            .bind(before)
            .execute(&db.pool)
            .await?;
    }
    Ok(())
}
