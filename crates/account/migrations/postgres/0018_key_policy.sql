-- Key policy (SPEC §10). A disabled key answers `disabled` until enabled;
-- `allowed_ips` holds canonical CIDR ranges separated by spaces (NULL: any
-- address); `services` holds service names separated by spaces (NULL: every
-- service the operator runs, including those added later).
ALTER TABLE api_keys ADD COLUMN disabled_at BIGINT;
ALTER TABLE api_keys ADD COLUMN allowed_ips TEXT;
ALTER TABLE api_keys ADD COLUMN services TEXT;

-- New keys of the company must expire within this many days (NULL: no limit).
ALTER TABLE companies ADD COLUMN max_key_lifetime_days BIGINT;

-- A policy change reaches every node's cache as revocation does.
DROP TRIGGER api_keys_notify_change ON api_keys;
CREATE TRIGGER api_keys_notify_change
    AFTER UPDATE OF revoked_at, expires_at, public_key, disabled_at, allowed_ips, services ON api_keys
    FOR EACH ROW EXECUTE FUNCTION notify_key_change();
