//! What is kept no longer than needed: ended sessions (and sign-ins that
//! waited too long for their second step), invitations and
//! password reset links that can no longer be used, and messages already sent;
//! hourly usage counts are rolled up by day. Run on a schedule by the
//! outbox worker (and on every node: each delete is idempotent).

use web::db::Db;

use super::DbError;

/// How long used, withdrawn or expired invitations and sent messages stay
/// (they show on the members and messages pages for a while).
pub const KEEP_SECS: i64 = 30 * 86400;

/// What one purge removed.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Purged {
    pub sessions: u64,
    pub invitations: u64,
    pub messages: u64,
}

/// Deletes sessions past their idle or absolute lifetime, invitations that
/// ended more than `KEEP_SECS` ago (with their unsent messages), and messages
/// sent more than `KEEP_SECS` ago.
pub async fn purge(
    db: &Db,
    now: i64,
    idle_secs: i64,
    absolute_secs: i64,
) -> Result<Purged, DbError> {
    let sessions =
        sqlx::query("DELETE FROM account_sessions WHERE last_seen_at <= $1 OR created_at <= $2")
            .bind(now - idle_secs)
            .bind(now - absolute_secs)
            .execute(&db.pool)
            .await?
            .rows_affected();
    super::removed::purge(db, now, absolute_secs).await?;
    super::amazon::purge_amazon(db, now - 86400).await?;
    super::usage::roll_up_usage(db, now).await?;
    // Sign-ins that waited for their second step longer than they may.
    let pending_before = now - web::two_factor::PENDING_SECS;
    web::two_factor::store::purge_pending(db, &super::two_factor::TWO_FACTOR, pending_before)
        .await?;
    let before = now - KEEP_SECS;
    let mut tx = db.pool.begin().await?;
    let ended =
        "SELECT id FROM invitations WHERE COALESCE(accepted_at, revoked_at, expires_at) <= $1 \
                 OR expires_at <= $1";
    sqlx::query(&format!(
        "DELETE FROM outbox WHERE sent_at IS NULL AND invitation_id IN ({ended})"
    ))
    .bind(before)
    .execute(&mut *tx)
    .await?;
    let invitations = sqlx::query(&format!("DELETE FROM invitations WHERE id IN ({ended})"))
        .bind(before)
        .execute(&mut *tx)
        .await?
        .rows_affected();
    let resets_ended = "SELECT id FROM password_resets WHERE expires_at <= $1";
    sqlx::query(&format!(
        "DELETE FROM outbox WHERE sent_at IS NULL AND reset_id IN ({resets_ended})"
    ))
    .bind(before)
    .execute(&mut *tx)
    .await?;
    sqlx::query("DELETE FROM password_resets WHERE expires_at <= $1")
        .bind(before)
        .execute(&mut *tx)
        .await?;
    sqlx::query(
        "DELETE FROM outbox WHERE sent_at IS NULL AND verification_id IN \
         (SELECT id FROM email_verifications WHERE expires_at <= $1)",
    )
    .bind(before)
    .execute(&mut *tx)
    .await?;
    sqlx::query("DELETE FROM email_verifications WHERE expires_at <= $1")
        .bind(before)
        .execute(&mut *tx)
        .await?;
    tx.commit().await?;
    let messages = sqlx::query("DELETE FROM outbox WHERE sent_at IS NOT NULL AND sent_at <= $1")
        .bind(before)
        .execute(&db.pool)
        .await?
        .rows_affected();
    Ok(Purged {
        sessions,
        invitations,
        messages,
    })
}
