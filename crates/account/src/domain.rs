//! Rules shared by the JSON API and the pages: what makes a valid sign-up or
//! key, and the actions themselves. Input is parsed into checked values here.

use keys::{ApiKey, Environment};
use serde_json::Value;
use web::{Error, Secret};

use crate::audit::{self, action};
use crate::auth;
use crate::store::{self, Account, KeyRow, KeyState};
use crate::verify::status_at;
use crate::{AccountError, Ctx, FieldError};

pub struct SignupInput {
    /// The client's address: sign-ups per address are limited.
    pub ip: std::net::IpAddr,
    pub email: String,
    pub password: Secret,
    pub name: String,
    pub company: String,
}

pub(crate) fn text_field(
    value: &str,
    field: &'static str,
    max: usize,
) -> Result<String, AccountError> {
    let v = value.trim();
    if v.is_empty() {
        return Err(AccountError::Invalid(FieldError::new(
            field,
            "error.required",
        )));
    }
    if web::text::has_hidden(v) {
        return Err(AccountError::Invalid(FieldError::new(
            field,
            "error.hidden_chars",
        )));
    }
    if v.chars().count() > max {
        return Err(AccountError::Invalid(FieldError::new(
            field,
            "error.too_long",
        )));
    }
    Ok(v.to_owned())
}

/// A new password's length rules.
pub(crate) fn check_password_rules(password: &Secret) -> Result<(), AccountError> {
    let pw_len = password.expose().chars().count();
    if pw_len < auth::MIN_PASSWORD {
        return Err(AccountError::Invalid(FieldError::new(
            "password",
            "error.password_short",
        )));
    }
    if pw_len > auth::MAX_PASSWORD {
        return Err(AccountError::Invalid(FieldError::new(
            "password",
            "error.too_long",
        )));
    }
    Ok(())
}

/// Every field error of a sign-up at once (pages show them all; `signup`
/// itself stops at the first). `company: None` checks a sign-up by invitation.
pub fn signup_field_errors(
    email: Option<&str>,
    password: &Secret,
    name: &str,
    company: Option<&str>,
) -> Vec<FieldError> {
    let mut errors = Vec::new();
    let mut keep = |r: Result<(), AccountError>| {
        if let Err(AccountError::Invalid(fe)) = r {
            errors.push(fe);
        }
    };
    keep(text_field(name, "name", 100).map(drop));
    if let Some(c) = company {
        keep(text_field(c, "company", 100).map(drop));
    }
    if let Some(e) = email {
        if web::normalize_email(e).is_none() {
            keep(Err(AccountError::Invalid(FieldError::new(
                "email",
                "error.email_invalid",
            ))));
        }
    }
    keep(check_password_rules(password));
    errors
}

/// Creates a company with the user as its owner. Returns the new account.
pub async fn signup(
    state: &Ctx,
    input: SignupInput,
    locale: &str,
) -> Result<Account, AccountError> {
    let email = web::normalize_email(&input.email).ok_or(AccountError::Invalid(
        FieldError::new("email", "error.email_invalid"),
    ))?;
    check_password_rules(&input.password)?;
    let name = text_field(&input.name, "name", 100)?;
    let company = text_field(&input.company, "company", 100)?;
    take_signup(state, input.ip)?;
    let hash = auth::hash_password(input.password).await?;
    let company_id = keys::random_id("co");
    let account_id = keys::random_id("acct");
    let owner = store::NewOwner {
        company_id: &company_id,
        company_name: &company,
        account_id: &account_id,
        email: &email,
        name: &name,
        password_hash: &hash,
        locale: Some(locale),
        now: state.clock.now(),
    };
    match store::create_company_with_owner(&state.db, &owner).await {
        Ok(()) => {}
        Err(e) if web::db::is_unique_violation(&e) => return Err(AccountError::EmailTaken),
        Err(e) => return Err(e.into()),
    }
    let account = Account {
        id: account_id,
        company_id,
        company_name: company,
        email,
        name,
        role: "owner".into(),
        locale: Some(locale.to_owned()),
    };
    let detail = serde_json::json!({"company": account.company_name}).to_string();
    audit::record(
        state,
        &audit::by_user(
            &account,
            action::COMPANY_CREATED,
            Some(&account.company_id),
            Some(&detail),
            state.clock.now(),
        ),
    )
    .await;
    Ok(account)
}

