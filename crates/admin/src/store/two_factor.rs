//! The Admin's SQL around second steps that the shared rows
//! (`web::two_factor::store`) do not cover: removing them with the user's
//! sessions, and whether any secret is stored.

use sqlx::Row;
use web::db::Db;
use web::two_factor::passkey_store::PasskeyTables;

use super::AdminUser;

/// The user with this id.
pub async fn user_by_id(db: &Db, id: &str) -> Result<Option<AdminUser>, sqlx::Error> {
    sqlx::query_as("SELECT id, username, email, locale FROM admin_users WHERE id = $1")
        .bind(id)
        .fetch_optional(&db.pool)
        .await
}

/// Removes every second step of `user_id` (authenticator, passkeys,
/// recovery codes, pending sign-ins: what `web::two_factor::remove_every_step`
/// removes, here without a site for the CLI) and ends the user's sessions
/// but `keep` (every one when `None`), in one transaction.
pub async fn remove_second_steps(
    db: &Db,
    (tables, passkeys): (&web::two_factor::Tables, &PasskeyTables),
    user_id: &str,
    keep: Option<&str>,
) -> Result<(), sqlx::Error> {
    let mut tx = db.pool.begin().await?;
    web::two_factor::store::remove_all(&mut tx, tables, user_id).await?;
    web::two_factor::passkey_store::remove_all(&mut tx, passkeys, user_id).await?;
    web::sessions::delete_others(&mut *tx, &super::SESSIONS, user_id, keep).await?;
    tx.commit().await
}

/// How many authenticator secrets (in force or being set up) are stored:
/// encrypted under `crypt.key` like the configuration's secrets.
pub async fn count_totp_secrets(db: &Db) -> Result<i64, sqlx::Error> {
    sqlx::query(
        "SELECT COUNT(*) AS n FROM admin_totp \
         WHERE secret_enc IS NOT NULL OR pending_secret_enc IS NOT NULL",
    )
    .fetch_one(&db.pool)
    .await?
    .try_get("n")
}
