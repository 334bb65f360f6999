//! Email confirmation links: a row per link (never its token), single use.

use sqlx::FromRow;
use web::db::Db;

use super::events::{insert_event, NewEvent};
use super::outbox::{insert_link_message, MessageLink, NewMessage};
use super::DbError;

#[derive(Clone, Debug, FromRow)]
pub struct VerificationRow {
    pub id: String,
    pub account_id: String,
    /// The address the link confirms: the account's own, or a new one.
    pub email: String,
    pub created_at: i64,
    pub expires_at: i64,
    pub used_at: Option<i64>,
}

/// Stores a confirmation link and its message (with `verification_id`, so
/// the token is put in only when it is sent), in one transaction.
/// Writes a confirmation link's row and its message; a change of address
/// also queues `notice` to the old address (its link cancels the change).
pub async fn create_email_verification(
    db: &Db,
    row: &VerificationRow,
    message: &NewMessage<'_>,
    notice: Option<&NewMessage<'_>>,
) -> Result<(), DbError> {
    let mut tx = db.pool.begin().await?;
    sqlx::query(
        "INSERT INTO email_verifications (id, account_id, email, created_at, expires_at) \
         VALUES ($1, $2, $3, $4, $5)",
    )
    .bind(&row.id)
    .bind(&row.account_id)
    .bind(&row.email)
    .bind(row.created_at)
    .bind(row.expires_at)
    .execute(&mut *tx)
    .await?;
    insert_link_message(&mut tx, message, MessageLink::EmailVerification(&row.id)).await?;
    if let Some(notice) = notice {
        insert_link_message(&mut tx, notice, MessageLink::EmailVerification(&row.id)).await?;
    }
    tx.commit().await
}

/// Takes a single-use link's row of `table` (`email_verifications`,
/// `password_resets`) at `at`: true when it was unused and unexpired (it is
/// used now), false when not (nothing written).
pub(super) async fn take_link(
    conn: &mut sqlx::AnyConnection,
    table: LinkTable,
    id: &str,
    account_id: &str,
    at: i64,
) -> Result<bool, DbError> {
    let sql = format!(
        "UPDATE {} SET used_at = $1 \
         WHERE id = $2 AND account_id = $3 AND used_at IS NULL AND expires_at > $1",
        table.name()
    );
    let taken = sqlx::query(&sql)
        .bind(at)
        .bind(id)
        .bind(account_id)
        .execute(&mut *conn)
        .await?;
    Ok(taken.rows_affected() == 1)
}

/// The tables of single-use links ([`take_link`]).
#[derive(Clone, Copy)]
pub(super) enum LinkTable {
    EmailVerifications,
    PasswordResets,
}

impl LinkTable {
    fn name(self) -> &'static str {
        match self {
            LinkTable::EmailVerifications => "email_verifications",
            LinkTable::PasswordResets => "password_resets",
        }
    }
}

/// Ends every pending change of the account's email (links to an address
/// other than its own): a password change or reset, *Sign out other
/// browsers* and signing out call this, so that a change asked for with a
/// stolen session does not outlive it. Returns how many ended.
pub(super) async fn cancel_email_changes_in(
    conn: &mut sqlx::AnyConnection,
    account_id: &str,
    at: i64,
) -> Result<u64, DbError> {
    let done = sqlx::query(
        "UPDATE email_verifications SET used_at = $1 \
         WHERE account_id = $2 AND used_at IS NULL \
         AND email <> (SELECT email FROM accounts WHERE id = $2)",
    )
    .bind(at)
    .bind(account_id)
    .execute(&mut *conn)
    .await?;
    Ok(done.rows_affected())
}

/// [`cancel_email_changes_in`] on its own.
pub async fn cancel_email_changes(db: &Db, account_id: &str, at: i64) -> Result<u64, DbError> {
    let mut conn = db.pool.acquire().await?;
    cancel_email_changes_in(&mut conn, account_id, at).await
}

/// The old address's link: ends the change `id` while it is pending, and
/// records `event`. False (nothing written) when it was used, cancelled or
/// has expired.
pub async fn cancel_email_change(
    db: &Db,
    id: &str,
    account_id: &str,
    event: &NewEvent<'_>,
) -> Result<bool, DbError> {
    let mut tx = db.pool.begin().await?;
    if !take_link(
        &mut tx,
        LinkTable::EmailVerifications,
        id,
        account_id,
        event.at,
    )
    .await?
    {
        tx.rollback().await?;
        return Ok(false);
    }
    insert_event(&mut tx, event).await?;
    tx.commit().await?;
    Ok(true)
}

pub async fn get_email_verification(db: &Db, id: &str) -> Result<Option<VerificationRow>, DbError> {
    sqlx::query_as(
        "SELECT id, account_id, email, created_at, expires_at, used_at \
         FROM email_verifications WHERE id = $1",
    )
    .bind(id)
    .fetch_optional(&db.pool)
    .await
}

/// Uses a confirmation link while it is unused and unexpired at `event.at`:
/// confirms the account's address, or (`new_email`) makes the new address
/// the account's, confirmed; the account's other links stop working; the
/// event is recorded. One transaction; false (nothing written) when the
/// link was used meanwhile or has expired. A new address that another
/// account took meanwhile violates `ACCOUNT_EMAIL`.
pub async fn use_email_verification(
    db: &Db,
    id: &str,
    account_id: &str,
    new_email: Option<&str>,
    event: &NewEvent<'_>,
) -> Result<bool, DbError> {
    let now = event.at;
    let mut tx = db.pool.begin().await?;
    if !take_link(&mut tx, LinkTable::EmailVerifications, id, account_id, now).await? {
        tx.rollback().await?;
        return Ok(false);
    }
    match new_email {
        Some(email) => {
            sqlx::query("UPDATE accounts SET email = $1, email_verified_at = $2 WHERE id = $3")
                .bind(email)
                .bind(now)
                .bind(account_id)
                .execute(&mut *tx)
                .await?;
            // Links to another address (or the old one) no longer apply.
            sqlx::query(
                "UPDATE email_verifications SET used_at = $1 \
                 WHERE account_id = $2 AND used_at IS NULL",
            )
            .bind(now)
            .bind(account_id)
            .execute(&mut *tx)
            .await?;
        }
        None => {
            sqlx::query("UPDATE accounts SET email_verified_at = $1 WHERE id = $2")
                .bind(now)
                .bind(account_id)
                .execute(&mut *tx)
                .await?;
        }
    }
    insert_event(&mut tx, event).await?;
    tx.commit().await?;
    Ok(true)
}
