-- Two-step sign-in (SPEC §8). Authenticator secrets are stored encrypted
-- (never in plain text); recovery codes as SHA-256 hashes only; a sign-in
-- waiting for its second step as a hash of its cookie's token.
CREATE TABLE account_totp (
    account_id TEXT PRIMARY KEY REFERENCES accounts(id) ON DELETE CASCADE,
    -- The secret in force, once a code confirmed it.
    secret_enc TEXT,
    -- A secret shown for setting up, not yet confirmed.
    pending_secret_enc TEXT,
    -- The last 30-second step whose code was accepted: a code works once.
    last_step BIGINT NOT NULL DEFAULT 0,
    confirmed_at BIGINT,
    created_at BIGINT NOT NULL
);

CREATE TABLE account_recovery_codes (
    account_id TEXT NOT NULL REFERENCES accounts(id) ON DELETE CASCADE,
    code_hash TEXT NOT NULL,
    used_at BIGINT,
    PRIMARY KEY (account_id, code_hash)
);

CREATE TABLE account_pending_sign_ins (
    id_hash TEXT PRIMARY KEY,
    account_id TEXT NOT NULL REFERENCES accounts(id) ON DELETE CASCADE,
    -- The email or username signed in with, for the sign-in throttles.
    name TEXT NOT NULL,
    -- 1: the user must set up a second step before the session starts.
    setup BIGINT NOT NULL,
    attempts BIGINT NOT NULL DEFAULT 0,
    created_at BIGINT NOT NULL
);
CREATE INDEX account_pending_sign_ins_created ON account_pending_sign_ins(created_at);

-- An owner can require a second step of every member (PATCH /api/v1/company).
ALTER TABLE companies ADD COLUMN require_two_factor BIGINT NOT NULL DEFAULT 0;
