//! The rows behind passkeys, shared by both apps: each app names its own
//! two tables and user column ([`PasskeyTables`]).

use sqlx::Row;

use crate::db::Db;

/// An app's passkey tables (compile-time constants, never input):
///
/// - `passkeys`: `(id, <user>, credential_id, name, transports,
///   static_state, dynamic_state, created_at, last_used_at)`: public keys
///   only (an authenticator never gives out its private key);
/// - `ceremonies`: `(<user>, kind, state, created_at)`: a registration or
///   sign-in started and not yet finished, one of each kind per user.
pub struct PasskeyTables {
    pub passkeys: &'static str,
    pub ceremonies: &'static str,
    pub user_column: &'static str,
}

/// A stored passkey.
#[derive(Clone, Debug)]
pub struct PasskeyRow {
    pub id: String,
    /// The credential id, base64url.
    pub credential_id: String,
    pub name: String,
    pub transports: i64,
    /// The public key and what the authenticator said of it (base64).
    pub static_state: String,
    /// The signature counter and backup flags (base64).
    pub dynamic_state: String,
    pub created_at: i64,
    pub last_used_at: Option<i64>,
}

pub async fn list(db: &Db, t: &PasskeyTables, user: &str) -> Result<Vec<PasskeyRow>, sqlx::Error> {
    let sql = format!(
        "SELECT id, credential_id, name, transports, static_state, dynamic_state, created_at, \
         last_used_at FROM {} WHERE {} = $1 ORDER BY created_at, id",
        t.passkeys, t.user_column
    );
    let rows = sqlx::query(&sql).bind(user).fetch_all(&db.pool).await?;
    rows.into_iter()
        .map(|r| {
            Ok(PasskeyRow {
                id: r.try_get(0)?,
                credential_id: r.try_get(1)?,
                name: r.try_get(2)?,
                transports: r.try_get(3)?,
                static_state: r.try_get(4)?,
                dynamic_state: r.try_get(5)?,
                created_at: r.try_get(6)?,
                last_used_at: r.try_get(7)?,
            })
        })
        .collect()
}

pub async fn count(db: &Db, t: &PasskeyTables, user: &str) -> Result<i64, sqlx::Error> {
    let sql = format!(
        "SELECT COUNT(*) FROM {} WHERE {} = $1",
        t.passkeys, t.user_column
    );
    sqlx::query_scalar(&sql)
        .bind(user)
        .fetch_one(&db.pool)
        .await
}

/// Stores a new passkey; a credential id registered before is a unique
/// violation.
pub async fn insert(
    db: &Db,
    t: &PasskeyTables,
    user: &str,
    row: &PasskeyRow,
) -> Result<(), sqlx::Error> {
    let sql = format!(
        "INSERT INTO {} (id, {}, credential_id, name, transports, static_state, dynamic_state, \
         created_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
        t.passkeys, t.user_column
    );
    sqlx::query(&sql)
        .bind(&row.id)
        .bind(user)
        .bind(&row.credential_id)
        .bind(&row.name)
        .bind(row.transports)
        .bind(&row.static_state)
        .bind(&row.dynamic_state)
        .bind(row.created_at)
        .execute(&db.pool)
        .await?;
    Ok(())
}

/// Records a sign-in with a passkey (its new counter state, when it changed).
pub async fn used(
    db: &Db,
    t: &PasskeyTables,
    user: &str,
    id: &str,
    dynamic_state: &str,
    now: i64,
) -> Result<(), sqlx::Error> {
    let sql = format!(
        "UPDATE {} SET dynamic_state = $1, last_used_at = $2 WHERE id = $3 AND {} = $4",
        t.passkeys, t.user_column
    );
    sqlx::query(&sql)
        .bind(dynamic_state)
        .bind(now)
        .bind(id)
        .bind(user)
        .execute(&db.pool)
        .await?;
    Ok(())
}

/// Removes one of the user's passkeys: true when it was there.
pub async fn remove(db: &Db, t: &PasskeyTables, user: &str, id: &str) -> Result<bool, sqlx::Error> {
    let sql = format!(
        "DELETE FROM {} WHERE id = $1 AND {} = $2",
        t.passkeys, t.user_column
    );
    let done = sqlx::query(&sql)
        .bind(id)
        .bind(user)
        .execute(&db.pool)
        .await?;
    Ok(done.rows_affected() == 1)
}

/// Removes every passkey and ceremony of the user, within the caller's transaction.
pub async fn remove_all(
    tx: &mut sqlx::Transaction<'_, sqlx::Any>,
    t: &PasskeyTables,
    user: &str,
) -> Result<(), sqlx::Error> {
    for table in [t.passkeys, t.ceremonies] {
        let sql = format!("DELETE FROM {table} WHERE {} = $1", t.user_column);
        sqlx::query(&sql).bind(user).execute(&mut **tx).await?;
    }
    Ok(())
}

/// Keeps the state of a started ceremony (replacing one of the same kind).
pub async fn put_ceremony(
    db: &Db,
    t: &PasskeyTables,
    user: &str,
    kind: &str,
    state: &str,
    now: i64,
) -> Result<(), sqlx::Error> {
    let sql = format!(
        "INSERT INTO {tbl} ({u}, kind, state, created_at) VALUES ($1, $2, $3, $4) \
         ON CONFLICT ({u}, kind) DO UPDATE SET state = $3, created_at = $4",
        tbl = t.ceremonies,
        u = t.user_column
    );
    sqlx::query(&sql)
        .bind(user)
        .bind(kind)
        .bind(state)
        .bind(now)
        .execute(&db.pool)
        .await?;
    Ok(())
}

/// Takes the state of a ceremony started at or after `since`: it can be
/// finished once (of two requests racing, one gets it).
pub async fn take_ceremony(
    db: &Db,
    t: &PasskeyTables,
    user: &str,
    kind: &str,
    since: i64,
) -> Result<Option<String>, sqlx::Error> {
    let sel = format!(
        "SELECT state FROM {} WHERE {} = $1 AND kind = $2 AND created_at >= $3",
        t.ceremonies, t.user_column
    );
    let Some(state): Option<String> = sqlx::query_scalar(&sel)
        .bind(user)
        .bind(kind)
        .bind(since)
        .fetch_optional(&db.pool)
        .await?
    else {
        return Ok(None);
    };
    let del = format!(
        "DELETE FROM {} WHERE {} = $1 AND kind = $2 AND state = $3",
        t.ceremonies, t.user_column
    );
    let done = sqlx::query(&del)
        .bind(user)
        .bind(kind)
        .bind(&state)
        .execute(&db.pool)
        .await?;
    Ok((done.rows_affected() == 1).then_some(state))
}
