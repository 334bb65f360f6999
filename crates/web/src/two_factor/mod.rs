//! Two-step sign-in, shared by both apps: authenticator-app codes
//! ([`totp`]), recovery codes ([`recovery`]), the QR code of a new secret
//! ([`qr`]) and sign-ins waiting for their second step. Each app names its
//! tables, cookie and throttles ([`TwoFactorSite`]) and keeps its own
//! routes, pages and audit.

pub mod passkey;
pub mod passkey_store;
mod pending;
pub mod qr;
pub mod recovery;
pub mod store;
pub mod totp;

use std::net::IpAddr;

use crate::crypto::Crypto;
use crate::ratelimit::LoginLimiter;
use crate::sessions::SessionSite;
use crate::Error;

pub use pending::{
    begin, clear_cookie, count_wrong, finish, pending, recently_stepped_up, step_up, Pending,
    PENDING_ATTEMPTS, PENDING_SECS, STEP_UP_SECS,
};
pub use store::{PendingRow, Tables};

/// How an app keeps second steps.
pub struct TwoFactorRules {
    pub tables: Tables,
    /// The pending sign-in's cookie (without `__Host-`).
    pub pending_cookie: &'static str,
    /// The issuer an authenticator app lists the account under.
    pub issuer: &'static str,
}

/// What the shared two-step code needs of an app.
pub trait TwoFactorSite: SessionSite {
    fn two_factor_rules(&self) -> &'static TwoFactorRules;
    /// The key that encrypts authenticator secrets at rest.
    fn secret_crypto(&self) -> &Crypto;
    /// The sign-in throttles, which wrong codes count against.
    fn sign_in_limiter(&self) -> &LoginLimiter;
    /// The site's passkey tables; `None`: it keeps no passkeys.
    fn passkey_tables(&self) -> Option<&'static passkey_store::PasskeyTables> {
        None
    }
}

/// Why a code was not accepted.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Refusal {
    /// Wrong, used before, expired or not a code.
    InvalidCode,
    /// Too many attempts: seconds to wait.
    Throttled(u64),
}

/// A proof of the second step, as typed.
pub enum Proof<'a> {
    Totp(&'a str),
    Recovery(&'a str),
}

/// What proved the second step.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Proved {
    Totp,
    Recovery,
}

/// A user's second steps.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Status {
    pub totp: bool,
    pub recovery_codes_left: i64,
    /// Recovery codes were made (second steps were turned on).
    pub recovery_codes_made: bool,
    /// Passkeys and security keys registered.
    pub passkeys: i64,
}

impl Status {
    /// Some second step is in force.
    pub fn enabled(&self) -> bool {
        self.totp || self.passkeys > 0
    }
}

/// A new authenticator secret as shown once.
pub struct TotpSetup {
    pub secret: String,
    pub otpauth_uri: String,
}

fn secret_path(t: &Tables, user: &str) -> String {
    format!("{}/{user}", t.totp)
}

/// Checks a proof of `user_id`'s second step. Each attempt is taken from
/// the sign-in throttles (client address and `name`) before the check, so
/// parallel guesses cannot exceed them; an accepted proof gives it back. A
/// TOTP code is accepted once, a recovery code once ever.
pub async fn check<S: TwoFactorSite>(
    site: &S,
    user_id: &str,
    name: &str,
    ip: IpAddr,
    proof: Proof<'_>,
) -> Result<Result<Proved, Refusal>, Error> {
    let now = site.now();
    let taken = match site
        .sign_in_limiter()
        .reserve(&ip.to_string(), name, now)
        .await
    {
        Ok(t) => t,
        Err(wait) => return Ok(Err(Refusal::Throttled(wait))),
    };
    let t = &site.two_factor_rules().tables;
    let db = site.session_db();
    let proved = match proof {
        Proof::Totp(code) => {
            let secret = match store::totp_row(db, t, user_id).await? {
                Some(store::TotpRow {
                    secret_enc: Some(enc),
                    ..
                }) => Some(decrypt(site, t, user_id, &enc)?),
                _ => None,
            };
            match secret.and_then(|s| totp::matching_step(&s, code, now)) {
                Some(step) if store::claim_step(db, t, user_id, step).await? => Some(Proved::Totp),
                _ => None,
            }
        }
        Proof::Recovery(code) => match recovery::normalize(code) {
            Some(n)
                if store::use_recovery_code(db, t, user_id, &recovery::hash(&n), now).await? =>
            {
                Some(Proved::Recovery)
            }
            _ => None,
        },
    };
    match proved {
        Some(p) => {
            taken.refund().await;
            Ok(Ok(p))
        }
        None => Ok(Err(Refusal::InvalidCode)),
    }
}

