//! The audit trail: who did what, when.

use web::db::Db;

use super::DbError;

/// An audit event to record. `actor` is the acting user's email (copied, so
/// the trail outlives the account) or a name such as `secret-scanning`.
pub struct NewEvent<'a> {
    pub company_id: Option<&'a str>,
    pub actor_id: Option<&'a str>,
    pub actor: Option<&'a str>,
    pub action: &'a str,
    pub target: Option<&'a str>,
    /// A JSON object of non-secret facts (a key's name and hint, a grace period...).
    pub detail: Option<&'a str>,
    pub ip: Option<&'a str>,
    pub at: i64,
}

#[derive(Clone, Debug, sqlx::FromRow)]
pub struct EventRow {
    pub id: i64,
    pub actor: Option<String>,
    pub action: String,
    pub target: Option<String>,
    pub detail: Option<String>,
    pub ip: Option<String>,
    pub created_at: i64,
}

pub(super) async fn insert_event(
    conn: &mut sqlx::AnyConnection,
    e: &NewEvent<'_>,
) -> Result<(), DbError> {
    sqlx::query(
        "INSERT INTO audit_events (company_id, actor_id, actor, action, target, detail, ip, created_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
    )
    .bind(e.company_id)
    .bind(e.actor_id)
    .bind(e.actor)
    .bind(e.action)
    .bind(e.target)
    .bind(e.detail)
    .bind(e.ip)
    .bind(e.at)
    .execute(conn)
    .await?;
    Ok(())
}

/// Records one audit event on its own.
pub async fn record_event(db: &Db, e: &NewEvent<'_>) -> Result<(), DbError> {
    let mut conn = db.pool.acquire().await?;
    insert_event(&mut conn, e).await
}

/// A company's audit events, newest first: at most `limit`, older than event
/// `before` when given (the next page of a listing).
pub async fn list_events(
    db: &Db,
    company_id: &str,
    before: Option<i64>,
    limit: i64,
) -> Result<Vec<EventRow>, DbError> {
    sqlx::query_as(
        "SELECT id, actor, action, target, detail, ip, created_at FROM audit_events \
         WHERE company_id = $1 AND id < $2 ORDER BY id DESC LIMIT $3",
    )
    .bind(company_id)
    .bind(before.unwrap_or(i64::MAX))
    .bind(limit)
    .fetch_all(&db.pool)
    .await
}
