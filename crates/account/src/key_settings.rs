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
    let old = crate::api_keys::company_key(state, &user.company_id, id).await?;
    let now = state.clock.now();
    let mut details: Vec<(&str, String)> = Vec::new();
    let detail = |extra| audit::key_detail(&old.name, old.environment, &old.hint, extra);
    if let Some(new) = name.as_deref().filter(|n| *n != old.name) {
        details.push((action::KEY_RENAMED, detail(json!({"new_name": new}))));
    }
    match input.disabled {
        Some(true) if old.disabled_at.is_none() => {
            details.push((action::KEY_DISABLED, detail(json!({}))));
        }
        Some(false) if old.disabled_at.is_some() => {
            details.push((action::KEY_ENABLED, detail(json!({}))));
        }
        _ => {}
    }
    let ips_changed = allowed_ips.as_ref().is_some_and(|v| *v != old.allowed_ips);
    let services_changed = services.as_ref().is_some_and(|v| *v != old.services);
    if ips_changed || services_changed {
        let ips = allowed_ips.as_ref().unwrap_or(&old.allowed_ips);
        let svc = services.as_ref().unwrap_or(&old.services);
        details.push((
            action::KEY_POLICY_CHANGED,
            detail(json!({
                "allowed_ips": key_policy::allowed_list(ips.as_deref()),
                "services": svc.as_deref().map(|s| s.split(' ').collect::<Vec<_>>()),
            })),
        ));
    }
    let events: Vec<store::NewEvent> = details
        .iter()
        .map(|(act, d)| audit::by_user(user, act, Some(id), Some(d), now))
        .collect();
    let change = store::KeyChange {
        name: name.as_deref(),
        disabled: input.disabled,
        allowed_ips: allowed_ips.as_ref().map(Option::as_deref),
        services: services.as_ref().map(Option::as_deref),
    };
    let changed = store::change_key(&state.db, &store::Actor::of(user), id, &change, now, &events)
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
