//! Why the Amazon stores could not be brought up to date with the account
//! service, by name, with the words the page and the JSON API say it in.

use crate::error::{AdminError, RemoteError};
use crate::gate::KeyPolicy;

/// Why the stores could not be brought up to date with the account service:
/// "could not be asked" only when it did not answer; each refusal by its own
/// name (the page, each unregistered row and the JSON API say which).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SyncProblem {
    /// Down, timed out, a 5xx, a redirect, or an answer not understood.
    Unreachable,
    /// The key was made with a key pair, and the Admin holds no private key.
    SignatureRequired,
    /// The signature made with the stored private key was refused.
    SignatureRejected,
    /// The API key itself was refused (not valid, expired, revoked).
    KeyRefused,
    /// The key's policy keeps it from the store calls (disabled, not from
    /// this address, not for the Amazon Sales Channel): named by the gate's
    /// reason, its code and its sentence.
    KeyPolicy(KeyPolicy),
    /// The operator has not set up Amazon authorization.
    NotConfigured,
    /// No request could be made with the stored configuration.
    KeyNotUsable,
    /// Another refusal (a store the account service does not take).
    Refused,
}

impl SyncProblem {
    pub const ALL: [SyncProblem; 10] = [
        SyncProblem::Unreachable,
        SyncProblem::SignatureRequired,
        SyncProblem::SignatureRejected,
        SyncProblem::KeyRefused,
        SyncProblem::KeyPolicy(KeyPolicy::Disabled),
        SyncProblem::KeyPolicy(KeyPolicy::IpNotAllowed),
        SyncProblem::KeyPolicy(KeyPolicy::InsufficientScope),
        SyncProblem::NotConfigured,
        SyncProblem::KeyNotUsable,
        SyncProblem::Refused,
    ];

    /// The code the JSON API carries.
    pub fn code(self) -> &'static str {
        match self {
            SyncProblem::Unreachable => "account_service_unreachable",
            SyncProblem::SignatureRequired => "signature_required",
            SyncProblem::SignatureRejected => "signature_rejected",
            SyncProblem::KeyRefused => "key_refused",
            SyncProblem::KeyPolicy(p) => p.reason().as_str(),
            SyncProblem::NotConfigured => "amazon_not_configured",
            SyncProblem::KeyNotUsable => "key_not_usable",
            SyncProblem::Refused => "account_service_refused",
        }
    }

    /// The catalog key of the page's sentence: what happened and what to do.
    pub fn catalog_key(self) -> &'static str {
        match self {
            SyncProblem::Unreachable => "amazon.last_known",
            SyncProblem::SignatureRequired => "amazon.sync.signature_required",
            SyncProblem::SignatureRejected => "amazon.sync.signature_rejected",
            SyncProblem::KeyRefused => "amazon.sync.key_refused",
            SyncProblem::KeyPolicy(p) => p.reason().catalog_key(),
            SyncProblem::NotConfigured => "amazon.sync.not_configured",
            SyncProblem::KeyNotUsable => "amazon.sync.key_not_usable",
            SyncProblem::Refused => "amazon.sync.refused",
        }
    }

    /// The catalog key of an unregistered store's row.
    pub fn row_key(self) -> &'static str {
        match self {
            SyncProblem::Unreachable => "amazon.not_registered",
            SyncProblem::SignatureRequired => "amazon.not_registered.signature_required",
            SyncProblem::SignatureRejected => "amazon.not_registered.signature_rejected",
            SyncProblem::KeyRefused => "amazon.not_registered.key_refused",
            SyncProblem::KeyPolicy(KeyPolicy::Disabled) => "amazon.not_registered.key_disabled",
            SyncProblem::KeyPolicy(KeyPolicy::IpNotAllowed) => {
                "amazon.not_registered.ip_not_allowed"
            }
            SyncProblem::KeyPolicy(KeyPolicy::InsufficientScope) => {
                "amazon.not_registered.insufficient_scope"
            }
            SyncProblem::NotConfigured => "amazon.not_registered.not_configured",
            SyncProblem::KeyNotUsable => "amazon.not_registered.key_not_usable",
            SyncProblem::Refused => "amazon.not_registered.refused",
        }
    }

    /// The page's sentence in English (the JSON API's `message`).
    pub fn message(self) -> &'static str {
        crate::i18n::CATALOG.get(web::i18n::Lang::En, self.catalog_key())
    }

    pub(super) fn of(e: &AdminError) -> Option<SyncProblem> {
        Some(match e {
            AdminError::Amazon(r) => SyncProblem::from(r),
            AdminError::KeyNotUsable(_) => SyncProblem::KeyNotUsable,
            _ => return None,
        })
    }
}

impl From<&RemoteError> for SyncProblem {
    fn from(e: &RemoteError) -> Self {
        match e {
            RemoteError::Unreachable => SyncProblem::Unreachable,
            RemoteError::SignatureRequired => SyncProblem::SignatureRequired,
            RemoteError::SignatureRejected => SyncProblem::SignatureRejected,
            RemoteError::KeyRefused => SyncProblem::KeyRefused,
            RemoteError::KeyPolicy(p) => SyncProblem::KeyPolicy(*p),
            RemoteError::NotConfigured => SyncProblem::NotConfigured,
            RemoteError::NotFound | RemoteError::Rejected(_) => SyncProblem::Refused,
        }
    }
}