/// Takes one sign-up from the client address's hourly allowance (429 when
/// used up), before the password is hashed.
pub fn take_signup(state: &Ctx, ip: std::net::IpAddr) -> Result<(), Error> {
    state
        .limits
        .signup_by_ip
        .reserve(&ip.to_string(), state.clock.now())
        .map_err(Error::too_many_requests)
}

/// Checks an email and password. `None` for an unknown email or a wrong
/// password alike. An attempt is taken from each throttle *before* the
/// password is hashed (per client IP, per email from that IP, and per email
/// from anywhere, looser), so parallel requests never check more passwords
/// than the limits allow; past a limit the answer is 429 with the seconds to
/// wait, whatever the password. A right password gives its attempts back.
pub async fn authenticate(
    state: &Ctx,
    email: &str,
    password: Secret,
    ip: std::net::IpAddr,
) -> Result<Option<Account>, Error> {
    let now = state.clock.now();
    let email_key = email.trim().to_lowercase();
    let ip_key = ip.to_string();
    let pair_key = format!("{ip_key} {email_key}");
    let limits = &state.limits;
    let taken = limits.login_attempts(&ip_key, &pair_key, &email_key, now)?;
    let (account, ok) = check_password(state, email, password).await?;
    if ok {
        taken.refund();
    }
    // Failures are recorded for the company of a known email only: an unknown
    // email belongs to no one, and guessing must not grow the table.
    if let Some(a) = &account {
        let what = if ok {
            action::SIGNED_IN
        } else {
            action::SIGN_IN_FAILED
        };
        let mut event = audit::by_user(a, what, Some(&a.id), None, now);
        event.ip = Some(&ip_key);
        audit::record(state, &event).await;
    }
    Ok(account.filter(|_| ok))
}

/// The account of the email (if any) and whether the password is its password.
async fn check_password(
    state: &Ctx,
    email: &str,
    password: Secret,
) -> Result<(Option<Account>, bool), Error> {
    let creds = match web::normalize_email(email) {
        Some(e) => store::credentials_by_email(&state.db, &e).await?,
        None => None,
    };
    let (account, hash) = match creds {
        Some(c) => (Some(c.account), Some(c.password_hash)),
        None => (None, None),
    };
    let ok = auth::verify_password(password, hash).await?;
    Ok((account, ok))
}

pub struct NewKeyInput {
    pub name: String,
    pub environment: Environment,
    pub expires_at: Option<i64>,
    pub signing: Signing,
    /// A form's one-time nonce: a second submission with it creates nothing.
    pub nonce: Option<String>,
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
    state: &Ctx,
    user: &Account,
    input: NewKeyInput,
) -> Result<Created, AccountError> {
    let name = text_field(&input.name, "name", 100)?;
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
    let hash = key.hash().to_hex();
    let detail = audit::key_detail(
        &name,
        input.environment.as_str(),
        &hint,
        serde_json::json!({"expires_at": input.expires_at.map(web::clock::rfc3339)}),
    );
    store::insert_key(
        &state.db,
        &store::Actor::of(user),
        &store::NewKey {
            id: &id,
            company_id: &user.company_id,
            created_by: &user.id,
            name: &name,
            environment: input.environment.as_str(),
            key_hash: &hash,
            hint: &hint,
            created_at: now,
            expires_at: input.expires_at,
            public_key: public_key.as_deref(),
            create_nonce: input.nonce.as_deref(),
        },
        &audit::by_user(user, action::KEY_CREATED, Some(&id), Some(&detail), now),
    )
    .await
    .map_err(|e| {
        if e.is_unique_violation() {
            AccountError::AlreadySubmitted
        } else {
            AccountError::from(e)
        }
    })?;
    let row = KeyRow {
        id,
        company_id: user.company_id.clone(),
        created_by_email: user.email.clone(),
        name,
        environment: input.environment.as_str().to_owned(),
        hint,
        created_at: now,
        expires_at: input.expires_at,
        revoked_at: None,
        last_used_at: None,
        public_key,
        replaced_by: None,
    };
    Ok(Created {
        row,
        key,
        private_key,
    })
}

