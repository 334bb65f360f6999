//! A company's Amazon stores: registered by its Admin (with the company's
//! API key), listed, (de)activated, deleted, and disconnected by an owner on
//! the account site. Every change is in the company's audit trail, named by
//! the store's name, country and status: never a code, state or token.

use crate::audit::action;
use crate::store::{self, AmazonStoreRow, NewEvent};
use crate::{AccountError, FieldError, Services};

use super::{AuthState, Country, Reason, StoreStatus};

/// Who changes a store: the Admin with the company's key, a signed-in
/// member, or Amazon's answers (the callback, the renewal).
#[derive(Clone, Copy, Debug)]
pub enum By<'a> {
    /// The Admin, with the key of this id.
    Key(&'a str),
    /// A signed-in account.
    User(&'a store::Account),
    /// The service itself (callback, renewal).
    Service,
}

impl AmazonStoreRow {
    pub fn auth(&self) -> AuthState {
        AuthState::from_db(&self.auth_state)
    }

    pub fn status(&self) -> StoreStatus {
        StoreStatus::of(self.enabled != 0, self.auth())
    }

    /// The reason, shown only while it applies (failed or needing re-authorization).
    pub fn reason(&self) -> Option<Reason> {
        match self.auth() {
            AuthState::Failed | AuthState::ReauthRequired => {
                self.reason.as_deref().and_then(Reason::from_code)
            }
            _ => None,
        }
    }

    /// The last failed authorization attempt, when and why (kept whatever
    /// the store's status; cleared by a successful authorization).
    pub fn last_attempt(&self) -> Option<(i64, Reason)> {
        let reason = Reason::from_code(self.last_attempt_reason.as_deref()?)?;
        Some((self.last_attempt_at?, reason))
    }

    pub fn country(&self) -> Country {
        Country::from_code(&self.country).unwrap_or(Country::Us)
    }

    /// The associated data its refresh token is encrypted with.
    pub fn token_aad(&self) -> String {
        format!("amazon_store:{}", self.id)
    }
}

/// Records an event about a store in its company's trail (`extra`: the reason).
pub async fn record(
    ctx: &Services,
    row: &AmazonStoreRow,
    what: &str,
    by: By<'_>,
    extra: Option<&str>,
) {
    let extra = extra.map(|reason| ("reason", reason));
    record_with(ctx, row, what, by, extra.as_slice()).await;
}

/// A failed authorization attempt, with its reason; `kept` when the store
/// kept the working authorization it had (its status is as it was).
pub async fn record_failure(ctx: &Services, row: &AmazonStoreRow, reason: Reason, kept: bool) {
    let mut extra = vec![("reason", reason.as_str())];
    if kept {
        extra.push(("authorization", "kept"));
    }
    record_with(ctx, row, action::AMAZON_STORE_FAILED, By::Service, &extra).await;
}

/// Records an event about a store with more (non-secret) facts in its detail.
async fn record_with(
    ctx: &Services,
    row: &AmazonStoreRow,
    what: &str,
    by: By<'_>,
    extra: &[(&str, &str)],
) {
    let mut detail = serde_json::json!({
        "name": row.name,
        "country": row.country,
        "status": row.status().as_str(),
    });
    if let Some(obj) = detail.as_object_mut() {
        for (k, v) in extra {
            obj.insert((*k).into(), (*v).into());
        }
    }
    let detail = detail.to_string();
    let key_actor;
    let (actor_id, actor) = match by {
        By::Key(id) => {
            key_actor = format!("api-key {id}");
            (None, key_actor.as_str())
        }
        By::User(u) => (Some(u.id.as_str()), u.email.as_str()),
        By::Service => (None, "amazon"),
    };
    let event = NewEvent {
        company_id: Some(&row.company_id),
        actor_id,
        actor: Some(actor),
        action: what,
        target: Some(&row.id),
        detail: Some(&detail),
        ip: None,
        at: ctx.clock.now(),
    };
    crate::audit::record(ctx, &event).await;
}

/// What the Admin sends to register a store.
pub struct NewStoreInput<'a> {
    pub name: &'a str,
    pub email: &'a str,
    pub country: &'a str,
    pub website_url: &'a str,
}

/// A website address: `http(s)://host…`, no spaces or control characters,
/// at most 2048 characters.
fn website_url(value: &str) -> Result<String, AccountError> {
    let v = value.trim();
    let invalid = AccountError::Invalid(FieldError::new("website_url", "error.url_invalid"));
    if v.is_empty() {
        return Err(AccountError::Invalid(FieldError::new(
            "website_url",
            "error.required",
        )));
    }
    let rest = v
        .strip_prefix("https://")
        .or_else(|| v.strip_prefix("http://"))
        .ok_or(AccountError::Invalid(FieldError::new(
            "website_url",
            "error.url_invalid",
        )))?;
    let host = rest.split(['/', '?', '#']).next().unwrap_or("");
    if v.len() > 2048
        || host.is_empty()
        || host.contains('@')
        || v.chars().any(|c| c.is_whitespace() || c.is_control())
        || web::text::has_hidden(v)
    {
        return Err(invalid);
    }
    Ok(v.to_owned())
}

