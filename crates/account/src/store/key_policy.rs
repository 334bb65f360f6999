//! Key policy writes (SPEC §10): a key's name, whether it is on, its
//! allowed addresses and services; a company's maximum key lifetime.

use web::db::Db;

use super::actor::{authorize, Actor, Need, WriteError};
use super::events::{insert_event, NewEvent};
use super::keys::{changed, KeyChanged, KeyRow, KEY_COLUMNS};
use super::DbError;

/// What a change sets; `None` leaves a field as it is. For the allowed
/// addresses and services, `Some(None)` is any address / every service.
#[derive(Clone, Copy, Debug, Default)]
pub struct KeyChange<'a> {
    pub name: Option<&'a str>,
    pub disabled: Option<bool>,
    /// The stored form ([`crate::key_policy::parse_allowed_ips`]).
    pub allowed_ips: Option<Option<&'a str>>,
    /// The stored form ([`crate::key_policy::ServiceCatalog::parse_services`]).
    pub services: Option<Option<&'a str>>,
}

/// Changes a company's key with its audit events in one transaction, while
/// the actor may write. Disabling keeps the first disabling time. The key as
/// it was is read under the company's write lock, which every write of the
/// company's keys takes: `events` makes the change's events, (action,
/// detail) each, from it, so parallel changes are logged as they were
/// made. `event` gives the rest of each event (who, when, target). `None`
/// when the company has no such key (nothing is written).
pub async fn change_key(
    db: &Db,
    actor: &Actor<'_>,
    id: &str,
    change: &KeyChange<'_>,
    event: &NewEvent<'_>,
    events: impl FnOnce(&KeyRow) -> Vec<(&'static str, String)>,
) -> Result<Option<KeyChanged>, WriteError> {
    let mut tx = db.pool.begin().await?;
    authorize(&mut tx, actor, Need::Write).await?;
    let sql = format!(
        "SELECT {KEY_COLUMNS} FROM api_keys k JOIN accounts a ON a.id = k.created_by \
         WHERE k.company_id = $1 AND k.id = $2"
    );
    let old: Option<KeyRow> = sqlx::query_as(&sql)
        .bind(actor.company_id)
        .bind(id)
        .fetch_optional(&mut *tx)
        .await?;
    let Some(old) = old else {
        tx.rollback().await?;
        return Ok(None);
    };
    let made = events(&old);
    let hash: Option<String> = sqlx::query_scalar(
        "UPDATE api_keys SET name = COALESCE($1, name), \
         disabled_at = CASE WHEN $2 = 1 THEN COALESCE(disabled_at, $3) WHEN $2 = 0 THEN NULL ELSE disabled_at END, \
         allowed_ips = CASE WHEN $4 = 1 THEN $5 ELSE allowed_ips END, \
         services = CASE WHEN $6 = 1 THEN $7 ELSE services END \
         WHERE company_id = $8 AND id = $9 RETURNING key_hash",
    )
    .bind(change.name)
    .bind(change.disabled.map(i64::from))
    .bind(event.at)
    .bind(i64::from(change.allowed_ips.is_some()))
    .bind(change.allowed_ips.flatten())
    .bind(i64::from(change.services.is_some()))
    .bind(change.services.flatten())
    .bind(actor.company_id)
    .bind(id)
    .fetch_optional(&mut *tx)
    .await?;
    let Some(hash) = hash else {
        tx.rollback().await?;
        return Ok(None);
    };
    for (action, detail) in &made {
        let one = NewEvent {
            action,
            detail: Some(detail),
            ..*event
        };
        insert_event(&mut tx, &one).await?;
    }
    tx.commit().await?;
    Ok(Some(changed(hash)?))
}

/// A company's maximum key lifetime in days (`None`: no limit).
pub async fn key_lifetime(db: &Db, company_id: &str) -> Result<Option<i64>, DbError> {
    Ok(
        sqlx::query_scalar("SELECT max_key_lifetime_days FROM companies WHERE id = $1")
            .bind(company_id)
            .fetch_optional(&db.pool)
            .await?
            .flatten(),
    )
}

/// The owner `actor` sets the company's maximum key lifetime and records
/// `event`, in one transaction. Keys that exist keep their expiry.
pub async fn set_key_lifetime(
    db: &Db,
    actor: &Actor<'_>,
    days: Option<i64>,
    event: &NewEvent<'_>,
) -> Result<(), WriteError> {
    let mut tx = db.pool.begin().await?;
    authorize(&mut tx, actor, Need::Owner).await?;
    sqlx::query("UPDATE companies SET max_key_lifetime_days = $1 WHERE id = $2")
        .bind(days)
        .bind(actor.company_id)
        .execute(&mut *tx)
        .await?;
    insert_event(&mut tx, event).await?;
    tx.commit().await?;
    Ok(())
}
