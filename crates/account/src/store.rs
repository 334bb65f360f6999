//! Repository functions: the only place the account service's SQL lives.
//! Written once for SQLite and PostgreSQL; timestamps are Unix seconds.

use sqlx::Row;
use web::db::Db;

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

pub async fn create_session(
    db: &Db,
    id_hash: &str,
    account_id: &str,
    now: i64,
) -> Result<(), DbError> {
    sqlx::query(
        "INSERT INTO account_sessions (id_hash, account_id, created_at, last_seen_at) VALUES ($1, $2, $3, $3)",
    )
    .bind(id_hash)
    .bind(account_id)
    .bind(now)
    .execute(&db.pool)
    .await?;
    Ok(())
}

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
    if now - last_seen >= 60 {
        sqlx::query("UPDATE account_sessions SET last_seen_at = $1 WHERE id_hash = $2")
            .bind(now)
            .bind(id_hash)
            .execute(&db.pool)
            .await?;
    }
    account_from(&row).map(Some)
}

pub async fn delete_session(db: &Db, id_hash: &str) -> Result<(), DbError> {
    sqlx::query("DELETE FROM account_sessions WHERE id_hash = $1")
        .bind(id_hash)
        .execute(&db.pool)
        .await?;
    Ok(())
}

pub async fn insert_key(db: &Db, k: &NewKey<'_>) -> Result<(), DbError> {
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
    .execute(&db.pool)
    .await?;
    Ok(())
}

const KEY_COLUMNS: &str =
    "k.id, k.company_id, a.email AS created_by_email, k.name, k.environment, k.hint, \
     k.created_at, k.expires_at, k.revoked_at, k.last_used_at, k.public_key";

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
    let row = sqlx::query(
        "UPDATE api_keys SET revoked_at = COALESCE(revoked_at, $1) \
         WHERE company_id = $2 AND id = $3 RETURNING key_hash",
    )
    .bind(now)
    .bind(company_id)
    .bind(id)
    .fetch_optional(&db.pool)
    .await?;
    row.map(|r| r.try_get("key_hash")).transpose()
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
    company_id: &str,
    id: &str,
    pem: Option<&str>,
) -> Result<Option<String>, DbError> {
    let row = sqlx::query(
        "UPDATE api_keys SET public_key = $1 WHERE company_id = $2 AND id = $3 RETURNING key_hash",
    )
    .bind(pem)
    .bind(company_id)
    .bind(id)
    .fetch_optional(&db.pool)
    .await?;
    row.map(|r| r.try_get("key_hash")).transpose()
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
