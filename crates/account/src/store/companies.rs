//! Companies and memberships (SPEC §9): the companies an account belongs to
//! with its role in each, making another one, the session's current one,
//! and closing one.

use sqlx::{AnyConnection, FromRow};
use web::db::Db;

use super::actor::{authorize, Actor, Need, WriteError};
use super::events::{insert_event, NewEvent};
use super::keys::{changed, KeyChanged};
use super::{DbError, Role};

/// Adds the account to the company with `role`.
pub(super) async fn add_membership(
    conn: &mut AnyConnection,
    account_id: &str,
    company_id: &str,
    role: Role,
    now: i64,
) -> Result<(), DbError> {
    sqlx::query(
        "INSERT INTO memberships (account_id, company_id, role, joined_at) VALUES ($1, $2, $3, $4)",
    )
    .bind(account_id)
    .bind(company_id)
    .bind(role.as_str())
    .bind(now)
    .execute(&mut *conn)
    .await?;
    Ok(())
}

/// One of an account's companies, as its list shows it.
#[derive(Clone, Debug, FromRow)]
pub struct CompanyRow {
    pub id: String,
    pub name: String,
    #[sqlx(try_from = "String")]
    pub role: Role,
}

/// The companies an account belongs to, by name.
pub async fn list_companies(db: &Db, account_id: &str) -> Result<Vec<CompanyRow>, DbError> {
    sqlx::query_as(
        "SELECT c.id, c.name, m.role FROM memberships m JOIN companies c ON c.id = m.company_id \
         WHERE m.account_id = $1 ORDER BY c.name, c.id",
    )
    .bind(account_id)
    .fetch_all(&db.pool)
    .await
}

/// Makes a company the account owns and the current one of the session
/// `session_hash` (and the account's default), with the audit event, in one
/// transaction.
pub async fn create_company(
    db: &Db,
    account_id: &str,
    company_id: &str,
    name: &str,
    session_hash: Option<&str>,
    event: &NewEvent<'_>,
) -> Result<(), DbError> {
    let mut tx = db.pool.begin().await?;
    sqlx::query("INSERT INTO companies (id, name, created_at) VALUES ($1, $2, $3)")
        .bind(company_id)
        .bind(name)
        .bind(event.at)
        .execute(&mut *tx)
        .await?;
    add_membership(&mut tx, account_id, company_id, Role::Owner, event.at).await?;
    choose(&mut tx, account_id, company_id, session_hash).await?;
    insert_event(&mut tx, event).await?;
    tx.commit().await
}

/// The session's current company (and the account's default for its next
/// sessions).
pub(super) async fn choose(
    conn: &mut AnyConnection,
    account_id: &str,
    company_id: &str,
    session_hash: Option<&str>,
) -> Result<(), DbError> {
    if let Some(hash) = session_hash {
        sqlx::query("UPDATE account_sessions SET company_id = $1 WHERE id_hash = $2")
            .bind(company_id)
            .bind(hash)
            .execute(&mut *conn)
            .await?;
    }
    sqlx::query("UPDATE accounts SET company_id = $1 WHERE id = $2")
        .bind(company_id)
        .bind(account_id)
        .execute(&mut *conn)
        .await?;
    Ok(())
}

/// Makes `company_id` the session's current company, when the account
/// belongs to it; false (nothing changed) when it does not.
pub async fn switch_company(
    db: &Db,
    account_id: &str,
    company_id: &str,
    session_hash: Option<&str>,
) -> Result<bool, DbError> {
    let mut tx = db.pool.begin().await?;
    // A write first: on SQLite it takes the database's write lock before
    // anything is read (a transaction that has read cannot take it while
    // another connection writes: SQLITE_BUSY at once, not after a wait).
    sqlx::query("UPDATE accounts SET company_id = company_id WHERE id = $1")
        .bind(account_id)
        .execute(&mut *tx)
        .await?;
    let member: Option<String> = sqlx::query_scalar(
        "SELECT role FROM memberships WHERE account_id = $1 AND company_id = $2",
    )
    .bind(account_id)
    .bind(company_id)
    .fetch_optional(&mut *tx)
    .await?;
    if member.is_none() {
        tx.rollback().await?;
        return Ok(false);
    }
    choose(&mut tx, account_id, company_id, session_hash).await?;
    tx.commit().await?;
    Ok(true)
}