fn decrypt<S: TwoFactorSite>(site: &S, t: &Tables, user: &str, enc: &str) -> Result<String, Error> {
    site.secret_crypto()
        .decrypt(&secret_path(t, user), enc)
        .map_err(|e| Error::internal(format!("an authenticator secret cannot be read: {e}")))
}

/// Makes a new authenticator secret for `user_id` (`account`: how the app
/// lists it, e.g. the email): kept encrypted, not in force until a code
/// confirms it; one in force stays so until then.
pub async fn begin_totp<S: TwoFactorSite>(
    site: &S,
    user_id: &str,
    account: &str,
) -> Result<TotpSetup, Error> {
    let rules = site.two_factor_rules();
    let secret = totp::new_secret();
    let enc = site
        .secret_crypto()
        .encrypt(&secret_path(&rules.tables, user_id), &secret);
    store::put_pending_secret(site.session_db(), &rules.tables, user_id, &enc, site.now()).await?;
    let otpauth_uri = totp::otpauth_uri(rules.issuer, account, &secret);
    Ok(TotpSetup {
        secret,
        otpauth_uri,
    })
}

/// The secret of [`begin_totp`] not yet confirmed, shown again (a reload
/// of the set-up page); `None` when there is none or it cannot be read.
pub async fn pending_totp<S: TwoFactorSite>(
    site: &S,
    user_id: &str,
    account: &str,
) -> Result<Option<TotpSetup>, Error> {
    let rules = site.two_factor_rules();
    let row = store::totp_row(site.session_db(), &rules.tables, user_id).await?;
    let Some(enc) = row.and_then(|r| r.pending_secret_enc) else {
        return Ok(None);
    };
    let path = secret_path(&rules.tables, user_id);
    Ok(site
        .secret_crypto()
        .decrypt(&path, &enc)
        .ok()
        .map(|secret| {
            let otpauth_uri = totp::otpauth_uri(rules.issuer, account, &secret);
            TotpSetup {
                secret,
                otpauth_uri,
            }
        }))
}

/// Confirms the secret of [`begin_totp`] with a code from the app (counted
/// against the sign-in throttles like any code). `Ok(Some(codes))` when this
/// turned two-step sign-in on (the new recovery codes, shown once),
/// `Ok(None)` when it replaced an app.
pub async fn confirm_totp<S: TwoFactorSite>(
    site: &S,
    user_id: &str,
    name: &str,
    ip: IpAddr,
    code: &str,
) -> Result<Result<Option<Vec<String>>, Refusal>, Error> {
    let now = site.now();
    let taken = match site
        .sign_in_limiter()
        .reserve(&ip.to_string(), name, now)
        .await
    {
        Ok(t) => t,
        Err(wait) => return Ok(Err(Refusal::Throttled(wait))),
    };
    let t = &site.two_factor_rules().tables;
    let db = site.session_db();
    let Some(pending_enc) = store::totp_row(db, t, user_id)
        .await?
        .and_then(|r| r.pending_secret_enc)
    else {
        return Ok(Err(Refusal::InvalidCode));
    };
    let secret = decrypt(site, t, user_id, &pending_enc)?;
    let Some(step) = totp::matching_step(&secret, code, now) else {
        return Ok(Err(Refusal::InvalidCode));
    };
    let before = status(site, user_id).await?;
    let codes = (!before.recovery_codes_made).then(recovery::generate);
    let hashes: Option<Vec<String>> = codes.as_ref().map(|c| {
        c.iter()
            .filter_map(|c| recovery::normalize(c))
            .map(|n| recovery::hash(&n))
            .collect()
    });
    if !store::confirm_secret(db, t, user_id, &pending_enc, step, hashes.as_deref(), now).await? {
        return Ok(Err(Refusal::InvalidCode));
    }
    taken.refund().await;
    Ok(Ok(codes))
}

