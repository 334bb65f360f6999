//! Repository functions: the only place the account service's SQL lives.
//! Written once for SQLite and PostgreSQL; timestamps are Unix seconds.

use sqlx::Row;
use web::db::Db;

mod actor;
mod purge;
mod removed;

use actor::{authorize, keeps_an_owner};
pub use actor::{Actor, Need, WriteError};
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

/// An audit event to record. `actor` is the acting user's email (copied, so
/// the trail outlives the account) or a name such as `secret-scanning`.
pub struct NewEvent<'a> {
    pub company_id: Option<&'a str>,
    pub actor_id: Option<&'a str>,
    pub actor: Option<&'a str>,
    pub action: &'a str,
    pub target: Option<&'a str>,
    /// A JSON object of non-secret facts (a key's name and hint, a grace period...).
    pub detail: Option<&'a str>,
    pub ip: Option<&'a str>,
    pub at: i64,
}

#[derive(Clone, Debug)]
pub struct EventRow {
    pub id: i64,
    pub actor: Option<String>,
    pub action: String,
    pub target: Option<String>,
    pub detail: Option<String>,
    pub ip: Option<String>,
    pub created_at: i64,
}

async fn insert_event(conn: &mut sqlx::AnyConnection, e: &NewEvent<'_>) -> Result<(), DbError> {
    sqlx::query(
        "INSERT INTO audit_events (company_id, actor_id, actor, action, target, detail, ip, created_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
    )
    .bind(e.company_id)
    .bind(e.actor_id)
    .bind(e.actor)
    .bind(e.action)
    .bind(e.target)
    .bind(e.detail)
    .bind(e.ip)
    .bind(e.at)
    .execute(conn)
    .await?;
    Ok(())
}

/// Records one audit event on its own.
pub async fn record_event(db: &Db, e: &NewEvent<'_>) -> Result<(), DbError> {
    let mut conn = db.pool.acquire().await?;
    insert_event(&mut conn, e).await
}

/// A company's audit events, newest first: at most `limit`, older than event
/// `before` when given (the next page of a listing).
pub async fn list_events(
    db: &Db,
    company_id: &str,
    before: Option<i64>,
    limit: i64,
) -> Result<Vec<EventRow>, DbError> {
    let rows = sqlx::query(
        "SELECT id, actor, action, target, detail, ip, created_at FROM audit_events \
         WHERE company_id = $1 AND id < $2 ORDER BY id DESC LIMIT $3",
    )
    .bind(company_id)
    .bind(before.unwrap_or(i64::MAX))
    .bind(limit)
    .fetch_all(&db.pool)
    .await?;
    rows.iter()
        .map(|r| {
            Ok(EventRow {
                id: r.try_get("id")?,
                actor: r.try_get("actor")?,
                action: r.try_get("action")?,
                target: r.try_get("target")?,
                detail: r.try_get("detail")?,
                ip: r.try_get("ip")?,
                created_at: r.try_get("created_at")?,
            })
        })
        .collect()
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

/// A message for the outbox.
pub struct NewMessage<'a> {
    pub company_id: Option<&'a str>,
    pub recipient: &'a str,
    pub kind: &'a str,
    pub subject: &'a str,
    pub body: &'a str,
    /// A message with the same dedupe key is never queued twice.
    pub dedupe_key: Option<&'a str>,
    pub at: i64,
}

#[derive(Clone, Debug)]
pub struct MessageRow {
    pub id: i64,
    pub recipient: String,
    pub kind: String,
    pub subject: String,
    pub body: String,
    pub created_at: i64,
    pub sent_at: Option<i64>,
    pub attempts: i64,
    pub last_error: Option<String>,
    /// An invitation's message: its body has a placeholder for the link's token.
    pub invitation_id: Option<String>,
}

const MESSAGE_COLUMNS: &str =
    "id, recipient, kind, subject, body, created_at, sent_at, attempts, last_error, invitation_id";

fn message_from(r: &sqlx::any::AnyRow) -> Result<MessageRow, DbError> {
    Ok(MessageRow {
        id: r.try_get("id")?,
        recipient: r.try_get("recipient")?,
        kind: r.try_get("kind")?,
        subject: r.try_get("subject")?,
        body: r.try_get("body")?,
        created_at: r.try_get("created_at")?,
        sent_at: r.try_get("sent_at")?,
        attempts: r.try_get("attempts")?,
        last_error: r.try_get("last_error")?,
        invitation_id: r.try_get("invitation_id")?,
    })
}

