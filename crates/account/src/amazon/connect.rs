//! Seller Central's website authorization workflow, on our side:
//!
//! 1. The Admin asks for a connect link (single use, 10 minutes).
//! 2. The link, opened in the merchant's browser, makes a fresh `state`
//!    (≈256 bits, single use, 10 minutes) bound to that browser by the hash
//!    of an HttpOnly cookie nonce, and redirects to Seller Central's consent.
//!    (The log-in URI makes its state the same way, after the merchant
//!    picks the store.)
//! 3. The callback checks the state first (nothing changes when it cannot
//!    be used), takes it, and exchanges the code at the LWA token endpoint.
//!    When that fails (a refusal, no code, the endpoint unreachable), a store
//!    that holds a working authorization keeps it as it was and only the
//!    attempt is recorded; any other store becomes `authorization_failed`.
//!
//! Only hashes of links, states and nonces are stored.

use web::Secret;

use crate::audit::action;
use crate::store::{self, AmazonStoreRow, AttemptFailed, NewState};
use crate::{AccountError, Services};

use super::config::{origin_of, AmazonConfig};
use super::lwa::Grant;
use super::stores::{self, By};
use super::{hash, is_secret_form, new_secret, StateRefusal};
use super::{AUTHORIZATION_SECS, CALLBACK_PATH, LINK_SECS};

/// A link the Admin opens in the merchant's browser.
pub struct ConnectLink {
    pub url: String,
    pub expires_at: i64,
}

/// Makes a single-use connect link for a store of the company.
pub async fn create_link(
    ctx: &Services,
    company_id: &str,
    store_id: &str,
    base: &str,
) -> Result<ConnectLink, AccountError> {
    stores::get(ctx, company_id, store_id).await?;
    stores::configured(ctx)?;
    let token = new_secret();
    let now = ctx.clock.now();
    let expires_at = now + LINK_SECS;
    store::insert_connect_link(&ctx.db, &hash(&token), store_id, now, expires_at).await?;
    Ok(ConnectLink {
        url: format!("{base}/amazon/connect/{token}"),
        expires_at,
    })
}

/// Where the browser goes next, and the cookie nonce that binds its state.
pub struct Redirect {
    pub location: String,
    /// The value of the state cookie to set (kept when the browser had one).
    pub nonce: Secret,
}

impl std::fmt::Debug for Redirect {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Redirect([redacted])")
    }
}

/// The browser's nonce when its cookie has the right form, else a fresh one
/// (so two authorizations started in one browser both stay usable).
fn browser_nonce(cookie: Option<&str>) -> Secret {
    match cookie.filter(|c| is_secret_form(c)) {
        Some(c) => Secret::new(c),
        None => Secret::new(new_secret()),
    }
}

/// A new state for `store_id`, bound to the browser's nonce.
async fn new_state(
    ctx: &Services,
    store_id: &str,
    nonce: &Secret,
    redirect_uri: &str,
) -> Result<Secret, AccountError> {
    let state = Secret::new(new_secret());
    let now = ctx.clock.now();
    store::insert_amazon_state(
        &ctx.db,
        &NewState {
            hash: &hash(state.expose()),
            store_id,
            browser_hash: &hash(nonce.expose()),
            redirect_uri,
            now,
            expires_at: now + LINK_SECS,
        },
    )
    .await?;
    Ok(state)
}

fn q(s: &str) -> String {
    web::page::encode(s).replace('/', "%2F")
}

/// Opens a connect link: takes it, makes a state and sends the browser to
/// the consent page of the store's Seller Central.
pub async fn open_link(
    ctx: &Services,
    token: &str,
    base: &str,
    cookie: Option<&str>,
) -> Result<Redirect, AccountError> {
    let (cfg, _) = stores::configured(ctx)?;
    if !is_secret_form(token) {
        return Err(AccountError::AmazonLink(store::NotTaken::Unknown));
    }
    let store_id = store::take_connect_link(&ctx.db, &hash(token), ctx.clock.now())
        .await?
        .map_err(AccountError::AmazonLink)?;
    let row = store::amazon_store_by_id(&ctx.db, &store_id)
        .await?
        .ok_or(AccountError::AmazonLink(store::NotTaken::Unknown))?;
    let nonce = browser_nonce(cookie);
    let redirect_uri = format!("{base}{CALLBACK_PATH}");
    let state = new_state(ctx, &row.id, &nonce, &redirect_uri).await?;
    let mut location = format!(
        "{}/apps/authorize/consent?application_id={}&state={}&redirect_uri={}",
        cfg.seller_central_of(row.country()),
        q(&cfg.application_id),
        state.expose(),
        q(&redirect_uri)
    );
    if cfg.draft_app {
        location.push_str("&version=beta");
    }
    Ok(Redirect { location, nonce })
}

