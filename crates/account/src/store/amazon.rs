//! Amazon stores, their connect links and their OAuth `state` values. Links,
//! states and cookie nonces are stored only as SHA-256 hashes; the refresh
//! token only encrypted.

use sqlx::FromRow;
use web::db::Db;

use super::DbError;

#[derive(Clone, FromRow)]
pub struct AmazonStoreRow {
    pub id: String,
    pub company_id: String,
    pub name: String,
    pub email: String,
    pub country: String,
    pub website_url: String,
    pub enabled: i64,
    pub auth_state: String,
    pub reason: Option<String>,
    pub seller_id: Option<String>,
    /// The AEAD ciphertext of the refresh token (never the token).
    pub refresh_token_enc: Option<String>,
    pub authorized_at: Option<i64>,
    pub authorization_expires_at: Option<i64>,
    pub last_checked_at: Option<i64>,
    pub created_at: i64,
}

impl std::fmt::Debug for AmazonStoreRow {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AmazonStoreRow")
            .field("id", &self.id)
            .field("company_id", &self.company_id)
            .field("country", &self.country)
            .field("enabled", &self.enabled)
            .field("auth_state", &self.auth_state)
            .field("reason", &self.reason)
            .field(
                "refresh_token_enc",
                &self.refresh_token_enc.as_ref().map(|_| "[redacted]"),
            )
            .finish_non_exhaustive()
    }
}

const COLUMNS: &str = "id, company_id, name, email, country, website_url, enabled, auth_state, \
    reason, seller_id, refresh_token_enc, authorized_at, authorization_expires_at, \
    last_checked_at, created_at";

pub struct NewAmazonStore<'a> {
    pub id: &'a str,
    pub company_id: &'a str,
    pub name: &'a str,
    pub email: &'a str,
    pub country: &'a str,
    pub website_url: &'a str,
    pub created_at: i64,
}

pub async fn insert_amazon_store(db: &Db, s: &NewAmazonStore<'_>) -> Result<(), DbError> {
    sqlx::query(
        "INSERT INTO amazon_stores (id, company_id, name, email, country, website_url, enabled, \
         auth_state, created_at) VALUES ($1, $2, $3, $4, $5, $6, 1, 'pending', $7)",
    )
    .bind(s.id)
    .bind(s.company_id)
    .bind(s.name)
    .bind(s.email)
    .bind(s.country)
    .bind(s.website_url)
    .bind(s.created_at)
    .execute(&db.pool)
    .await?;
    Ok(())
}

/// A company's stores, oldest first.
pub async fn list_amazon_stores(db: &Db, company_id: &str) -> Result<Vec<AmazonStoreRow>, DbError> {
    sqlx::query_as(&format!(
        "SELECT {COLUMNS} FROM amazon_stores WHERE company_id = $1 ORDER BY created_at, id"
    ))
    .bind(company_id)
    .fetch_all(&db.pool)
    .await
}

/// One store of a company; another company's is `None`.
pub async fn get_amazon_store(
    db: &Db,
    company_id: &str,
    id: &str,
) -> Result<Option<AmazonStoreRow>, DbError> {
    sqlx::query_as(&format!(
        "SELECT {COLUMNS} FROM amazon_stores WHERE company_id = $1 AND id = $2"
    ))
    .bind(company_id)
    .bind(id)
    .fetch_optional(&db.pool)
    .await
}

/// One store, whatever its company (the callback knows it from its `state`).
pub async fn amazon_store_by_id(db: &Db, id: &str) -> Result<Option<AmazonStoreRow>, DbError> {
    sqlx::query_as(&format!(
        "SELECT {COLUMNS} FROM amazon_stores WHERE id = $1"
    ))
    .bind(id)
    .fetch_optional(&db.pool)
    .await
}

/// Enabled, authorized stores: what the daily renewal proves.
pub async fn authorized_amazon_stores(db: &Db) -> Result<Vec<AmazonStoreRow>, DbError> {
    sqlx::query_as(&format!(
        "SELECT {COLUMNS} FROM amazon_stores WHERE enabled = 1 AND auth_state = 'authorized' \
         ORDER BY id"
    ))
    .fetch_all(&db.pool)
    .await
}

/// Activates or deactivates a company's store; false when it has none such.
pub async fn set_amazon_store_enabled(
    db: &Db,
    company_id: &str,
    id: &str,
    enabled: bool,
) -> Result<bool, DbError> {
    let done =
        sqlx::query("UPDATE amazon_stores SET enabled = $1 WHERE company_id = $2 AND id = $3")
            .bind(i64::from(enabled))
            .bind(company_id)
            .bind(id)
            .execute(&db.pool)
            .await?;
    Ok(done.rows_affected() == 1)
}

