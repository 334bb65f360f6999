//! Repository functions: the only place the account service's SQL lives.
//! Written once for SQLite and PostgreSQL; timestamps are Unix seconds.

use sqlx::Row;
use web::db::Db;

mod actor;
mod events;
mod members;
mod outbox;
mod purge;
mod removed;

use actor::{authorize, keeps_an_owner};
pub use actor::{Actor, Need, WriteError};
use events::insert_event;
pub use events::*;
pub use members::*;
pub use outbox::*;
pub use purge::{purge, Purged, KEEP_SECS};
pub use removed::removed_from;
pub use sqlx::Error as DbError;

#[derive(Clone, Debug)]
pub struct Account {
    pub id: String,
    pub company_id: String,
    pub company_name: String,
    pub email: String,
    pub name: String,
    pub role: String,
    pub locale: Option<String>,
}

/// An account with its password hash, for sign-in only.
pub struct Credentials {
    pub account: Account,
    pub password_hash: String,
}

#[derive(Clone, Debug)]
pub struct KeyRow {
    pub id: String,
    pub company_id: String,
    pub created_by_email: String,
    pub name: String,
    pub environment: String,
    pub hint: String,
    pub created_at: i64,
    pub expires_at: Option<i64>,
    pub revoked_at: Option<i64>,
    pub last_used_at: Option<i64>,
    /// The signing public key (SPKI PEM), when one is registered.
    pub public_key: Option<String>,
    /// The key that replaced this one when it was rolled.
    pub replaced_by: Option<String>,
}

/// What verification needs to know about a key.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct KeyState {
    pub expires_at: Option<i64>,
    pub revoked_at: Option<i64>,
}

pub struct NewKey<'a> {
    pub id: &'a str,
    pub company_id: &'a str,
    pub created_by: &'a str,
    pub name: &'a str,
    pub environment: &'a str,
    pub key_hash: &'a str,
    pub hint: &'a str,
    pub created_at: i64,
    pub expires_at: Option<i64>,
    pub public_key: Option<&'a str>,
    /// The API Portal form's one-time nonce (unique per company).
    pub create_nonce: Option<&'a str>,
}

const ACCOUNT_COLUMNS: &str =
    "a.id, a.company_id, c.name AS company_name, a.email, a.name, a.role, a.locale";

fn account_from(row: &sqlx::any::AnyRow) -> Result<Account, DbError> {
    Ok(Account {
        id: row.try_get("id")?,
        company_id: row.try_get("company_id")?,
        company_name: row.try_get("company_name")?,
        email: row.try_get("email")?,
        name: row.try_get("name")?,
        role: row.try_get("role")?,
        locale: row.try_get("locale")?,
    })
}

/// Creates a company and its owner in one transaction. A taken email is a
/// unique violation (see `web::db::is_unique_violation`).
pub struct NewOwner<'a> {
    pub company_id: &'a str,
    pub company_name: &'a str,
    pub account_id: &'a str,
    pub email: &'a str,
    pub name: &'a str,
    pub password_hash: &'a str,
    pub locale: Option<&'a str>,
    pub now: i64,
}

pub async fn create_company_with_owner(db: &Db, o: &NewOwner<'_>) -> Result<(), DbError> {
    let NewOwner {
        company_id,
        company_name,
        account_id,
        email,
        name,
        password_hash,
        locale,
        now,
    } = *o;
    let mut tx = db.pool.begin().await?;
    sqlx::query("INSERT INTO companies (id, name, created_at) VALUES ($1, $2, $3)")
        .bind(company_id)
        .bind(company_name)
        .bind(now)
        .execute(&mut *tx)
        .await?;
    sqlx::query(
        "INSERT INTO accounts (id, company_id, email, name, password_hash, role, locale, created_at) \
         VALUES ($1, $2, $3, $4, $5, 'owner', $6, $7)",
    )
    .bind(account_id)
    .bind(company_id)
    .bind(email)
    .bind(name)
    .bind(password_hash)
    .bind(locale)
    .bind(now)
    .execute(&mut *tx)
    .await?;
    tx.commit().await
}

pub async fn credentials_by_email(db: &Db, email: &str) -> Result<Option<Credentials>, DbError> {
    let sql = format!(
        "SELECT {ACCOUNT_COLUMNS}, a.password_hash FROM accounts a \
         JOIN companies c ON c.id = a.company_id WHERE a.email = $1"
    );
    let row = sqlx::query(&sql)
        .bind(email)
        .fetch_optional(&db.pool)
        .await?;
    row.map(|r| {
        Ok(Credentials {
            account: account_from(&r)?,
            password_hash: r.try_get("password_hash")?,
        })
    })
    .transpose()
}

