//! What a verification answers: a key's status and what comes with it.

use std::net::IpAddr;
use std::sync::Arc;

use keys::jwt::PublicKey;
use keys::{Environment, KeyHash};

use crate::key_policy::ServiceMask;
use crate::store;

/// A key's status.
#[derive(Clone, Copy, Debug, PartialEq, Eq, utoipa::ToSchema)]
#[schema(as = KeyStatus, rename_all = "snake_case")]
pub enum Status {
    Valid,
    Invalid,
    Expired,
    Revoked,
    /// Switched off by its company (reversible, unlike revocation).
    Disabled,
    /// Called from an address outside the key's allowed IPs.
    IpNotAllowed,
    /// The key may not be used for the service asked for (`X-Service`).
    InsufficientScope,
}

impl serde::Serialize for Status {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.as_str())
    }
}

impl std::fmt::Display for Status {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

impl Status {
    pub fn is_valid(self) -> bool {
        self == Status::Valid
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Status::Valid => "valid",
            Status::Invalid => "invalid",
            Status::Expired => "expired",
            Status::Revoked => "revoked",
            Status::Disabled => "disabled",
            Status::IpNotAllowed => "ip_not_allowed",
            Status::InsufficientScope => "insufficient_scope",
        }
    }

    /// Every status, in the order of their `as usize`.
    pub const ALL: [Status; 7] = [
        Status::Valid,
        Status::Invalid,
        Status::Expired,
        Status::Revoked,
        Status::Disabled,
        Status::IpNotAllowed,
        Status::InsufficientScope,
    ];
}

/// Who asks about a key: the client's address (behind trusted proxies, the
/// one they name) and the service it asks for (`X-Service`), if any.
#[derive(Clone, Copy, Debug)]
pub struct Caller {
    pub ip: IpAddr,
    pub service: Option<ServiceMask>,
}

impl Caller {
    /// A caller at `ip` that names no service.
    pub fn at(ip: IpAddr) -> Caller {
        Caller { ip, service: None }
    }
}

/// The status of a key at `now`, before who asks is known: revocation wins
/// over expiry, and both over disabling.
pub fn status_at(state: store::KeyState, now: i64) -> Status {
    if state.revoked_at.is_some_and(|r| r <= now) {
        Status::Revoked
    } else if state.expires_at.is_some_and(|e| e <= now) {
        Status::Expired
    } else if state.disabled_at.is_some() {
        Status::Disabled
    } else {
        Status::Valid
    }
}

#[derive(Clone, Debug)]
pub struct Verdict {
    pub status: Status,
    pub environment: Option<Environment>,
    pub expires_at: Option<i64>,
    /// The key's signing public key, for signed pings.
    pub public_key: Option<Arc<SigningKey>>,
    /// The stored key's id (`None` for an unknown key): whose company it is.
    pub key_id: Option<Arc<str>>,
}

/// A registered public key and a hash of its PEM (which names this very key
/// in the cache of verified tokens, so replacing the key forgets them).
#[derive(Debug)]
pub struct SigningKey {
    pub key: PublicKey,
    pub pem_hash: KeyHash,
}

impl Verdict {
    pub(super) fn invalid() -> Self {
        Verdict {
            status: Status::Invalid,
            environment: None,
            expires_at: None,
            public_key: None,
            key_id: None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use store::KeyState;

    #[test]
    fn revocation_wins_over_expiry() {
        let s = KeyState {
            expires_at: Some(10),
            revoked_at: Some(5),
            disabled_at: None,
        };
        assert_eq!(status_at(s, 4), Status::Valid);
        assert_eq!(status_at(s, 5), Status::Revoked);
        assert_eq!(status_at(s, 20), Status::Revoked);
        let e = KeyState {
            expires_at: Some(10),
            revoked_at: None,
            disabled_at: None,
        };
        assert_eq!(status_at(e, 9), Status::Valid);
        assert_eq!(status_at(e, 10), Status::Expired);
        let d = KeyState {
            disabled_at: Some(3),
            ..e
        };
        assert_eq!(status_at(d, 9), Status::Disabled);
        assert_eq!(status_at(d, 10), Status::Expired);
    }
}