/// Queues a message, and with it an audit event, in one transaction. False
/// (and nothing written) when a message with its dedupe key exists already.
pub async fn enqueue_message(
    db: &Db,
    m: &NewMessage<'_>,
    event: Option<&NewEvent<'_>>,
) -> Result<bool, DbError> {
    let mut tx = db.pool.begin().await?;
    let done = sqlx::query(
        "INSERT INTO outbox (company_id, recipient, kind, subject, body, dedupe_key, created_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7) ON CONFLICT (dedupe_key) DO NOTHING",
    )
    .bind(m.company_id)
    .bind(m.recipient)
    .bind(m.kind)
    .bind(m.subject)
    .bind(m.body)
    .bind(m.dedupe_key)
    .bind(m.at)
    .execute(&mut *tx)
    .await?;
    if done.rows_affected() == 0 {
        tx.rollback().await?;
        return Ok(false);
    }
    if let Some(e) = event {
        insert_event(&mut tx, e).await?;
    }
    tx.commit().await?;
    Ok(true)
}

/// Live keys (not revoked, not rolled) that expire in `(from, to]` and have
/// no message with dedupe key `prefix || id` yet: at most `limit` of them.
pub async fn keys_to_notify(
    db: &Db,
    from: i64,
    to: i64,
    prefix: &str,
    limit: i64,
) -> Result<Vec<KeyRow>, DbError> {
    let sql = format!(
        "SELECT {KEY_COLUMNS} FROM api_keys k JOIN accounts a ON a.id = k.created_by \
         WHERE k.expires_at > $1 AND k.expires_at <= $2 AND k.revoked_at IS NULL \
         AND k.replaced_by IS NULL \
         AND NOT EXISTS (SELECT 1 FROM outbox o WHERE o.dedupe_key = $3 || k.id) \
         ORDER BY k.expires_at LIMIT $4"
    );
    let rows = sqlx::query(&sql)
        .bind(from)
        .bind(to)
        .bind(prefix)
        .bind(limit)
        .fetch_all(&db.pool)
        .await?;
    rows.iter().map(key_from).collect()
}

/// An invitation's message may be sent only while the invitation can still
/// be used (not withdrawn, used or expired at `$now`).
const SENDABLE: &str = "(invitation_id IS NULL OR EXISTS (SELECT 1 FROM invitations i \
     WHERE i.id = outbox.invitation_id AND i.accepted_at IS NULL AND i.revoked_at IS NULL \
     AND i.expires_at > $2))";

/// Unsent messages that no worker holds and that may still be sent, oldest first.
pub async fn unsent_messages(
    db: &Db,
    now: i64,
    max_attempts: i64,
    limit: i64,
) -> Result<Vec<MessageRow>, DbError> {
    let sql = format!(
        "SELECT {MESSAGE_COLUMNS} FROM outbox WHERE sent_at IS NULL AND attempts < $1 \
         AND (claimed_until IS NULL OR claimed_until <= $2) AND {SENDABLE} ORDER BY id LIMIT $3"
    );
    let rows = sqlx::query(&sql)
        .bind(max_attempts)
        .bind(now)
        .bind(limit)
        .fetch_all(&db.pool)
        .await?;
    rows.iter().map(message_from).collect()
}

/// Takes a message for sending until `until`: false when another worker (or
/// node) has it, it was sent meanwhile, or its invitation was withdrawn,
/// used or has expired (such a message is never sent).
pub async fn claim_message(db: &Db, id: i64, now: i64, until: i64) -> Result<bool, DbError> {
    let sql = format!(
        "UPDATE outbox SET claimed_until = $1, attempts = attempts + 1 \
         WHERE id = $3 AND sent_at IS NULL AND (claimed_until IS NULL OR claimed_until <= $2) \
         AND {SENDABLE}"
    );
    let done = sqlx::query(&sql)
        .bind(until)
        .bind(now)
        .bind(id)
        .execute(&db.pool)
        .await?;
    Ok(done.rows_affected() == 1)
}

