//! Many keys in one transaction: the verifier's batched last-use times, and
//! bulk inserts for seeding benchmarks and imports.

use std::fmt::Write as _;

use web::db::Db;

use super::keys::{bind_key, NewKey, NEW_KEY_COLUMNS, NEW_KEY_COLUMN_COUNT};
use super::DbError;

/// Rows per statement of [`record_last_used`]: two parameters each, far
/// below SQLite's limit of 32,766 and PostgreSQL's of 65,535.
const LAST_USE_ROWS: usize = 500;

/// Writes batched last-use times (each id at most once) in one transaction,
/// one multi-row statement per 500 keys rather than one per key; never moves
/// a time backwards, and ignores ids that are not stored.
pub async fn record_last_used<S: AsRef<str>>(db: &Db, uses: &[(S, i64)]) -> Result<(), DbError> {
    if uses.is_empty() {
        return Ok(());
    }
    let mut tx = db.pool.begin().await?;
    for chunk in uses.chunks(LAST_USE_ROWS) {
        // `VALUES` names its columns column1, column2 on both backends.
        let mut sql = String::with_capacity(200 + chunk.len() * 16);
        sql.push_str("UPDATE api_keys SET last_used_at = v.column2 FROM (VALUES ");
        for i in 0..chunk.len() {
            if i > 0 {
                sql.push(',');
            }
            let _ = write!(sql, "(${},${})", 2 * i + 1, 2 * i + 2);
        }
        sql.push_str(
            ") AS v WHERE api_keys.id = v.column1 \
             AND (api_keys.last_used_at IS NULL OR api_keys.last_used_at < v.column2)",
        );
        let mut q = sqlx::query(&sql);
        for (id, at) in chunk {
            q = q.bind(id.as_ref()).bind(*at);
        }
        q.execute(&mut *tx).await?;
    }
    tx.commit().await
}

/// Inserts many keys in multi-row statements inside one transaction: the bulk
/// path for seeding benchmarks and imports.
pub async fn insert_keys_bulk(db: &Db, keys: &[NewKey<'_>]) -> Result<(), DbError> {
    const COLS: usize = NEW_KEY_COLUMN_COUNT;
    // 12 parameters a row: 6,000 a statement, within both backends' limits.
    const ROWS_PER_STATEMENT: usize = 500;
    let mut tx = db.pool.begin().await?;
    for chunk in keys.chunks(ROWS_PER_STATEMENT) {
        let mut sql = format!("INSERT INTO api_keys ({NEW_KEY_COLUMNS}) VALUES ");
        for i in 0..chunk.len() {
            if i > 0 {
                sql.push(',');
            }
            sql.push('(');
            for c in 0..COLS {
                if c > 0 {
                    sql.push(',');
                }
                sql.push_str(&format!("${}", i * COLS + c + 1));
            }
            sql.push(')');
        }
        let mut q = sqlx::query(&sql);
        for k in chunk {
            q = bind_key(q, k);
        }
        q.execute(&mut *tx).await?;
    }
    tx.commit().await
}
