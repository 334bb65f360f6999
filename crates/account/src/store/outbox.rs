//! The outbox: messages waiting to be sent, and who may still be sent one.

use web::db::Db;

use super::events::{insert_event, NewEvent};
use super::keys::{KeyRow, KEY_COLUMNS};
use super::{AnyQuery, DbError};

/// A message for the outbox.
pub struct NewMessage<'a> {
    pub company_id: Option<&'a str>,
    pub recipient: &'a str,
    pub kind: &'a str,
    pub subject: &'a str,
    pub body: &'a str,
    /// A message with the same dedupe key is never queued twice.
    pub dedupe_key: Option<&'a str>,
    pub at: i64,
}

#[derive(Clone, Debug, sqlx::FromRow)]
pub struct MessageRow {
    pub id: i64,
    pub recipient: String,
    pub kind: String,
    pub subject: String,
    pub body: String,
    pub created_at: i64,
    pub sent_at: Option<i64>,
    pub attempts: i64,
    pub last_error: Option<String>,
    /// An invitation's message: its body has a placeholder for the link's token.
    pub invitation_id: Option<String>,
    /// A password reset's message: its body has a placeholder for the link's token.
    pub reset_id: Option<String>,
    /// An email confirmation's message: its body has a placeholder for the link's token.
    pub verification_id: Option<String>,
}

const MESSAGE_COLUMNS: &str =
    "id, recipient, kind, subject, body, created_at, sent_at, attempts, last_error, invitation_id, reset_id, \
     verification_id";

