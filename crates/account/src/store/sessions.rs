//! The account site's sessions: the signed-in account of a cookie, the list
//! of an account's browsers, and ending the others.

use sqlx::FromRow;
use web::db::Db;

use super::accounts::{Account, ACCOUNT_COLUMNS, DEFAULT_COMPANY};
use super::events::{insert_event, NewEvent};
use super::DbError;

/// The session table (see `web::sessions`).
pub const SESSIONS: web::sessions::SessionTable = web::sessions::SessionTable {
    table: "account_sessions",
    user_column: "account_id",
};

#[derive(FromRow)]
struct SessionAccount {
    #[sqlx(flatten)]
    account: Account,
    last_seen_at: i64,
    /// The company the session chose last (it may have left it since).
    chosen: Option<String>,
}

/// The account of a live session: seen within `idle` seconds and created
/// within `absolute` seconds, in the session's current company. Refreshes
/// `last_seen_at` at most once a minute.
///
/// A session that chose no company yet, or whose company the account has
/// left (removed, or the company closed), moves to the account's default
/// one (see `DEFAULT_COMPANY`); an account in no company comes back with
/// none (see [`Account::in_company`]).
pub async fn session_account(
    db: &Db,
    id_hash: &str,
    now: i64,
    idle: i64,
    absolute: i64,
) -> Result<Option<Account>, DbError> {
    let sql = format!(
        "SELECT {ACCOUNT_COLUMNS}, s.last_seen_at, s.company_id AS chosen FROM account_sessions s \
         JOIN accounts a ON a.id = s.account_id \
         LEFT JOIN memberships m ON m.account_id = a.id AND m.company_id = COALESCE( \
           (SELECT x.company_id FROM memberships x \
            WHERE x.account_id = a.id AND x.company_id = s.company_id), {DEFAULT_COMPANY}) \
         LEFT JOIN companies c ON c.id = m.company_id \
         WHERE s.id_hash = $1 AND s.last_seen_at > $2 AND s.created_at > $3"
    );
    let found: Option<SessionAccount> = sqlx::query_as(&sql)
        .bind(id_hash)
        .bind(now - idle)
        .bind(now - absolute)
        .fetch_optional(&db.pool)
        .await?;
    let Some(found) = found else { return Ok(None) };
    let current = found
        .account
        .in_company()
        .then_some(found.account.company_id.as_str());
    if found.chosen.as_deref() != current {
        sqlx::query("UPDATE account_sessions SET company_id = $1 WHERE id_hash = $2")
            .bind(current)
            .bind(id_hash)
            .execute(&db.pool)
            .await?;
    }
    web::sessions::touch(db, &SESSIONS, id_hash, found.last_seen_at, now).await?;
    Ok(Some(found.account))
}

/// A live session as Account Information lists it. The id's hash stays
/// here: the page only learns which one is the browser's own.
#[derive(Clone, Debug, FromRow)]
pub struct SessionRow {
    pub id_hash: String,
    pub created_at: i64,
    pub last_seen_at: i64,
    pub user_agent: Option<String>,
    pub ip: Option<String>,
}

/// An account's live sessions, most recently seen first.
pub async fn list_sessions(
    db: &Db,
    account_id: &str,
    now: i64,
    idle: i64,
    absolute: i64,
) -> Result<Vec<SessionRow>, DbError> {
    sqlx::query_as(
        "SELECT id_hash, created_at, last_seen_at, user_agent, ip FROM account_sessions \
         WHERE account_id = $1 AND last_seen_at > $2 AND created_at > $3 \
         ORDER BY last_seen_at DESC, created_at DESC LIMIT 100",
    )
    .bind(account_id)
    .bind(now - idle)
    .bind(now - absolute)
    .fetch_all(&db.pool)
    .await
}

/// Ends every session of the account but `keep` and records `event`, in one
/// transaction. Returns how many ended.
pub async fn end_other_sessions(
    db: &Db,
    account_id: &str,
    keep: &str,
    event: &NewEvent<'_>,
) -> Result<u64, DbError> {
    let mut tx = db.pool.begin().await?;
    let ended = web::sessions::delete_others(&mut *tx, &SESSIONS, account_id, Some(keep)).await?;
    super::email_verifications::cancel_email_changes_in(&mut tx, account_id, event.at).await?;
    insert_event(&mut tx, event).await?;
    tx.commit().await?;
    Ok(ended)
}
