//! Invitations: the links that bring people into a company, and accepting
//! them (as a new account or an existing one).

use web::db::Db;

use super::actor::{authorize, Actor, Need, WriteError};
use super::events::{insert_event, NewEvent};
use super::outbox::{insert_link_message, MessageLink, NewMessage};
use super::{DbError, Role};
use sqlx::FromRow;

#[derive(Clone, Debug, FromRow)]
pub struct InvitationRow {
    pub id: String,
    pub company_id: String,
    pub company_name: String,
    pub email: String,
    #[sqlx(try_from = "String")]
    pub role: Role,
    pub invited_by: String,
    pub created_at: i64,
    pub expires_at: i64,
    pub accepted_at: Option<i64>,
    pub revoked_at: Option<i64>,
}

const INVITATION_COLUMNS: &str = "i.id, i.company_id, c.name AS company_name, i.email, i.role, \
     i.invited_by, i.created_at, i.expires_at, i.accepted_at, i.revoked_at";

pub async fn get_invitation(db: &Db, id: &str) -> Result<Option<InvitationRow>, DbError> {
    let sql = format!(
        "SELECT {INVITATION_COLUMNS} FROM invitations i JOIN companies c ON c.id = i.company_id \
         WHERE i.id = $1"
    );
    sqlx::query_as(&sql).bind(id).fetch_optional(&db.pool).await
}

/// A company's invitations that can still be accepted, newest first.
pub async fn pending_invitations(
    db: &Db,
    company_id: &str,
    now: i64,
) -> Result<Vec<InvitationRow>, DbError> {
    let sql = format!(
        "SELECT {INVITATION_COLUMNS} FROM invitations i JOIN companies c ON c.id = i.company_id \
         WHERE i.company_id = $1 AND i.accepted_at IS NULL AND i.revoked_at IS NULL \
         AND i.expires_at > $2 ORDER BY i.created_at DESC, i.id"
    );
    sqlx::query_as(&sql)
        .bind(company_id)
        .bind(now)
        .fetch_all(&db.pool)
        .await
}

pub struct NewInvitation<'a> {
    pub id: &'a str,
    pub company_id: &'a str,
    pub email: &'a str,
    pub role: Role,
    pub invited_by: &'a str,
    pub at: i64,
    pub expires_at: i64,
}

/// Creates an invitation with its message and audit event, in one
/// transaction. Earlier pending invitations of the same email to the same
/// company are revoked: only the newest link works.
pub async fn create_invitation(
    db: &Db,
    actor: &Actor<'_>,
    limits: &InvitationLimits,
    inv: &NewInvitation<'_>,
    message: &NewMessage<'_>,
    event: &NewEvent<'_>,
) -> Result<(), WriteError> {
    let mut tx = db.pool.begin().await?;
    authorize(&mut tx, actor, Need::Owner).await?;
    // Counted under the company's lock, so parallel requests cannot pass them.
    let pending: i64 = sqlx::query_scalar(
        "SELECT COUNT(*) FROM invitations WHERE company_id = $1 AND accepted_at IS NULL \
         AND revoked_at IS NULL AND expires_at > $2",
    )
    .bind(inv.company_id)
    .bind(inv.at)
    .fetch_one(&mut *tx)
    .await?;
    if pending >= limits.max_pending {
        return Err(WriteError::TooManyPending(limits.max_pending));
    }
    let since = inv.at - limits.window_secs;
    let recent: Vec<i64> = sqlx::query_scalar(
        "SELECT created_at FROM invitations WHERE company_id = $1 AND created_at > $2 \
         ORDER BY created_at LIMIT $3",
    )
    .bind(inv.company_id)
    .bind(since)
    .bind(limits.per_window)
    .fetch_all(&mut *tx)
    .await?;
    if recent.len() as i64 >= limits.per_window {
        // Room again when the oldest of the window's invitations leaves it.
        let oldest = recent.first().copied().unwrap_or(inv.at);
        return Err(WriteError::RateLimited(
            (oldest + limits.window_secs - inv.at).max(1) as u64,
        ));
    }
    sqlx::query(
        "UPDATE invitations SET revoked_at = $1 WHERE company_id = $2 AND email = $3 \
         AND accepted_at IS NULL AND revoked_at IS NULL",
    )
    .bind(inv.at)
    .bind(inv.company_id)
    .bind(inv.email)
    .execute(&mut *tx)
    .await?;
    sqlx::query(
        "INSERT INTO invitations (id, company_id, email, role, invited_by, created_at, expires_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7)",
    )
    .bind(inv.id)
    .bind(inv.company_id)
    .bind(inv.email)
    .bind(inv.role.as_str())
    .bind(inv.invited_by)
    .bind(inv.at)
    .bind(inv.expires_at)
    .execute(&mut *tx)
    .await?;
    insert_link_message(&mut tx, message, MessageLink::Invitation(inv.id)).await?;
    insert_event(&mut tx, event).await?;
    tx.commit().await?;
    Ok(())
}

/// How many invitations a company may have waiting, and send per window.
#[derive(Clone, Copy, Debug)]
pub struct InvitationLimits {
    pub max_pending: i64,
    pub per_window: i64,
    pub window_secs: i64,
}

