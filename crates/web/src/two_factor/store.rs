//! The rows behind a second step, shared by both apps: each app names its
//! own three tables and user column ([`Tables`]); the SQL is the same.

use sqlx::Row;

use crate::db::Db;

/// An app's tables for second steps (compile-time constants, never input):
///
/// - `totp`: `(<user>, secret_enc, pending_secret_enc, last_step,
///   confirmed_at, created_at)`, one row per user;
/// - `recovery`: `(<user>, code_hash, used_at)`;
/// - `pending`: `(id_hash, <user>, name, setup, attempts, created_at)`,
///   sign-ins waiting for their second step.
pub struct Tables {
    pub totp: &'static str,
    pub recovery: &'static str,
    pub pending: &'static str,
    pub user_column: &'static str,
}

/// A user's authenticator-app row.
pub struct TotpRow {
    /// The secret in force (encrypted), once confirmed.
    pub secret_enc: Option<String>,
    /// A secret shown for setting up, not yet confirmed (encrypted).
    pub pending_secret_enc: Option<String>,
}

pub async fn totp_row(db: &Db, t: &Tables, user: &str) -> Result<Option<TotpRow>, sqlx::Error> {
    let sql = format!(
        "SELECT secret_enc, pending_secret_enc FROM {} WHERE {} = $1",
        t.totp, t.user_column
    );
    let row = sqlx::query(&sql)
        .bind(user)
        .fetch_optional(&db.pool)
        .await?;
    row.map(|r| {
        Ok(TotpRow {
            secret_enc: r.try_get(0)?,
            pending_secret_enc: r.try_get(1)?,
        })
    })
    .transpose()
}

/// Keeps `secret_enc` as the user's secret to be confirmed (replacing an
/// earlier unconfirmed one; one in force stays in force until then).
pub async fn put_pending_secret(
    db: &Db,
    t: &Tables,
    user: &str,
    secret_enc: &str,
    now: i64,
) -> Result<(), sqlx::Error> {
    let sql = format!(
        "INSERT INTO {tbl} ({u}, pending_secret_enc, last_step, created_at) VALUES ($1, $2, 0, $3) \
         ON CONFLICT ({u}) DO UPDATE SET pending_secret_enc = $2",
        tbl = t.totp,
        u = t.user_column
    );
    sqlx::query(&sql)
        .bind(user)
        .bind(secret_enc)
        .bind(now)
        .execute(&db.pool)
        .await?;
    Ok(())
}

/// Records that the code of `step` was used: true only for the first use
/// of a step later than every step used before, so a code works once even
/// when sent twice at the same moment.
pub async fn claim_step(db: &Db, t: &Tables, user: &str, step: i64) -> Result<bool, sqlx::Error> {
    let sql = format!(
        "UPDATE {} SET last_step = $1 WHERE {} = $2 AND last_step < $1",
        t.totp, t.user_column
    );
    let done = sqlx::query(&sql)
        .bind(step)
        .bind(user)
        .execute(&db.pool)
        .await?;
    Ok(done.rows_affected() == 1)
}

/// Puts the confirmed pending secret in force (the code of `step` counts
/// as used), and, when `codes` are given, replaces the recovery codes with
/// them; false when the pending secret changed meanwhile.
pub async fn confirm_secret(
    db: &Db,
    t: &Tables,
    user: &str,
    pending_enc: &str,
    step: i64,
    codes: Option<&[String]>,
    now: i64,
) -> Result<bool, sqlx::Error> {
    let mut tx = db.pool.begin().await?;
    let sql = format!(
        "UPDATE {} SET secret_enc = pending_secret_enc, pending_secret_enc = NULL, \
         last_step = $1, confirmed_at = $2 WHERE {} = $3 AND pending_secret_enc = $4",
        t.totp, t.user_column
    );
    let done = sqlx::query(&sql)
        .bind(step)
        .bind(now)
        .bind(user)
        .bind(pending_enc)
        .execute(&mut *tx)
        .await?;
    if done.rows_affected() != 1 {
        return Ok(false);
    }
    if let Some(codes) = codes {
        replace_codes(&mut tx, t, user, codes).await?;
    }
    tx.commit().await?;
    Ok(true)
}

