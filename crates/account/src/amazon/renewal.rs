//! Keeping stores authorized: an authorization lasts a year, and once a day
//! every enabled, authorized store's refresh token is proven by a
//! `grant_type=refresh_token` exchange. `invalid_grant` means the seller
//! revoked it (or it lapsed): the store needs a new authorization. A network
//! error changes nothing and is retried on the next round; `invalid_client`
//! is the operator's problem and changes no store either.

use std::time::Duration;

use web::Secret;

use crate::audit::action;
use crate::store::{self, AmazonStoreRow};
use crate::{AccountError, Services};

use super::lwa::{Grant, LwaError};
use super::stores::{self, By};
use super::{AuthState, Reason};

/// A store is proven again when its last proof is this old.
pub const CHECK_EVERY_SECS: i64 = 86400;
/// How often the task looks for stores due.
const TICK: Duration = Duration::from_secs(3600);

/// What a round did.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Round {
    pub proven: usize,
    pub lapsed: usize,
    pub revoked: usize,
    /// Not proven this time (network, the operator's credentials): retried.
    pub unchanged: usize,
}

/// Proves one store's authorization now (the `check` route and the daily
/// round) and returns the store as it is after. A store that is not
/// authorized but holds a refresh token (an earlier authorization, then a
/// failed attempt) is proven too, and authorized again when the token works.
pub async fn check_store(
    ctx: &Services,
    row: AmazonStoreRow,
) -> Result<(AmazonStoreRow, Check), AccountError> {
    let (cfg, lwa) = stores::configured(ctx)?;
    // Whatever the last attempt did, a stored refresh token is proven: one
    // of an earlier authorization that still works makes the store
    // authorized again.
    let authorized = row.auth() == AuthState::Authorized;
    if !authorized && row.refresh_token_enc.is_none() {
        return Ok((row, Check::NotAuthorized));
    }
    let now = ctx.clock.now();
    let outcome = if row.authorization_expires_at.is_some_and(|e| now >= e) {
        Check::Lapsed(Reason::Expired)
    } else {
        match row
            .refresh_token_enc
            .as_deref()
            .map(|enc| ctx.cfg.token_crypto.decrypt(&row.token_aad(), enc))
        {
            Some(Ok(token)) => {
                let token = Secret::new(token);
                match lwa.exchange(cfg, Grant::RefreshToken(&token)).await {
                    // A server that rotates refresh tokens has just made the
                    // old one useless: keep the new one.
                    Ok(Some(new)) if new.expose() != token.expose() => {
                        Check::Rotated(ctx.cfg.token_crypto.encrypt(&row.token_aad(), new.expose()))
                    }
                    Ok(_) => Check::Proven,
                    Err(LwaError::InvalidGrant) => Check::Lapsed(Reason::Revoked),
                    Err(e) => {
                        tracing::warn!(store = %row.id, error = %e, "could not prove an Amazon authorization; will retry");
                        Check::Unchanged
                    }
                }
            }
            Some(Err(e)) => {
                tracing::error!(store = %row.id, error = %e, "an Amazon refresh token does not decrypt (token key file changed?)");
                Check::Lapsed(Reason::Revoked)
            }
            None => Check::Lapsed(Reason::Revoked),
        }
    };
    let proven = row.refresh_token_enc.as_deref().unwrap_or_default();
    let mut restored = false;
    if !authorized && matches!(outcome, Check::Proven | Check::Rotated(_)) {
        restored = store::amazon_store_proven_again(&ctx.db, &row.id, proven, now).await?;
    }
    match outcome {
        Check::Proven => store::amazon_store_checked(&ctx.db, &row.id, now, None).await?,
        Check::Rotated(ref new_enc) => {
            store::amazon_store_checked(&ctx.db, &row.id, now, Some((proven, new_enc))).await?
        }
        Check::Lapsed(reason) => {
            store::fail_amazon_store(
                &ctx.db,
                &row.id,
                AuthState::ReauthRequired.as_str(),
                reason.as_str(),
                true,
            )
            .await?;
        }
        Check::Unchanged | Check::NotAuthorized => {}
    }
    let after = store::amazon_store_by_id(&ctx.db, &row.id)
        .await?
        .ok_or(AccountError::AmazonStoreNotFound)?;
    if let Check::Lapsed(reason) = &outcome {
        stores::record(
            ctx,
            &after,
            action::AMAZON_STORE_FAILED,
            By::Service,
            Some(reason.as_str()),
        )
        .await;
    }
    if restored {
        // Authorized again on the earlier authorization (no new consent).
        stores::record(
            ctx,
            &after,
            action::AMAZON_STORE_CONNECTED,
            By::Service,
            None,
        )
        .await;
    }
    Ok((after, outcome))
}

/// What one proof found.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Check {
    Proven,
    /// Proven, and the endpoint issued a new refresh token (kept encrypted).
    Rotated(String),
    /// Needs a new authorization now.
    Lapsed(Reason),
    /// Could not be proven this time; nothing changed.
    Unchanged,
    /// The store holds no authorization to prove.
    NotAuthorized,
}

/// Proves every enabled, authorized store not proven for a day (tests call
/// it after moving the clock).
pub async fn check_due(ctx: &Services) -> Result<Round, AccountError> {
    stores::configured(ctx)?;
    let now = ctx.clock.now();
    let mut round = Round::default();
    for row in store::authorized_amazon_stores(&ctx.db).await? {
        let due = row
            .last_checked_at
            .is_none_or(|at| now - at >= CHECK_EVERY_SECS)
            || row.authorization_expires_at.is_some_and(|e| now >= e);
        if !due {
            continue;
        }
        // Every node runs this round: only the one that claims a store proves it.
        let (id, seen) = (row.id.clone(), row.last_checked_at);
        if !store::claim_amazon_store_check(&ctx.db, &id, seen, now).await? {
            continue;
        }
        match check_store(ctx, row).await?.1 {
            Check::Proven | Check::Rotated(_) => round.proven += 1,
            Check::Lapsed(Reason::Expired) => round.lapsed += 1,
            Check::Lapsed(_) => round.revoked += 1,
            Check::Unchanged => {
                store::release_amazon_store_check(&ctx.db, &id, seen, now).await?;
                round.unchanged += 1;
            }
            Check::NotAuthorized => round.unchanged += 1,
        }
    }
    Ok(round)
}

/// The background task: looks for stores due every hour.
pub async fn task(ctx: std::sync::Arc<crate::Services>) {
    let mut tick = tokio::time::interval(TICK);
    loop {
        tick.tick().await;
        match check_due(&ctx).await {
            Ok(round) if round != Round::default() => {
                tracing::info!(?round, "proved Amazon authorizations");
            }
            Ok(_) => {}
            Err(e) => {
                tracing::warn!(error = %e, "could not prove Amazon authorizations; will retry")
            }
        }
    }
}