/// Revokes a company's pending invitation; false when there is none.
pub async fn revoke_invitation(
    db: &Db,
    actor: &Actor<'_>,
    id: &str,
    now: i64,
    event: &NewEvent<'_>,
) -> Result<bool, WriteError> {
    let company_id = actor.company_id;
    let mut tx = db.pool.begin().await?;
    authorize(&mut tx, actor, Need::Owner).await?;
    let done = sqlx::query(
        "UPDATE invitations SET revoked_at = $1 WHERE company_id = $2 AND id = $3 \
         AND accepted_at IS NULL AND revoked_at IS NULL",
    )
    .bind(now)
    .bind(company_id)
    .bind(id)
    .execute(&mut *tx)
    .await?;
    if done.rows_affected() == 0 {
        tx.rollback().await?;
        return Ok(false);
    }
    insert_event(&mut tx, event).await?;
    tx.commit().await?;
    Ok(true)
}

/// Marks an invitation used, if it still can be: the single use is this
/// conditional update, so two tabs cannot both join.
async fn take_invitation(
    conn: &mut sqlx::AnyConnection,
    id: &str,
    account_id: &str,
    now: i64,
) -> Result<bool, DbError> {
    // The company's write lock first (see `actor::authorize`): an accept
    // that waited for a closing sees its invitation withdrawn.
    sqlx::query(
        "UPDATE companies SET name = name WHERE id = (SELECT company_id FROM invitations WHERE id = $1)",
    )
    .bind(id)
    .execute(&mut *conn)
    .await?;
    let done = sqlx::query(
        "UPDATE invitations SET accepted_at = $1, accepted_by = $2 WHERE id = $3 \
         AND accepted_at IS NULL AND revoked_at IS NULL AND expires_at > $1",
    )
    .bind(now)
    .bind(account_id)
    .bind(id)
    .execute(&mut *conn)
    .await?;
    Ok(done.rows_affected() == 1)
}

/// A new account made by accepting an invitation.
pub struct NewMember<'a> {
    pub invitation_id: &'a str,
    pub company_id: &'a str,
    pub account_id: &'a str,
    pub email: &'a str,
    pub name: &'a str,
    pub password_hash: &'a str,
    pub role: Role,
    pub locale: Option<&'a str>,
    pub now: i64,
}

/// Why accepting did not happen.
#[derive(Debug)]
pub enum AcceptError {
    /// Used, revoked or expired meanwhile.
    Gone,
    /// The account joined the company meanwhile (another invitation).
    AlreadyMember,
    Db(DbError),
}

impl From<DbError> for AcceptError {
    fn from(e: DbError) -> Self {
        AcceptError::Db(e)
    }
}

/// Creates the invitee's account in the company and uses the invitation, in
/// one transaction. The email counts as confirmed: the invitation's link was
/// mailed to it. A taken email is a unique violation.
pub async fn accept_as_new_account(
    db: &Db,
    m: &NewMember<'_>,
    event: &NewEvent<'_>,
) -> Result<(), AcceptError> {
    let mut tx = db.pool.begin().await?;
    sqlx::query(
        "INSERT INTO accounts (id, company_id, email, name, password_hash, locale, created_at, \
         email_verified_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $7)",
    )
    .bind(m.account_id)
    .bind(m.company_id)
    .bind(m.email)
    .bind(m.name)
    .bind(m.password_hash)
    .bind(m.locale)
    .bind(m.now)
    .execute(&mut *tx)
    .await?;
    super::companies::add_membership(&mut tx, m.account_id, m.company_id, m.role, m.now).await?;
    if !take_invitation(&mut tx, m.invitation_id, m.account_id, m.now).await? {
        tx.rollback().await?;
        return Err(AcceptError::Gone);
    }
    insert_event(&mut tx, event).await?;
    tx.commit().await?;
    Ok(())
}

/// An existing account accepting an invitation, from the session
/// `session_hash`.
#[derive(Clone, Copy)]
pub struct Joining<'a> {
    pub invitation_id: &'a str,
    pub account_id: &'a str,
    pub company_id: &'a str,
    pub role: Role,
    pub session_hash: Option<&'a str>,
    pub now: i64,
}

/// Adds an existing account to the invitation's company (its other
/// companies stay) and uses the invitation, with the event, in one
/// transaction. The company becomes the current one of the session
/// `session_hash` that accepted.
pub async fn accept_as_existing_account(
    db: &Db,
    joining: &Joining<'_>,
    event: &NewEvent<'_>,
) -> Result<(), AcceptError> {
    let Joining {
        invitation_id,
        account_id,
        company_id,
        role,
        session_hash,
        now,
    } = *joining;
    let mut tx = db.pool.begin().await?;
    if !take_invitation(&mut tx, invitation_id, account_id, now).await? {
        tx.rollback().await?;
        return Err(AcceptError::Gone);
    }
    let added = sqlx::query(
        "INSERT INTO memberships (account_id, company_id, role, joined_at) \
         VALUES ($1, $2, $3, $4) ON CONFLICT (account_id, company_id) DO NOTHING",
    )
    .bind(account_id)
    .bind(company_id)
    .bind(role.as_str())
    .bind(now)
    .execute(&mut *tx)
    .await?;
    if added.rows_affected() == 0 {
        tx.rollback().await?;
        return Err(AcceptError::AlreadyMember);
    }
    super::companies::choose(&mut tx, account_id, company_id, session_hash).await?;
    insert_event(&mut tx, event).await?;
    tx.commit().await?;
    Ok(())
}

/// Pending invitations of a company (to cap how many one company sends).
pub async fn count_pending_invitations(
    db: &Db,
    company_id: &str,
    now: i64,
) -> Result<i64, DbError> {
    sqlx::query_scalar(
        "SELECT COUNT(*) FROM invitations WHERE company_id = $1 AND accepted_at IS NULL \
         AND revoked_at IS NULL AND expires_at > $2",
    )
    .bind(company_id)
    .bind(now)
    .fetch_one(&db.pool)
    .await
}
