//! The browsers an account is signed in on: listed on Account Information
//! (browser, when signed in, last seen, a coarse address; this one marked),
//! and *Sign out other browsers*.

use std::net::IpAddr;

use crate::audit::action;
use crate::store::{self, Account, NewEvent};
use crate::{auth, AccountError, Services};

/// A signed-in browser as the page shows it.
#[derive(Clone, Debug)]
pub struct SessionLine {
    /// `Firefox on Linux`; empty when the browser named none known.
    pub browser: String,
    /// `203.0.113.0/24`; empty for sessions started before it was kept.
    pub ip: String,
    pub created_at: i64,
    pub last_seen_at: i64,
    /// The browser asking.
    pub current: bool,
}

/// The account's live sessions, most recently seen first; `current` is the
/// asking browser's (its id's hash).
pub async fn list(
    state: &Services,
    user: &Account,
    current: Option<&str>,
) -> Result<Vec<SessionLine>, AccountError> {
    let rows = store::list_sessions(
        &state.db,
        &user.id,
        state.clock.now(),
        auth::SESSION_IDLE_SECS,
        auth::SESSION_ABSOLUTE_SECS,
    )
    .await?;
    Ok(rows
        .into_iter()
        .map(|r| SessionLine {
            browser: web::sessions::browser_name(r.user_agent.as_deref().unwrap_or("")),
            ip: r.ip.unwrap_or_default(),
            created_at: r.created_at,
            last_seen_at: r.last_seen_at,
            current: current == Some(r.id_hash.as_str()),
        })
        .collect())
}

/// Ends every session of `user` but `current` (its id's hash); audited.
/// Returns how many ended.
pub async fn revoke_others(
    state: &Services,
    user: &Account,
    current: &str,
    ip: IpAddr,
) -> Result<u64, AccountError> {
    let now = state.clock.now();
    let ip = ip.to_string();
    let event = NewEvent {
        ip: Some(&ip),
        ..crate::audit::by_user(user, action::SESSIONS_REVOKED, Some(&user.id), None, now)
    };
    Ok(store::end_other_sessions(&state.db, &user.id, current, &event).await?)
}
