//! Members: the company's people, their roles and their removal (the links
//! that bring them in are in `invitations`).

use web::db::Db;

use super::actor::{authorize, keeps_an_owner, Actor, Need, WriteError};
use super::events::{insert_event, NewEvent};
use super::{removed, DbError, Role};
use sqlx::FromRow;

/// A member of a company, as listed.
#[derive(Clone, Debug, FromRow)]
pub struct MemberRow {
    pub id: String,
    pub email: String,
    pub name: String,
    #[sqlx(try_from = "String")]
    pub role: Role,
    #[sqlx(rename = "joined")]
    pub joined_at: i64,
}

/// A company's members, owners first, then by when they joined.
pub async fn list_members(db: &Db, company_id: &str) -> Result<Vec<MemberRow>, DbError> {
    sqlx::query_as(
        "SELECT a.id, a.email, a.name, m.role, m.joined_at AS joined FROM memberships m \
         JOIN accounts a ON a.id = m.account_id WHERE m.company_id = $1 \
         ORDER BY CASE m.role WHEN 'owner' THEN 0 WHEN 'member' THEN 1 ELSE 2 END, joined, a.id",
    )
    .bind(company_id)
    .fetch_all(&db.pool)
    .await
}

/// One member of a company; another company's account is `None`.
pub async fn get_member(db: &Db, company_id: &str, id: &str) -> Result<Option<MemberRow>, DbError> {
    sqlx::query_as(
        "SELECT a.id, a.email, a.name, m.role, m.joined_at AS joined FROM memberships m \
         JOIN accounts a ON a.id = m.account_id WHERE m.company_id = $1 AND a.id = $2",
    )
    .bind(company_id)
    .bind(id)
    .fetch_optional(&db.pool)
    .await
}

/// Whether an account with this email is in the company.
pub async fn is_member(db: &Db, company_id: &str, email: &str) -> Result<bool, DbError> {
    let row = sqlx::query(
        "SELECT a.id FROM memberships m JOIN accounts a ON a.id = m.account_id \
         WHERE m.company_id = $1 AND a.email = $2",
    )
    .bind(company_id)
    .bind(email)
    .fetch_optional(&db.pool)
    .await?;
    Ok(row.is_some())
}

/// What an account leaves behind in its company: other accounts, and keys
/// that still verify.
pub async fn company_holdings(
    db: &Db,
    company_id: &str,
    account_id: &str,
    now: i64,
) -> Result<(i64, i64), DbError> {
    let others: i64 = sqlx::query_scalar(
        "SELECT COUNT(*) FROM memberships WHERE company_id = $1 AND account_id <> $2",
    )
    .bind(company_id)
    .bind(account_id)
    .fetch_one(&db.pool)
    .await?;
    let live_keys: i64 = sqlx::query_scalar(
        "SELECT COUNT(*) FROM api_keys WHERE company_id = $1 AND revoked_at IS NULL \
         AND (expires_at IS NULL OR expires_at > $2)",
    )
    .bind(company_id)
    .bind(now)
    .fetch_one(&db.pool)
    .await?;
    Ok((others, live_keys))
}

/// Removes a member from a company: the membership ends at once. The
/// account's other companies and its sessions stay: a session that was in
/// this company moves to another of the account's companies (or to none)
/// at its next request, and can no longer act here. With the audit event, in one
/// transaction; the company's keys stay. Returns the removed member's
/// email, or `None` when the company has no such member.
pub async fn remove_member(
    db: &Db,
    actor: &Actor<'_>,
    need: Need,
    member_id: &str,
    now: i64,
    event: &NewEvent<'_>,
) -> Result<Option<String>, WriteError> {
    let company_id = actor.company_id;
    let mut tx = db.pool.begin().await?;
    authorize(&mut tx, actor, need).await?;
    let email: Option<String> = sqlx::query_scalar(
        "SELECT a.email FROM memberships m JOIN accounts a ON a.id = m.account_id \
         WHERE m.company_id = $1 AND a.id = $2",
    )
    .bind(company_id)
    .bind(member_id)
    .fetch_optional(&mut *tx)
    .await?;
    let Some(email) = email else {
        tx.rollback().await?;
        return Ok(None);
    };
    sqlx::query("DELETE FROM memberships WHERE company_id = $1 AND account_id = $2")
        .bind(company_id)
        .bind(member_id)
        .execute(&mut *tx)
        .await?;
    if need == Need::Owner {
        // Removed by an owner (not leaving): its sessions that were in this
        // company are told so.
        removed::remember(&mut tx, member_id, company_id, now).await?;
    }
    keeps_an_owner(&mut tx, company_id).await?;
    insert_event(&mut tx, event).await?;
    tx.commit().await?;
    Ok(Some(email))
}

/// Changes a member's role from `from` to `to`, with the audit event, in one
/// transaction. False (nothing written) when the company has no such member
/// with role `from` any more.
pub async fn set_member_role(
    db: &Db,
    actor: &Actor<'_>,
    member_id: &str,
    from: Role,
    to: Role,
    event: &NewEvent<'_>,
) -> Result<bool, WriteError> {
    let company_id = actor.company_id;
    let mut tx = db.pool.begin().await?;
    authorize(&mut tx, actor, Need::Owner).await?;
    let done = sqlx::query(
        "UPDATE memberships SET role = $1 WHERE company_id = $2 AND account_id = $3 AND role = $4",
    )
    .bind(to.as_str())
    .bind(company_id)
    .bind(member_id)
    .bind(from.as_str())
    .execute(&mut *tx)
    .await?;
    if done.rows_affected() == 0 {
        tx.rollback().await?;
        return Ok(false);
    }
    keeps_an_owner(&mut tx, company_id).await?;
    insert_event(&mut tx, event).await?;
    tx.commit().await?;
    Ok(true)
}
