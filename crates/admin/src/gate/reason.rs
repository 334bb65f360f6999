//! Why the gate found a key `invalid` or `unreachable`: a code (the JSON
//! status, `channel:amazon:verify`) and a sentence (the channel page, the CLI).

/// Why a key is `invalid` or `unreachable`, when we can say more.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Reason {
    /// A Sandbox key was pasted into *Production Api key*.
    SandboxKey,
    /// Not in the key format at all (mistyped, truncated, or not a key).
    Malformed,
    /// The account service answered, but not as expected.
    BadAnswer,
    /// The account service could not be reached or timed out.
    Down,
    /// The configured Production Private key cannot sign (not an RSA PEM, too small).
    PrivateKey,
    /// The account service refused the signature: the private key does not
    /// match the public key registered with the API key (or none is registered).
    Signature,
    /// The account service's URL (`--account-url` or the gateway URL) is not an
    /// absolute http(s) URL without userinfo, query or fragment: not asked.
    GatewayUrl,
    /// The key was made with a signing key pair, so its calls must be signed,
    /// and no Production Private key is stored (SPEC §3).
    PrivateKeyMissing,
    /// The key is switched off in the API Portal (SPEC §10 `disabled`).
    KeyDisabled,
    /// The key may not be used from the Admin's address (`ip_not_allowed`).
    IpNotAllowed,
    /// The key may not be used for the Amazon Sales Channel (`insufficient_scope`).
    InsufficientScope,
}

impl Reason {
    pub fn as_str(self) -> &'static str {
        match self {
            Reason::SandboxKey => "sandbox_key",
            Reason::Malformed => "malformed",
            Reason::BadAnswer => "bad_answer",
            Reason::Down => "down",
            Reason::PrivateKey => "private_key_unusable",
            Reason::Signature => "signature_rejected",
            Reason::GatewayUrl => "gateway_url_invalid",
            Reason::PrivateKeyMissing => "private_key_missing",
            Reason::KeyDisabled => "key_disabled",
            Reason::IpNotAllowed => "ip_not_allowed",
            Reason::InsufficientScope => "insufficient_scope",
        }
    }

    pub const ALL: [Reason; 11] = [
        Reason::SandboxKey,
        Reason::Malformed,
        Reason::BadAnswer,
        Reason::Down,
        Reason::PrivateKey,
        Reason::Signature,
        Reason::GatewayUrl,
        Reason::PrivateKeyMissing,
        Reason::KeyDisabled,
        Reason::IpNotAllowed,
        Reason::InsufficientScope,
    ];

    /// The catalog key of the sentence that says the reason in words: the
    /// channel page shows it, `channel:amazon:verify` prints it in English.
    pub fn catalog_key(self) -> &'static str {
        match self {
            Reason::SandboxKey => "reason.sandbox_key",
            Reason::Malformed => "reason.malformed",
            Reason::BadAnswer => "reason.bad_answer",
            Reason::Down => "reason.down",
            Reason::PrivateKey => "reason.private_key_unusable",
            Reason::Signature => "reason.signature_rejected",
            Reason::GatewayUrl => "reason.gateway_url_invalid",
            Reason::PrivateKeyMissing => "reason.private_key_missing",
            Reason::KeyDisabled => "reason.key_disabled",
            Reason::IpNotAllowed => "reason.ip_not_allowed",
            Reason::InsufficientScope => "reason.insufficient_scope",
        }
    }

    /// The sentence in English (the CLI's language).
    pub fn sentence(self) -> &'static str {
        crate::i18n::CATALOG.get(web::i18n::Lang::En, self.catalog_key())
    }

    /// The reason named by `code` (its [`Reason::as_str`]), if any.
    pub fn parse(code: &str) -> Option<Reason> {
        Reason::ALL.into_iter().find(|r| r.as_str() == code)
    }

    /// The catalog key of a few words for the reason: a row of the channel
    /// page's *Last checks*.
    pub fn label_key(self) -> &'static str {
        match self {
            Reason::SandboxKey => "channel.checks.reason.sandbox_key",
            Reason::Malformed => "channel.checks.reason.malformed",
            Reason::BadAnswer => "channel.checks.reason.bad_answer",
            Reason::Down => "channel.checks.reason.down",
            Reason::PrivateKey => "channel.checks.reason.private_key_unusable",
            Reason::Signature => "channel.checks.reason.signature_rejected",
            Reason::GatewayUrl => "channel.checks.reason.gateway_url_invalid",
            Reason::PrivateKeyMissing => "channel.checks.reason.private_key_missing",
            Reason::KeyDisabled => "channel.checks.reason.key_disabled",
            Reason::IpNotAllowed => "channel.checks.reason.ip_not_allowed",
            Reason::InsufficientScope => "channel.checks.reason.insufficient_scope",
        }
    }
}

/// A key its company's policy keeps from the Amazon Sales Channel (SPEC §10):
/// the account service says so by a status of its own (verify's `status`,
/// the error code of a 401), which the Admin reports as `invalid` with a
/// [`Reason`] of its own.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum KeyPolicy {
    Disabled,
    IpNotAllowed,
    InsufficientScope,
}

impl KeyPolicy {
    pub const ALL: [KeyPolicy; 3] = [
        KeyPolicy::Disabled,
        KeyPolicy::IpNotAllowed,
        KeyPolicy::InsufficientScope,
    ];

    /// The account service's status name.
    pub fn status(self) -> &'static str {
        match self {
            KeyPolicy::Disabled => "disabled",
            KeyPolicy::IpNotAllowed => "ip_not_allowed",
            KeyPolicy::InsufficientScope => "insufficient_scope",
        }
    }

    /// The policy a status of the account service names; `None` for any other.
    pub fn of_status(status: &str) -> Option<KeyPolicy> {
        KeyPolicy::ALL.into_iter().find(|p| p.status() == status)
    }

    /// The reason the Admin names it by.
    pub fn reason(self) -> Reason {
        match self {
            KeyPolicy::Disabled => Reason::KeyDisabled,
            KeyPolicy::IpNotAllowed => Reason::IpNotAllowed,
            KeyPolicy::InsufficientScope => Reason::InsufficientScope,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn policy_statuses_map_to_their_reasons() {
        let pairs = [
            ("disabled", Reason::KeyDisabled),
            ("ip_not_allowed", Reason::IpNotAllowed),
            ("insufficient_scope", Reason::InsufficientScope),
        ];
        for (status, reason) in pairs {
            assert_eq!(
                KeyPolicy::of_status(status).map(KeyPolicy::reason),
                Some(reason)
            );
        }
        for other in [
            "valid",
            "invalid",
            "expired",
            "revoked",
            "",
            "Disabled",
            "key_disabled",
        ] {
            assert_eq!(KeyPolicy::of_status(other), None, "{other}");
        }
    }
}
