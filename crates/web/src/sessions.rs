//! Server-side sessions, shared by both apps: a row per session holding only a
//! hash of the session id, and a cookie holding the id. Each app names its
//! own cookie, table and user column and keeps its own lookup (which joins
//! its own user table): see [`SessionSite`].

use std::borrow::Cow;
use std::future::Future;
use std::net::{IpAddr, Ipv6Addr};

use axum::http::{HeaderMap, HeaderValue};

use crate::db::Db;
use crate::{cookies, Error};

/// An app's session table: `(id_hash, <user_column>, created_at,
/// last_seen_at, user_agent, ip)`.
/// Both names are compile-time constants, never input.
pub struct SessionTable {
    pub table: &'static str,
    pub user_column: &'static str,
}

/// `last_seen_at` is written at most this often: not on every request.
pub const TOUCH_EVERY_SECS: i64 = 60;

/// The browser a session is started from, as its list of sessions shows
/// it: the `User-Agent` cut short and a coarse address (see [`coarse_ip`]).
/// Never the full address.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Client {
    pub user_agent: String,
    pub ip: String,
}

/// The longest `User-Agent` kept.
const MAX_USER_AGENT: usize = 200;

impl Client {
    pub fn new(headers: &HeaderMap, ip: IpAddr) -> Client {
        let ua = headers
            .get(axum::http::header::USER_AGENT)
            .and_then(|v| v.to_str().ok())
            .unwrap_or("");
        let user_agent: String = ua
            .chars()
            .filter(|c| !c.is_control())
            .take(MAX_USER_AGENT)
            .collect();
        Client {
            user_agent,
            ip: coarse_ip(ip),
        }
    }
}

/// An address as coarse as a session list needs: the /24 of an IPv4
/// address (`203.0.113.0/24`), the /48 of an IPv6 one.
pub fn coarse_ip(ip: IpAddr) -> String {
    match ip {
        IpAddr::V4(v4) => {
            let [a, b, c, _] = v4.octets();
            format!("{a}.{b}.{c}.0/24")
        }
        IpAddr::V6(v6) => match v6.to_ipv4_mapped() {
            Some(v4) => coarse_ip(IpAddr::V4(v4)),
            None => {
                let s = v6.segments();
                let net = Ipv6Addr::new(s[0], s[1], s[2], 0, 0, 0, 0, 0);
                format!("{net}/48")
            }
        },
    }
}

/// A browser's name and system in words (`Firefox on Linux`) from its
/// `User-Agent`; empty when it names none that is known.
pub fn browser_name(user_agent: &str) -> String {
    let ua = user_agent;
    let browser = if ua.contains("Edg/") {
        "Edge"
    } else if ua.contains("OPR/") || ua.contains("Opera") {
        "Opera"
    } else if ua.contains("Firefox/") {
        "Firefox"
    } else if ua.contains("Chrome/") || ua.contains("Chromium/") || ua.contains("CriOS/") {
        "Chrome"
    } else if ua.contains("Safari/") {
        "Safari"
    } else if ua.starts_with("curl/") {
        "curl"
    } else {
        ""
    };
    let system = if ua.contains("Android") {
        "Android"
    } else if ua.contains("iPhone") || ua.contains("iPad") {
        "iOS"
    } else if ua.contains("Windows") {
        "Windows"
    } else if ua.contains("Mac OS X") || ua.contains("Macintosh") {
        "macOS"
    } else if ua.contains("Linux") || ua.contains("X11") {
        "Linux"
    } else {
        ""
    };
    match (browser, system) {
        ("", "") => String::new(),
        (b, "") => b.to_owned(),
        ("", s) => s.to_owned(),
        (b, s) => format!("{b} on {s}"),
    }
}

