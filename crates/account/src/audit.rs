//! The audit trail: what happened to a company's keys, sessions, members
//! and passwords,
//! who did it and when. Events never hold a secret: a key is named by its id,
//! name and hint.

use serde_json::Value;

use crate::store::{self, Account, NewEvent};
use crate::Services;

/// The actions recorded. They are stable names: the API returns them as they are.
pub mod action {
    pub const COMPANY_CREATED: &str = "company.created";
    pub const SIGNED_IN: &str = "session.signed_in";
    pub const SIGN_IN_FAILED: &str = "session.sign_in_failed";
    pub const KEY_CREATED: &str = "key.created";
    pub const KEY_ROLLED: &str = "key.rolled";
    pub const KEY_REVOKED: &str = "key.revoked";
    /// Revoked because a secret scanner found it published.
    pub const KEY_LEAKED: &str = "key.leaked";
    pub const KEY_EXPIRY_NOTIFIED: &str = "key.expiry_notified";
    pub const MEMBER_INVITED: &str = "member.invited";
    pub const MEMBER_JOINED: &str = "member.joined";
    pub const MEMBER_REMOVED: &str = "member.removed";
    pub const MEMBER_INVITATION_REVOKED: &str = "member.invitation_revoked";
    pub const MEMBER_ROLE_CHANGED: &str = "member.role_changed";
    /// A reset link was asked for (a known account only).
    pub const PASSWORD_RESET_REQUESTED: &str = "password.reset_requested";
    /// A new password was set with a reset link.
    pub const PASSWORD_RESET: &str = "password.reset";
    pub const PASSWORD_CHANGED: &str = "password.changed";
    /// *Sign out other browsers*.
    pub const SESSIONS_REVOKED: &str = "session.revoked_others";
    pub const EMAIL_VERIFIED: &str = "email.verified";
    /// A new email took effect (its confirmation link was used).
    pub const EMAIL_CHANGED: &str = "email.changed";
    /// A pending change of the email was cancelled from the old address's link.
    pub const EMAIL_CHANGE_CANCELLED: &str = "email.change_cancelled";
    pub const NAME_CHANGED: &str = "profile.name_changed";
    /// Amazon stores (issue #14): registered by the Admin, authorized in
    /// Seller Central (`connected`, or `renewed` when it had been before),
    /// refused (`failed`, with the reason), managed and disconnected.
    pub const AMAZON_STORE_REGISTERED: &str = "amazon_store.registered";
    pub const AMAZON_STORE_CONNECTED: &str = "amazon_store.connected";
    pub const AMAZON_STORE_RENEWED: &str = "amazon_store.renewed";
    pub const AMAZON_STORE_FAILED: &str = "amazon_store.failed";
    pub const AMAZON_STORE_DEACTIVATED: &str = "amazon_store.deactivated";
    pub const AMAZON_STORE_ACTIVATED: &str = "amazon_store.activated";
    pub const AMAZON_STORE_DELETED: &str = "amazon_store.deleted";
    pub const AMAZON_STORE_DISCONNECTED: &str = "amazon_store.disconnected";
    /// Two-step sign-in: an authenticator app set up (or replaced), turned
    /// off, new recovery codes, a recovery code used, every second step
    /// removed by the service's operator, and the company's requirement.
    pub const TWO_FACTOR_ENABLED: &str = "two_factor.enabled";
    pub const TWO_FACTOR_DISABLED: &str = "two_factor.disabled";
    pub const RECOVERY_CODES_REGENERATED: &str = "two_factor.recovery_codes_regenerated";
    pub const RECOVERY_CODE_USED: &str = "two_factor.recovery_code_used";
    pub const TWO_FACTOR_RESET: &str = "two_factor.reset";
    pub const PASSKEY_ADDED: &str = "two_factor.passkey_added";
    pub const PASSKEY_REMOVED: &str = "two_factor.passkey_removed";
    pub const TWO_FACTOR_POLICY_CHANGED: &str = "company.two_factor_policy";
    pub const COMPANY_CLOSED: &str = "company.closed";
    pub const KEY_DISABLED: &str = "key.disabled";
    pub const KEY_ENABLED: &str = "key.enabled";
    pub const KEY_RENAMED: &str = "key.renamed";
    /// A key's allowed addresses or services changed.
    pub const KEY_POLICY_CHANGED: &str = "key.policy_changed";
    pub const KEY_LIFETIME_POLICY: &str = "company.key_lifetime";

    pub const ALL: [&str; 43] = [
        COMPANY_CREATED,
        SIGNED_IN,
        SIGN_IN_FAILED,
        KEY_CREATED,
        KEY_ROLLED,
        KEY_REVOKED,
        KEY_LEAKED,
        KEY_EXPIRY_NOTIFIED,
        MEMBER_INVITED,
        MEMBER_JOINED,
        MEMBER_REMOVED,
        MEMBER_INVITATION_REVOKED,
        MEMBER_ROLE_CHANGED,
        PASSWORD_RESET_REQUESTED,
        PASSWORD_RESET,
        PASSWORD_CHANGED,
        SESSIONS_REVOKED,
        EMAIL_VERIFIED,
        EMAIL_CHANGED,
        EMAIL_CHANGE_CANCELLED,
        NAME_CHANGED,
        AMAZON_STORE_REGISTERED,
        AMAZON_STORE_CONNECTED,
        AMAZON_STORE_RENEWED,
        AMAZON_STORE_FAILED,
        AMAZON_STORE_DEACTIVATED,
        AMAZON_STORE_ACTIVATED,
        AMAZON_STORE_DELETED,
        AMAZON_STORE_DISCONNECTED,
        TWO_FACTOR_ENABLED,
        TWO_FACTOR_DISABLED,
        RECOVERY_CODES_REGENERATED,
        RECOVERY_CODE_USED,
        TWO_FACTOR_RESET,
        PASSKEY_ADDED,
        PASSKEY_REMOVED,
        TWO_FACTOR_POLICY_CHANGED,
        COMPANY_CLOSED,
        KEY_DISABLED,
        KEY_ENABLED,
        KEY_RENAMED,
        KEY_POLICY_CHANGED,
        KEY_LIFETIME_POLICY,
    ];
}

