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
        }
    }

    pub const ALL: [Reason; 8] = [
        Reason::SandboxKey,
        Reason::Malformed,
        Reason::BadAnswer,
        Reason::Down,
        Reason::PrivateKey,
        Reason::Signature,
        Reason::GatewayUrl,
        Reason::PrivateKeyMissing,
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
        }
    }

    /// The sentence in English (the CLI's language).
    pub fn sentence(self) -> &'static str {
        crate::i18n::CATALOG.get(web::i18n::Lang::En, self.catalog_key())
    }
}
