//! Repository functions: the only place the Admin's SQL lives. Written once
//! for SQLite and PostgreSQL.

use sqlx::{FromRow, Row};
use web::db::Db;

use crate::scope::{Scope, ScopeRef};

mod amazon_stores;
pub mod key_checks;
pub mod two_factor;
pub use amazon_stores::*;

#[derive(Clone, Debug, FromRow)]
pub struct AdminUser {
    pub id: String,
    pub username: String,
    pub email: String,
    pub locale: Option<String>,
}

/// A user with their password hash, for sign-in only.
#[derive(FromRow)]
struct UserWithHash {
    #[sqlx(flatten)]
    user: AdminUser,
    password_hash: String,
}

/// A session's user and when it was last seen.
#[derive(FromRow)]
struct SessionUser {
    #[sqlx(flatten)]
    user: AdminUser,
    last_seen_at: i64,
}

pub async fn create_user(
    db: &Db,
    id: &str,
    username: &str,
    email: &str,
    hash: &str,
    now: i64,
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "INSERT INTO admin_users (id, username, email, password_hash, created_at) VALUES ($1, $2, $3, $4, $5)",
    )
    .bind(id)
    .bind(username)
    .bind(email)
    .bind(hash)
    .bind(now)
    .execute(&db.pool)
    .await?;
    Ok(())
}

pub async fn count_users(db: &Db) -> Result<i64, sqlx::Error> {
    sqlx::query("SELECT COUNT(*) AS n FROM admin_users")
        .fetch_one(&db.pool)
        .await?
        .try_get("n")
}

pub async fn user_with_hash(
    db: &Db,
    username: &str,
) -> Result<Option<(AdminUser, String)>, sqlx::Error> {
    let found: Option<UserWithHash> = sqlx::query_as(
        // Usernames are ASCII (see `auth::create_user`), so lower() agrees on both
        // backends; the unique index on lower(username) serves this lookup.
        "SELECT id, username, email, locale, password_hash FROM admin_users WHERE lower(username) = lower($1)",
    )
    .bind(username)
    .fetch_optional(&db.pool)
    .await?;
    Ok(found.map(|f| (f.user, f.password_hash)))
}

/// Replaces a user's password hash and ends every session of that user, in
/// one transaction. Returns false when there is no such user.
pub async fn set_password_ending_sessions(
    db: &Db,
    user_id: &str,
    hash: &str,
) -> Result<bool, sqlx::Error> {
    let mut tx = db.pool.begin().await?;
    let done = sqlx::query("UPDATE admin_users SET password_hash = $1 WHERE id = $2")
        .bind(hash)
        .bind(user_id)
        .execute(&mut *tx)
        .await?;
    if done.rows_affected() == 0 {
        return Ok(false);
    }
    sqlx::query("DELETE FROM admin_sessions WHERE user_id = $1")
        .bind(user_id)
        .execute(&mut *tx)
        .await?;
    tx.commit().await?;
    Ok(true)
}

/// What the audit log records for a user's own password change (its path
/// column names what changed; never the password).
pub const PASSWORD_CHANGE_PATH: &str = "admin/user/password";
pub const PASSWORD_CHANGED: &str = "password_changed";

/// Replaces a signed-in user's password hash, ends the user's other
/// sessions (not `keep`) and records the change in the audit log, in one
/// transaction.
pub async fn change_password_keeping_session(
    db: &Db,
    user: &AdminUser,
    hash: &str,
    keep: &str,
    now: i64,
) -> Result<(), sqlx::Error> {
    let mut tx = db.pool.begin().await?;
    sqlx::query("UPDATE admin_users SET password_hash = $1 WHERE id = $2")
        .bind(hash)
        .bind(&user.id)
        .execute(&mut *tx)
        .await?;
    web::sessions::delete_others(&mut *tx, &SESSIONS, &user.id, Some(keep)).await?;
    sqlx::query(
        "INSERT INTO config_audit (actor, path, scope, scope_id, change, created_at) \
         VALUES ($1, $2, 'default', 0, $3, $4)",
    )
    .bind(&user.username)
    .bind(PASSWORD_CHANGE_PATH)
    .bind(PASSWORD_CHANGED)
    .bind(now)
    .execute(&mut *tx)
    .await?;
    tx.commit().await
}