/// Registers a store of the company (status `authorization_pending`).
pub async fn register(
    ctx: &Services,
    company_id: &str,
    environment: keys::Environment,
    by: By<'_>,
    input: NewStoreInput<'_>,
) -> Result<AmazonStoreRow, AccountError> {
    let name = crate::fields::text_field(input.name, "name", 100)?;
    let email = web::normalize_email(input.email).ok_or(AccountError::Invalid(FieldError::new(
        "email",
        "error.email_invalid",
    )))?;
    let country = Country::from_code(input.country.trim()).ok_or(AccountError::Invalid(
        FieldError::new("country", "error.country_invalid"),
    ))?;
    let website_url = website_url(input.website_url)?;
    let id = keys::random_id("amzs");
    store::insert_amazon_store(
        &ctx.db,
        &store::NewAmazonStore {
            id: &id,
            company_id,
            name: &name,
            email: &email,
            country: country.code(),
            website_url: &website_url,
            created_at: ctx.clock.now(),
            environment: environment.as_str(),
        },
    )
    .await?;
    let row = get(ctx, company_id, &id).await?;
    record(ctx, &row, action::AMAZON_STORE_REGISTERED, by, None).await;
    Ok(row)
}

/// One store of the company; another company's is not found.
pub async fn get(
    ctx: &Services,
    company_id: &str,
    id: &str,
) -> Result<AmazonStoreRow, AccountError> {
    store::get_amazon_store(&ctx.db, company_id, id)
        .await?
        .ok_or(AccountError::AmazonStoreNotFound)
}

pub async fn list(ctx: &Services, company_id: &str) -> Result<Vec<AmazonStoreRow>, AccountError> {
    Ok(store::list_amazon_stores(&ctx.db, company_id).await?)
}

/// What a store's key sees: the company's stores registered with keys of
/// its own environment (a Sandbox key never sees Production stores).
pub async fn list_for_key(
    ctx: &Services,
    company_id: &str,
    environment: keys::Environment,
) -> Result<Vec<AmazonStoreRow>, AccountError> {
    let mut rows = list(ctx, company_id).await?;
    rows.retain(|r| r.environment == environment.as_str());
    Ok(rows)
}

/// One store as a key of `environment` sees it: another environment's is
/// not found, as another company's is.
pub async fn get_for_key(
    ctx: &Services,
    company_id: &str,
    environment: keys::Environment,
    id: &str,
) -> Result<AmazonStoreRow, AccountError> {
    let row = get(ctx, company_id, id).await?;
    if row.environment != environment.as_str() {
        return Err(AccountError::AmazonStoreNotFound);
    }
    Ok(row)
}

/// Activates or deactivates a store; its authorization is kept either way.
pub async fn set_active(
    ctx: &Services,
    company_id: &str,
    id: &str,
    active: bool,
    by: By<'_>,
) -> Result<AmazonStoreRow, AccountError> {
    let before = get(ctx, company_id, id).await?;
    if !store::set_amazon_store_enabled(&ctx.db, company_id, id, active).await? {
        return Err(AccountError::AmazonStoreNotFound);
    }
    let row = get(ctx, company_id, id).await?;
    if (before.enabled != 0) != active {
        let what = if active {
            action::AMAZON_STORE_ACTIVATED
        } else {
            action::AMAZON_STORE_DEACTIVATED
        };
        record(ctx, &row, what, by, None).await;
    }
    Ok(row)
}

/// Deletes a store's registration and discards its refresh token.
pub async fn delete(
    ctx: &Services,
    company_id: &str,
    id: &str,
    by: By<'_>,
) -> Result<(), AccountError> {
    let row = get(ctx, company_id, id).await?;
    if !store::delete_amazon_store(&ctx.db, company_id, id).await? {
        return Err(AccountError::AmazonStoreNotFound);
    }
    record(ctx, &row, action::AMAZON_STORE_DELETED, by, None).await;
    Ok(())
}

/// An owner disconnects a store on the account site: its refresh token is
/// discarded and it needs a new authorization (`revoked`).
pub async fn disconnect(
    ctx: &Services,
    user: &store::Account,
    id: &str,
) -> Result<AmazonStoreRow, AccountError> {
    crate::members::require_owner(user)?;
    get(ctx, &user.company_id, id).await?;
    store::fail_amazon_store(
        &ctx.db,
        id,
        AuthState::ReauthRequired.as_str(),
        Reason::Revoked.as_str(),
        true,
    )
    .await?;
    let row = get(ctx, &user.company_id, id).await?;
    record(
        ctx,
        &row,
        action::AMAZON_STORE_DISCONNECTED,
        By::User(user),
        None,
    )
    .await;
    Ok(row)
}

/// The service is set up for Amazon, or 503 `amazon_not_configured`.
pub fn configured(
    ctx: &Services,
) -> Result<(&super::AmazonConfig, &super::lwa::Lwa), AccountError> {
    match (&ctx.cfg.amazon, &ctx.lwa) {
        (Some(cfg), Some(lwa)) => Ok((cfg, lwa)),
        _ => Err(AccountError::AmazonNotConfigured),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn website_urls() {
        assert!(website_url("https://shop.example.com/").is_ok());
        assert!(website_url(" http://127.0.0.1:8081 ").is_ok());
        for bad in [
            "",
            "shop.example.com",
            "ftp://x",
            "https://",
            "https://a b",
            "https://user@host",
            "javascript:alert(1)",
        ] {
            assert!(website_url(bad).is_err(), "{bad}");
        }
        assert!(website_url(&format!("https://x.example/{}", "a".repeat(2048))).is_err());
    }
}
