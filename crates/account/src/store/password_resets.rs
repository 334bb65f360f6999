//! Password reset links: a row per link (never its token), single use.

use sqlx::FromRow;
use web::db::Db;

use super::accounts::set_password_in;
use super::email_verifications::{take_link, LinkTable};
use super::events::{insert_event, NewEvent};
use super::outbox::{insert_link_message, MessageLink, NewMessage};
use super::DbError;

#[derive(Clone, Debug, FromRow)]
pub struct ResetRow {
    pub id: String,
    pub account_id: String,
    pub created_at: i64,
    pub expires_at: i64,
    pub used_at: Option<i64>,
}

/// Stores a reset link, its message (with `reset_id`, so the token is put in
/// only when it is sent) and its audit event, in one transaction.
pub async fn create_password_reset(
    db: &Db,
    reset: &ResetRow,
    message: &NewMessage<'_>,
    event: &NewEvent<'_>,
) -> Result<(), DbError> {
    let mut tx = db.pool.begin().await?;
    sqlx::query(
        "INSERT INTO password_resets (id, account_id, created_at, expires_at) \
         VALUES ($1, $2, $3, $4)",
    )
    .bind(&reset.id)
    .bind(&reset.account_id)
    .bind(reset.created_at)
    .bind(reset.expires_at)
    .execute(&mut *tx)
    .await?;
    insert_link_message(&mut tx, message, MessageLink::PasswordReset(&reset.id)).await?;
    insert_event(&mut tx, event).await?;
    tx.commit().await
}

pub async fn get_password_reset(db: &Db, id: &str) -> Result<Option<ResetRow>, DbError> {
    sqlx::query_as(
        "SELECT id, account_id, created_at, expires_at, used_at FROM password_resets WHERE id = $1",
    )
    .bind(id)
    .fetch_optional(&db.pool)
    .await
}

/// Uses a reset link: when it is still unused and unexpired at `event.at`,
/// sets the account's password, ends every one of its sessions and records
/// `event`, in one transaction. False (nothing written) when the link was
/// used meanwhile or has expired.
pub async fn use_password_reset(
    db: &Db,
    id: &str,
    account_id: &str,
    hash: &str,
    event: &NewEvent<'_>,
) -> Result<bool, DbError> {
    let mut tx = db.pool.begin().await?;
    if !take_link(&mut tx, LinkTable::PasswordResets, id, account_id, event.at).await? {
        tx.rollback().await?;
        return Ok(false);
    }
    set_password_in(&mut tx, account_id, hash, None, event).await?;
    tx.commit().await?;
    Ok(true)
}
