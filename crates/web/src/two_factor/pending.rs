//! Sign-ins waiting for their second step (a cookie and a row, 5
//! minutes, at most five wrong codes) and sessions that proved one lately.

use axum::http::{HeaderMap, HeaderValue};

use super::{store, PendingRow, TwoFactorSite};
use crate::{cookies, Error};

/// A sign-in waits this long for its second step.
pub const PENDING_SECS: i64 = 5 * 60;
/// Wrong codes one pending sign-in may send before it ends (the sign-in
/// throttles count them too).
pub const PENDING_ATTEMPTS: i64 = 5;

/// Changes to second steps within this long of a session's last second
/// step need no new proof.
pub const STEP_UP_SECS: i64 = 10 * 60;

/// Whether the request's session proved a second step within the last
/// [`STEP_UP_SECS`].
pub async fn recently_stepped_up<S: TwoFactorSite>(
    site: &S,
    headers: &HeaderMap,
) -> Result<bool, Error> {
    let at = crate::sessions::stepped_up_at(site, headers).await?;
    Ok(at.is_some_and(|at| site.now() - at <= STEP_UP_SECS))
}

/// Records that the request's session just proved a second step.
pub async fn step_up<S: TwoFactorSite>(site: &S, headers: &HeaderMap) -> Result<(), Error> {
    if let Some(hash) = crate::sessions::cookie_hash(site, headers) {
        let t = &site.session_rules().table;
        crate::sessions::mark_stepped_up(site.session_db(), t, &hash, site.now()).await?;
    }
    Ok(())
}

/// A sign-in waiting for its second step, read from its cookie.
#[derive(Clone, Debug)]
pub struct Pending {
    pub id_hash: String,
    pub row: PendingRow,
}

fn cookie_name<S: TwoFactorSite>(site: &S) -> std::borrow::Cow<'static, str> {
    cookies::host_only(
        site.two_factor_rules().pending_cookie,
        site.secure_cookies(),
    )
}

/// Starts a pending sign-in for `user_id`: returns its cookie (5 minutes).
pub async fn begin<S: TwoFactorSite>(
    site: &S,
    user_id: &str,
    name: &str,
    setup: bool,
) -> Result<HeaderValue, Error> {
    let token = cookies::new_token();
    let row = PendingRow {
        user_id: user_id.to_owned(),
        name: name.trim().to_lowercase(),
        setup,
        created_at: site.now(),
    };
    let t = &site.two_factor_rules().tables;
    store::create_pending(site.session_db(), t, &keys::hash_str(&token).to_hex(), &row).await?;
    Ok(cookies::set(
        &cookie_name(site),
        &token,
        Some(PENDING_SECS),
        site.secure_cookies(),
    ))
}

/// The request's pending sign-in, while it lasts.
pub async fn pending<S: TwoFactorSite>(
    site: &S,
    headers: &HeaderMap,
) -> Result<Option<Pending>, Error> {
    let Some(token) = cookies::get(headers, &cookie_name(site)).filter(|t| t.len() == 32) else {
        return Ok(None);
    };
    let id_hash = keys::hash_str(token).to_hex();
    let t = &site.two_factor_rules().tables;
    let since = site.now() - PENDING_SECS;
    Ok(store::pending(site.session_db(), t, &id_hash, since)
        .await?
        .map(|row| Pending { id_hash, row }))
}

/// Ends a pending sign-in whose second step was proved: true for the one
/// request that ends it (the session starts for that one only).
pub async fn finish<S: TwoFactorSite>(site: &S, p: &Pending) -> Result<bool, Error> {
    let t = &site.two_factor_rules().tables;
    Ok(store::take_pending(site.session_db(), t, &p.id_hash).await?)
}

/// The cookie that clears a pending sign-in.
pub fn clear_cookie<S: TwoFactorSite>(site: &S) -> HeaderValue {
    cookies::clear(&cookie_name(site), site.secure_cookies())
}

/// Counts a wrong code against a pending sign-in; false once it has ended.
pub async fn count_wrong<S: TwoFactorSite>(site: &S, p: &Pending) -> Result<bool, Error> {
    let t = &site.two_factor_rules().tables;
    Ok(store::count_wrong(site.session_db(), t, &p.id_hash, PENDING_ATTEMPTS).await?)
}
