-- Where a session was started, for the list of signed-in browsers on
-- Account Information: the browser's User-Agent (cut short) and a coarse
-- address (the /24 of IPv4, the /48 of IPv6), never the full address.
ALTER TABLE account_sessions ADD COLUMN user_agent TEXT;
ALTER TABLE account_sessions ADD COLUMN ip TEXT;

-- Password reset links. As with invitations, the link's token is never
-- stored: it is an HMAC of the reset's id under the service's link key, so a
-- copy of the database (or of the outbox) resets no one's password. Single
-- use (`used_at`), valid until `expires_at`.
CREATE TABLE password_resets (
    id TEXT PRIMARY KEY,
    account_id TEXT NOT NULL REFERENCES accounts(id) ON DELETE CASCADE,
    created_at BIGINT NOT NULL,
    expires_at BIGINT NOT NULL,
    used_at BIGINT
);
CREATE INDEX password_resets_account ON password_resets(account_id);

-- A reset's message holds a placeholder where the link's token goes; the
-- token is put in when the message is sent.
ALTER TABLE outbox ADD COLUMN reset_id TEXT;
