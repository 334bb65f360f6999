//! Server-side sessions, shared by both apps: a row per session holding only a
//! hash of the session id. Each app names its own table and user column and
//! keeps its own lookup (which joins its own user table).

use crate::db::Db;

/// An app's session table: `(id_hash, <user_column>, created_at, last_seen_at)`.
/// Both names are compile-time constants, never input.
pub struct SessionTable {
    pub table: &'static str,
    pub user_column: &'static str,
}

/// `last_seen_at` is written at most this often: not on every request.
pub const TOUCH_EVERY_SECS: i64 = 60;

pub async fn create(
    db: &Db,
    t: &SessionTable,
    id_hash: &str,
    user_id: &str,
    now: i64,
) -> Result<(), sqlx::Error> {
    let sql = format!(
        "INSERT INTO {} (id_hash, {}, created_at, last_seen_at) VALUES ($1, $2, $3, $3)",
        t.table, t.user_column
    );
    sqlx::query(&sql)
        .bind(id_hash)
        .bind(user_id)
        .bind(now)
        .execute(&db.pool)
        .await?;
    Ok(())
}

/// Records activity on a live session whose `last_seen_at` is stale.
pub async fn touch(
    db: &Db,
    t: &SessionTable,
    id_hash: &str,
    last_seen: i64,
    now: i64,
) -> Result<(), sqlx::Error> {
    if now - last_seen < TOUCH_EVERY_SECS {
        return Ok(());
    }
    let sql = format!(
        "UPDATE {} SET last_seen_at = $1 WHERE id_hash = $2",
        t.table
    );
    sqlx::query(&sql)
        .bind(now)
        .bind(id_hash)
        .execute(&db.pool)
        .await?;
    Ok(())
}

pub async fn delete(db: &Db, t: &SessionTable, id_hash: &str) -> Result<(), sqlx::Error> {
    let sql = format!("DELETE FROM {} WHERE id_hash = $1", t.table);
    sqlx::query(&sql).bind(id_hash).execute(&db.pool).await?;
    Ok(())
}