/// How many stored configuration values are under any of `paths` (the encrypted ones).
pub async fn count_values_at_paths(db: &Db, paths: &[&str]) -> Result<i64, sqlx::Error> {
    if paths.is_empty() {
        return Ok(0);
    }
    let marks: Vec<String> = (1..=paths.len()).map(|i| format!("${i}")).collect();
    let sql = format!(
        "SELECT COUNT(*) AS n FROM core_config_data WHERE path IN ({})",
        marks.join(", ")
    );
    let mut q = sqlx::query(&sql);
    for p in paths {
        q = q.bind(*p);
    }
    q.fetch_one(&db.pool).await?.try_get("n")
}

pub async fn set_user_locale(db: &Db, id: &str, locale: &str) -> Result<(), sqlx::Error> {
    sqlx::query("UPDATE admin_users SET locale = $1 WHERE id = $2")
        .bind(locale)
        .bind(id)
        .execute(&db.pool)
        .await?;
    Ok(())
}

/// The session table (see `web::sessions`).
pub const SESSIONS: web::sessions::SessionTable = web::sessions::SessionTable {
    table: "admin_sessions",
    user_column: "user_id",
};

/// The user of a live session. With `second_step_required`, a session of a
/// user without a second step (an authenticator app or a passkey: one
/// started while second steps were optional) counts as none: the user
/// signs in again and sets one up.
pub async fn session_user(
    db: &Db,
    id_hash: &str,
    now: i64,
    (idle, absolute): (i64, i64),
    second_step_required: bool,
) -> Result<Option<AdminUser>, sqlx::Error> {
    let sql = format!(
        "SELECT u.id, u.username, u.email, u.locale, s.last_seen_at FROM admin_sessions s \
         JOIN admin_users u ON u.id = s.user_id \
         WHERE s.id_hash = $1 AND s.last_seen_at > $2 AND s.created_at > $3{}",
        if second_step_required {
            " AND (EXISTS (SELECT 1 FROM admin_totp t WHERE t.user_id = u.id AND t.secret_enc IS NOT NULL) \
             OR EXISTS (SELECT 1 FROM admin_passkeys k WHERE k.user_id = u.id))"
        } else {
            ""
        }
    );
    let found: Option<SessionUser> = sqlx::query_as(&sql)
        .bind(id_hash)
        .bind(now - idle)
        .bind(now - absolute)
        .fetch_optional(&db.pool)
        .await?;
    let Some(found) = found else { return Ok(None) };
    web::sessions::touch(db, &SESSIONS, id_hash, found.last_seen_at, now).await?;
    Ok(Some(found.user))
}

#[derive(Clone, Debug, FromRow)]
pub struct Website {
    #[sqlx(rename = "website_id")]
    pub id: i64,
    pub code: String,
    pub name: String,
}

#[derive(Clone, Debug, FromRow)]
pub struct StoreView {
    #[sqlx(rename = "store_id")]
    pub id: i64,
    pub code: String,
    pub website_id: i64,
    pub name: String,
}

pub async fn websites(db: &Db) -> Result<Vec<Website>, sqlx::Error> {
    sqlx::query_as("SELECT website_id, code, name FROM store_website ORDER BY website_id")
        .fetch_all(&db.pool)
        .await
}

pub async fn store_views(db: &Db) -> Result<Vec<StoreView>, sqlx::Error> {
    sqlx::query_as("SELECT store_id, code, website_id, name FROM store ORDER BY store_id")
        .fetch_all(&db.pool)
        .await
}

pub async fn scope_id_by_code(
    db: &Db,
    scope: Scope,
    code: &str,
) -> Result<Option<i64>, sqlx::Error> {
    let sql = match scope {
        Scope::Default => return Ok(Some(0)),
        Scope::Websites => "SELECT website_id AS id FROM store_website WHERE code = $1",
        Scope::Stores => "SELECT store_id AS id FROM store WHERE code = $1",
    };
    let row = sqlx::query(sql).bind(code).fetch_optional(&db.pool).await?;
    row.map(|r| r.try_get("id")).transpose()
}

