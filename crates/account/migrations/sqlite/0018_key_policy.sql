-- Key policy (SPEC §10). A disabled key answers `disabled` until enabled;
-- `allowed_ips` holds canonical CIDR ranges separated by spaces (NULL: any
-- address); `services` holds service names separated by spaces (NULL: every
-- service the operator runs, including those added later).
ALTER TABLE api_keys ADD COLUMN disabled_at BIGINT;
ALTER TABLE api_keys ADD COLUMN allowed_ips TEXT;
ALTER TABLE api_keys ADD COLUMN services TEXT;

-- New keys of the company must expire within this many days (NULL: no limit).
ALTER TABLE companies ADD COLUMN max_key_lifetime_days BIGINT;
