-- Passkeys and security keys (WebAuthn) as a second step (SPEC §8). Only
-- public keys are stored: an authenticator never gives out its private key.
CREATE TABLE admin_passkeys (
    id TEXT PRIMARY KEY,
    user_id TEXT NOT NULL REFERENCES admin_users(id) ON DELETE CASCADE,
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
CREATE INDEX admin_passkeys_user ON admin_passkeys(user_id);

-- A registration or sign-in started and not yet finished (5 minutes).
CREATE TABLE admin_webauthn_ceremonies (
    user_id TEXT NOT NULL REFERENCES admin_users(id) ON DELETE CASCADE,
    kind TEXT NOT NULL,
    state TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    PRIMARY KEY (user_id, kind)
);

-- When a session last proved a second step (a passkey, a code).
ALTER TABLE admin_sessions ADD COLUMN stepped_up_at BIGINT;