pub async fn set_locale(db: &Db, account_id: &str, locale: &str) -> Result<(), DbError> {
    sqlx::query("UPDATE accounts SET locale = $1 WHERE id = $2")
        .bind(locale)
        .bind(account_id)
        .execute(&db.pool)
        .await?;
    Ok(())
}

/// The session table (see `web::sessions`).
pub const SESSIONS: web::sessions::SessionTable = web::sessions::SessionTable {
    table: "account_sessions",
    user_column: "account_id",
};

/// The account of a live session: seen within `idle` seconds and created
/// within `absolute` seconds. Refreshes `last_seen_at` at most once a minute.
pub async fn session_account(
    db: &Db,
    id_hash: &str,
    now: i64,
    idle: i64,
    absolute: i64,
) -> Result<Option<Account>, DbError> {
    let sql = format!(
        "SELECT {ACCOUNT_COLUMNS}, s.last_seen_at FROM account_sessions s \
         JOIN accounts a ON a.id = s.account_id JOIN companies c ON c.id = a.company_id \
         WHERE s.id_hash = $1 AND s.last_seen_at > $2 AND s.created_at > $3"
    );
    let row = sqlx::query(&sql)
        .bind(id_hash)
        .bind(now - idle)
        .bind(now - absolute)
        .fetch_optional(&db.pool)
        .await?;
    let Some(row) = row else { return Ok(None) };
    let last_seen: i64 = row.try_get("last_seen_at")?;
    web::sessions::touch(db, &SESSIONS, id_hash, last_seen, now).await?;
    account_from(&row).map(Some)
}

/// Inserts a key of the actor's company and its audit event in one
/// transaction, while the actor is a member.
pub async fn insert_key(
    db: &Db,
    actor: &Actor<'_>,
    k: &NewKey<'_>,
    event: &NewEvent<'_>,
) -> Result<(), WriteError> {
    let mut tx = db.pool.begin().await?;
    authorize(&mut tx, actor, Need::Member).await?;
    insert_key_in(&mut tx, k).await?;
    insert_event(&mut tx, event).await?;
    tx.commit().await?;
    Ok(())
}

async fn insert_key_in(conn: &mut sqlx::AnyConnection, k: &NewKey<'_>) -> Result<(), DbError> {
    sqlx::query(
        "INSERT INTO api_keys (id, company_id, created_by, name, environment, key_hash, hint, created_at, expires_at, public_key, create_nonce) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)",
    )
    .bind(k.id)
    .bind(k.company_id)
    .bind(k.created_by)
    .bind(k.name)
    .bind(k.environment)
    .bind(k.key_hash)
    .bind(k.hint)
    .bind(k.created_at)
    .bind(k.expires_at)
    .bind(k.public_key)
    .bind(k.create_nonce)
    .execute(conn)
    .await?;
    Ok(())
}

/// Rolls a key: inserts its successor, ends the old key's life at
/// `old_expires_at` (never later than it already was) and names the successor
/// on it, with the audit event, in one transaction. Returns the old key's hash,
/// or `None` when the company has no such key that is live and not already
/// rolled (then nothing is written).
pub async fn roll_key(
    db: &Db,
    actor: &Actor<'_>,
    old_id: &str,
    new: &NewKey<'_>,
    old_expires_at: i64,
    now: i64,
    event: &NewEvent<'_>,
) -> Result<Option<String>, WriteError> {
    let company_id = actor.company_id;
    let mut tx = db.pool.begin().await?;
    authorize(&mut tx, actor, Need::Member).await?;
    insert_key_in(&mut tx, new).await?;
    let row = sqlx::query(
        "UPDATE api_keys SET replaced_by = $1, \
         expires_at = CASE WHEN expires_at IS NOT NULL AND expires_at < $2 THEN expires_at ELSE $2 END \
         WHERE company_id = $3 AND id = $4 AND replaced_by IS NULL AND revoked_at IS NULL \
         AND (expires_at IS NULL OR expires_at > $5) RETURNING key_hash",
    )
    .bind(new.id)
    .bind(old_expires_at)
    .bind(company_id)
    .bind(old_id)
    .bind(now)
    .fetch_optional(&mut *tx)
    .await?;
    let Some(row) = row else {
        tx.rollback().await?;
        return Ok(None);
    };
    let hash: String = row.try_get("key_hash")?;
    insert_event(&mut tx, event).await?;
    tx.commit().await?;
    Ok(Some(hash))
}

