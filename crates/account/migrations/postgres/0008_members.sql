-- Invitations to join a company. The link's token is never stored: it is an
-- HMAC of the invitation's id under the service's link key, so a copy of the
-- database (or of the outbox) lets no one join.
CREATE TABLE invitations (
    id TEXT PRIMARY KEY,
    company_id TEXT NOT NULL REFERENCES companies(id),
    email TEXT NOT NULL,
    role TEXT NOT NULL,
    invited_by TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    expires_at BIGINT NOT NULL,
    accepted_at BIGINT,
    accepted_by TEXT,
    revoked_at BIGINT
);
CREATE INDEX invitations_company ON invitations(company_id, created_at);

-- An invitation's message holds a placeholder where the link's token goes;
-- the token is put in when the message is sent or shown.
ALTER TABLE outbox ADD COLUMN invitation_id TEXT;

-- When the account joined its company (NULL: when it was created).
ALTER TABLE accounts ADD COLUMN joined_at BIGINT;
