-- Every change to a key's revocation or expiry is announced, so every node
-- drops the key from its verification cache (see verify::listen_for_changes).
CREATE FUNCTION notify_key_change() RETURNS trigger AS $$
BEGIN
    PERFORM pg_notify('commerce_key_changes', NEW.key_hash);
    RETURN NEW;
END;
$$ LANGUAGE plpgsql;

CREATE TRIGGER api_keys_notify_change
    AFTER UPDATE OF revoked_at, expires_at ON api_keys
    FOR EACH ROW EXECUTE FUNCTION notify_key_change();
