//! Two-step sign-in's rows of the account site: the tables the shared code
//! (`web::two_factor::store`) works on, a company's requirement, and
//! removing an account's second steps with its sessions.

use web::db::Db;

use super::actor::{authorize, Actor, Need, WriteError};
use super::events::{insert_event, NewEvent};
use super::sessions::SESSIONS;
use super::DbError;

/// The account site's second steps (migration 0015).
pub const TWO_FACTOR: web::two_factor::Tables = web::two_factor::Tables {
    totp: "account_totp",
    recovery: "account_recovery_codes",
    pending: "account_pending_sign_ins",
    user_column: "account_id",
};

/// The account site's passkeys (migration 0016).
pub const PASSKEYS: web::two_factor::passkey_store::PasskeyTables =
    web::two_factor::passkey_store::PasskeyTables {
        passkeys: "account_passkeys",
        ceremonies: "account_webauthn_ceremonies",
        user_column: "account_id",
    };

/// Whether the company requires a second step of every member.
pub async fn company_requires_two_factor(db: &Db, company_id: &str) -> Result<bool, DbError> {
    let v: Option<i64> =
        sqlx::query_scalar("SELECT require_two_factor FROM companies WHERE id = $1")
            .bind(company_id)
            .fetch_optional(&db.pool)
            .await?;
    Ok(v.unwrap_or(0) != 0)
}

/// The owner `actor` sets the company's requirement and records `event`, in
/// one transaction (the owner's role checked as committed).
pub async fn set_company_requires_two_factor(
    db: &Db,
    actor: &Actor<'_>,
    require: bool,
    event: &NewEvent<'_>,
) -> Result<(), WriteError> {
    let mut tx = db.pool.begin().await?;
    authorize(&mut tx, actor, Need::Owner).await?;
    sqlx::query("UPDATE companies SET require_two_factor = $1 WHERE id = $2")
        .bind(i64::from(require))
        .bind(actor.company_id)
        .execute(&mut *tx)
        .await?;
    insert_event(&mut tx, event).await?;
    tx.commit().await?;
    Ok(())
}

/// The company's members whose authenticator app is in force.
pub async fn members_with_two_factor(db: &Db, company_id: &str) -> Result<Vec<String>, DbError> {
    sqlx::query_scalar(
        "SELECT m.account_id FROM memberships m JOIN account_totp t ON t.account_id = m.account_id \
         WHERE m.company_id = $1 AND t.secret_enc IS NOT NULL",
    )
    .bind(company_id)
    .fetch_all(&db.pool)
    .await
}

/// Removes every second step of the account (recovery codes and pending
/// sign-ins too), ends its sessions but `keep` (every one when `None`) and
/// records `event`: in one transaction. Returns how many sessions ended.
pub async fn remove_two_factor(
    db: &Db,
    account_id: &str,
    keep: Option<&str>,
    event: &NewEvent<'_>,
) -> Result<u64, DbError> {
    let mut tx = db.pool.begin().await?;
    web::two_factor::store::remove_all(&mut tx, &TWO_FACTOR, account_id).await?;
    web::two_factor::passkey_store::remove_all(&mut tx, &PASSKEYS, account_id).await?;
    let ended = web::sessions::delete_others(&mut *tx, &SESSIONS, account_id, keep).await?;
    insert_event(&mut tx, event).await?;
    tx.commit().await?;
    Ok(ended)
}