pub async fn create(
    db: &Db,
    t: &SessionTable,
    id_hash: &str,
    user_id: &str,
    client: &Client,
    now: i64,
) -> Result<(), sqlx::Error> {
    let sql = format!(
        "INSERT INTO {} (id_hash, {}, created_at, last_seen_at, user_agent, ip) \
         VALUES ($1, $2, $3, $3, $4, $5)",
        t.table, t.user_column
    );
    sqlx::query(&sql)
        .bind(id_hash)
        .bind(user_id)
        .bind(now)
        .bind(&client.user_agent)
        .bind(&client.ip)
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

/// Ends every session of `user_id` but the one whose id hashes to `keep`
/// (every one when `keep` is `None`), within the caller's transaction.
/// Returns how many ended.
pub async fn delete_others<'c, E>(
    conn: E,
    t: &SessionTable,
    user_id: &str,
    keep: Option<&str>,
) -> Result<u64, sqlx::Error>
where
    E: sqlx::Executor<'c, Database = sqlx::Any>,
{
    let sql = format!(
        "DELETE FROM {} WHERE {} = $1 AND id_hash <> $2",
        t.table, t.user_column
    );
    // No session id hashes to the empty string.
    let done = sqlx::query(&sql)
        .bind(user_id)
        .bind(keep.unwrap_or(""))
        .execute(conn)
        .await?;
    Ok(done.rows_affected())
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
pub trait SessionSite: crate::forms::CsrfSite + Send + Sync {
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
pub async fn start<S: SessionSite>(
    site: &S,
    user_id: &str,
    client: &Client,
) -> Result<HeaderValue, Error> {
    start_stepped(site, user_id, client, false).await
}

/// [`start`], for a sign-in that proved a second step (`stepped`): the
/// session remembers when ([`stepped_up_at`]).
pub async fn start_stepped<S: SessionSite>(
    site: &S,
    user_id: &str,
    client: &Client,
    stepped: bool,
) -> Result<HeaderValue, Error> {
    let rules = site.session_rules();
    let sid = cookies::new_token();
    let hash = keys::hash_str(&sid).to_hex();
    let now = site.now();
    create(site.session_db(), &rules.table, &hash, user_id, client, now).await?;
    if stepped {
        mark_stepped_up(site.session_db(), &rules.table, &hash, now).await?;
    }
    Ok(cookies::set(
        &cookie_name(site),
        &sid,
        Some(rules.absolute_secs),
        site.secure_cookies(),
    ))
}

/// Records that the session `id_hash` proved a second step at `now`.
pub async fn mark_stepped_up(
    db: &Db,
    t: &SessionTable,
    id_hash: &str,
    now: i64,
) -> Result<(), sqlx::Error> {
    let sql = format!(
        "UPDATE {} SET stepped_up_at = $1 WHERE id_hash = $2",
        t.table
    );
    sqlx::query(&sql)
        .bind(now)
        .bind(id_hash)
        .execute(&db.pool)
        .await?;
    Ok(())
}

/// When the request's session last proved a second step, if it did.
pub async fn stepped_up_at<S: SessionSite>(
    site: &S,
    headers: &HeaderMap,
) -> Result<Option<i64>, Error> {
    let Some(hash) = cookie_hash(site, headers) else {
        return Ok(None);
    };
    let sql = format!(
        "SELECT stepped_up_at FROM {} WHERE id_hash = $1",
        site.session_rules().table.table
    );
    let at: Option<Option<i64>> = sqlx::query_scalar(&sql)
        .bind(&hash)
        .fetch_optional(&site.session_db().pool)
        .await?;
    Ok(at.flatten())
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn addresses_are_coarse() {
        let v4: IpAddr = "203.0.113.77".parse().unwrap();
        assert_eq!(coarse_ip(v4), "203.0.113.0/24");
        let v6: IpAddr = "2001:db8:abcd:12:1:2:3:4".parse().unwrap();
        assert_eq!(coarse_ip(v6), "2001:db8:abcd::/48");
        let mapped: IpAddr = "::ffff:198.51.100.9".parse().unwrap();
        assert_eq!(coarse_ip(mapped), "198.51.100.0/24");
    }

    #[test]
    fn browsers_are_named() {
        let cases = [
            ("Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0", "Firefox on Linux"),
            ("Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/126.0.0.0 Safari/537.36 Edg/126.0.0.0", "Edge on Windows"),
            ("Mozilla/5.0 (Macintosh; Intel Mac OS X 14_5) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.5 Safari/605.1.15", "Safari on macOS"),
            ("Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/126.0.0.0 Mobile Safari/537.36", "Chrome on Android"),
            ("curl/8.5.0", "curl"),
            ("", ""),
        ];
        for (ua, name) in cases {
            assert_eq!(browser_name(ua), name, "{ua}");
        }
    }

    #[test]
    fn a_client_keeps_a_short_clean_user_agent() {
        let mut headers = HeaderMap::new();
        let long = format!("Firefox/1\t{}", "x".repeat(500));
        headers.insert(
            axum::http::header::USER_AGENT,
            HeaderValue::from_str(&long).unwrap(),
        );
        let c = Client::new(&headers, "10.1.2.3".parse().unwrap());
        assert_eq!(c.ip, "10.1.2.0/24");
        assert_eq!(c.user_agent.chars().count(), 200);
        assert!(!c.user_agent.contains('\t'));
    }
}