async fn replace_codes(
    tx: &mut sqlx::Transaction<'_, sqlx::Any>,
    t: &Tables,
    user: &str,
    hashes: &[String],
) -> Result<(), sqlx::Error> {
    let del = format!("DELETE FROM {} WHERE {} = $1", t.recovery, t.user_column);
    sqlx::query(&del).bind(user).execute(&mut **tx).await?;
    let ins = format!(
        "INSERT INTO {} ({}, code_hash) VALUES ($1, $2)",
        t.recovery, t.user_column
    );
    for h in hashes {
        sqlx::query(&ins)
            .bind(user)
            .bind(h)
            .execute(&mut **tx)
            .await?;
    }
    Ok(())
}

/// Replaces the user's recovery codes with `hashes`.
pub async fn set_recovery_codes(
    db: &Db,
    t: &Tables,
    user: &str,
    hashes: &[String],
) -> Result<(), sqlx::Error> {
    let mut tx = db.pool.begin().await?;
    replace_codes(&mut tx, t, user, hashes).await?;
    tx.commit().await
}

/// Uses the recovery code hashing to `hash`: true the first time only.
pub async fn use_recovery_code(
    db: &Db,
    t: &Tables,
    user: &str,
    hash: &str,
    now: i64,
) -> Result<bool, sqlx::Error> {
    let sql = format!(
        "UPDATE {} SET used_at = $1 WHERE {} = $2 AND code_hash = $3 AND used_at IS NULL",
        t.recovery, t.user_column
    );
    let done = sqlx::query(&sql)
        .bind(now)
        .bind(user)
        .bind(hash)
        .execute(&db.pool)
        .await?;
    Ok(done.rows_affected() == 1)
}

/// (whether an authenticator app is in force, recovery codes ever made,
/// recovery codes left).
pub async fn counts(db: &Db, t: &Tables, user: &str) -> Result<(bool, i64, i64), sqlx::Error> {
    let sql = format!(
        "SELECT (SELECT COUNT(*) FROM {totp} WHERE {u} = $1 AND secret_enc IS NOT NULL), \
         (SELECT COUNT(*) FROM {rec} WHERE {u} = $1), \
         (SELECT COUNT(*) FROM {rec} WHERE {u} = $1 AND used_at IS NULL)",
        totp = t.totp,
        rec = t.recovery,
        u = t.user_column
    );
    let row = sqlx::query(&sql).bind(user).fetch_one(&db.pool).await?;
    Ok((
        row.try_get::<i64, _>(0)? > 0,
        row.try_get(1)?,
        row.try_get(2)?,
    ))
}

/// Removes every second step of the user, recovery codes and pending
/// sign-ins included, within the caller's transaction.
pub async fn remove_all<'c>(
    tx: &mut sqlx::Transaction<'c, sqlx::Any>,
    t: &Tables,
    user: &str,
) -> Result<(), sqlx::Error> {
    for table in [t.totp, t.recovery, t.pending] {
        let sql = format!("DELETE FROM {table} WHERE {} = $1", t.user_column);
        sqlx::query(&sql).bind(user).execute(&mut **tx).await?;
    }
    Ok(())
}

/// A sign-in waiting for its second step.
#[derive(Clone, Debug)]
pub struct PendingRow {
    pub user_id: String,
    /// The email or username signed in with (for the sign-in throttles).
    pub name: String,
    /// The user must set up a second step before the session starts.
    pub setup: bool,
    pub created_at: i64,
}

pub async fn create_pending(
    db: &Db,
    t: &Tables,
    id_hash: &str,
    row: &PendingRow,
) -> Result<(), sqlx::Error> {
    let sql = format!(
        "INSERT INTO {} (id_hash, {}, name, setup, attempts, created_at) VALUES ($1, $2, $3, $4, 0, $5)",
        t.pending, t.user_column
    );
    sqlx::query(&sql)
        .bind(id_hash)
        .bind(&row.user_id)
        .bind(&row.name)
        .bind(i64::from(row.setup))
        .bind(row.created_at)
        .execute(&db.pool)
        .await?;
    Ok(())
}

