//! Connect to Amazon (issue #14): the account service is the SP-API
//! application. It registers a company's Amazon stores (the Admin calls it
//! with the company's API key), runs Seller Central's website authorization
//! workflow (connect link → consent → callback, or the log-in URI), keeps
//! each store's refresh token encrypted, and proves it once a day.
//!
//! - [`config`]: the flags (application id, LWA client, token URL, Seller
//!   Central per country) and the client secret file, read again when it changes.
//! - [`lwa`]: the Login with Amazon token endpoint client.
//! - [`stores`]: registering, listing, (de)activating, deleting stores.
//! - [`connect`]: connect links, `state` values bound to a browser, the callback.
//! - [`renewal`]: the daily proof of every refresh token.

pub mod config;
pub mod connect;
pub mod lwa;
pub mod renewal;
pub mod stores;

pub use config::{AmazonConfig, ClientSecret};

/// How long an authorization lasts: a year from when it was granted.
pub const AUTHORIZATION_SECS: i64 = 365 * 86400;
/// How long a connect link and a `state` can be used.
pub const LINK_SECS: i64 = 600;
/// The cookie binding a `state` to the browser that asked for it, named for
/// its app (`acct_`); with `--secure-cookies` it is `__Host-acct_amazon_state`
/// (Secure, `Path=/`, no `Domain`: a sibling subdomain cannot plant it).
pub const STATE_COOKIE: &str = "acct_amazon_state";
/// The cookie's path without `--secure-cookies`: the callback and the
/// log-in URI (a `__Host-` cookie must have `Path=/`).
pub const STATE_COOKIE_PATH: &str = "/amazon/authorize";
/// The redirect URI's and the log-in URI's paths under the public URL.
pub const CALLBACK_PATH: &str = "/amazon/authorize/callback";
pub const LOGIN_PATH: &str = "/amazon/authorize/login";

/// The marketplaces' countries a store may sell in.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Country {
    Us,
    Ca,
    Mx,
    Gb,
}

impl Country {
    pub const ALL: [Country; 4] = [Country::Us, Country::Ca, Country::Mx, Country::Gb];

    pub fn code(self) -> &'static str {
        match self {
            Country::Us => "US",
            Country::Ca => "CA",
            Country::Mx => "MX",
            Country::Gb => "GB",
        }
    }

    pub fn from_code(code: &str) -> Option<Country> {
        Country::ALL.into_iter().find(|c| c.code() == code)
    }

    /// Seller Central's address for this country, as Amazon documents it.
    pub fn default_seller_central(self) -> &'static str {
        match self {
            Country::Us => "https://sellercentral.amazon.com",
            Country::Ca => "https://sellercentral.amazon.ca",
            Country::Mx => "https://sellercentral.amazon.com.mx",
            Country::Gb => "https://sellercentral.amazon.co.uk",
        }
    }
}

/// Where a store's authorization stands (the `auth_state` column).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum AuthState {
    Pending,
    Authorized,
    Failed,
    ReauthRequired,
}

impl AuthState {
    pub fn as_str(self) -> &'static str {
        match self {
            AuthState::Pending => "pending",
            AuthState::Authorized => "authorized",
            AuthState::Failed => "failed",
            AuthState::ReauthRequired => "reauth_required",
        }
    }

    pub fn from_db(s: &str) -> AuthState {
        match s {
            "authorized" => AuthState::Authorized,
            "failed" => AuthState::Failed,
            "reauth_required" => AuthState::ReauthRequired,
            _ => AuthState::Pending,
        }
    }
}

/// A store's status as the API and the pages name it (SPEC §5).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum StoreStatus {
    AuthorizationPending,
    Active,
    Inactive,
    AuthorizationFailed,
    ReauthorizationRequired,
}

impl StoreStatus {
    pub fn of(enabled: bool, state: AuthState) -> StoreStatus {
        match (enabled, state) {
            (false, _) => StoreStatus::Inactive,
            (true, AuthState::Pending) => StoreStatus::AuthorizationPending,
            (true, AuthState::Authorized) => StoreStatus::Active,
            (true, AuthState::Failed) => StoreStatus::AuthorizationFailed,
            (true, AuthState::ReauthRequired) => StoreStatus::ReauthorizationRequired,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            StoreStatus::AuthorizationPending => "authorization_pending",
            StoreStatus::Active => "active",
            StoreStatus::Inactive => "inactive",
            StoreStatus::AuthorizationFailed => "authorization_failed",
            StoreStatus::ReauthorizationRequired => "reauthorization_required",
        }
    }

