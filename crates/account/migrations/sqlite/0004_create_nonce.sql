-- The API Portal's form carries a one-time nonce, so a reloaded or repeated
-- submission cannot create a second key.
ALTER TABLE api_keys ADD COLUMN create_nonce TEXT;
CREATE UNIQUE INDEX api_keys_create_nonce ON api_keys(company_id, create_nonce);
