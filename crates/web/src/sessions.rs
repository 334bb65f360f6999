//! Server-side sessions, shared by both apps: a row per session holding only a
//! hash of the session id, and a cookie holding the id. Each app names its
//! own cookie, table and user column and keeps its own lookup (which joins
//! its own user table): see [`SessionSite`].

use std::borrow::Cow;
use std::future::Future;

use axum::http::{HeaderMap, HeaderValue};

use crate::db::Db;
use crate::{cookies, Error};

/// An app's session table: `(id_hash, <user_column>, created_at, last_seen_at)`.
/// Both names are compile-time constants, never input.
pub struct SessionTable {
    pub table: &'static str,
    pub user_column: &'static str,
}

/// `last_seen_at` is written at most this often: not on every request.
pub const TOUCH_EVERY_SECS: i64 = 60;

pub async fn create(
    db: &Db,
    t: &SessionTable,
    id_hash: &str,
    user_id: &str,
    now: i64,
) -> Result<(), sqlx::Error> {
    let sql = format!(
        "INSERT INTO {} (id_hash, {}, created_at, last_seen_at) VALUES ($1, $2, $3, $3)",
        t.table, t.user_column
    );
    sqlx::query(&sql)
        .bind(id_hash)
        .bind(user_id)
        .bind(now)
        .execute(&db.pool)
        .await?;
    Ok(())
}

/// Records activity on a live session whose `last_seen_at` is stale.
pub async fn touch(
    db: &Db,
    t: &SessionTable,
    id_hash: &str,
    last_seen: i64,
    now: i64,
) -> Result<(), sqlx::Error> {
    if now - last_seen < TOUCH_EVERY_SECS {
        return Ok(());
    }
    let sql = format!(
        "UPDATE {} SET last_seen_at = $1 WHERE id_hash = $2",
        t.table
    );
    sqlx::query(&sql)
        .bind(now)
        .bind(id_hash)
        .execute(&db.pool)
        .await?;
    Ok(())
}

pub async fn delete(db: &Db, t: &SessionTable, id_hash: &str) -> Result<(), sqlx::Error> {
    let sql = format!("DELETE FROM {} WHERE id_hash = $1", t.table);
    sqlx::query(&sql).bind(id_hash).execute(&db.pool).await?;
    Ok(())
}

/// How an app keeps its sessions: the cookie naming them, the table holding
/// them, and how long the cookie lives.
pub struct SessionRules {
    /// The cookie's name without the `__Host-` prefix (added over HTTPS).
    pub cookie: &'static str,
    pub table: SessionTable,
    /// Sessions end after this long in any case (the cookie's `Max-Age`).
    pub absolute_secs: i64,
}

/// What an app tells the shared session code ([`start`], [`end`],
/// [`current`]) and the page extractor [`crate::page::SignedIn`].
pub trait SessionSite: crate::page::CsrfSite + Send + Sync {
    /// Who is signed in.
    type User: Send;

    fn session_rules(&self) -> &'static SessionRules;
    fn session_db(&self) -> &Db;
    fn now(&self) -> i64;
    /// The user of the live session whose id hashes to `id_hash` (recording
    /// its activity), or `None` when there is no such session or it ended.
    fn session_user(
        &self,
        id_hash: &str,
    ) -> impl Future<Output = Result<Option<Self::User>, Error>> + Send;
    /// The sign-in page a signed-out visitor is sent to, with `?next=`.
    fn sign_in_path(&self) -> &'static str;
    /// Where a visitor sent to sign in from `path` comes back to: by default
    /// `path` itself.
    fn return_path<'a>(&self, path: &'a str) -> &'a str {
        path
    }
}

/// The name the session cookie goes by (with `__Host-` over HTTPS).
pub fn cookie_name<S: SessionSite>(site: &S) -> Cow<'static, str> {
    cookies::host_only(site.session_rules().cookie, site.secure_cookies())
}

/// The hash of the session id in the request's cookie, when it has the form
/// of one (32 characters).
pub fn cookie_hash<S: SessionSite>(site: &S, headers: &HeaderMap) -> Option<String> {
    cookies::get(headers, &cookie_name(site))
        .filter(|sid| sid.len() == 32)
        .map(|sid| keys::hash_str(sid).to_hex())
}

/// Starts a session for `user_id`: returns the cookie to set. Only the hash
/// of the id is stored, and a new id is made at every sign-in (no session
/// fixation).
pub async fn start<S: SessionSite>(site: &S, user_id: &str) -> Result<HeaderValue, Error> {
    let rules = site.session_rules();
    let sid = cookies::new_token();
    let hash = keys::hash_str(&sid).to_hex();
    create(site.session_db(), &rules.table, &hash, user_id, site.now()).await?;
    Ok(cookies::set(
        &cookie_name(site),
        &sid,
        Some(rules.absolute_secs),
        site.secure_cookies(),
    ))
}

/// Ends the request's session (if any): returns the cookie that clears it.
pub async fn end<S: SessionSite>(site: &S, headers: &HeaderMap) -> Result<HeaderValue, Error> {
    let name = cookie_name(site);
    if let Some(sid) = cookies::get(headers, &name) {
        let hash = keys::hash_str(sid).to_hex();
        delete(site.session_db(), &site.session_rules().table, &hash).await?;
    }
    Ok(cookies::clear(&name, site.secure_cookies()))
}

/// Who is signed in with the request's session cookie, if anyone.
pub async fn current<S: SessionSite>(
    site: &S,
    headers: &HeaderMap,
) -> Result<Option<S::User>, Error> {
    match cookie_hash(site, headers) {
        Some(hash) => site.session_user(&hash).await,
        None => Ok(None),
    }
}
