//! API keys: create, roll, revoke, and their signing public keys. Every write
//! here drops the key from the verification cache (`Verifier::forget`), which
//! the storage layer's `KeyChanged` makes impossible to forget.

use keys::{ApiKey, Environment};
use serde_json::Value;
use web::{Error, Secret};

use crate::audit::{self, action};
use crate::fields::text_field;
use crate::key_policy;
use crate::store::{self, Account, KeyRow};
use crate::verify::{status_at, Status};
use crate::{AccountError, FieldError, Services};

pub struct NewKeyInput {
    pub name: String,
    pub environment: Environment,
    pub expires_at: Option<i64>,
    pub signing: Signing,
    /// A form's one-time nonce: a second submission with it creates nothing.
    pub nonce: Option<String>,
    /// The addresses the key may be used from (`None` or empty: any).
    pub allowed_ips: Option<Vec<String>>,
    /// The services the key may be used for (`None`: all).
    pub services: Option<Vec<String>>,
}

/// The signing key pair of a new key (Services Connector 1.3.x signs with it).
pub enum Signing {
    None,
    /// The service generates an RSA 2048 pair and shows the private key once.
    Generate,
    /// The user's own public key (PEM): the private key never reaches us.
    PublicKey(String),
}

/// Parses and normalises a user's public key.
pub fn parse_public_key(pem: &str) -> Result<String, AccountError> {
    keys::jwt::PublicKey::from_pem(pem)
        .map(|k| k.to_pem())
        .map_err(|e| {
            AccountError::Invalid(FieldError::new(
                "public_key",
                if e == keys::jwt::JwtError::KeyTooSmall {
                    "error.public_key_small"
                } else {
                    "error.public_key"
                },
            ))
        })
}

/// A key just created: its row, the plaintext (shown once) and, when generated,
/// the private key PEM (shown once, never stored).
pub struct Created {
    pub row: KeyRow,
    pub key: ApiKey,
    pub private_key: Option<Secret>,
}

/// Keys on a page of the list when none is asked for, and the most a page holds.
pub const PER_PAGE: i64 = 100;
pub const MAX_PER_PAGE: i64 = 500;

/// A page of the key list: 1-based `page`, `per_page` keys.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct KeyPage {
    pub page: i64,
    pub per_page: i64,
}

impl KeyPage {
    /// From the query's text: a page from 1, `per_page` from 1 to
    /// [`MAX_PER_PAGE`]; anything else is a field error.
    pub fn parse(page: Option<&str>, per_page: Option<&str>) -> Result<KeyPage, AccountError> {
        let number = |v: Option<&str>, field: &'static str, default: i64, max: i64| match v {
            None => Ok(default),
            Some(t) => t
                .parse::<i64>()
                .ok()
                .filter(|n| (1..=max).contains(n))
                .ok_or(AccountError::Invalid(FieldError::new(field, "error.page"))),
        };
        Ok(KeyPage {
            page: number(page, "page", 1, 1_000_000)?,
            per_page: number(per_page, "per_page", PER_PAGE, MAX_PER_PAGE)?,
        })
    }
}

/// One page of the company's keys, newest first, and whether another follows.
pub async fn list_page(
    state: &Services,
    user: &Account,
    page: KeyPage,
) -> Result<(Vec<KeyRow>, bool), AccountError> {
    let offset = (page.page - 1).saturating_mul(page.per_page);
    let mut rows = store::list_keys(&state.db, &user.company_id, page.per_page + 1, offset).await?;
    let more = rows.len() as i64 > page.per_page;
    rows.truncate(page.per_page as usize);
    Ok((rows, more))
}

/// The message of an expiry date that was not taken (API and form alike).
pub fn expiry_error(e: web::clock::TimeError) -> &'static str {
    match e {
        web::clock::TimeError::Format => "error.expiry_format",
        web::clock::TimeError::NoSuchDate => "error.expiry_no_such_date",
    }
}

/// Parses the environment name of the API and forms.
pub fn parse_environment(s: Option<&str>) -> Result<Environment, AccountError> {
    match s.map(str::trim).filter(|s| !s.is_empty()) {
        None => Ok(Environment::Production),
        Some(s) => Environment::from_name(&s.to_ascii_lowercase()).ok_or(AccountError::Invalid(
            FieldError::new("environment", "error.environment"),
        )),
    }
}