const KEY_COLUMNS: &str =
    "k.id, k.company_id, a.email AS created_by_email, k.name, k.environment, k.hint, \
     k.created_at, k.expires_at, k.revoked_at, k.last_used_at, k.public_key, k.replaced_by";

fn key_from(r: &sqlx::any::AnyRow) -> Result<KeyRow, DbError> {
    Ok(KeyRow {
        id: r.try_get("id")?,
        company_id: r.try_get("company_id")?,
        created_by_email: r.try_get("created_by_email")?,
        name: r.try_get("name")?,
        environment: r.try_get("environment")?,
        hint: r.try_get("hint")?,
        created_at: r.try_get("created_at")?,
        expires_at: r.try_get("expires_at")?,
        revoked_at: r.try_get("revoked_at")?,
        last_used_at: r.try_get("last_used_at")?,
        public_key: r.try_get("public_key")?,
        replaced_by: r.try_get("replaced_by")?,
    })
}

/// A company's keys, newest first.
pub async fn list_keys(db: &Db, company_id: &str) -> Result<Vec<KeyRow>, DbError> {
    let sql = format!(
        "SELECT {KEY_COLUMNS} FROM api_keys k JOIN accounts a ON a.id = k.created_by \
         WHERE k.company_id = $1 ORDER BY k.created_at DESC, k.id"
    );
    let rows = sqlx::query(&sql)
        .bind(company_id)
        .fetch_all(&db.pool)
        .await?;
    rows.iter().map(key_from).collect()
}

/// One key of a company; another company's key is `None`, as if it did not exist.
pub async fn get_key(db: &Db, company_id: &str, id: &str) -> Result<Option<KeyRow>, DbError> {
    let sql = format!(
        "SELECT {KEY_COLUMNS} FROM api_keys k JOIN accounts a ON a.id = k.created_by \
         WHERE k.company_id = $1 AND k.id = $2"
    );
    let row = sqlx::query(&sql)
        .bind(company_id)
        .bind(id)
        .fetch_optional(&db.pool)
        .await?;
    row.as_ref().map(key_from).transpose()
}

/// Revokes a company's key; returns its hash, or `None` if the company has no such key.
/// Revoking twice keeps the first revocation time.
pub async fn revoke_key(
    db: &Db,
    company_id: &str,
    id: &str,
    now: i64,
) -> Result<Option<String>, DbError> {
    let mut conn = db.pool.acquire().await?;
    revoke_key_in(&mut conn, company_id, id, now)
        .await
        .map(|r| r.map(|(hash, _)| hash))
}

/// Revokes a company's key and records the event (when this call revoked it)
/// in one transaction. Returns the key's hash and whether it was live until now.
/// `by` is the member revoking it (checked in the transaction); `None` when
/// the service itself revokes (a leaked key).
pub async fn revoke_key_audited(
    db: &Db,
    company_id: &str,
    by: Option<&Actor<'_>>,
    id: &str,
    now: i64,
    event: &NewEvent<'_>,
) -> Result<Option<(String, bool)>, WriteError> {
    let mut tx = db.pool.begin().await?;
    if let Some(actor) = by {
        authorize(&mut tx, actor, Need::Member).await?;
    }
    let found = revoke_key_in(&mut tx, company_id, id, now).await?;
    if let Some((_, true)) = &found {
        insert_event(&mut tx, event).await?;
    }
    tx.commit().await?;
    Ok(found)
}

/// The hash of the key, and whether this call revoked it (it was not revoked before).
async fn revoke_key_in(
    conn: &mut sqlx::AnyConnection,
    company_id: &str,
    id: &str,
    now: i64,
) -> Result<Option<(String, bool)>, DbError> {
    let row = sqlx::query(
        "UPDATE api_keys SET revoked_at = $1 \
         WHERE company_id = $2 AND id = $3 AND revoked_at IS NULL RETURNING key_hash",
    )
    .bind(now)
    .bind(company_id)
    .bind(id)
    .fetch_optional(&mut *conn)
    .await?;
    if let Some(r) = row {
        return Ok(Some((r.try_get("key_hash")?, true)));
    }
    let row = sqlx::query("SELECT key_hash FROM api_keys WHERE company_id = $1 AND id = $2")
        .bind(company_id)
        .bind(id)
        .fetch_optional(&mut *conn)
        .await?;
    row.map(|r| Ok((r.try_get("key_hash")?, false))).transpose()
}

/// What verification loads for a key: its id, state and public key.
pub struct StoredKey {
    pub id: String,
    pub state: KeyState,
    pub public_key: Option<String>,
}

