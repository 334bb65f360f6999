CREATE TABLE admin_users (
    id TEXT PRIMARY KEY,
    username TEXT NOT NULL UNIQUE,
    email TEXT NOT NULL,
    password_hash TEXT NOT NULL,
    locale TEXT,
    created_at BIGINT NOT NULL
);

-- Only a hash of the session id is stored.
CREATE TABLE admin_sessions (
    id_hash TEXT PRIMARY KEY,
    user_id TEXT NOT NULL REFERENCES admin_users(id) ON DELETE CASCADE,
    created_at BIGINT NOT NULL,
    last_seen_at BIGINT NOT NULL
);

-- Websites and store views, as Magento's store_website and store.
CREATE TABLE store_website (
    website_id INTEGER PRIMARY KEY,
    code TEXT NOT NULL UNIQUE,
    name TEXT NOT NULL
);
CREATE TABLE store (
    store_id INTEGER PRIMARY KEY,
    code TEXT NOT NULL UNIQUE,
    website_id INTEGER NOT NULL REFERENCES store_website(website_id),
    name TEXT NOT NULL
);
INSERT INTO store_website (website_id, code, name) VALUES (1, 'base', 'Main Website');
INSERT INTO store (store_id, code, website_id, name) VALUES (1, 'default', 1, 'Default Store View');

-- Magento's core_config_data: a value per (scope, scope id, path).
-- Encrypted fields hold `version:cipher:base64`, never the plaintext.
CREATE TABLE core_config_data (
    scope TEXT NOT NULL,
    scope_id BIGINT NOT NULL,
    path TEXT NOT NULL,
    value TEXT NOT NULL,
    updated_at BIGINT NOT NULL,
    PRIMARY KEY (scope, scope_id, path)
);

CREATE TABLE amazon_stores (
    id TEXT PRIMARY KEY,
    name TEXT NOT NULL,
    email TEXT NOT NULL,
    website_id INTEGER NOT NULL REFERENCES store_website(website_id),
    marketplace TEXT NOT NULL,
    status TEXT NOT NULL,
    created_at BIGINT NOT NULL
);
