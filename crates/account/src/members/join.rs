//! Opening and accepting an invitation link: a new account or a signed-in one joins.

use super::*;

/// What a link opens: the invitation, if it can still be accepted.
pub async fn open(state: &Services, token: &str) -> Result<InvitationRow, AccountError> {
    let id = state
        .cfg
        .link_key
        .check(token)
        .ok_or(AccountError::LinkInvalid)?;
    let inv = store::get_invitation(&state.db, id)
        .await?
        .ok_or(AccountError::LinkInvalid)?;
    if inv.accepted_at.is_some() {
        return Err(AccountError::InvitationUsed);
    }
    if inv.revoked_at.is_some() {
        return Err(AccountError::InvitationRevoked);
    }
    if inv.expires_at <= state.clock.now() {
        return Err(AccountError::InvitationExpired);
    }
    Ok(inv)
}

/// Why a signed-in account cannot accept, or `None` when it can. Its other
/// companies never stand in the way: accepting adds a membership.
pub async fn cannot_accept(
    state: &Services,
    user: &Account,
    inv: &InvitationRow,
) -> Result<Option<AccountError>, AccountError> {
    if user.email != inv.email {
        return Ok(Some(AccountError::WrongAccount));
    }
    if store::get_member(&state.db, &inv.company_id, &user.id)
        .await?
        .is_some()
    {
        return Ok(Some(AccountError::AlreadyInCompany));
    }
    Ok(None)
}

/// A signed-in account accepts: it joins the company with the invitation's
/// role and keeps every company it had. The company becomes the current
/// one of the session `session_hash` that accepted.
pub async fn accept_signed_in(
    state: &Services,
    user: &Account,
    token: &str,
    session_hash: Option<&str>,
) -> Result<Account, AccountError> {
    let inv = open(state, token).await?;
    if let Some(e) = cannot_accept(state, user, &inv).await? {
        return Err(e);
    }
    let now = state.clock.now();
    let joined = serde_json::json!({"email": user.email, "role": inv.role}).to_string();
    let event = NewEvent {
        company_id: Some(&inv.company_id),
        actor_id: Some(&user.id),
        actor: Some(&user.email),
        action: action::MEMBER_JOINED,
        target: Some(&user.id),
        detail: Some(&joined),
        ip: None,
        at: now,
    };
    let joining = store::Joining {
        invitation_id: &inv.id,
        account_id: &user.id,
        company_id: &inv.company_id,
        role: inv.role,
        session_hash,
        now,
    };
    match store::accept_as_existing_account(&state.db, &joining, &event).await {
        Ok(()) => {}
        Err(AcceptError::Gone) => return Err(AccountError::InvitationGoneMeanwhile),
        Err(AcceptError::AlreadyMember) => return Err(AccountError::AlreadyInCompany),
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
    state: &Services,
    ip: std::net::IpAddr,
    token: &str,
    email: Option<&str>,
    name: &str,
    password: Secret,
    locale: &str,
) -> Result<Account, AccountError> {
    let inv = open(state, token).await?;
    if let Some(email) = email {
        if web::normalize_email(email).as_deref() != Some(inv.email.as_str()) {
            return Err(AccountError::InviteEmailMismatch);
        }
    }
    let name = crate::fields::text_field(name, "name", 100)?;
    crate::fields::check_password_rules(&password)?;
    crate::accounts::take_signup(state, ip).await?;
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
        role: inv.role,
        locale: Some(locale),
        now,
    };
    match store::accept_as_new_account(&state.db, &member, &event).await {
        Ok(()) => {}
        Err(AcceptError::Gone | AcceptError::AlreadyMember) => {
            return Err(AccountError::InvitationGoneMeanwhile)
        }
        Err(AcceptError::Db(e)) if web::db::on_unique(&e, &store::ACCOUNT_EMAIL) => {
            return Err(AccountError::InviteEmailTaken)
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
        // The invitation's link was mailed to this address.
        email_verified_at: Some(now),
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