/// A user's second steps.
pub async fn status<S: TwoFactorSite>(site: &S, user_id: &str) -> Result<Status, Error> {
    let t = &site.two_factor_rules().tables;
    let (totp, made, left) = store::counts(site.session_db(), t, user_id).await?;
    let passkeys = match site.passkey_tables() {
        Some(pt) => passkey_store::count(site.session_db(), pt, user_id).await?,
        None => 0,
    };
    Ok(Status {
        totp,
        recovery_codes_left: left,
        recovery_codes_made: made > 0,
        passkeys,
    })
}

/// Removes every second step of `user_id` (authenticator app, passkeys,
/// recovery codes, pending sign-ins), within the caller's transaction.
pub async fn remove_every_step<S: TwoFactorSite>(
    site: &S,
    tx: &mut sqlx::Transaction<'_, sqlx::Any>,
    user_id: &str,
) -> Result<(), sqlx::Error> {
    store::remove_all(tx, &site.two_factor_rules().tables, user_id).await?;
    if let Some(pt) = site.passkey_tables() {
        passkey_store::remove_all(tx, pt, user_id).await?;
    }
    Ok(())
}

/// The first recovery codes of a user who just turned two-step sign-in on
/// with a passkey (`None` when they have codes already).
pub async fn first_recovery_codes<S: TwoFactorSite>(
    site: &S,
    user_id: &str,
) -> Result<Option<Vec<String>>, Error> {
    if status(site, user_id).await?.recovery_codes_made {
        return Ok(None);
    }
    Ok(Some(new_recovery_codes(site, user_id).await?))
}

/// New recovery codes for `user_id`, the old ones void: shown once.
pub async fn new_recovery_codes<S: TwoFactorSite>(
    site: &S,
    user_id: &str,
) -> Result<Vec<String>, Error> {
    let codes = recovery::generate();
    let hashes: Vec<String> = codes
        .iter()
        .filter_map(|c| recovery::normalize(c))
        .map(|n| recovery::hash(&n))
        .collect();
    let t = &site.two_factor_rules().tables;
    store::set_recovery_codes(site.session_db(), t, user_id, &hashes).await?;
    Ok(codes)
}

/// Re-encrypts every stored authenticator secret under `crypto`'s current
/// key (`encryption:key:change`). Returns how many users' secrets.
pub async fn reencrypt(db: &crate::db::Db, t: &Tables, crypto: &Crypto) -> Result<u64, Error> {
    let mut n = 0;
    for (user, secret, pending) in store::all_secrets(db, t).await? {
        let path = secret_path(t, &user);
        let again = |enc: &Option<String>| -> Result<Option<String>, Error> {
            enc.as_deref()
                .map(|e| {
                    crypto
                        .decrypt(&path, e)
                        .map(|plain| crypto.encrypt(&path, &plain))
                        .map_err(|e| Error::internal(format!("a secret cannot be read: {e}")))
                })
                .transpose()
        };
        let (s2, p2) = (again(&secret)?, again(&pending)?);
        if store::replace_secrets(
            db,
            t,
            &user,
            (secret.as_deref(), pending.as_deref()),
            (s2.as_deref(), p2.as_deref()),
        )
        .await?
        {
            n += 1;
        }
    }
    Ok(n)
}