/// True when `uri` is on the scheme and host of a configured Seller Central.
pub fn callback_uri_allowed(cfg: &AmazonConfig, uri: &str) -> bool {
    if uri.len() > 2048
        || uri.contains('#')
        || uri.chars().any(|c| c.is_whitespace() || c.is_control())
    {
        return false;
    }
    let Some((scheme, host)) = origin_of(uri) else {
        return false;
    };
    cfg.seller_central
        .values()
        .any(|sc| origin_of(sc).is_some_and(|(s, h)| s == scheme && h.eq_ignore_ascii_case(host)))
}

/// What the log-in URI is asked, checked.
pub struct LoginRequest<'a> {
    pub amazon_callback_uri: &'a str,
    pub amazon_state: &'a str,
}

/// Checks the log-in URI's parameters (before and after the store is picked).
pub fn check_login(cfg: &AmazonConfig, r: &LoginRequest<'_>) -> Result<(), AccountError> {
    let state_ok = !r.amazon_state.is_empty()
        && r.amazon_state.len() <= 2048
        && !r.amazon_state.chars().any(char::is_control);
    if !state_ok || !callback_uri_allowed(cfg, r.amazon_callback_uri) {
        return Err(AccountError::AmazonCallbackUri);
    }
    Ok(())
}

/// The log-in URI, after the merchant picked a store of the company: a new
/// state bound to this browser, and the way back to Seller Central.
pub async fn login_redirect(
    ctx: &Services,
    company_id: &str,
    store_id: &str,
    r: &LoginRequest<'_>,
    base: &str,
    cookie: Option<&str>,
) -> Result<Redirect, AccountError> {
    let (cfg, _) = stores::configured(ctx)?;
    check_login(cfg, r)?;
    let row = stores::get(ctx, company_id, store_id).await?;
    let nonce = browser_nonce(cookie);
    let redirect_uri = format!("{base}{CALLBACK_PATH}");
    let state = new_state(ctx, &row.id, &nonce, &redirect_uri).await?;
    let sep = if r.amazon_callback_uri.contains('?') {
        '&'
    } else {
        '?'
    };
    let mut location = format!(
        "{}{sep}redirect_uri={}&amazon_state={}&state={}",
        r.amazon_callback_uri,
        q(&redirect_uri),
        q(r.amazon_state),
        state.expose()
    );
    if cfg.draft_app {
        location.push_str("&version=beta");
    }
    Ok(Redirect { location, nonce })
}

/// What the callback is given.
#[derive(Default)]
pub struct Callback<'a> {
    pub state: Option<&'a str>,
    pub selling_partner_id: Option<&'a str>,
    pub code: Option<&'a str>,
}

/// How an authorization ended.
pub enum Outcome {
    /// The store is authorized now.
    Active(AmazonStoreRow),
    /// The store's authorization failed, for this reason.
    Failed(AmazonStoreRow, super::Reason),
    /// A re-authorization failed, for this reason, and the store keeps the
    /// working authorization it had (the attempt is recorded on it).
    Kept(AmazonStoreRow, super::Reason),
    /// The store was deleted meanwhile.
    StoreGone,
}

