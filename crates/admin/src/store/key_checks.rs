//! The `admin_key_checks` table: the gate's last checks of the stored
//! Production key (when, the status, the reason code), never the key. The
//! table is bounded: each insert deletes what is older than the newest
//! [`KEPT`] rows, in the same transaction.

use sqlx::{FromRow, Row};
use web::db::Db;

/// How many checks are kept.
pub const KEPT: i64 = 50;

/// One check as stored. Newest is the highest `id` (the clock may repeat a
/// second, or be set back).
#[derive(Clone, Debug, FromRow, PartialEq, Eq)]
pub struct KeyCheckRow {
    pub id: i64,
    pub checked_at: i64,
    /// `valid`, `missing`, `invalid`, `expired`, `revoked` or `unreachable`.
    pub status: String,
    /// The reason code (`down`, `sandbox_key`, …), if any.
    pub reason: Option<String>,
}

/// Records a check and deletes every row older than the newest [`KEPT`], in
/// one transaction; returns the new row's id.
pub async fn record(
    db: &Db,
    checked_at: i64,
    status: &str,
    reason: Option<&str>,
) -> Result<i64, sqlx::Error> {
    let mut tx = db.pool.begin().await?;
    let id: i64 = sqlx::query(
        "INSERT INTO admin_key_checks (checked_at, status, reason) VALUES ($1, $2, $3) RETURNING id",
    )
    .bind(checked_at)
    .bind(status)
    .bind(reason)
    .fetch_one(&mut *tx)
    .await?
    .try_get("id")?;
    // The id of the newest row past the kept ones (none while fewer are
    // stored: `id <= NULL` deletes nothing).
    sqlx::query(
        "DELETE FROM admin_key_checks WHERE id <= \
         (SELECT id FROM admin_key_checks ORDER BY id DESC LIMIT 1 OFFSET $1)",
    )
    .bind(KEPT)
    .execute(&mut *tx)
    .await?;
    tx.commit().await?;
    Ok(id)
}

/// The newest checks, newest first: at most `limit`.
pub async fn recent(db: &Db, limit: i64) -> Result<Vec<KeyCheckRow>, sqlx::Error> {
    sqlx::query_as(
        "SELECT id, checked_at, status, reason FROM admin_key_checks ORDER BY id DESC LIMIT $1",
    )
    .bind(limit)
    .fetch_all(&db.pool)
    .await
}

/// How many checks are stored.
pub async fn count(db: &Db) -> Result<i64, sqlx::Error> {
    sqlx::query("SELECT COUNT(*) AS n FROM admin_key_checks")
        .fetch_one(&db.pool)
        .await?
        .try_get("n")
}