/// The catalog key that names an action on the audit page.
pub fn label(action: &str) -> &'static str {
    match action {
        action::COMPANY_CREATED => "event.company_created",
        action::SIGNED_IN => "event.signed_in",
        action::SIGN_IN_FAILED => "event.sign_in_failed",
        action::KEY_CREATED => "event.key_created",
        action::KEY_ROLLED => "event.key_rolled",
        action::KEY_REVOKED => "event.key_revoked",
        action::KEY_LEAKED => "event.key_leaked",
        action::KEY_EXPIRY_NOTIFIED => "event.key_expiry_notified",
        action::MEMBER_INVITED => "event.member_invited",
        action::MEMBER_JOINED => "event.member_joined",
        action::MEMBER_REMOVED => "event.member_removed",
        action::MEMBER_INVITATION_REVOKED => "event.member_invitation_revoked",
        action::MEMBER_ROLE_CHANGED => "event.member_role_changed",
        action::PASSWORD_RESET_REQUESTED => "event.password_reset_requested",
        action::PASSWORD_RESET => "event.password_reset",
        action::PASSWORD_CHANGED => "event.password_changed",
        action::SESSIONS_REVOKED => "event.sessions_revoked",
        action::EMAIL_VERIFIED => "event.email_verified",
        action::EMAIL_CHANGED => "event.email_changed",
        action::EMAIL_CHANGE_CANCELLED => "event.email_change_cancelled",
        action::NAME_CHANGED => "event.name_changed",
        action::AMAZON_STORE_REGISTERED => "event.amazon_store_registered",
        action::AMAZON_STORE_CONNECTED => "event.amazon_store_connected",
        action::AMAZON_STORE_RENEWED => "event.amazon_store_renewed",
        action::AMAZON_STORE_FAILED => "event.amazon_store_failed",
        action::AMAZON_STORE_DEACTIVATED => "event.amazon_store_deactivated",
        action::AMAZON_STORE_ACTIVATED => "event.amazon_store_activated",
        action::AMAZON_STORE_DELETED => "event.amazon_store_deleted",
        action::AMAZON_STORE_DISCONNECTED => "event.amazon_store_disconnected",
        action::TWO_FACTOR_ENABLED => "event.two_factor_enabled",
        action::TWO_FACTOR_DISABLED => "event.two_factor_disabled",
        action::RECOVERY_CODES_REGENERATED => "event.recovery_codes_regenerated",
        action::RECOVERY_CODE_USED => "event.recovery_code_used",
        action::TWO_FACTOR_RESET => "event.two_factor_reset",
        action::PASSKEY_ADDED => "event.passkey_added",
        action::PASSKEY_REMOVED => "event.passkey_removed",
        action::TWO_FACTOR_POLICY_CHANGED => "event.two_factor_policy",
        action::COMPANY_CLOSED => "event.company_closed",
        action::KEY_DISABLED => "event.key_disabled",
        action::KEY_ENABLED => "event.key_enabled",
        action::KEY_RENAMED => "event.key_renamed",
        action::KEY_POLICY_CHANGED => "event.key_policy_changed",
        action::KEY_LIFETIME_POLICY => "event.key_lifetime_policy",
        _ => "event.other",
    }
}

/// An event done by a signed-in user, in their current company (in none
/// when they belong to none).
pub fn by_user<'a>(
    user: &'a Account,
    action: &'a str,
    target: Option<&'a str>,
    detail: Option<&'a str>,
    at: i64,
) -> NewEvent<'a> {
    NewEvent {
        company_id: user.in_company().then_some(user.company_id.as_str()),
        actor_id: Some(&user.id),
        actor: Some(&user.email),
        action,
        target,
        detail,
        ip: None,
        at,
    }
}

/// The detail of a key event: its name, environment and hint (never the secret).
pub fn key_detail(name: &str, environment: keys::Environment, hint: &str, extra: Value) -> String {
    let mut v =
        serde_json::json!({"name": name, "environment": environment.as_str(), "hint": hint});
    if let (Some(obj), Value::Object(more)) = (v.as_object_mut(), extra) {
        obj.extend(more);
    }
    v.to_string()
}

/// Records an event that is not part of a larger write. A failure is logged
/// and does not undo what already happened.
pub async fn record(state: &Services, event: &NewEvent<'_>) {
    if let Err(e) = store::record_event(&state.db, event).await {
        tracing::error!(error = %e, action = event.action, "could not record an audit event");
    }
}

/// One page of a company's events, newest first, and the cursor of the next
/// page (`None` on the last). The company's owners read the trail, and its
/// viewers (the role made for oversight: it sees, and changes nothing).
pub async fn events_page(
    state: &Services,
    user: &store::Account,
    before: Option<i64>,
    limit: i64,
) -> Result<(Vec<store::EventRow>, Option<i64>), web::Error> {
    if user.role == store::Role::Member {
        return Err(web::Error::forbidden(
            "owner_only",
            "Only the company's owners and viewers can read the audit log.",
        ));
    }
    let mut rows = store::list_events(&state.db, &user.company_id, before, limit + 1).await?;
    let more = rows.len() as i64 > limit;
    rows.truncate(limit as usize);
    let next = if more {
        rows.last().map(|e| e.id)
    } else {
        None
    };
    Ok((rows, next))
}