/// Checks a state without taking it: the stored row, when it can be used
/// by the browser that holds `cookie`.
async fn check_state(
    ctx: &Services,
    state: Option<&str>,
    cookie: Option<&str>,
) -> Result<store::StateRow, AccountError> {
    let state = state
        .filter(|s| is_secret_form(s))
        .ok_or(AccountError::AmazonState(StateRefusal::Unknown))?;
    let row = store::get_amazon_state(&ctx.db, &hash(state))
        .await?
        .ok_or(AccountError::AmazonState(StateRefusal::Unknown))?;
    if row.used_at.is_some() {
        return Err(AccountError::AmazonState(StateRefusal::Used));
    }
    if row.expires_at <= ctx.clock.now() {
        return Err(AccountError::AmazonState(StateRefusal::Expired));
    }
    let same_browser = cookie
        .filter(|c| is_secret_form(c))
        .is_some_and(|c| web::cookies::tokens_match(&hash(c), &row.browser_hash));
    if !same_browser {
        return Err(AccountError::AmazonState(StateRefusal::OtherBrowser));
    }
    Ok(row)
}

/// The callback: checks and takes the state, then exchanges the code and
/// records the outcome on the store.
pub async fn callback(
    ctx: &Services,
    cb: Callback<'_>,
    cookie: Option<&str>,
) -> Result<Outcome, AccountError> {
    let (cfg, lwa) = stores::configured(ctx)?;
    let state_row = check_state(ctx, cb.state, cookie).await?;
    let state = cb.state.unwrap_or_default();
    let browser = hash(cookie.unwrap_or_default());
    if !store::take_amazon_state(&ctx.db, &hash(state), &browser, ctx.clock.now()).await? {
        return Err(AccountError::AmazonState(StateRefusal::Used));
    }
    let Some(row) = store::amazon_store_by_id(&ctx.db, &state_row.store_id).await? else {
        return Ok(Outcome::StoreGone);
    };
    let seller_id = cb
        .selling_partner_id
        .map(str::trim)
        .filter(|s| !s.is_empty() && s.len() <= 64 && s.bytes().all(|b| b.is_ascii_alphanumeric()));
    let code = cb
        .code
        .map(str::trim)
        .filter(|c| !c.is_empty() && c.len() <= 2048);
    let result = match code {
        None => Err(super::Reason::MissingCode),
        Some(code) => lwa
            .exchange(
                cfg,
                Grant::AuthorizationCode {
                    code,
                    redirect_uri: &state_row.redirect_uri,
                },
            )
            .await
            .map_err(|e| e.reason())
            .and_then(|t| t.ok_or(super::Reason::TokenEndpointUnreachable)),
    };
    let now = ctx.clock.now();
    match result {
        Ok(token) => {
            let was_authorized = row.authorized_at.is_some();
            let enc = ctx
                .cfg
                .token_crypto
                .encrypt(&row.token_aad(), token.expose());
            let done = store::authorize_amazon_store(
                &ctx.db,
                &row.id,
                &store::Authorized {
                    refresh_token_enc: &enc,
                    seller_id,
                    at: now,
                    expires_at: now + AUTHORIZATION_SECS,
                },
            )
            .await?;
            let Some(row) = store::amazon_store_by_id(&ctx.db, &row.id)
                .await?
                .filter(|_| done)
            else {
                return Ok(Outcome::StoreGone);
            };
            let what = if was_authorized {
                action::AMAZON_STORE_RENEWED
            } else {
                action::AMAZON_STORE_CONNECTED
            };
            stores::record(ctx, &row, what, By::Service, None).await;
            Ok(Outcome::Active(row))
        }
        Err(reason) => attempt_failed(ctx, &row.id, reason).await,
    }
}

/// Records a failed attempt: a store with a working authorization keeps it
/// (its status, reason, seller, token and dates), any other is `failed`.
/// Audited either way, with the reason.
async fn attempt_failed(
    ctx: &Services,
    id: &str,
    reason: super::Reason,
) -> Result<Outcome, AccountError> {
    let done = store::amazon_attempt_failed(&ctx.db, id, ctx.clock.now(), reason.as_str()).await?;
    let Some(row) = store::amazon_store_by_id(&ctx.db, id)
        .await?
        .filter(|_| done != AttemptFailed::Gone)
    else {
        return Ok(Outcome::StoreGone);
    };
    let kept = done == AttemptFailed::Kept;
    stores::record_failure(ctx, &row, reason, kept).await;
    Ok(if kept {
        Outcome::Kept(row, reason)
    } else {
        Outcome::Failed(row, reason)
    })
}