/// The pending sign-in `id_hash` started at or after `since`.
pub async fn pending(
    db: &Db,
    t: &Tables,
    id_hash: &str,
    since: i64,
) -> Result<Option<PendingRow>, sqlx::Error> {
    let sql = format!(
        "SELECT {}, name, setup, created_at FROM {} WHERE id_hash = $1 AND created_at >= $2",
        t.user_column, t.pending
    );
    let row = sqlx::query(&sql)
        .bind(id_hash)
        .bind(since)
        .fetch_optional(&db.pool)
        .await?;
    row.map(|r| {
        Ok(PendingRow {
            user_id: r.try_get(0)?,
            name: r.try_get(1)?,
            setup: r.try_get::<i64, _>(2)? != 0,
            created_at: r.try_get(3)?,
        })
    })
    .transpose()
}

/// Counts a wrong code against the pending sign-in; true while it may try
/// again (fewer than `max` wrong codes), false once it has ended.
pub async fn count_wrong(
    db: &Db,
    t: &Tables,
    id_hash: &str,
    max: i64,
) -> Result<bool, sqlx::Error> {
    let sql = format!(
        "UPDATE {} SET attempts = attempts + 1 WHERE id_hash = $1",
        t.pending
    );
    sqlx::query(&sql).bind(id_hash).execute(&db.pool).await?;
    let del = format!(
        "DELETE FROM {} WHERE id_hash = $1 AND attempts >= $2",
        t.pending
    );
    let done = sqlx::query(&del)
        .bind(id_hash)
        .bind(max)
        .execute(&db.pool)
        .await?;
    Ok(done.rows_affected() == 0)
}

/// Ends a pending sign-in: true for the one caller that ended it.
pub async fn take_pending(db: &Db, t: &Tables, id_hash: &str) -> Result<bool, sqlx::Error> {
    let sql = format!("DELETE FROM {} WHERE id_hash = $1", t.pending);
    let done = sqlx::query(&sql).bind(id_hash).execute(&db.pool).await?;
    Ok(done.rows_affected() == 1)
}

/// Forgets pending sign-ins started before `before`.
pub async fn purge_pending(db: &Db, t: &Tables, before: i64) -> Result<u64, sqlx::Error> {
    let sql = format!("DELETE FROM {} WHERE created_at < $1", t.pending);
    let done = sqlx::query(&sql).bind(before).execute(&db.pool).await?;
    Ok(done.rows_affected())
}

/// Every stored secret (`(user, secret_enc, pending_secret_enc)`), for
/// re-encryption under a new data key.
pub async fn all_secrets(
    db: &Db,
    t: &Tables,
) -> Result<Vec<(String, Option<String>, Option<String>)>, sqlx::Error> {
    let sql = format!(
        "SELECT {}, secret_enc, pending_secret_enc FROM {}",
        t.user_column, t.totp
    );
    let rows = sqlx::query(&sql).fetch_all(&db.pool).await?;
    rows.into_iter()
        .map(|r| Ok((r.try_get(0)?, r.try_get(1)?, r.try_get(2)?)))
        .collect()
}

/// Stores re-encrypted secrets of a user (only where they are unchanged).
pub async fn replace_secrets(
    db: &Db,
    t: &Tables,
    user: &str,
    old: (Option<&str>, Option<&str>),
    new: (Option<&str>, Option<&str>),
) -> Result<bool, sqlx::Error> {
    let sql = format!(
        "UPDATE {} SET secret_enc = $1, pending_secret_enc = $2 WHERE {} = $3 \
         AND secret_enc IS NOT DISTINCT FROM $4 AND pending_secret_enc IS NOT DISTINCT FROM $5",
        t.totp, t.user_column
    );
    let done = sqlx::query(&sql)
        .bind(new.0)
        .bind(new.1)
        .bind(user)
        .bind(old.0)
        .bind(old.1)
        .execute(&db.pool)
        .await?;
    Ok(done.rows_affected() == 1)
}