pub async fn mark_sent(db: &Db, id: i64, now: i64) -> Result<(), DbError> {
    sqlx::query("UPDATE outbox SET sent_at = $1, last_error = NULL WHERE id = $2")
        .bind(now)
        .bind(id)
        .execute(&db.pool)
        .await?;
    Ok(())
}

/// Records why sending failed; the message is tried again once its claim ends.
pub async fn mark_failed(db: &Db, id: i64, error: &str) -> Result<(), DbError> {
    sqlx::query("UPDATE outbox SET last_error = $1 WHERE id = $2")
        .bind(error)
        .bind(id)
        .execute(&db.pool)
        .await?;
    Ok(())
}

/// A company's messages, newest first.
pub async fn list_messages(
    db: &Db,
    company_id: &str,
    limit: i64,
) -> Result<Vec<MessageRow>, DbError> {
    let sql = format!(
        "SELECT {MESSAGE_COLUMNS} FROM outbox WHERE company_id = $1 ORDER BY id DESC LIMIT $2"
    );
    let rows = sqlx::query(&sql)
        .bind(company_id)
        .bind(limit)
        .fetch_all(&db.pool)
        .await?;
    rows.iter().map(message_from).collect()
}

// ---- Members and invitations ----

/// A member of a company, as listed.
#[derive(Clone, Debug)]
pub struct MemberRow {
    pub id: String,
    pub email: String,
    pub name: String,
    pub role: String,
    pub joined_at: i64,
}

/// A company's members, owners first, then by when they joined.
pub async fn list_members(db: &Db, company_id: &str) -> Result<Vec<MemberRow>, DbError> {
    let rows = sqlx::query(
        "SELECT id, email, name, role, COALESCE(joined_at, created_at) AS joined FROM accounts \
         WHERE company_id = $1 ORDER BY CASE WHEN role = 'owner' THEN 0 ELSE 1 END, joined, id",
    )
    .bind(company_id)
    .fetch_all(&db.pool)
    .await?;
    rows.iter().map(member_from).collect()
}

/// One member of a company; another company's account is `None`.
pub async fn get_member(db: &Db, company_id: &str, id: &str) -> Result<Option<MemberRow>, DbError> {
    let row = sqlx::query(
        "SELECT id, email, name, role, COALESCE(joined_at, created_at) AS joined FROM accounts \
         WHERE company_id = $1 AND id = $2",
    )
    .bind(company_id)
    .bind(id)
    .fetch_optional(&db.pool)
    .await?;
    row.as_ref().map(member_from).transpose()
}

fn member_from(r: &sqlx::any::AnyRow) -> Result<MemberRow, DbError> {
    Ok(MemberRow {
        id: r.try_get("id")?,
        email: r.try_get("email")?,
        name: r.try_get("name")?,
        role: r.try_get("role")?,
        joined_at: r.try_get("joined")?,
    })
}

#[derive(Clone, Debug)]
pub struct InvitationRow {
    pub id: String,
    pub company_id: String,
    pub company_name: String,
    pub email: String,
    pub role: String,
    pub invited_by: String,
    pub created_at: i64,
    pub expires_at: i64,
    pub accepted_at: Option<i64>,
    pub revoked_at: Option<i64>,
}

const INVITATION_COLUMNS: &str = "i.id, i.company_id, c.name AS company_name, i.email, i.role, \
     i.invited_by, i.created_at, i.expires_at, i.accepted_at, i.revoked_at";

fn invitation_from(r: &sqlx::any::AnyRow) -> Result<InvitationRow, DbError> {
    Ok(InvitationRow {
        id: r.try_get("id")?,
        company_id: r.try_get("company_id")?,
        company_name: r.try_get("company_name")?,
        email: r.try_get("email")?,
        role: r.try_get("role")?,
        invited_by: r.try_get("invited_by")?,
        created_at: r.try_get("created_at")?,
        expires_at: r.try_get("expires_at")?,
        accepted_at: r.try_get("accepted_at")?,
        revoked_at: r.try_get("revoked_at")?,
    })
}

pub async fn get_invitation(db: &Db, id: &str) -> Result<Option<InvitationRow>, DbError> {
    let sql = format!(
        "SELECT {INVITATION_COLUMNS} FROM invitations i JOIN companies c ON c.id = i.company_id \
         WHERE i.id = $1"
    );
    let row = sqlx::query(&sql).bind(id).fetch_optional(&db.pool).await?;
    row.as_ref().map(invitation_from).transpose()
}

