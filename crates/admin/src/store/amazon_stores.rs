//! The `amazon_stores` table: the Admin's own row of each Amazon store (what
//! the merchant typed), the account service's id once registered, and the
//! status the account service last reported.

use sqlx::FromRow;
use web::db::Db;

/// The columns every query below reads, joined with the store's website.
const COLUMNS: &str = "a.id, a.name, a.email, a.website_id, w.code AS website_code, \
     w.name AS website_name, a.marketplace, a.status, a.reason, a.seller_id, a.remote_id, \
     a.website_url, a.authorized_at, a.authorization_expires_at, a.synced_at, a.created_at \
     FROM amazon_stores a JOIN store_website w ON w.website_id = a.website_id";

#[derive(Clone, Debug, FromRow)]
pub struct AmazonStore {
    /// The Admin's own id (`amz_…`).
    pub id: String,
    pub name: String,
    pub email: String,
    pub website_id: i64,
    pub website_code: String,
    pub website_name: String,
    /// The country code (US, CA, MX, GB).
    pub marketplace: String,
    /// The last known status (SPEC §5): `authorization_pending` until the
    /// account service says otherwise.
    pub status: String,
    pub reason: Option<String>,
    pub seller_id: Option<String>,
    /// The account service's id; `None` until registered.
    pub remote_id: Option<String>,
    /// The website URL the store was registered with.
    pub website_url: Option<String>,
    pub authorized_at: Option<i64>,
    pub authorization_expires_at: Option<i64>,
    /// When the account service last reported a change of the status
    /// (written only on a change: opening the page writes nothing otherwise).
    pub synced_at: Option<i64>,
    pub created_at: i64,
}

pub struct NewAmazonStore<'a> {
    pub id: &'a str,
    pub name: &'a str,
    pub email: &'a str,
    pub website_id: i64,
    pub marketplace: &'a str,
    pub now: i64,
}

/// The status and authorization the account service reports for a store.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AmazonStatus {
    pub status: String,
    pub reason: Option<String>,
    pub seller_id: Option<String>,
    pub authorized_at: Option<i64>,
    pub authorization_expires_at: Option<i64>,
}

pub async fn insert_amazon_store(db: &Db, s: &NewAmazonStore<'_>) -> Result<(), sqlx::Error> {
    sqlx::query(
        "INSERT INTO amazon_stores (id, name, email, website_id, marketplace, status, created_at) \
         VALUES ($1, $2, $3, $4, $5, 'authorization_pending', $6)",
    )
    .bind(s.id)
    .bind(s.name)
    .bind(s.email)
    .bind(s.website_id)
    .bind(s.marketplace)
    .bind(s.now)
    .execute(&db.pool)
    .await?;
    Ok(())
}

pub async fn amazon_stores(db: &Db) -> Result<Vec<AmazonStore>, sqlx::Error> {
    sqlx::query_as(&format!("SELECT {COLUMNS} ORDER BY a.created_at, a.id"))
        .fetch_all(&db.pool)
        .await
}

pub async fn amazon_store(db: &Db, id: &str) -> Result<Option<AmazonStore>, sqlx::Error> {
    sqlx::query_as(&format!("SELECT {COLUMNS} WHERE a.id = $1"))
        .bind(id)
        .fetch_optional(&db.pool)
        .await
}

/// Records the account service's id of a store not registered yet; false
/// when it was registered meanwhile (by another request) or is gone.
pub async fn set_amazon_remote_id(
    db: &Db,
    id: &str,
    remote_id: &str,
    website_url: &str,
) -> Result<bool, sqlx::Error> {
    let done = sqlx::query(
        "UPDATE amazon_stores SET remote_id = $1, website_url = $2 \
         WHERE id = $3 AND remote_id IS NULL",
    )
    .bind(remote_id)
    .bind(website_url)
    .bind(id)
    .execute(&db.pool)
    .await?;
    Ok(done.rows_affected() > 0)
}

/// Keeps what the account service reported for a registered store (callers
/// write only a change).
pub async fn set_amazon_status(
    db: &Db,
    id: &str,
    s: &AmazonStatus,
    now: i64,
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "UPDATE amazon_stores SET status = $1, reason = $2, seller_id = $3, authorized_at = $4, \
         authorization_expires_at = $5, synced_at = $6 WHERE id = $7",
    )
    .bind(&s.status)
    .bind(&s.reason)
    .bind(&s.seller_id)
    .bind(s.authorized_at)
    .bind(s.authorization_expires_at)
    .bind(now)
    .bind(id)
    .execute(&db.pool)
    .await?;
    Ok(())
}

/// Removes a store's row; returns whether there was one.
pub async fn delete_amazon_store(db: &Db, id: &str) -> Result<bool, sqlx::Error> {
    let done = sqlx::query("DELETE FROM amazon_stores WHERE id = $1")
        .bind(id)
        .execute(&db.pool)
        .await?;
    Ok(done.rows_affected() > 0)
}

/// The audit log's path of an Amazon store's events.
pub fn amazon_store_path(id: &str) -> String {
    format!("amazon/stores/{id}")
}

/// Records an Amazon store's event (`amazon_store.registered`, …) in the
/// audit log: who, when, which store, and the store in words (`detail`).
pub async fn insert_amazon_event(
    db: &Db,
    actor: &str,
    store_id: &str,
    change: &str,
    detail: &str,
    now: i64,
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "INSERT INTO config_audit (actor, path, scope, scope_id, change, detail, created_at) \
         VALUES ($1, $2, 'default', 0, $3, $4, $5)",
    )
    .bind(actor)
    .bind(amazon_store_path(store_id))
    .bind(change)
    .bind(detail)
    .bind(now)
    .execute(&db.pool)
    .await?;
    Ok(())
}