/// Replaces (or with `None`, removes) a key's public key.
pub async fn set_public_key(
    state: &Ctx,
    user: &Account,
    id: &str,
    pem: Option<&str>,
) -> Result<(), AccountError> {
    let normalized = pem.map(parse_public_key).transpose()?;
    let hash = store::set_public_key(
        &state.db,
        &store::Actor::of(user),
        id,
        normalized.as_deref(),
    )
    .await?
    .ok_or(AccountError::KeyNotFound)?;
    if let Some(h) = keys::KeyHash::from_hex(&hash) {
        state.verifier.invalidate(&h);
    }
    Ok(())
}

/// The fingerprint of a stored public key.
pub fn fingerprint(pem: Option<&str>) -> Option<String> {
    pem.and_then(|p| keys::jwt::PublicKey::from_pem(p).ok())
        .map(|k| k.fingerprint())
}

/// Revokes a key of the user's company and drops it from the verification cache.
/// Another company's key is not found.
pub async fn revoke_key(state: &Ctx, user: &Account, id: &str) -> Result<(), AccountError> {
    let now = state.clock.now();
    let key = store::get_key(&state.db, &user.company_id, id)
        .await?
        .ok_or(AccountError::KeyNotFound)?;
    let detail = audit::key_detail(&key.name, &key.environment, &key.hint, Value::Null);
    let event = audit::by_user(user, action::KEY_REVOKED, Some(id), Some(&detail), now);
    let (hash, _) = store::revoke_key_audited(
        &state.db,
        &user.company_id,
        Some(&store::Actor::of(user)),
        id,
        now,
        &event,
    )
    .await?
    .ok_or(AccountError::KeyNotFound)?;
    if let Some(h) = keys::KeyHash::from_hex(&hash) {
        state.verifier.invalidate(&h);
    }
    Ok(())
}

/// The longest grace period of a roll: a week.
pub const MAX_GRACE_SECS: i64 = 7 * 86400;

/// Rolls a key: a new key with the same name, environment, company and
/// signing public key, shown once. The old key stays valid for `grace_secs`
/// (0 ends it now), then verifies as expired. Only a valid key that has not
/// been rolled yet can be rolled.
pub async fn roll_key(
    state: &Ctx,
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
    if key_status(&old, now) != "valid" || old.replaced_by.is_some() {
        return Err(AccountError::KeyNotRollable);
    }
    let environment =
        Environment::from_name(&old.environment).ok_or(AccountError::KeyNotRollable)?;
    // The new key lives as long as the old one was meant to.
    let expires_at = old
        .expires_at
        .map(|e| now + (e - old.created_at).clamp(86400, 10 * 365 * 86400));
    let key = ApiKey::generate(environment);
    let new_id = keys::random_id("key");
    let hint = key.hint();
    let hash = key.hash().to_hex();
    let old_ends = now + grace_secs;
    let detail = audit::key_detail(
        &old.name,
        &old.environment,
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
        environment: environment.as_str(),
        key_hash: &hash,
        hint: &hint,
        created_at: now,
        expires_at,
        public_key: old.public_key.as_deref(),
        create_nonce: nonce.as_deref(),
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
    .map_err(|e| {
        if e.is_unique_violation() {
            AccountError::AlreadySubmitted
        } else {
            AccountError::from(e)
        }
    })?;
    let old_hash = rolled.ok_or(AccountError::KeyNotRollable)?;
    if let Some(h) = keys::KeyHash::from_hex(&old_hash) {
        state.verifier.invalidate(&h);
    }
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
    };
    Ok(Created {
        row,
        key,
        private_key: None,
    })
}

/// A key's status now.
pub fn key_status(row: &KeyRow, now: i64) -> &'static str {
    status_at(
        KeyState {
            expires_at: row.expires_at,
            revoked_at: row.revoked_at,
        },
        now,
    )
    .as_str()
}