/// A company's invitations that can still be accepted, newest first.
pub async fn pending_invitations(
    db: &Db,
    company_id: &str,
    now: i64,
) -> Result<Vec<InvitationRow>, DbError> {
    let sql = format!(
        "SELECT {INVITATION_COLUMNS} FROM invitations i JOIN companies c ON c.id = i.company_id \
         WHERE i.company_id = $1 AND i.accepted_at IS NULL AND i.revoked_at IS NULL \
         AND i.expires_at > $2 ORDER BY i.created_at DESC, i.id"
    );
    let rows = sqlx::query(&sql)
        .bind(company_id)
        .bind(now)
        .fetch_all(&db.pool)
        .await?;
    rows.iter().map(invitation_from).collect()
}

/// Whether an account with this email is in the company.
pub async fn is_member(db: &Db, company_id: &str, email: &str) -> Result<bool, DbError> {
    let row = sqlx::query("SELECT id FROM accounts WHERE company_id = $1 AND email = $2")
        .bind(company_id)
        .bind(email)
        .fetch_optional(&db.pool)
        .await?;
    Ok(row.is_some())
}

pub struct NewInvitation<'a> {
    pub id: &'a str,
    pub company_id: &'a str,
    pub email: &'a str,
    pub role: &'a str,
    pub invited_by: &'a str,
    pub at: i64,
    pub expires_at: i64,
}

/// Creates an invitation with its message and audit event, in one
/// transaction. Earlier pending invitations of the same email to the same
/// company are revoked: only the newest link works.
pub async fn create_invitation(
    db: &Db,
    actor: &Actor<'_>,
    limits: &InvitationLimits,
    inv: &NewInvitation<'_>,
    message: &NewMessage<'_>,
    event: &NewEvent<'_>,
) -> Result<(), WriteError> {
    let mut tx = db.pool.begin().await?;
    authorize(&mut tx, actor, Need::Owner).await?;
    // Counted under the company's lock, so parallel requests cannot pass them.
    let pending: i64 = sqlx::query_scalar(
        "SELECT COUNT(*) FROM invitations WHERE company_id = $1 AND accepted_at IS NULL \
         AND revoked_at IS NULL AND expires_at > $2",
    )
    .bind(inv.company_id)
    .bind(inv.at)
    .fetch_one(&mut *tx)
    .await?;
    if pending >= limits.max_pending {
        return Err(WriteError::TooManyPending(limits.max_pending));
    }
    let since = inv.at - limits.window_secs;
    let recent: Vec<i64> = sqlx::query_scalar(
        "SELECT created_at FROM invitations WHERE company_id = $1 AND created_at > $2 \
         ORDER BY created_at LIMIT $3",
    )
    .bind(inv.company_id)
    .bind(since)
    .bind(limits.per_window)
    .fetch_all(&mut *tx)
    .await?;
    if recent.len() as i64 >= limits.per_window {
        // Room again when the oldest of the window's invitations leaves it.
        let oldest = recent.first().copied().unwrap_or(inv.at);
        return Err(WriteError::RateLimited(
            (oldest + limits.window_secs - inv.at).max(1) as u64,
        ));
    }
    sqlx::query(
        "UPDATE invitations SET revoked_at = $1 WHERE company_id = $2 AND email = $3 \
         AND accepted_at IS NULL AND revoked_at IS NULL",
    )
    .bind(inv.at)
    .bind(inv.company_id)
    .bind(inv.email)
    .execute(&mut *tx)
    .await?;
    sqlx::query(
        "INSERT INTO invitations (id, company_id, email, role, invited_by, created_at, expires_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7)",
    )
    .bind(inv.id)
    .bind(inv.company_id)
    .bind(inv.email)
    .bind(inv.role)
    .bind(inv.invited_by)
    .bind(inv.at)
    .bind(inv.expires_at)
    .execute(&mut *tx)
    .await?;
    sqlx::query(
        "INSERT INTO outbox (company_id, recipient, kind, subject, body, dedupe_key, created_at, invitation_id) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
    )
    .bind(message.company_id)
    .bind(message.recipient)
    .bind(message.kind)
    .bind(message.subject)
    .bind(message.body)
    .bind(message.dedupe_key)
    .bind(message.at)
    .bind(inv.id)
    .execute(&mut *tx)
    .await?;
    insert_event(&mut tx, event).await?;
    tx.commit().await?;
    Ok(())
}