/// The verification lookup: one indexed read by hash.
pub async fn key_state(db: &Db, key_hash: &str) -> Result<Option<StoredKey>, DbError> {
    let row = sqlx::query(
        "SELECT id, expires_at, revoked_at, public_key FROM api_keys WHERE key_hash = $1",
    )
    .bind(key_hash)
    .fetch_optional(&db.pool)
    .await?;
    row.map(|r| {
        Ok(StoredKey {
            id: r.try_get("id")?,
            state: KeyState {
                expires_at: r.try_get("expires_at")?,
                revoked_at: r.try_get("revoked_at")?,
            },
            public_key: r.try_get("public_key")?,
        })
    })
    .transpose()
}

/// Replaces a company's key's public key; returns the key hash, or `None` if not found.
pub async fn set_public_key(
    db: &Db,
    actor: &Actor<'_>,
    id: &str,
    pem: Option<&str>,
) -> Result<Option<String>, WriteError> {
    let mut tx = db.pool.begin().await?;
    authorize(&mut tx, actor, Need::Member).await?;
    let row = sqlx::query(
        "UPDATE api_keys SET public_key = $1 WHERE company_id = $2 AND id = $3 RETURNING key_hash",
    )
    .bind(pem)
    .bind(actor.company_id)
    .bind(id)
    .fetch_optional(&mut *tx)
    .await?;
    let hash = row.map(|r| r.try_get("key_hash")).transpose()?;
    tx.commit().await?;
    Ok(hash)
}

/// Writes batched last-use times in one transaction; never moves a time backwards.
pub async fn record_last_used(db: &Db, uses: &[(String, i64)]) -> Result<(), DbError> {
    if uses.is_empty() {
        return Ok(());
    }
    let mut tx = db.pool.begin().await?;
    for (id, at) in uses {
        sqlx::query(
            "UPDATE api_keys SET last_used_at = $1 WHERE id = $2 AND (last_used_at IS NULL OR last_used_at < $1)",
        )
        .bind(*at)
        .bind(id)
        .execute(&mut *tx)
        .await?;
    }
    tx.commit().await
}

/// Inserts many keys in multi-row statements inside one transaction: the bulk
/// path for seeding benchmarks and imports.
pub async fn insert_keys_bulk(db: &Db, keys: &[NewKey<'_>]) -> Result<(), DbError> {
    const COLS: usize = 9;
    const ROWS_PER_STATEMENT: usize = 500;
    let mut tx = db.pool.begin().await?;
    for chunk in keys.chunks(ROWS_PER_STATEMENT) {
        let mut sql = String::from(
            "INSERT INTO api_keys (id, company_id, created_by, name, environment, key_hash, hint, created_at, expires_at) VALUES ",
        );
        for i in 0..chunk.len() {
            if i > 0 {
                sql.push(',');
            }
            let b = i * COLS;
            sql.push_str(&format!(
                "(${},${},${},${},${},${},${},${},${})",
                b + 1,
                b + 2,
                b + 3,
                b + 4,
                b + 5,
                b + 6,
                b + 7,
                b + 8,
                b + 9
            ));
        }
        let mut q = sqlx::query(&sql);
        for k in chunk {
            q = q
                .bind(k.id)
                .bind(k.company_id)
                .bind(k.created_by)
                .bind(k.name)
                .bind(k.environment)
                .bind(k.key_hash)
                .bind(k.hint)
                .bind(k.created_at)
                .bind(k.expires_at);
        }
        q.execute(&mut *tx).await?;
    }
    tx.commit().await
}

/// The company's owner, who receives its messages: email and language.
pub async fn company_owner(
    db: &Db,
    company_id: &str,
) -> Result<Option<(String, Option<String>)>, DbError> {
    let row = sqlx::query(
        "SELECT email, locale FROM accounts WHERE company_id = $1 AND role = 'owner' \
         ORDER BY created_at, id LIMIT 1",
    )
    .bind(company_id)
    .fetch_optional(&db.pool)
    .await?;
    row.map(|r| Ok((r.try_get("email")?, r.try_get("locale")?)))
        .transpose()
}

/// Any stored key by the hash of its secret, whatever its company or state.
pub async fn key_by_hash(db: &Db, key_hash: &str) -> Result<Option<KeyRow>, DbError> {
    let sql = format!(
        "SELECT {KEY_COLUMNS} FROM api_keys k JOIN accounts a ON a.id = k.created_by \
         WHERE k.key_hash = $1"
    );
    let row = sqlx::query(&sql)
        .bind(key_hash)
        .fetch_optional(&db.pool)
        .await?;
    row.as_ref().map(key_from).transpose()
}
