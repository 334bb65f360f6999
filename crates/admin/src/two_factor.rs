//! Two-step sign-in in the Admin (SPEC §8): its tables, cookie and issuer
//! for the shared code (`web::two_factor`), the policy (`required` by
//! default, as Magento's own Admin since 2.4 and PCI DSS 4.0 req. 8.4 ask),
//! and what the edges and the CLI do with second steps: an authenticator
//! app, passkeys and security keys ([`passkeys`]), recovery codes.

pub mod passkeys;

use std::net::IpAddr;

use web::two_factor::passkey_store::PasskeyTables;
use web::two_factor::{self as tf, Pending, Proof, Refusal, Tables, TwoFactorRules, TwoFactorSite};
use web::Error;

use crate::error::AdminError;
use crate::store::{self, AdminUser};

/// The Admin's tables, cookie and issuer.
pub static RULES: TwoFactorRules = TwoFactorRules {
    tables: Tables {
        totp: "admin_totp",
        recovery: "admin_recovery_codes",
        pending: "admin_pending_sign_ins",
        user_column: "user_id",
    },
    pending_cookie: crate::cookies::PENDING_COOKIE,
    issuer: "Commerce Admin",
};

/// The Admin's passkeys and the WebAuthn ceremonies under way.
pub static PASSKEYS: PasskeyTables = PasskeyTables {
    passkeys: "admin_passkeys",
    ceremonies: "admin_webauthn_ceremonies",
    user_column: "user_id",
};

/// `--admin-two-factor`: whether every Admin user needs a second step.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Policy {
    /// Every user signs in with a second step, and one without sets it up
    /// right after the password (the product's default).
    #[default]
    Required,
    /// A user without a second step signs in with the password alone
    /// (development only).
    Optional,
}

impl Policy {
    pub fn is_required(self) -> bool {
        self == Policy::Required
    }
}

/// What a right password leads to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AfterPassword {
    /// No second step is needed: the session starts.
    Session,
    /// The user proves their second step first.
    SecondStep,
    /// The user must set up a second step first (an authenticator app
    /// or a passkey).
    Setup,
}

/// What `user_id`'s right password leads to under `policy`.
pub async fn after_password<S: TwoFactorSite>(
    site: &S,
    user_id: &str,
    policy: Policy,
) -> Result<AfterPassword, Error> {
    let status = tf::status(site, user_id).await?;
    Ok(if status.enabled() {
        AfterPassword::SecondStep
    } else if policy.is_required() {
        AfterPassword::Setup
    } else {
        AfterPassword::Session
    })
}

/// How a pending sign-in's second step may be proved (the login answer's
/// `methods`): `totp`, `passkey`, `recovery_code`.
pub async fn methods<S: TwoFactorSite>(
    site: &S,
    user_id: &str,
) -> Result<Vec<&'static str>, Error> {
    let status = tf::status(site, user_id).await?;
    let mut methods = Vec::new();
    if status.totp {
        methods.push("totp");
    }
    if status.passkeys > 0 {
        methods.push("passkey");
    }
    methods.push("recovery_code");
    Ok(methods)
}

/// Who may set up a second step: the signed-in user, or a pending sign-in
/// that must set one up before its session starts.
pub enum SetupBy {
    Session(AdminUser),
    Pending(Pending, AdminUser),
}

impl SetupBy {
    pub fn user(&self) -> &AdminUser {
        match self {
            SetupBy::Session(u) | SetupBy::Pending(_, u) => u,
        }
    }
}

/// The setup a pending sign-in may do: one that must set up, of a user
/// who still has no second step (one set up meanwhile in another browser
/// is proved at sign-in, never replaced with a password alone).
pub async fn pending_setup<S: TwoFactorSite>(
    site: &S,
    pending: Option<Pending>,
) -> Result<Option<SetupBy>, Error> {
    let Some(p) = pending.filter(|p| p.row.setup) else {
        return Ok(None);
    };
    if tf::status(site, &p.row.user_id).await?.enabled() {
        return Ok(None);
    }
    let user = store::two_factor::user_by_id(site.session_db(), &p.row.user_id).await?;
    Ok(user.map(|u| SetupBy::Pending(p, u)))
}

/// The authenticator secret being set up for `user_id`, decrypted (to show
/// its QR code again next to a wrong code); `None` when there is none.
pub async fn secret_being_set_up<S: TwoFactorSite>(
    site: &S,
    user_id: &str,
) -> Result<Option<String>, Error> {
    // The account name only goes into the link, which is not used here.
    Ok(tf::pending_totp(site, user_id, "").await?.map(|s| s.secret))
}

/// A setup as shown: the secret as text (in groups of four), its link and
/// the link's QR code (inline SVG, labelled `qr_label`).
pub struct SetupView {
    pub secret: String,
    pub secret_grouped: String,
    pub otpauth_uri: String,
    pub qr_svg: String,
}

impl SetupView {
    pub fn new(issuer: &str, account: &str, secret: String, qr_label: &str) -> SetupView {
        let otpauth_uri = tf::totp::otpauth_uri(issuer, account, &secret);
        let qr_svg = tf::qr::svg(&otpauth_uri, qr_label);
        let secret_grouped = secret
            .as_bytes()
            .chunks(4)
            .map(|c| String::from_utf8_lossy(c).into_owned())
            .collect::<Vec<_>>()
            .join(" ");
        SetupView {
            secret,
            secret_grouped,
            otpauth_uri,
            qr_svg,
        }
    }
}

/// Checks a current authenticator code or a recovery code of a signed-in
/// user (to renew recovery codes or turn second steps off): the same
/// throttles and single use as at sign-in. A typed text of six digits is
/// an authenticator code, anything else a recovery code.
pub async fn check_own_code<S: TwoFactorSite>(
    site: &S,
    user: &AdminUser,
    ip: IpAddr,
    code: &str,
) -> Result<Result<(), Refusal>, Error> {
    let digits: String = code.chars().filter(|c| !c.is_whitespace()).collect();
    let proof = if digits.len() == tf::totp::DIGITS && digits.bytes().all(|b| b.is_ascii_digit()) {
        Proof::Totp(code)
    } else {
        Proof::Recovery(code)
    };
    Ok(tf::check(site, &user.id, &user.username, ip, proof)
        .await?
        .map(drop))
}

/// Removes every second step of the signed-in user (app, passkeys,
/// recovery codes) and ends their other sessions (`keep`: this one's id hash).
pub async fn turn_off<S: TwoFactorSite>(
    site: &S,
    user: &AdminUser,
    keep: &str,
) -> Result<(), Error> {
    let db = site.session_db();
    store::two_factor::remove_second_steps(db, (&RULES.tables, &PASSKEYS), &user.id, Some(keep))
        .await?;
    tracing::info!(user = %user.id, "admin two-step sign-in turned off");
    Ok(())
}

/// `commerce admin:user:2fa:reset`: removes the user's second steps
/// (passkeys too) and
/// ends every session of theirs; at their next sign-in they set one up.
/// Returns the username as stored.
pub async fn reset(db: &web::db::Db, username: &str) -> Result<String, AdminError> {
    let (user, _) = store::user_with_hash(db, username.trim())
        .await?
        .ok_or(AdminError::UnknownUser)?;
    store::two_factor::remove_second_steps(db, (&RULES.tables, &PASSKEYS), &user.id, None).await?;
    Ok(user.username)
}