/// Deletes a company's store with its token, links and states; false when
/// it has none such.
pub async fn delete_amazon_store(db: &Db, company_id: &str, id: &str) -> Result<bool, DbError> {
    let mut tx = db.pool.begin().await?;
    for table in ["amazon_connect_links", "amazon_states"] {
        sqlx::query(&format!(
            "DELETE FROM {table} WHERE store_id IN \
             (SELECT id FROM amazon_stores WHERE company_id = $1 AND id = $2)"
        ))
        .bind(company_id)
        .bind(id)
        .execute(&mut *tx)
        .await?;
    }
    let done = sqlx::query("DELETE FROM amazon_stores WHERE company_id = $1 AND id = $2")
        .bind(company_id)
        .bind(id)
        .execute(&mut *tx)
        .await?;
    tx.commit().await?;
    Ok(done.rows_affected() == 1)
}

/// A granted authorization: the encrypted token, the seller and the year it lasts.
pub struct Authorized<'a> {
    pub refresh_token_enc: &'a str,
    pub seller_id: Option<&'a str>,
    pub at: i64,
    pub expires_at: i64,
}

/// Records a granted authorization; false when the store is gone.
pub async fn authorize_amazon_store(
    db: &Db,
    id: &str,
    a: &Authorized<'_>,
) -> Result<bool, DbError> {
    let done = sqlx::query(
        "UPDATE amazon_stores SET auth_state = 'authorized', reason = NULL, \
         refresh_token_enc = $1, seller_id = COALESCE($2, seller_id), authorized_at = $3, \
         authorization_expires_at = $4, last_checked_at = $3 WHERE id = $5",
    )
    .bind(a.refresh_token_enc)
    .bind(a.seller_id)
    .bind(a.at)
    .bind(a.expires_at)
    .bind(id)
    .execute(&db.pool)
    .await?;
    Ok(done.rows_affected() == 1)
}

/// A store's authorization failed or ended: the state, the reason, and
/// (when `discard_token`) the refresh token dropped. False when the store is gone.
pub async fn fail_amazon_store(
    db: &Db,
    id: &str,
    auth_state: &str,
    reason: &str,
    discard_token: bool,
) -> Result<bool, DbError> {
    let sql = if discard_token {
        "UPDATE amazon_stores SET auth_state = $1, reason = $2, refresh_token_enc = NULL WHERE id = $3"
    } else {
        "UPDATE amazon_stores SET auth_state = $1, reason = $2 WHERE id = $3"
    };
    let done = sqlx::query(sql)
        .bind(auth_state)
        .bind(reason)
        .bind(id)
        .execute(&db.pool)
        .await?;
    Ok(done.rows_affected() == 1)
}

/// A refresh token proven now.
/// Claims a due store for one proof, so that nodes sharing the database do
/// not each prove it: moves `last_checked_at` from the value read (`seen`)
/// to `now`. False when another node moved it first.
pub async fn claim_amazon_store_check(
    db: &Db,
    id: &str,
    seen: Option<i64>,
    now: i64,
) -> Result<bool, DbError> {
    let done = sqlx::query(
        "UPDATE amazon_stores SET last_checked_at = $1 \
         WHERE id = $2 AND last_checked_at IS NOT DISTINCT FROM $3",
    )
    .bind(now)
    .bind(id)
    .bind(seen)
    .execute(&db.pool)
    .await?;
    Ok(done.rows_affected() == 1)
}

/// Gives a claim back when the proof could not be made (network), so the
/// next round tries the store again.
pub async fn release_amazon_store_check(
    db: &Db,
    id: &str,
    seen: Option<i64>,
    now: i64,
) -> Result<(), DbError> {
    sqlx::query(
        "UPDATE amazon_stores SET last_checked_at = $1 WHERE id = $2 AND last_checked_at = $3",
    )
    .bind(seen)
    .bind(id)
    .bind(now)
    .execute(&db.pool)
    .await?;
    Ok(())
}

/// A proof succeeded at `at`; `rotated` is the new refresh token (encrypted)
/// when the token endpoint issued one (RFC 6749 §6 lets it rotate them), and
/// replaces the stored one only if that is still the token that was proven.
pub async fn amazon_store_checked(
    db: &Db,
    id: &str,
    at: i64,
    rotated: Option<(&str, &str)>,
) -> Result<(), DbError> {
    match rotated {
        None => {
            sqlx::query("UPDATE amazon_stores SET last_checked_at = $1 WHERE id = $2")
                .bind(at)
                .bind(id)
                .execute(&db.pool)
                .await?;
        }
        Some((proven_enc, new_enc)) => {
            sqlx::query(
                "UPDATE amazon_stores SET last_checked_at = $1, refresh_token_enc = $2 \
                 WHERE id = $3 AND refresh_token_enc = $4",
            )
            .bind(at)
            .bind(new_enc)
            .bind(id)
            .bind(proven_enc)
            .execute(&db.pool)
            .await?;
        }
    }
    Ok(())
}

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

/// The company of a stored key (the Amazon API's caller).
pub async fn company_of_key(db: &Db, key_id: &str) -> Result<Option<String>, DbError> {
    sqlx::query_scalar("SELECT company_id FROM api_keys WHERE id = $1")
        .bind(key_id)
        .fetch_optional(&db.pool)
        .await
}
