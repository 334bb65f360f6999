-- Issue #14: each Amazon store is registered with the account service, which
-- authorizes it in Seller Central and reports its status. The Admin keeps its
-- own row (what the merchant typed is never lost when the account service is
-- down), the account service's id once registered, and the last known status.
ALTER TABLE amazon_stores ADD COLUMN remote_id TEXT;
ALTER TABLE amazon_stores ADD COLUMN website_url TEXT;
ALTER TABLE amazon_stores ADD COLUMN reason TEXT;
ALTER TABLE amazon_stores ADD COLUMN seller_id TEXT;
ALTER TABLE amazon_stores ADD COLUMN authorized_at BIGINT;
ALTER TABLE amazon_stores ADD COLUMN authorization_expires_at BIGINT;
ALTER TABLE amazon_stores ADD COLUMN synced_at BIGINT;
CREATE UNIQUE INDEX amazon_stores_remote_id ON amazon_stores (remote_id);

-- What an audit row is about, in words (an Amazon store's name, country and
-- status); never a value, code, state or token.
ALTER TABLE config_audit ADD COLUMN detail TEXT;