/// What closing a company did.
#[derive(Debug)]
pub struct Closed {
    /// The keys it revoked: each must reach `Verifier::forget`.
    pub keys: Vec<KeyChanged>,
    /// Its people when it closed (email, language), to be told.
    pub members: Vec<(String, Option<String>)>,
    pub stores_disconnected: u64,
    pub invitations_withdrawn: u64,
}

/// Closes the actor's company, while the actor is its owner: every live key
/// revoked, every Amazon store's authorization discarded, every open
/// invitation withdrawn, every membership ended (the accounts stay), with
/// the audit event (its `detail` is the company's name; the counts are
/// added): in one transaction.
pub async fn close_company(
    db: &Db,
    actor: &Actor<'_>,
    now: i64,
    event: &NewEvent<'_>,
) -> Result<Closed, WriteError> {
    let company_id = actor.company_id;
    let mut tx = db.pool.begin().await?;
    authorize(&mut tx, actor, Need::Owner).await?;
    let members: Vec<(String, Option<String>)> = sqlx::query_as(
        "SELECT a.email, a.locale FROM memberships m JOIN accounts a ON a.id = m.account_id \
         WHERE m.company_id = $1 ORDER BY a.email",
    )
    .bind(company_id)
    .fetch_all(&mut *tx)
    .await?;
    sqlx::query("UPDATE companies SET closed_at = $1 WHERE id = $2")
        .bind(now)
        .bind(company_id)
        .execute(&mut *tx)
        .await?;
    let hashes: Vec<String> = sqlx::query_scalar(
        "UPDATE api_keys SET revoked_at = $1 WHERE company_id = $2 AND revoked_at IS NULL \
         RETURNING key_hash",
    )
    .bind(now)
    .bind(company_id)
    .fetch_all(&mut *tx)
    .await?;
    let keys = hashes
        .into_iter()
        .map(changed)
        .collect::<Result<Vec<_>, _>>()?;
    let stores = sqlx::query(
        "UPDATE amazon_stores SET auth_state = 'reauth_required', reason = 'revoked', \
         refresh_token_enc = NULL, enabled = 0 WHERE company_id = $1",
    )
    .bind(company_id)
    .execute(&mut *tx)
    .await?;
    let invitations = sqlx::query(
        "UPDATE invitations SET revoked_at = $1 \
         WHERE company_id = $2 AND accepted_at IS NULL AND revoked_at IS NULL",
    )
    .bind(now)
    .bind(company_id)
    .execute(&mut *tx)
    .await?;
    sqlx::query("DELETE FROM memberships WHERE company_id = $1")
        .bind(company_id)
        .execute(&mut *tx)
        .await?;
    sqlx::query("UPDATE account_sessions SET company_id = NULL WHERE company_id = $1")
        .bind(company_id)
        .execute(&mut *tx)
        .await?;
    let detail = serde_json::json!({
        "name": event.detail,
        "keys_revoked": keys.len(),
        "stores_disconnected": stores.rows_affected(),
        "invitations_withdrawn": invitations.rows_affected(),
        "members": members.len(),
    })
    .to_string();
    insert_event(
        &mut tx,
        &NewEvent {
            detail: Some(&detail),
            ..*event
        },
    )
    .await?;
    tx.commit().await?;
    Ok(Closed {
        keys,
        members,
        stores_disconnected: stores.rows_affected(),
        invitations_withdrawn: invitations.rows_affected(),
    })
}