/// The single-use link a message carries (its body has a placeholder for
/// the link's token): the row it belongs to.
#[derive(Clone, Copy)]
pub enum MessageLink<'a> {
    Invitation(&'a str),
    PasswordReset(&'a str),
    EmailVerification(&'a str),
}

/// Binds a message's seven columns, in the order the inserts name them.
fn bind_message<'q>(q: AnyQuery<'q>, m: &NewMessage<'q>) -> AnyQuery<'q> {
    q.bind(m.company_id)
        .bind(m.recipient)
        .bind(m.kind)
        .bind(m.subject)
        .bind(m.body)
        .bind(m.dedupe_key)
        .bind(m.at)
}

/// Queues a message carrying a link, inside the transaction that writes the
/// link's own row.
pub async fn insert_link_message(
    tx: &mut sqlx::Transaction<'_, sqlx::Any>,
    m: &NewMessage<'_>,
    link: MessageLink<'_>,
) -> Result<(), DbError> {
    let (column, id) = match link {
        MessageLink::Invitation(id) => ("invitation_id", id),
        MessageLink::PasswordReset(id) => ("reset_id", id),
        MessageLink::EmailVerification(id) => ("verification_id", id),
    };
    let sql = format!(
        "INSERT INTO outbox (company_id, recipient, kind, subject, body, dedupe_key, created_at, {column}) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8)"
    );
    bind_message(sqlx::query(&sql), m)
        .bind(id)
        .execute(&mut **tx)
        .await?;
    Ok(())
}

/// Queues a message, and with it an audit event, in one transaction. False
/// (and nothing written) when a message with its dedupe key exists already.
pub async fn enqueue_message(
    db: &Db,
    m: &NewMessage<'_>,
    event: Option<&NewEvent<'_>>,
) -> Result<bool, DbError> {
    let mut tx = db.pool.begin().await?;
    let done = bind_message(
        sqlx::query(
            "INSERT INTO outbox (company_id, recipient, kind, subject, body, dedupe_key, created_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7) ON CONFLICT (dedupe_key) DO NOTHING",
        ),
        m,
    )
    .execute(&mut *tx)
    .await?;
    if done.rows_affected() == 0 {
        tx.rollback().await?;
        return Ok(false);
    }
    if let Some(e) = event {
        insert_event(&mut tx, e).await?;
    }
    tx.commit().await?;
    Ok(true)
}

/// Live keys (not revoked, not rolled) that expire in `(from, to]` and have
/// no message with dedupe key `prefix || id` yet: at most `limit` of them.
pub async fn keys_to_notify(
    db: &Db,
    from: i64,
    to: i64,
    prefix: &str,
    limit: i64,
) -> Result<Vec<KeyRow>, DbError> {
    let sql = format!(
        "SELECT {KEY_COLUMNS} FROM api_keys k JOIN accounts a ON a.id = k.created_by \
         WHERE k.expires_at > $1 AND k.expires_at <= $2 AND k.revoked_at IS NULL \
         AND k.replaced_by IS NULL \
         AND NOT EXISTS (SELECT 1 FROM outbox o WHERE o.dedupe_key = $3 || k.id) \
         ORDER BY k.expires_at LIMIT $4"
    );
    sqlx::query_as(&sql)
        .bind(from)
        .bind(to)
        .bind(prefix)
        .bind(limit)
        .fetch_all(&db.pool)
        .await
}

/// An invitation's (or a password reset's) message may be sent only while
/// its link can still be used (not withdrawn, used or expired at `$now`).
const SENDABLE: &str = "(invitation_id IS NULL OR EXISTS (SELECT 1 FROM invitations i \
     WHERE i.id = outbox.invitation_id AND i.accepted_at IS NULL AND i.revoked_at IS NULL \
     AND i.expires_at > $2)) \
     AND (reset_id IS NULL OR EXISTS (SELECT 1 FROM password_resets r \
     WHERE r.id = outbox.reset_id AND r.used_at IS NULL AND r.expires_at > $2)) \
     AND (verification_id IS NULL OR EXISTS (SELECT 1 FROM email_verifications v \
     WHERE v.id = outbox.verification_id AND v.used_at IS NULL AND v.expires_at > $2))";

/// Unsent messages that no worker holds and that may still be sent, oldest first.
pub async fn unsent_messages(
    db: &Db,
    now: i64,
    max_attempts: i64,
    limit: i64,
) -> Result<Vec<MessageRow>, DbError> {
    let sql = format!(
        "SELECT {MESSAGE_COLUMNS} FROM outbox WHERE sent_at IS NULL AND attempts < $1 \
         AND (claimed_until IS NULL OR claimed_until <= $2) AND {SENDABLE} ORDER BY id LIMIT $3"
    );
    sqlx::query_as(&sql)
        .bind(max_attempts)
        .bind(now)
        .bind(limit)
        .fetch_all(&db.pool)
        .await
}

/// Takes a message for sending until `until`: false when another worker (or
/// node) has it, it was sent meanwhile, or its invitation was withdrawn,
/// used or has expired (such a message is never sent).
pub async fn claim_message(db: &Db, id: i64, now: i64, until: i64) -> Result<bool, DbError> {
    let sql = format!(
        "UPDATE outbox SET claimed_until = $1, attempts = attempts + 1 \
         WHERE id = $3 AND sent_at IS NULL AND (claimed_until IS NULL OR claimed_until <= $2) \
         AND {SENDABLE}"
    );
    let done = sqlx::query(&sql)
        .bind(until)
        .bind(now)
        .bind(id)
        .execute(&db.pool)
        .await?;
    Ok(done.rows_affected() == 1)
}

pub async fn mark_sent(db: &Db, id: i64, now: i64) -> Result<(), DbError> {
    sqlx::query("UPDATE outbox SET sent_at = $1, last_error = NULL WHERE id = $2")
        .bind(now)
        .bind(id)
        .execute(&db.pool)
        .await?;
    Ok(())
}

/// Records why sending failed; the message is tried again once its claim ends.
pub async fn mark_failed(db: &Db, id: i64, error: &str) -> Result<(), DbError> {
    sqlx::query("UPDATE outbox SET last_error = $1 WHERE id = $2")
        .bind(error)
        .bind(id)
        .execute(&db.pool)
        .await?;
    Ok(())
}

/// A company's messages, newest first.
pub async fn list_messages(
    db: &Db,
    company_id: &str,
    limit: i64,
) -> Result<Vec<MessageRow>, DbError> {
    let sql = format!(
        "SELECT {MESSAGE_COLUMNS} FROM outbox WHERE company_id = $1 ORDER BY id DESC LIMIT $2"
    );
    sqlx::query_as(&sql)
        .bind(company_id)
        .bind(limit)
        .fetch_all(&db.pool)
        .await
}

// ---- Members and invitations ----

/// The outbox's backlog: unsent messages still to be tried, and those given
/// up on after `max_attempts`.
pub async fn backlog(db: &Db, max_attempts: i64) -> Result<(i64, i64), DbError> {
    sqlx::query_as(
        "SELECT COUNT(CASE WHEN attempts < $1 THEN 1 END), \
         COUNT(CASE WHEN attempts >= $1 THEN 1 END) FROM outbox WHERE sent_at IS NULL",
    )
    .bind(max_attempts)
    .fetch_one(&db.pool)
    .await
}