/// Creates a key for the user's company. The plaintext is in the returned key, once.
pub async fn create_key(
    state: &Services,
    user: &Account,
    input: NewKeyInput,
) -> Result<Created, AccountError> {
    let name = text_field(&input.name, "name", 100)?;
    let allowed_ips = key_policy::parse_allowed_ips(input.allowed_ips.as_deref())?;
    let services = state
        .cfg
        .services
        .parse_services(input.services.as_deref())?;
    let (public_key, private_key) = match input.signing {
        Signing::None => (None, None),
        Signing::PublicKey(pem) => (Some(parse_public_key(&pem)?), None),
        Signing::Generate => {
            // RSA key generation takes tens of milliseconds: off the async runtime.
            let pair = tokio::task::spawn_blocking(keys::jwt::PrivateKey::generate)
                .await
                .map_err(Error::internal)?
                .map_err(Error::internal)?;
            (
                Some(pair.public_key().to_pem()),
                Some(Secret::new(pair.to_pem())),
            )
        }
    };
    let now = state.clock.now();
    if let Some(exp) = input.expires_at {
        if exp <= now {
            return Err(AccountError::Invalid(FieldError::new(
                "expires_at",
                "error.expiry_past",
            )));
        }
        if exp > now + 10 * 366 * 86400 {
            return Err(AccountError::Invalid(FieldError::new(
                "expires_at",
                "error.expiry_far",
            )));
        }
    }
    let key = ApiKey::generate(input.environment);
    let id = keys::random_id("key");
    let hint = key.hint();
    let hash = key.hash();
    let detail = audit::key_detail(
        &name,
        input.environment,
        &hint,
        serde_json::json!({
            "expires_at": input.expires_at.map(web::clock::rfc3339),
            "allowed_ips": key_policy::allowed_list(allowed_ips.as_deref()),
            "services": services.as_deref().map(|s| s.split(' ').collect::<Vec<_>>()),
        }),
    );
    store::insert_key(
        &state.db,
        &store::Actor::of(user),
        &store::NewKey {
            id: &id,
            company_id: &user.company_id,
            created_by: &user.id,
            name: &name,
            environment: input.environment,
            key_hash: &hash,
            hint: &hint,
            created_at: now,
            expires_at: input.expires_at,
            public_key: public_key.as_deref(),
            create_nonce: input.nonce.as_deref(),
            allowed_ips: allowed_ips.as_deref(),
            services: services.as_deref(),
        },
        &audit::by_user(user, action::KEY_CREATED, Some(&id), Some(&detail), now),
    )
    .await
    .map_err(refused_key_write)?;
    let row = KeyRow {
        id,
        company_id: user.company_id.clone(),
        created_by_email: user.email.clone(),
        name,
        environment: input.environment,
        hint,
        created_at: now,
        expires_at: input.expires_at,
        revoked_at: None,
        last_used_at: None,
        public_key,
        replaced_by: None,
        disabled_at: None,
        allowed_ips,
        services,
    };
    Ok(Created {
        row,
        key,
        private_key,
    })
}

/// Replaces (or with `None`, removes) a key's public key.
pub async fn set_public_key(
    state: &Services,
    user: &Account,
    id: &str,
    pem: Option<&str>,
) -> Result<(), AccountError> {
    let normalized = pem.map(parse_public_key).transpose()?;
    let changed = store::set_public_key(
        &state.db,
        &store::Actor::of(user),
        id,
        normalized.as_deref(),
    )
    .await?
    .ok_or(AccountError::KeyNotFound)?;
    state.verifier.forget(changed);
    Ok(())
}

/// The fingerprint of a stored public key.
/// One of the company's keys by id. Another company's key is not found
/// either: ids are never a way to learn what others have.
pub async fn company_key(s: &Services, company_id: &str, id: &str) -> Result<KeyRow, AccountError> {
    store::get_key(&s.db, company_id, id)
        .await?
        .ok_or(AccountError::KeyNotFound)
}

pub fn fingerprint(pem: Option<&str>) -> Option<String> {
    pem.and_then(|p| keys::jwt::PublicKey::from_pem(p).ok())
        .map(|k| k.fingerprint())
}

/// Revokes a key of the user's company and drops it from the verification cache.
/// Another company's key is not found.
pub async fn revoke_key(state: &Services, user: &Account, id: &str) -> Result<(), AccountError> {
    let now = state.clock.now();
    let key = store::get_key(&state.db, &user.company_id, id)
        .await?
        .ok_or(AccountError::KeyNotFound)?;
    let detail = audit::key_detail(&key.name, key.environment, &key.hint, Value::Null);
    let event = audit::by_user(user, action::KEY_REVOKED, Some(id), Some(&detail), now);
    let (changed, _) = store::revoke_key(
        &state.db,
        &user.company_id,
        Some(&store::Actor::of(user)),
        id,
        now,
        &event,
    )
    .await?
    .ok_or(AccountError::KeyNotFound)?;
    state.verifier.forget(changed);
    Ok(())
}

/// Revokes a key reported as leaked, as the service itself, with the event
/// given (dated by it). Returns whether it was live until now; `None` when
/// it is gone.
pub async fn revoke_leaked(
    state: &Services,
    key: &KeyRow,
    event: &store::NewEvent<'_>,
) -> Result<Option<bool>, AccountError> {
    let now = event.at;
    let found = store::revoke_key(&state.db, &key.company_id, None, &key.id, now, event).await?;
    Ok(found.map(|(changed, was_live)| {
        state.verifier.forget(changed);
        was_live
    }))
}

/// A refused key insert: a form's nonce used twice is a resubmission, any
/// other refusal keeps its own meaning.
pub(crate) fn refused_key_write(e: store::WriteError) -> AccountError {
    if e.on_unique(&store::KEY_NONCE) {
        AccountError::AlreadySubmitted
    } else {
        AccountError::from(e)
    }
}

/// A key's status now.
pub fn key_status(row: &KeyRow, now: i64) -> Status {
    status_at(row.state(), now)
}
