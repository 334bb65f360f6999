-- Passkeys and security keys (WebAuthn) as a second step (SPEC §8). Only
-- public keys are stored: an authenticator never gives out its private key.
CREATE TABLE account_passkeys (
    id TEXT PRIMARY KEY,
    account_id TEXT NOT NULL REFERENCES accounts(id) ON DELETE CASCADE,
    -- The authenticator's credential id, base64url; one registration each.
    credential_id TEXT NOT NULL UNIQUE,
    name TEXT NOT NULL,
    transports BIGINT NOT NULL,
    -- The public key and what the authenticator said of it (base64).
    static_state TEXT NOT NULL,
    -- The signature counter and backup flags (base64).
    dynamic_state TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    last_used_at BIGINT
);
CREATE INDEX account_passkeys_user ON account_passkeys(account_id);

-- A registration or sign-in started and not yet finished (5 minutes).
CREATE TABLE account_webauthn_ceremonies (
    account_id TEXT NOT NULL REFERENCES accounts(id) ON DELETE CASCADE,
    kind TEXT NOT NULL,
    state TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    PRIMARY KEY (account_id, kind)
);

-- When a session last proved a second step (a passkey, a code): changes
-- to second steps within 10 minutes of it need no new proof.
ALTER TABLE account_sessions ADD COLUMN stepped_up_at BIGINT;
