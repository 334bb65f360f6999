//! The sessions of members removed by an owner: the pages tell a browser
//! presenting one of those session cookies that it was removed, and from
//! which company. Only hashes are kept, as for sessions.

use web::db::Db;

use super::DbError;

/// Inside the removal's transaction: remembers the hashes of the member's
/// sessions that were in the company, with the company's name.
pub(super) async fn remember(
    conn: &mut sqlx::AnyConnection,
    member_id: &str,
    company_id: &str,
    now: i64,
) -> Result<(), DbError> {
    sqlx::query(
        "INSERT INTO removed_sessions (id_hash, company_name, removed_at) \
         SELECT s.id_hash, c.name, $1 FROM account_sessions s, companies c \
         WHERE s.account_id = $2 AND c.id = $3 AND (s.company_id = $3 OR s.company_id IS NULL) \
         ON CONFLICT (id_hash) DO UPDATE SET company_name = excluded.company_name, \
         removed_at = excluded.removed_at",
    )
    .bind(now)
    .bind(member_id)
    .bind(company_id)
    .execute(&mut *conn)
    .await?;
    Ok(())
}

/// The company a session (by the hash of its id) was removed from, when that
/// happened within the last `within` seconds.
pub async fn removed_from(
    db: &Db,
    id_hash: &str,
    now: i64,
    within: i64,
) -> Result<Option<String>, DbError> {
    sqlx::query_scalar(
        "SELECT company_name FROM removed_sessions WHERE id_hash = $1 AND removed_at > $2",
    )
    .bind(id_hash)
    .bind(now - within)
    .fetch_optional(&db.pool)
    .await
}

/// Forgets removals older than `within` seconds (a session cookie is no
/// longer sent after its absolute lifetime).
pub async fn purge(db: &Db, now: i64, within: i64) -> Result<u64, DbError> {
    Ok(
        sqlx::query("DELETE FROM removed_sessions WHERE removed_at <= $1")
            .bind(now - within)
            .execute(&db.pool)
            .await?
            .rows_affected(),
    )
}