/// The scopes to look in, most specific first.
pub async fn fallback_chain(db: &Db, at: ScopeRef) -> Result<Vec<ScopeRef>, sqlx::Error> {
    let mut chain = vec![at];
    if at.scope == Scope::Stores {
        let row = sqlx::query("SELECT website_id FROM store WHERE store_id = $1")
            .bind(at.id)
            .fetch_optional(&db.pool)
            .await?;
        if let Some(r) = row {
            chain.push(ScopeRef {
                scope: Scope::Websites,
                id: r.try_get("website_id")?,
            });
        }
    }
    if at.scope != Scope::Default {
        chain.push(ScopeRef::DEFAULT);
    }
    Ok(chain)
}

pub async fn config_value(
    db: &Db,
    at: ScopeRef,
    path: &str,
) -> Result<Option<String>, sqlx::Error> {
    let row = sqlx::query(
        "SELECT value FROM core_config_data WHERE scope = $1 AND scope_id = $2 AND path = $3",
    )
    .bind(at.scope.as_str())
    .bind(at.id)
    .bind(path)
    .fetch_optional(&db.pool)
    .await?;
    row.map(|r| r.try_get("value")).transpose()
}

pub async fn upsert_config(
    db: &Db,
    at: ScopeRef,
    path: &str,
    value: &str,
    now: i64,
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "INSERT INTO core_config_data (scope, scope_id, path, value, updated_at) VALUES ($1, $2, $3, $4, $5) \
         ON CONFLICT (scope, scope_id, path) DO UPDATE SET value = excluded.value, updated_at = excluded.updated_at",
    )
    .bind(at.scope.as_str())
    .bind(at.id)
    .bind(path)
    .bind(value)
    .bind(now)
    .execute(&db.pool)
    .await?;
    Ok(())
}

/// Removes a value; returns whether there was one.
pub async fn delete_config(db: &Db, at: ScopeRef, path: &str) -> Result<bool, sqlx::Error> {
    let done = sqlx::query(
        "DELETE FROM core_config_data WHERE scope = $1 AND scope_id = $2 AND path = $3",
    )
    .bind(at.scope.as_str())
    .bind(at.id)
    .bind(path)
    .execute(&db.pool)
    .await?;
    Ok(done.rows_affected() > 0)
}

pub async fn all_config(db: &Db) -> Result<Vec<(ScopeRef, String, String)>, sqlx::Error> {
    let rows = sqlx::query(
        "SELECT scope, scope_id, path, value FROM core_config_data ORDER BY path, scope, scope_id",
    )
    .fetch_all(&db.pool)
    .await?;
    rows.iter()
        .map(|r| {
            let scope: String = r.try_get("scope")?;
            Ok((
                ScopeRef {
                    scope: Scope::parse(&scope).unwrap_or(Scope::Default),
                    id: r.try_get("scope_id")?,
                },
                r.try_get("path")?,
                r.try_get("value")?,
            ))
        })
        .collect()
}

/// One configuration change: who, when, where; never the value.
#[derive(Clone, Debug, FromRow)]
pub struct ConfigChange {
    pub id: i64,
    pub actor: String,
    pub path: String,
    pub scope: String,
    pub scope_id: i64,
    /// `set` or `cleared`, `password_changed`, or an Amazon store's event
    /// (`amazon_store.deleted`, …).
    pub change: String,
    /// What the row is about in words (an Amazon store's name and country), if anything.
    pub detail: Option<String>,
    pub created_at: i64,
}

pub async fn insert_config_change(
    db: &Db,
    actor: &str,
    path: &str,
    at: ScopeRef,
    change: &str,
    now: i64,
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "INSERT INTO config_audit (actor, path, scope, scope_id, change, created_at) \
         VALUES ($1, $2, $3, $4, $5, $6)",
    )
    .bind(actor)
    .bind(path)
    .bind(at.scope.as_str())
    .bind(at.id)
    .bind(change)
    .bind(now)
    .execute(&db.pool)
    .await?;
    Ok(())
}

/// Configuration changes, newest first: at most `limit`, older than `before`.
pub async fn config_changes(
    db: &Db,
    before: Option<i64>,
    limit: i64,
) -> Result<Vec<ConfigChange>, sqlx::Error> {
    sqlx::query_as(
        "SELECT id, actor, path, scope, scope_id, change, detail, created_at FROM config_audit \
         WHERE id < $1 ORDER BY id DESC LIMIT $2",
    )
    .bind(before.unwrap_or(i64::MAX))
    .bind(limit)
    .fetch_all(&db.pool)
    .await
}
