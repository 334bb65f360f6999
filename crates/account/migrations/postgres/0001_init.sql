CREATE TABLE companies (
    id TEXT PRIMARY KEY,
    name TEXT NOT NULL,
    created_at BIGINT NOT NULL
);

CREATE TABLE accounts (
    id TEXT PRIMARY KEY,
    company_id TEXT NOT NULL REFERENCES companies(id),
    email TEXT NOT NULL UNIQUE,
    name TEXT NOT NULL,
    password_hash TEXT NOT NULL,
    role TEXT NOT NULL,
    locale TEXT,
    created_at BIGINT NOT NULL
);
CREATE INDEX accounts_company ON accounts(company_id);

-- Only a hash of the session id is stored: a copy of the database signs no one in.
CREATE TABLE account_sessions (
    id_hash TEXT PRIMARY KEY,
    account_id TEXT NOT NULL REFERENCES accounts(id) ON DELETE CASCADE,
    created_at BIGINT NOT NULL,
    last_seen_at BIGINT NOT NULL
);
CREATE INDEX account_sessions_account ON account_sessions(account_id);

-- Only a SHA-256 of each key is stored; the key itself is shown once.
CREATE TABLE api_keys (
    id TEXT PRIMARY KEY,
    company_id TEXT NOT NULL REFERENCES companies(id),
    created_by TEXT NOT NULL REFERENCES accounts(id),
    name TEXT NOT NULL,
    environment TEXT NOT NULL,
    key_hash TEXT NOT NULL UNIQUE,
    hint TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    expires_at BIGINT,
    revoked_at BIGINT,
    last_used_at BIGINT,
    public_key TEXT
);
CREATE INDEX api_keys_company ON api_keys(company_id, created_at);
