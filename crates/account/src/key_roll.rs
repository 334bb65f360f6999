//! Rolling a key: a successor with the same name, environment, signing
//! public key and policy, the old key ending after a grace period.

use crate::api_keys::{key_status, refused_key_write, Created};
use crate::audit::{self, action};
use crate::store::{self, Account, KeyRow};
use crate::verify::Status;
use crate::{AccountError, FieldError, Services};
use keys::ApiKey;

/// The longest grace period of a roll: a week.
pub const MAX_GRACE_SECS: i64 = 7 * 86400;

/// Rolls a key: a new key with the same name, environment, company and
/// signing public key, shown once. The old key stays valid for `grace_secs`
/// (0 ends it now), then verifies as expired. Only a valid key that has not
/// been rolled yet can be rolled.
pub async fn roll_key(
    state: &Services,
    user: &Account,
    id: &str,
    grace_secs: i64,
    nonce: Option<String>,
) -> Result<Created, AccountError> {
    if !(0..=MAX_GRACE_SECS).contains(&grace_secs) {
        return Err(AccountError::Invalid(FieldError::new(
            "grace_seconds",
            "error.grace",
        )));
    }
    let now = state.clock.now();
    let old = store::get_key(&state.db, &user.company_id, id)
        .await?
        .ok_or(AccountError::KeyNotFound)?;
    if key_status(&old, now) != Status::Valid || old.replaced_by.is_some() {
        return Err(AccountError::KeyNotRollable);
    }
    let environment = old.environment;
    // The new key lives as long as the old one was meant to, and no longer
    // than the company's key lifetime allows now.
    let expires_at = old
        .expires_at
        .map(|e| now + (e - old.created_at).clamp(86400, 10 * 365 * 86400));
    let expires_at = match store::key_lifetime(&state.db, &user.company_id).await? {
        Some(days) => Some(expires_at.map_or(now + days * 86400, |e| e.min(now + days * 86400))),
        None => expires_at,
    };
    let key = ApiKey::generate(environment);
    let new_id = keys::random_id("key");
    let hint = key.hint();
    let hash = key.hash();
    let old_ends = now + grace_secs;
    let detail = audit::key_detail(
        &old.name,
        old.environment,
        &old.hint,
        serde_json::json!({
            "new_key_id": new_id,
            "new_hint": hint,
            "grace_seconds": grace_secs,
            "old_key_expires_at": web::clock::rfc3339(old.expires_at.map_or(old_ends, |e| e.min(old_ends))),
        }),
    );
    let event = audit::by_user(user, action::KEY_ROLLED, Some(id), Some(&detail), now);
    let new = store::NewKey {
        id: &new_id,
        company_id: &user.company_id,
        created_by: &user.id,
        name: &old.name,
        environment,
        key_hash: &hash,
        hint: &hint,
        created_at: now,
        expires_at,
        public_key: old.public_key.as_deref(),
        create_nonce: nonce.as_deref(),
        // The successor may do what the old key could, from where it could.
        allowed_ips: old.allowed_ips.as_deref(),
        services: old.services.as_deref(),
    };
    let rolled = store::roll_key(
        &state.db,
        &store::Actor::of(user),
        id,
        &new,
        old_ends,
        now,
        &event,
    )
    .await
    .map_err(refused_key_write)?;
    let old_key = rolled.ok_or(AccountError::KeyNotRollable)?;
    state.verifier.forget(old_key);
    let row = KeyRow {
        id: new_id,
        company_id: user.company_id.clone(),
        created_by_email: user.email.clone(),
        name: old.name,
        environment: old.environment,
        hint,
        created_at: now,
        expires_at,
        revoked_at: None,
        last_used_at: None,
        public_key: old.public_key,
        replaced_by: None,
        disabled_at: None,
        allowed_ips: old.allowed_ips,
        services: old.services,
    };
    Ok(Created {
        row,
        key,
        private_key: None,
    })
}
