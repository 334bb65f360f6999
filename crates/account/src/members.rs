//! Company members: the owner invites by email, the invitee joins with a new
//! or an existing account, and the owner removes members.
//!
//! An invitation link carries `{id}.{mac}`, where `mac` is an HMAC-SHA256 of
//! the id under the service's link key. Nothing that opens the link is
//! stored: the database holds the id, and the outbox message holds a
//! placeholder that is filled in when the message is sent or shown. The
//! single use and the 7 days are the invitation row's; the key only proves
//! the link was made here.
//!
//! An account belongs to any number of companies, with a role in each
//! (SPEC §9). Joining adds a membership; removal (or leaving) ends that one
//! membership at once, and the account's sessions move to another of its
//! companies. Keys belong to companies, so they stay where they are.

use axum::http::{header, HeaderMap};
use web::{Error, Secret};

use crate::audit::action;
use crate::store::{self, AcceptError, Account, InvitationRow, NewEvent, Role};
use crate::{auth, Services};
use crate::{AccountError, FieldError};

/// An invitation can be accepted for this long.
pub const INVITATION_SECS: i64 = 7 * 86400;
/// At most this many invitations of one company wait at a time.
pub const MAX_PENDING: i64 = 100;
/// Where the link's token goes in an invitation's stored message.
pub const TOKEN_PLACEHOLDER: &str = "{invitation_token}";
/// The outbox kind of an invitation.
pub const KIND: &str = "member_invite";

pub use crate::link_key::LinkKey;

/// Where links point: the configured public URL, or the address the
/// (signed-in, same-origin) request came to.
pub fn link_base(state: &Services, headers: &HeaderMap) -> Result<String, Error> {
    if let Some(url) = &state.cfg.public_url {
        return Ok(url.trim_end_matches('/').to_owned());
    }
    let host = headers
        .get(header::HOST)
        .and_then(|h| h.to_str().ok())
        .filter(|h| {
            !h.is_empty()
                && h.len() <= 255
                && h.bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b".-:[]".contains(&b))
        })
        .ok_or_else(|| {
            Error::bad_request(
                "no_host",
                "The request has no usable Host header, and no public URL is configured.",
            )
        })?;
    let scheme = if state.cfg.secure_cookies {
        "https"
    } else {
        "http"
    };
    Ok(format!("{scheme}://{host}"))
}

/// The path of an invitation's page.
pub fn join_path(state: &Services, invitation_id: &str) -> String {
    format!("/join/{}", state.cfg.link_key.token(invitation_id))
}

pub fn require_owner(user: &Account) -> Result<(), AccountError> {
    if user.role.is_owner() {
        Ok(())
    } else {
        Err(AccountError::OwnerOnly)
    }
}

/// Refuses a viewer: every change to the company's keys, stores and
/// settings needs the role `owner` or `member`.
pub fn require_writer(user: &Account) -> Result<(), AccountError> {
    if user.role.can_write() {
        Ok(())
    } else {
        Err(AccountError::ReadOnly)
    }
}

pub fn parse_role(role: Option<&str>) -> Result<Role, AccountError> {
    match role.map(str::trim) {
        None | Some("") => Ok(Role::Member),
        Some(name) => Role::from_name(name).ok_or(AccountError::Invalid(FieldError::new(
            "role",
            "error.role_invalid",
        ))),
    }
}

/// A new invitation and its link.
pub struct Invited {
    pub invitation: InvitationRow,
    pub url: String,
}

/// The owner invites `email` as `role`: the invitation, its message in the
/// outbox and the audit event are written together.
pub async fn invite(
    state: &Services,
    user: &Account,
    email: &str,
    role: Option<&str>,
    base: &str,
) -> Result<Invited, AccountError> {
    require_owner(user)?;
    let email = web::normalize_email(email).ok_or(AccountError::Invalid(FieldError::new(
        "email",
        "error.email_invalid",
    )))?;
    let role = parse_role(role)?;
    if store::is_member(&state.db, &user.company_id, &email).await? {
        return Err(AccountError::AlreadyMember);
    }
    let now = state.clock.now();
    let id = keys::random_id("inv");
    let expires_at = now + INVITATION_SECS;
    let t = crate::i18n::in_locale(user.locale.as_deref(), web::i18n::Lang::default());
    let role_name = t
        .get(if role.is_owner() {
            "role.owner"
        } else {
            "role.member"
        })
        .to_lowercase();
    let link = format!("{base}/join/{TOKEN_PLACEHOLDER}");
    let subject = t.fmt("mail.invite_subject", "company", &user.company_name);
    let body = crate::i18n::letter(
        t,
        [
            t.get("mail.invite_body")
                .replace("{inviter}", &format!("{} ({})", user.name, user.email))
                .replace("{company}", &user.company_name)
                .replace("{role}", &role_name),
            t.get("mail.invite_action").replace("{link}", &link),
            t.get("mail.invite_expires")
                .replace("{date}", &web::clock::human(expires_at)),
        ],
    );
    let detail = serde_json::json!({"email": email, "role": role}).to_string();
    let event = crate::audit::by_user(user, action::MEMBER_INVITED, Some(&id), Some(&detail), now);
    let dedupe = format!("invite:{id}");
    store::create_invitation(
        &state.db,
        &store::Actor::of(user),
        &store::InvitationLimits {
            max_pending: MAX_PENDING,
            per_window: state.cfg.invitations_per_hour,
            window_secs: 3600,
        },
        &store::NewInvitation {
            id: &id,
            company_id: &user.company_id,
            email: &email,
            role,
            invited_by: &user.email,
            at: now,
            expires_at,
        },
        &store::NewMessage {
            company_id: Some(&user.company_id),
            recipient: &email,
            kind: KIND,
            subject: &subject,
            body: &body,
            dedupe_key: Some(&dedupe),
            at: now,
        },
        &event,
    )
    .await
    .map_err(Error::from)?;
    let url = format!("{base}{}", join_path(state, &id));
    Ok(Invited {
        invitation: InvitationRow {
            id,
            company_id: user.company_id.clone(),
            company_name: user.company_name.clone(),
            email,
            role: role.to_owned(),
            invited_by: user.email.clone(),
            created_at: now,
            expires_at,
            accepted_at: None,
            revoked_at: None,
        },
        url,
    })
}

