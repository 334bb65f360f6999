//! Changing a key after its creation (its name, whether it is on, its
//! allowed addresses and services) and a company's maximum key lifetime
//! (SPEC §10). Every key change is dropped from the verification cache at
//! once, and on PostgreSQL from every node's.

use serde_json::json;

use crate::audit::{self, action};
use crate::fields::text_field;
use crate::key_policy;
use crate::store::{self, Account, KeyRow};
use crate::{AccountError, Services};

/// A change of a key; a field left `None` stays as it is. For the allowed
/// addresses and services, `Some(None)` is any address / every service.
#[derive(Debug, Default)]
pub struct KeyChangeInput {
    pub name: Option<String>,
    pub disabled: Option<bool>,
    pub allowed_ips: Option<Option<Vec<String>>>,
    pub services: Option<Option<Vec<String>>>,
}

/// Changes one of the user's company's keys and returns it as it is now.
/// Each change is audited; another company's key is not found.
pub async fn change_key(
    state: &Services,
    user: &Account,
    id: &str,
    input: KeyChangeInput,
) -> Result<KeyRow, AccountError> {
    let name = input
        .name
        .as_deref()
        .map(|n| text_field(n, "name", 100))
        .transpose()?;
    let allowed_ips = input
        .allowed_ips
        .as_ref()
        .map(|ips| key_policy::parse_allowed_ips(ips.as_deref()))
        .transpose()?;
    let services = input
        .services
        .as_ref()
        .map(|s| state.cfg.services.parse_services(s.as_deref()))
        .transpose()?;
    let now = state.clock.now();
    let change = store::KeyChange {
        name: name.as_deref(),
        disabled: input.disabled,
        allowed_ips: allowed_ips.as_ref().map(Option::as_deref),
        services: services.as_ref().map(Option::as_deref),
    };
    // The events are made from the key as it is under the company's write
    // lock: a change made meanwhile is seen, and never logged twice.
    let events = |old: &KeyRow| {
        let mut made: Vec<(&'static str, String)> = Vec::new();
        let detail = |extra| audit::key_detail(&old.name, old.environment, &old.hint, extra);
        if let Some(new) = change.name.filter(|n| *n != old.name) {
            made.push((action::KEY_RENAMED, detail(json!({"new_name": new}))));
        }
        match change.disabled {
            Some(true) if old.disabled_at.is_none() => {
                made.push((action::KEY_DISABLED, detail(json!({}))));
            }
            Some(false) if old.disabled_at.is_some() => {
                made.push((action::KEY_ENABLED, detail(json!({}))));
            }
            _ => {}
        }
        let ips = change.allowed_ips.unwrap_or(old.allowed_ips.as_deref());
        let svc = change.services.unwrap_or(old.services.as_deref());
        if ips != old.allowed_ips.as_deref() || svc != old.services.as_deref() {
            made.push((
                action::KEY_POLICY_CHANGED,
                detail(json!({
                    "allowed_ips": key_policy::allowed_list(ips),
                    "services": svc.map(|s| s.split(' ').collect::<Vec<_>>()),
                })),
            ));
        }
        made
    };
    let template = audit::by_user(user, "", Some(id), None, now);
    let changed = store::change_key(
        &state.db,
        &store::Actor::of(user),
        id,
        &change,
        &template,
        events,
    )
    .await?
    .ok_or(AccountError::KeyNotFound)?;
    state.verifier.forget(changed);
    crate::api_keys::company_key(state, &user.company_id, id).await
}

/// The owner sets the company's maximum key lifetime in days (`None`: no
/// limit). New keys must expire within it; keys that exist keep their expiry.
pub async fn set_max_lifetime(
    state: &Services,
    user: &Account,
    days: Option<i64>,
) -> Result<(), AccountError> {
    if !user.role.is_owner() {
        return Err(AccountError::OwnerOnly);
    }
    let days = key_policy::check_lifetime_days(days)?;
    let detail = json!({ "max_key_lifetime_days": days }).to_string();
    let event = audit::by_user(
        user,
        action::KEY_LIFETIME_POLICY,
        Some(&user.company_id),
        Some(&detail),
        state.clock.now(),
    );
    store::set_key_lifetime(&state.db, &store::Actor::of(user), days, &event).await?;
    Ok(())
}
