//! Accounts: sign-up and sign-in. Shared by the JSON API and the pages;
//! input is parsed into checked values here, by the rules in `fields`.

use web::{Error, Secret};

use crate::audit::{self, action};
use crate::auth;
use crate::fields::{check_password_rules, text_field};
use crate::store::{self, Account, Role};
use crate::{AccountError, FieldError, Services};

pub struct SignupInput {
    /// The client's address: sign-ups per address are limited.
    pub ip: std::net::IpAddr,
    pub email: String,
    pub password: Secret,
    pub name: String,
    pub company: String,
    /// Where the confirmation link points (see `members::link_base`).
    pub link_base: String,
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
    state: &Services,
    input: SignupInput,
    locale: &str,
) -> Result<Account, AccountError> {
    let email = web::normalize_email(&input.email).ok_or(AccountError::Invalid(
        FieldError::new("email", "error.email_invalid"),
    ))?;
    check_password_rules(&input.password)?;
    let name = text_field(&input.name, "name", 100)?;
    let company = text_field(&input.company, "company", 100)?;
    take_signup(state, input.ip).await?;
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
        Err(e) if web::db::on_unique(&e, &store::ACCOUNT_EMAIL) => {
            return Err(AccountError::EmailTaken)
        }
        Err(e) => return Err(e.into()),
    }
    let account = Account {
        id: account_id,
        company_id,
        company_name: company,
        email,
        name,
        role: Role::Owner,
        locale: Some(locale.to_owned()),
        email_verified_at: None,
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
    // The merchant's walk goes on whatever happens to the mail.
    if let Err(e) =
        crate::email_verification::send(state, &account, &account.email, &input.link_base).await
    {
        tracing::warn!(error = %e, "could not queue the confirmation link of a sign-up");
    }
    Ok(account)
}

/// Takes one sign-up from the client address's hourly allowance (429 when
/// used up), before the password is hashed.
pub async fn take_signup(state: &Services, ip: std::net::IpAddr) -> Result<(), AccountError> {
    state
        .limits
        .signup_by_ip
        .reserve(&ip.to_string(), state.clock.now())
        .await
        .map_err(AccountError::RateLimited)
}

/// Checks an email and password. `None` for an unknown email or a wrong
/// password alike. An attempt is taken from each throttle *before* the
/// password is hashed (per client IP, per email from that IP, and per email
/// from anywhere, looser), so parallel requests never check more passwords
/// than the limits allow; past a limit the answer is 429 with the seconds to
/// wait, whatever the password. A right password gives its attempts back.
///
/// A browser whose device cookie (`device`, as sent) is valid for this email
/// signed in to it before: its attempts count against that device alone, so
/// strangers guessing from elsewhere never lock it out.
pub async fn authenticate(
    state: &Services,
    email: &str,
    password: Secret,
    ip: std::net::IpAddr,
    device: Option<&str>,
) -> Result<Option<Account>, AccountError> {
    let now = state.clock.now();
    let ip_key = ip.to_string();
    let trusted = device.and_then(|d| state.devices.check(d, email));
    let taken = match trusted {
        Some(device) => state.limits.login.reserve_device(device, now).await,
        None => state.limits.login.reserve(&ip_key, email, now).await,
    }
    .map_err(|wait| {
        tracing::info!(
            outcome = "throttled",
            known_device = trusted.is_some(),
            "sign-in"
        );
        AccountError::RateLimited(wait)
    })?;
    let (account, ok) = check_password(state, email, password).await?;
    if ok {
        taken.refund().await;
    }
    // The decision, in the request's span (its id); never the password or the email.
    match (&account, ok) {
        (Some(a), true) => tracing::info!(outcome = "signed_in", account = %a.id, "sign-in"),
        (Some(a), false) => tracing::info!(outcome = "refused", account = %a.id, "sign-in"),
        (None, _) => tracing::info!(outcome = "refused", "sign-in"),
    }
    // Failures are recorded for the company of a known email only: an unknown
    // email belongs to no one, and guessing must not grow the table. A
    // failure's record is written after the answer, so a wrong password costs
    // the same whether or not the email has an account.
    if let Some(a) = &account {
        if ok {
            let mut event = audit::by_user(a, action::SIGNED_IN, Some(&a.id), None, now);
            event.ip = Some(&ip_key);
            audit::record(state, &event).await;
        } else {
            let (db, a) = (state.db.clone(), a.clone());
            tokio::spawn(async move {
                let mut event = audit::by_user(&a, action::SIGN_IN_FAILED, Some(&a.id), None, now);
                event.ip = Some(&ip_key);
                if let Err(e) = store::record_event(&db, &event).await {
                    tracing::error!(error = %e, "could not record a failed sign-in");
                }
            });
        }
    }
    Ok(account.filter(|_| ok))
}

/// The account of the email (if any) and whether the password is its password.
async fn check_password(
    state: &Services,
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