pub async fn revoke_invitation(
    state: &Services,
    user: &Account,
    id: &str,
) -> Result<(), AccountError> {
    require_owner(user)?;
    let now = state.clock.now();
    let detail = serde_json::json!({"revoked": true}).to_string();
    let event = crate::audit::by_user(
        user,
        action::MEMBER_INVITATION_REVOKED,
        Some(id),
        Some(&detail),
        now,
    );
    if store::revoke_invitation(&state.db, &store::Actor::of(user), id, now, &event).await? {
        Ok(())
    } else {
        Err(AccountError::InvitationNotFound)
    }
}

/// The member `user` may remove (the confirmation page asks first), and
/// whether that is `user` leaving: owners remove others, a member may remove
/// themself, an owner never themself.
pub async fn removable(
    state: &Services,
    user: &Account,
    member_id: &str,
) -> Result<(store::MemberRow, bool), AccountError> {
    let leaving = member_id == user.id;
    if leaving && user.role.is_owner() {
        return Err(AccountError::CannotRemoveSelf);
    }
    if !leaving {
        require_owner(user)?;
    }
    let member = store::get_member(&state.db, &user.company_id, member_id)
        .await?
        .ok_or(AccountError::MemberNotFound)?;
    Ok((member, leaving))
}

/// The owner removes a member: the membership ends, with the member's
/// sessions in this company; the account keeps its other companies, and
/// the keys stay.
///
/// A member (not an owner) may remove themself: they leave the company the
/// same way. Owners cannot leave, so a company always keeps an owner.
pub async fn remove(
    state: &Services,
    user: &Account,
    member_id: &str,
) -> Result<String, AccountError> {
    let (member, leaving) = removable(state, user, member_id).await?;
    let now = state.clock.now();
    let detail = if leaving {
        serde_json::json!({"email": member.email, "role": member.role, "left": true})
    } else {
        serde_json::json!({"email": member.email, "role": member.role})
    }
    .to_string();
    let event = crate::audit::by_user(
        user,
        action::MEMBER_REMOVED,
        Some(member_id),
        Some(&detail),
        now,
    );
    let need = if leaving {
        store::Need::Member
    } else {
        store::Need::Owner
    };
    store::remove_member(
        &state.db,
        &store::Actor::of(user),
        need,
        member_id,
        now,
        &event,
    )
    .await?
    .ok_or(AccountError::MemberNotFound)
}

/// The owner makes another member an owner, or an owner a member. Owners
/// cannot change their own role, so a company always keeps an owner.
pub async fn change_role(
    state: &Services,
    user: &Account,
    member_id: &str,
    role: Option<&str>,
) -> Result<store::MemberRow, AccountError> {
    require_owner(user)?;
    if role.is_none_or(|r| r.trim().is_empty()) {
        return Err(AccountError::Invalid(FieldError::new(
            "role",
            "error.role_invalid",
        )));
    }
    let role = parse_role(role)?;
    if member_id == user.id {
        return Err(AccountError::CannotChangeOwnRole);
    }
    let Some(mut member) = store::get_member(&state.db, &user.company_id, member_id).await? else {
        return Err(AccountError::MemberNotFound);
    };
    if member.role == role {
        return Ok(member);
    }
    let detail =
        serde_json::json!({"email": member.email, "role": role, "previous_role": member.role})
            .to_string();
    let event = crate::audit::by_user(
        user,
        action::MEMBER_ROLE_CHANGED,
        Some(member_id),
        Some(&detail),
        state.clock.now(),
    );
    if !store::set_member_role(
        &state.db,
        &store::Actor::of(user),
        member_id,
        member.role,
        role,
        &event,
    )
    .await
    .map_err(Error::from)?
    {
        return Err(AccountError::ChangedMeanwhile);
    }
    member.role = role;
    Ok(member)
}

mod join;
pub use join::*;
