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
//! Every account belongs to one company. Joining moves an account into the
//! inviting company; removal moves it out, into a new empty company of its
//! own, and ends all its sessions at once. Keys belong to companies, so they
//! stay where they are.

use std::fmt;
use std::path::Path;
use std::sync::Arc;

use axum::http::{header, HeaderMap, StatusCode};
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use hmac::{Hmac, Mac};
use sha2::Sha256;
use web::i18n::T;
use web::{Error, Secret};

use crate::audit::action;
use crate::domain::{Failure, FieldError};
use crate::store::{self, AcceptError, Account, InvitationRow, MessageRow, NewEvent};
use crate::{auth, AppState};

/// An invitation can be accepted for this long.
pub const INVITATION_SECS: i64 = 7 * 86400;
/// At most this many invitations of one company wait at a time.
pub const MAX_PENDING: i64 = 100;
/// Where the link's token goes in an invitation's stored message.
pub const TOKEN_PLACEHOLDER: &str = "{invitation_token}";
/// The outbox kind of an invitation.
pub const KIND: &str = "member_invite";

pub const OWNER: &str = "owner";
pub const MEMBER: &str = "member";

/// The secret that signs invitation links. Nodes that share a database must
/// share it (`--link-key-file`); a new one makes earlier links stop working.
#[derive(Clone)]
pub struct LinkKey(Arc<Vec<u8>>);

impl fmt::Debug for LinkKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("LinkKey([redacted])")
    }
}

const KEY_CHARS: usize = 43; // base62: 256 bits

impl LinkKey {
    /// A fresh key (for one process, or tests).
    pub fn random() -> LinkKey {
        LinkKey(Arc::new(keys::random_base62(KEY_CHARS).into_bytes()))
    }

    /// Reads the key file, or creates it (mode 0600) with a fresh key.
    pub fn open_or_create(path: &Path) -> Result<LinkKey, String> {
        match std::fs::read_to_string(path) {
            Ok(text) => {
                let key = text.trim();
                if key.len() < 32 || !key.chars().all(|c| c.is_ascii_alphanumeric()) {
                    return Err(format!(
                        "{} is not a link key (at least 32 letters and digits)",
                        path.display()
                    ));
                }
                Ok(LinkKey(Arc::new(key.as_bytes().to_vec())))
            }
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                let key = keys::random_base62(KEY_CHARS);
                write_private(path, &format!("{key}\n"))
                    .map_err(|e| format!("cannot write {}: {e}", path.display()))?;
                Ok(LinkKey(Arc::new(key.into_bytes())))
            }
            Err(e) => Err(format!("cannot read {}: {e}", path.display())),
        }
    }

    fn mac(&self, id: &str) -> Hmac<Sha256> {
        // HMAC takes a key of any length.
        let mut mac = match Hmac::<Sha256>::new_from_slice(&self.0) {
            Ok(m) => m,
            Err(_) => unreachable!("HMAC accepts keys of every length"),
        };
        mac.update(b"commerce invitation v1:");
        mac.update(id.as_bytes());
        mac
    }

    /// The token of an invitation's link.
    pub fn token(&self, id: &str) -> String {
        let tag = self.mac(id).finalize().into_bytes();
        format!("{id}.{}", URL_SAFE_NO_PAD.encode(tag))
    }

    /// The invitation id of a token made by this key (checked in constant time).
    pub fn check<'a>(&self, token: &'a str) -> Option<&'a str> {
        let (id, tag) = token.split_once('.')?;
        if id.is_empty()
            || id.len() > 64
            || !id.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_')
        {
            return None;
        }
        let tag = URL_SAFE_NO_PAD.decode(tag).ok()?;
        self.mac(id).verify_slice(&tag).ok()?;
        Some(id)
    }
}

#[cfg(unix)]
fn write_private(path: &Path, text: &str) -> std::io::Result<()> {
    use std::io::Write;
    use std::os::unix::fs::OpenOptionsExt;
    let mut f = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(path)?;
    f.write_all(text.as_bytes())?;
    f.sync_all()
}

#[cfg(not(unix))]
fn write_private(path: &Path, text: &str) -> std::io::Result<()> {
    std::fs::write(path, text)
}

