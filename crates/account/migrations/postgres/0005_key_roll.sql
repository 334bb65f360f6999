-- A rolled key names the key that replaced it; its expiry is the end of the
-- grace period the user chose.
ALTER TABLE api_keys ADD COLUMN replaced_by TEXT;
