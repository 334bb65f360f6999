//! Amazon stores, their connect links and their OAuth `state` values. Links,
//! states and cookie nonces are stored only as SHA-256 hashes ([`links`]);
//! the refresh token only encrypted.

use sqlx::FromRow;
use web::db::Db;

use super::DbError;

mod links;

pub use links::*;

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
    /// The last failed authorization attempt: when, and its reason code
    /// (cleared by a successful authorization).
    pub last_attempt_at: Option<i64>,
    pub last_attempt_reason: Option<String>,
    /// The environment of the key that registered it (`production`, `sandbox`).
    pub environment: String,
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
    last_checked_at, created_at, last_attempt_at, last_attempt_reason, environment";

pub struct NewAmazonStore<'a> {
    pub id: &'a str,
    pub company_id: &'a str,
    pub name: &'a str,
    pub email: &'a str,
    pub country: &'a str,
    pub website_url: &'a str,
    pub created_at: i64,
    /// The registering key's environment.
    pub environment: &'a str,
}

pub async fn insert_amazon_store(db: &Db, s: &NewAmazonStore<'_>) -> Result<(), DbError> {
    sqlx::query(
        "INSERT INTO amazon_stores (id, company_id, name, email, country, website_url, enabled, \
         auth_state, created_at, environment) VALUES ($1, $2, $3, $4, $5, $6, 1, 'pending', $7, $8)",
    )
    .bind(s.id)
    .bind(s.company_id)
    .bind(s.name)
    .bind(s.email)
    .bind(s.country)
    .bind(s.website_url)
    .bind(s.created_at)
    .bind(s.environment)
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

/// Records a granted authorization (the last failed attempt is forgotten);
/// false when the store is gone.
pub async fn authorize_amazon_store(
    db: &Db,
    id: &str,
    a: &Authorized<'_>,
) -> Result<bool, DbError> {
    let done = sqlx::query(
        "UPDATE amazon_stores SET auth_state = 'authorized', reason = NULL, \
         refresh_token_enc = $1, seller_id = COALESCE($2, seller_id), authorized_at = $3, \
         authorization_expires_at = $4, last_checked_at = $3, last_attempt_at = NULL, \
         last_attempt_reason = NULL WHERE id = $5",
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

/// What a failed authorization attempt did to its store.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum AttemptFailed {
    /// The store holds a working authorization and keeps it: only the
    /// attempt was recorded.
    Kept,
    /// The store held no working authorization: it is `failed` with the reason.
    Failed,
    /// The store is gone.
    Gone,
}

/// Whether a store holds a working authorization at `$1`: authorized, a
/// refresh token stored, within its year.
const WORKING: &str = "auth_state = 'authorized' AND refresh_token_enc IS NOT NULL \
    AND (authorization_expires_at IS NULL OR authorization_expires_at > $1)";

/// An authorization attempt failed at `at` for `reason`. One statement, so
/// the decision is made on the row as it is: the attempt is recorded; a store
/// holding a working authorization keeps its state, reason, seller, token and
/// dates; any other becomes `failed` with the reason (its token kept).
pub async fn amazon_attempt_failed(
    db: &Db,
    id: &str,
    at: i64,
    reason: &str,
) -> Result<AttemptFailed, DbError> {
    let state: Option<String> = sqlx::query_scalar(&format!(
        "UPDATE amazon_stores SET last_attempt_at = $1, last_attempt_reason = $2, \
         auth_state = CASE WHEN {WORKING} THEN auth_state ELSE 'failed' END, \
         reason = CASE WHEN {WORKING} THEN reason ELSE $2 END \
         WHERE id = $3 RETURNING auth_state"
    ))
    .bind(at)
    .bind(reason)
    .bind(id)
    .fetch_optional(&db.pool)
    .await?;
    Ok(match state.as_deref() {
        None => AttemptFailed::Gone,
        Some("authorized") => AttemptFailed::Kept,
        Some(_) => AttemptFailed::Failed,
    })
}

/// The refresh token of an earlier authorization, held by a store that is
/// not `authorized` now, was proven at `at`: the store is authorized again
/// (its reason cleared, its dates and seller as they were) if it still holds
/// that token. False when nothing changed.
pub async fn amazon_store_proven_again(
    db: &Db,
    id: &str,
    proven_enc: &str,
    at: i64,
) -> Result<bool, DbError> {
    let done = sqlx::query(
        "UPDATE amazon_stores SET auth_state = 'authorized', reason = NULL, last_checked_at = $1 \
         WHERE id = $2 AND refresh_token_enc = $3 AND auth_state <> 'authorized' \
         AND authorized_at IS NOT NULL",
    )
    .bind(at)
    .bind(id)
    .bind(proven_enc)
    .execute(&db.pool)
    .await?;
    Ok(done.rows_affected() == 1)
}

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

/// The company of a stored key (the Amazon API's caller).
pub async fn company_of_key(db: &Db, key_id: &str) -> Result<Option<String>, DbError> {
    sqlx::query_scalar("SELECT company_id FROM api_keys WHERE id = $1")
        .bind(key_id)
        .fetch_optional(&db.pool)
        .await
}
