-- Amazon stores (issue #14): a company's stores registered by its Admin
-- with its API key, and their Seller Central authorization. The refresh
-- token is kept only encrypted (AEAD, key file outside the database);
-- `enabled` is 1 or 0 (Deactivate keeps the authorization).
CREATE TABLE amazon_stores (
    id TEXT PRIMARY KEY,
    company_id TEXT NOT NULL REFERENCES companies(id) ON DELETE CASCADE,
    name TEXT NOT NULL,
    email TEXT NOT NULL,
    country TEXT NOT NULL,
    website_url TEXT NOT NULL,
    enabled BIGINT NOT NULL DEFAULT 1,
    auth_state TEXT NOT NULL DEFAULT 'pending',
    reason TEXT,
    seller_id TEXT,
    refresh_token_enc TEXT,
    authorized_at BIGINT,
    authorization_expires_at BIGINT,
    last_checked_at BIGINT,
    created_at BIGINT NOT NULL
);
CREATE INDEX amazon_stores_company ON amazon_stores(company_id, created_at);

-- Single-use connect links (10 minutes): only the SHA-256 of the link's token.
CREATE TABLE amazon_connect_links (
    hash TEXT PRIMARY KEY,
    store_id TEXT NOT NULL REFERENCES amazon_stores(id) ON DELETE CASCADE,
    created_at BIGINT NOT NULL,
    expires_at BIGINT NOT NULL,
    used_at BIGINT
);
CREATE INDEX amazon_connect_links_store ON amazon_connect_links(store_id);

-- OAuth `state` values (single use, 10 minutes), each bound to the browser
-- that started the authorization by the hash of its cookie nonce, and the
-- redirect URI sent with it (the code exchange must send the same). Only
-- hashes of the state and the nonce are stored.
CREATE TABLE amazon_states (
    hash TEXT PRIMARY KEY,
    store_id TEXT NOT NULL REFERENCES amazon_stores(id) ON DELETE CASCADE,
    browser_hash TEXT NOT NULL,
    redirect_uri TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    expires_at BIGINT NOT NULL,
    used_at BIGINT
);
CREATE INDEX amazon_states_store ON amazon_states(store_id);
