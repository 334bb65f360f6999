-- The sessions a member had when an owner removed them from the company, by
-- the same hash as account_sessions (never the cookie itself), with the name
-- of the company they were removed from: so the sign-in page can tell the
-- browser that still holds such a cookie, and no one else, what happened.
-- Purged with the sessions' absolute lifetime.
CREATE TABLE removed_sessions (
    id_hash TEXT PRIMARY KEY,
    company_name TEXT NOT NULL,
    removed_at BIGINT NOT NULL
);
CREATE INDEX removed_sessions_at ON removed_sessions(removed_at);