/// Where links point: the configured public URL, or the address the
/// (signed-in, same-origin) request came to.
pub fn link_base(state: &AppState, headers: &HeaderMap) -> Result<String, Error> {
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
pub fn join_path(state: &AppState, invitation_id: &str) -> String {
    format!("/join/{}", state.cfg.link_key.token(invitation_id))
}

/// A message's body as sent or shown: an invitation's with its link's token.
pub fn message_body(state: &AppState, m: &MessageRow) -> String {
    match &m.invitation_id {
        Some(id) => m
            .body
            .replace(TOKEN_PLACEHOLDER, &state.cfg.link_key.token(id)),
        None => m.body.clone(),
    }
}

pub fn require_owner(user: &Account) -> Result<(), Error> {
    if user.role == OWNER {
        Ok(())
    } else {
        Err(Error::forbidden(
            "owner_only",
            "Only the company's owner manages its members.",
        ))
    }
}

pub fn parse_role(role: Option<&str>) -> Result<&'static str, Failure> {
    match role.map(str::trim) {
        None | Some("") | Some(MEMBER) => Ok(MEMBER),
        Some(OWNER) => Ok(OWNER),
        Some(_) => Err(Failure::Field(FieldError::new(
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
    state: &AppState,
    user: &Account,
    email: &str,
    role: Option<&str>,
    base: &str,
) -> Result<Invited, Failure> {
    require_owner(user)?;
    let email = web::normalize_email(email).ok_or(Failure::Field(FieldError::new(
        "email",
        "error.email_invalid",
    )))?;
    let role = parse_role(role)?;
    if store::is_member(&state.db, &user.company_id, &email).await? {
        return Err(Failure::Field(FieldError::new(
            "email",
            "error.already_member",
        )));
    }
    let now = state.clock.now();
    let id = keys::random_id("inv");
    let expires_at = now + INVITATION_SECS;
    let t = T {
        catalog: &crate::i18n::CATALOG,
        lang: user
            .locale
            .as_deref()
            .and_then(web::i18n::Lang::from_code)
            .unwrap_or_default(),
    };
    let role_name = t
        .get(if role == OWNER {
            "role.owner"
        } else {
            "role.member"
        })
        .to_lowercase();
    let link = format!("{base}/join/{TOKEN_PLACEHOLDER}");
    let subject = t.fmt("mail.invite_subject", "company", &user.company_name);
    let body = [
        t.get("mail.invite_body")
            .replace("{inviter}", &format!("{} ({})", user.name, user.email))
            .replace("{company}", &user.company_name)
            .replace("{role}", &role_name),
        t.get("mail.invite_action").replace("{link}", &link),
        t.get("mail.invite_expires")
            .replace("{date}", &web::clock::human(expires_at)),
        t.get("mail.signature").to_owned(),
    ]
    .join("\n\n");
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

pub async fn revoke_invitation(state: &AppState, user: &Account, id: &str) -> Result<(), Error> {
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
        Err(Error::not_found(
            "No pending invitation of your company has this id.",
        ))
    }
}

/// The member `user` may remove (the confirmation page asks first), and
/// whether that is `user` leaving: owners remove others, a member may remove
/// themself, an owner never themself.
pub async fn removable(
    state: &AppState,
    user: &Account,
    member_id: &str,
) -> Result<(store::MemberRow, bool), Error> {
    let leaving = member_id == user.id;
    if leaving && user.role == OWNER {
        return Err(Error::conflict(
            "cannot_remove_self",
            "Owners cannot remove themselves: the company needs its owner. Make another member an owner and ask them to make you a member first.",
        ));
    }
    if !leaving {
        require_owner(user)?;
    }
    let member = store::get_member(&state.db, &user.company_id, member_id)
        .await?
        .ok_or_else(|| Error::not_found("Your company has no member with this id."))?;
    Ok((member, leaving))
}

/// The owner removes a member: the member's sessions end at once and the
/// account leaves for a new empty company of its own; the keys stay.
///
/// A member (not an owner) may remove themself: they leave the company the
/// same way. Owners cannot leave, so a company always keeps an owner.
pub async fn remove(state: &AppState, user: &Account, member_id: &str) -> Result<String, Error> {
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
    let new_company = keys::random_id("co");
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
        &new_company,
        now,
        &event,
    )
    .await?
    .ok_or_else(|| Error::not_found("Your company has no member with this id."))
}

/// The owner makes another member an owner, or an owner a member. Owners
/// cannot change their own role, so a company always keeps an owner.
pub async fn change_role(
    state: &AppState,
    user: &Account,
    member_id: &str,
    role: Option<&str>,
) -> Result<store::MemberRow, Failure> {
    require_owner(user)?;
    if role.is_none_or(|r| r.trim().is_empty()) {
        return Err(Failure::Field(FieldError::new(
            "role",
            "error.role_invalid",
        )));
    }
    let role = parse_role(role)?;
    if member_id == user.id {
        return Err(Failure::Other(Error::conflict(
            "cannot_change_own_role",
            "You cannot change your own role: the company needs its owner.",
        )));
    }
    let Some(mut member) = store::get_member(&state.db, &user.company_id, member_id).await? else {
        return Err(Failure::Other(Error::not_found(
            "Your company has no member with this id.",
        )));
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
        &member.role,
        role,
        &event,
    )
    .await
    .map_err(Error::from)?
    {
        return Err(Failure::Other(Error::conflict(
            "changed_meanwhile",
            "The member changed or left meanwhile. Reload and try again.",
        )));
    }
    member.role = role.to_owned();
    Ok(member)
}

/// What a link opens: the invitation, if it can still be accepted.
pub async fn open(state: &AppState, token: &str) -> Result<InvitationRow, Error> {
    let unknown = || Error::not_found("This invitation link is not valid.");
    let id = state.cfg.link_key.check(token).ok_or_else(unknown)?;
    let inv = store::get_invitation(&state.db, id)
        .await?
        .ok_or_else(unknown)?;
    let gone = |code, msg| Err(Error::new(StatusCode::GONE, code, msg));
    if inv.accepted_at.is_some() {
        return gone(
            "invitation_used",
            "This invitation has been used already. Sign in to continue.",
        );
    }
    if inv.revoked_at.is_some() {
        return gone(
            "invitation_revoked",
            "This invitation was withdrawn. Ask the company's owner for a new one.",
        );
    }
    if inv.expires_at <= state.clock.now() {
        return gone(
            "invitation_expired",
            "This invitation has expired. Ask the company's owner for a new one.",
        );
    }
    Ok(inv)
}

fn gone_meanwhile() -> Error {
    Error::new(
        StatusCode::GONE,
        "invitation_used",
        "This invitation has been used or withdrawn meanwhile.",
    )
}

/// Why a signed-in account cannot accept, or `None` when it can.
pub async fn cannot_accept(
    state: &AppState,
    user: &Account,
    inv: &InvitationRow,
) -> Result<Option<Error>, Error> {
    if user.email != inv.email {
        return Ok(Some(Error::forbidden(
            "wrong_account",
            "This invitation is for another email address. Sign in with that address.",
        )));
    }
    if user.company_id == inv.company_id {
        return Ok(Some(Error::conflict(
            "already_member",
            "You are a member of this company already.",
        )));
    }
    if user.role == OWNER {
        let (others, live_keys) =
            store::company_holdings(&state.db, &user.company_id, &user.id, state.clock.now())
                .await?;
        if others > 0 {
            return Ok(Some(Error::conflict(
                "owner_has_members",
                "You own a company that has other members. Remove them before you join another company.",
            )));
        }
        if live_keys > 0 {
            return Ok(Some(Error::conflict(
                "owner_has_keys",
                "Your company still has keys that work. Revoke them before you join another company, or they could no longer be managed.",
            )));
        }
    }
    Ok(None)
}

/// A signed-in account accepts: it moves into the company with the
/// invitation's role. A member of another company leaves it (recorded there).
pub async fn accept_signed_in(
    state: &AppState,
    user: &Account,
    token: &str,
) -> Result<Account, Error> {
    let inv = open(state, token).await?;
    if let Some(e) = cannot_accept(state, user, &inv).await? {
        return Err(e);
    }
    let now = state.clock.now();
    let joined = serde_json::json!({"email": user.email, "role": inv.role}).to_string();
    let left =
        serde_json::json!({"email": user.email, "role": user.role, "joined_another_company": true})
            .to_string();
    let mut events = vec![NewEvent {
        company_id: Some(&inv.company_id),
        actor_id: Some(&user.id),
        actor: Some(&user.email),
        action: action::MEMBER_JOINED,
        target: Some(&user.id),
        detail: Some(&joined),
        ip: None,
        at: now,
    }];
    if user.role != OWNER {
        events.push(NewEvent {
            company_id: Some(&user.company_id),
            action: action::MEMBER_REMOVED,
            detail: Some(&left),
            ..events[0]
        });
    }
    match store::accept_as_existing_account(
        &state.db,
        &inv.id,
        &user.id,
        &inv.company_id,
        &inv.role,
        now,
        &events,
    )
    .await
    {
        Ok(()) => {}
        Err(AcceptError::Gone) => return Err(gone_meanwhile()),
        Err(AcceptError::Db(e)) => return Err(e.into()),
    }
    Ok(Account {
        company_id: inv.company_id,
        company_name: inv.company_name,
        role: inv.role,
        ..user.clone()
    })
}

/// The invitee makes an account (with the invited email) and joins.
pub async fn accept_new_account(
    state: &AppState,
    ip: std::net::IpAddr,
    token: &str,
    email: Option<&str>,
    name: &str,
    password: Secret,
    locale: &str,
) -> Result<Account, Failure> {
    let inv = open(state, token).await?;
    if let Some(email) = email {
        if web::normalize_email(email).as_deref() != Some(inv.email.as_str()) {
            return Err(Failure::Field(FieldError::new(
                "email",
                "error.invite_email_mismatch",
            )));
        }
    }
    let name = crate::domain::text_field(name, "name", 100)?;
    crate::domain::check_password_rules(&password)?;
    crate::domain::take_signup(state, ip)?;
    let hash = auth::hash_password(password).await?;
    let account_id = keys::random_id("acct");
    let now = state.clock.now();
    let detail = serde_json::json!({"email": inv.email, "role": inv.role}).to_string();
    let event = NewEvent {
        company_id: Some(&inv.company_id),
        actor_id: Some(&account_id),
        actor: Some(&inv.email),
        action: action::MEMBER_JOINED,
        target: Some(&account_id),
        detail: Some(&detail),
        ip: None,
        at: now,
    };
    let member = store::NewMember {
        invitation_id: &inv.id,
        company_id: &inv.company_id,
        account_id: &account_id,
        email: &inv.email,
        name: &name,
        password_hash: &hash,
        role: &inv.role,
        locale: Some(locale),
        now,
    };
    match store::accept_as_new_account(&state.db, &member, &event).await {
        Ok(()) => {}
        Err(AcceptError::Gone) => return Err(gone_meanwhile().into()),
        Err(AcceptError::Db(e)) if web::db::is_unique_violation(&e) => {
            return Err(Failure::Field(FieldError::new(
                "email",
                "error.invite_email_taken",
            )))
        }
        Err(AcceptError::Db(e)) => return Err(e.into()),
    }
    Ok(Account {
        id: account_id,
        company_id: inv.company_id,
        company_name: inv.company_name,
        email: inv.email,
        name,
        role: inv.role,
        locale: Some(locale.to_owned()),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_check_only_under_their_key() {
        let key = LinkKey::random();
        let token = key.token("inv_abc");
        assert_eq!(key.check(&token), Some("inv_abc"));
        assert_eq!(LinkKey::random().check(&token), None, "another key");
        let (id, tag) = token.split_once('.').unwrap();
        assert_eq!(key.check(&format!("inv_abd.{tag}")), None, "another id");
        assert_eq!(key.check(&format!("{id}.{}", &tag[1..])), None, "cut tag");
        for bad in ["", ".", "inv_abc", "inv_abc.", "inv abc.x", "../x.y"] {
            assert_eq!(key.check(bad), None, "{bad:?}");
        }
        assert!(
            !format!("{key:?}").contains(&tag[..8]),
            "Debug hides the key"
        );
        assert_eq!(format!("{key:?}"), "LinkKey([redacted])");
    }

    #[test]
    fn the_key_file_is_made_once_private_and_checked() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("account-link.key");
        let made = LinkKey::open_or_create(&path).unwrap();
        let again = LinkKey::open_or_create(&path).unwrap();
        assert_eq!(
            again.token("inv_x"),
            made.token("inv_x"),
            "same key on restart"
        );
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(&path).unwrap().permissions().mode();
            assert_eq!(mode & 0o777, 0o600);
        }
        std::fs::write(&path, "short\n").unwrap();
        let err = LinkKey::open_or_create(&path).unwrap_err();
        assert!(err.contains("not a link key"), "{err}");
    }
}
