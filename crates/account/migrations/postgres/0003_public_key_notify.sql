-- A replaced public key must reach every node's cache too.
DROP TRIGGER api_keys_notify_change ON api_keys;
CREATE TRIGGER api_keys_notify_change
    AFTER UPDATE OF revoked_at, expires_at, public_key ON api_keys
    FOR EACH ROW EXECUTE FUNCTION notify_key_change();