    /// The catalog key of its label.
    pub fn label(self) -> &'static str {
        match self {
            StoreStatus::AuthorizationPending => "amazon.status_pending",
            StoreStatus::Active => "amazon.status_active",
            StoreStatus::Inactive => "amazon.status_inactive",
            StoreStatus::AuthorizationFailed => "amazon.status_failed",
            StoreStatus::ReauthorizationRequired => "amazon.status_reauth",
        }
    }
}

/// Why a store is not (or no longer) authorized: a short code the merchant
/// can act on (SPEC §5).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Reason {
    InvalidGrant,
    InvalidClient,
    UnsupportedGrantType,
    TokenEndpointUnreachable,
    MissingCode,
    Expired,
    Revoked,
}

impl Reason {
    pub const ALL: [Reason; 7] = [
        Reason::InvalidGrant,
        Reason::InvalidClient,
        Reason::UnsupportedGrantType,
        Reason::TokenEndpointUnreachable,
        Reason::MissingCode,
        Reason::Expired,
        Reason::Revoked,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Reason::InvalidGrant => "invalid_grant",
            Reason::InvalidClient => "invalid_client",
            Reason::UnsupportedGrantType => "unsupported_grant_type",
            Reason::TokenEndpointUnreachable => "token_endpoint_unreachable",
            Reason::MissingCode => "missing_code",
            Reason::Expired => "expired",
            Reason::Revoked => "revoked",
        }
    }

    pub fn from_code(code: &str) -> Option<Reason> {
        Reason::ALL.into_iter().find(|r| r.as_str() == code)
    }

    /// The catalog key of the sentence that says what happened and what to do.
    pub fn sentence(self) -> &'static str {
        match self {
            Reason::InvalidGrant => "amazon.reason_invalid_grant",
            Reason::InvalidClient => "amazon.reason_invalid_client",
            Reason::UnsupportedGrantType => "amazon.reason_unsupported_grant_type",
            Reason::TokenEndpointUnreachable => "amazon.reason_token_endpoint_unreachable",
            Reason::MissingCode => "amazon.reason_missing_code",
            Reason::Expired => "amazon.reason_expired",
            Reason::Revoked => "amazon.reason_revoked",
        }
    }

    /// The catalog key of what went wrong in a failed attempt, said of a
    /// store that keeps its authorization (no call to connect it again).
    pub fn attempt(self) -> &'static str {
        match self {
            Reason::InvalidGrant => "amazon.attempt_invalid_grant",
            Reason::InvalidClient => "amazon.attempt_invalid_client",
            Reason::UnsupportedGrantType => "amazon.attempt_unsupported_grant_type",
            Reason::TokenEndpointUnreachable => "amazon.attempt_token_endpoint_unreachable",
            Reason::MissingCode => "amazon.attempt_missing_code",
            Reason::Expired => "amazon.attempt_expired",
            Reason::Revoked => "amazon.attempt_revoked",
        }
    }
}

/// Why a `state` (at the callback or the log-in URI) cannot be used.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum StateRefusal {
    Unknown,
    Used,
    Expired,
    /// The cookie that binds it to its browser is missing or another.
    OtherBrowser,
}

impl StateRefusal {
    /// The catalog key of what the error page says.
    pub fn message(self) -> &'static str {
        match self {
            StateRefusal::Unknown => "amazon.state_unknown",
            StateRefusal::Used => "amazon.state_used",
            StateRefusal::Expired => "amazon.state_expired",
            StateRefusal::OtherBrowser => "amazon.state_other_browser",
        }
    }
}

/// The hash under which a link, a `state` or a cookie nonce is stored.
pub fn hash(token: &str) -> String {
    keys::hash_str(token).to_hex()
}

/// A fresh single-use secret (≈256 bits): links, states, cookie nonces.
pub fn new_secret() -> String {
    keys::random_base62(43)
}

/// True when `s` has the form of [`new_secret`]'s values.
pub fn is_secret_form(s: &str) -> bool {
    s.len() == 43 && s.bytes().all(|b| b.is_ascii_alphanumeric())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn status_follows_enabled_then_authorization() {
        assert_eq!(
            StoreStatus::of(false, AuthState::Authorized),
            StoreStatus::Inactive
        );
        assert_eq!(
            StoreStatus::of(true, AuthState::Authorized).as_str(),
            "active"
        );
        assert_eq!(
            StoreStatus::of(true, AuthState::ReauthRequired).as_str(),
            "reauthorization_required"
        );
        for r in Reason::ALL {
            assert_eq!(Reason::from_code(r.as_str()), Some(r));
        }
        for c in Country::ALL {
            assert_eq!(Country::from_code(c.code()), Some(c));
        }
        assert!(is_secret_form(&new_secret()));
    }
}