/// How many invitations a company may have waiting, and send per window.
#[derive(Clone, Copy, Debug)]
pub struct InvitationLimits {
    pub max_pending: i64,
    pub per_window: i64,
    pub window_secs: i64,
}

/// Revokes a company's pending invitation; false when there is none.
pub async fn revoke_invitation(
    db: &Db,
    actor: &Actor<'_>,
    id: &str,
    now: i64,
    event: &NewEvent<'_>,
) -> Result<bool, WriteError> {
    let company_id = actor.company_id;
    let mut tx = db.pool.begin().await?;
    authorize(&mut tx, actor, Need::Owner).await?;
    let done = sqlx::query(
        "UPDATE invitations SET revoked_at = $1 WHERE company_id = $2 AND id = $3 \
         AND accepted_at IS NULL AND revoked_at IS NULL",
    )
    .bind(now)
    .bind(company_id)
    .bind(id)
    .execute(&mut *tx)
    .await?;
    if done.rows_affected() == 0 {
        tx.rollback().await?;
        return Ok(false);
    }
    insert_event(&mut tx, event).await?;
    tx.commit().await?;
    Ok(true)
}

/// Marks an invitation used, if it still can be: the single use is this
/// conditional update, so two tabs cannot both join.
async fn take_invitation(
    conn: &mut sqlx::AnyConnection,
    id: &str,
    account_id: &str,
    now: i64,
) -> Result<bool, DbError> {
    let done = sqlx::query(
        "UPDATE invitations SET accepted_at = $1, accepted_by = $2 WHERE id = $3 \
         AND accepted_at IS NULL AND revoked_at IS NULL AND expires_at > $1",
    )
    .bind(now)
    .bind(account_id)
    .bind(id)
    .execute(&mut *conn)
    .await?;
    Ok(done.rows_affected() == 1)
}

/// A new account made by accepting an invitation.
pub struct NewMember<'a> {
    pub invitation_id: &'a str,
    pub company_id: &'a str,
    pub account_id: &'a str,
    pub email: &'a str,
    pub name: &'a str,
    pub password_hash: &'a str,
    pub role: &'a str,
    pub locale: Option<&'a str>,
    pub now: i64,
}

/// Why accepting did not happen.
#[derive(Debug)]
pub enum AcceptError {
    /// Used, revoked or expired meanwhile.
    Gone,
    Db(DbError),
}

impl From<DbError> for AcceptError {
    fn from(e: DbError) -> Self {
        AcceptError::Db(e)
    }
}

/// Creates the invitee's account in the company and uses the invitation, in
/// one transaction. A taken email is a unique violation.
pub async fn accept_as_new_account(
    db: &Db,
    m: &NewMember<'_>,
    event: &NewEvent<'_>,
) -> Result<(), AcceptError> {
    let mut tx = db.pool.begin().await?;
    sqlx::query(
        "INSERT INTO accounts (id, company_id, email, name, password_hash, role, locale, created_at, joined_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $8)",
    )
    .bind(m.account_id)
    .bind(m.company_id)
    .bind(m.email)
    .bind(m.name)
    .bind(m.password_hash)
    .bind(m.role)
    .bind(m.locale)
    .bind(m.now)
    .execute(&mut *tx)
    .await?;
    if !take_invitation(&mut tx, m.invitation_id, m.account_id, m.now).await? {
        tx.rollback().await?;
        return Err(AcceptError::Gone);
    }
    insert_event(&mut tx, event).await?;
    tx.commit().await?;
    Ok(())
}

