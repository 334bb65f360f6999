-- Whether the account's email was confirmed (by a mailed link), and when.
ALTER TABLE accounts ADD COLUMN email_verified_at BIGINT;

-- Email confirmation links: for the account's own address (sign-up,
-- Resend) or for a new one it asked to change to (`email`), which takes
-- effect only when its link is used. As reset links: the token is never
-- stored, single use, valid until `expires_at`.
CREATE TABLE email_verifications (
    id TEXT PRIMARY KEY,
    account_id TEXT NOT NULL REFERENCES accounts(id) ON DELETE CASCADE,
    email TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    expires_at BIGINT NOT NULL,
    used_at BIGINT
);
CREATE INDEX email_verifications_account ON email_verifications(account_id);
ALTER TABLE outbox ADD COLUMN verification_id TEXT;