/// What an account leaves behind in its company: other accounts, and keys
/// that still verify.
pub async fn company_holdings(
    db: &Db,
    company_id: &str,
    account_id: &str,
    now: i64,
) -> Result<(i64, i64), DbError> {
    let others: i64 =
        sqlx::query_scalar("SELECT COUNT(*) FROM accounts WHERE company_id = $1 AND id <> $2")
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

/// Moves an existing account into the invitation's company and uses the
/// invitation, in one transaction, with the events (joined; and left, when
/// it was a member elsewhere).
pub async fn accept_as_existing_account(
    db: &Db,
    invitation_id: &str,
    account_id: &str,
    company_id: &str,
    role: &str,
    now: i64,
    events: &[NewEvent<'_>],
) -> Result<(), AcceptError> {
    let mut tx = db.pool.begin().await?;
    if !take_invitation(&mut tx, invitation_id, account_id, now).await? {
        tx.rollback().await?;
        return Err(AcceptError::Gone);
    }
    sqlx::query("UPDATE accounts SET company_id = $1, role = $2, joined_at = $3 WHERE id = $4")
        .bind(company_id)
        .bind(role)
        .bind(now)
        .bind(account_id)
        .execute(&mut *tx)
        .await?;
    for e in events {
        insert_event(&mut tx, e).await?;
    }
    tx.commit().await?;
    Ok(())
}

/// Removes a member from a company: the account moves to a new company of
/// its own (as its owner, with nothing in it) and every session of it ends,
/// with the audit event, in one transaction. The company's keys stay.
/// Returns the removed member's email, or `None` when the company has no
/// such member.
pub async fn remove_member(
    db: &Db,
    actor: &Actor<'_>,
    need: Need,
    member_id: &str,
    new_company_id: &str,
    now: i64,
    event: &NewEvent<'_>,
) -> Result<Option<String>, WriteError> {
    let company_id = actor.company_id;
    let mut tx = db.pool.begin().await?;
    authorize(&mut tx, actor, need).await?;
    let row = sqlx::query("SELECT email, name FROM accounts WHERE company_id = $1 AND id = $2")
        .bind(company_id)
        .bind(member_id)
        .fetch_optional(&mut *tx)
        .await?;
    let Some(row) = row else {
        tx.rollback().await?;
        return Ok(None);
    };
    let email: String = row.try_get("email")?;
    let name: String = row.try_get("name")?;
    sqlx::query("INSERT INTO companies (id, name, created_at) VALUES ($1, $2, $3)")
        .bind(new_company_id)
        .bind(&name)
        .bind(now)
        .execute(&mut *tx)
        .await?;
    sqlx::query(
        "UPDATE accounts SET company_id = $1, role = 'owner', joined_at = $2 WHERE id = $3",
    )
    .bind(new_company_id)
    .bind(now)
    .bind(member_id)
    .execute(&mut *tx)
    .await?;
    if need == Need::Owner {
        // Removed by an owner (not leaving): the sign-in page will say so.
        removed::remember(&mut tx, member_id, company_id, now).await?;
    }
    sqlx::query("DELETE FROM account_sessions WHERE account_id = $1")
        .bind(member_id)
        .execute(&mut *tx)
        .await?;
    keeps_an_owner(&mut tx, company_id).await?;
    insert_event(&mut tx, event).await?;
    tx.commit().await?;
    Ok(Some(email))
}

/// Pending invitations of a company (to cap how many one company sends).
pub async fn count_pending_invitations(
    db: &Db,
    company_id: &str,
    now: i64,
) -> Result<i64, DbError> {
    sqlx::query_scalar(
        "SELECT COUNT(*) FROM invitations WHERE company_id = $1 AND accepted_at IS NULL \
         AND revoked_at IS NULL AND expires_at > $2",
    )
    .bind(company_id)
    .bind(now)
    .fetch_one(&db.pool)
    .await
}

/// Changes a member's role from `from` to `to`, with the audit event, in one
/// transaction. False (nothing written) when the company has no such member
/// with role `from` any more.
pub async fn set_member_role(
    db: &Db,
    actor: &Actor<'_>,
    member_id: &str,
    from: &str,
    to: &str,
    event: &NewEvent<'_>,
) -> Result<bool, WriteError> {
    let company_id = actor.company_id;
    let mut tx = db.pool.begin().await?;
    authorize(&mut tx, actor, Need::Owner).await?;
    let done = sqlx::query(
        "UPDATE accounts SET role = $1 WHERE company_id = $2 AND id = $3 AND role = $4",
    )
    .bind(to)
    .bind(company_id)
    .bind(member_id)
    .bind(from)
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
