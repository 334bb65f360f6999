-- Admin usernames are unique without regard to case ("Admin" and "admin" are
-- one user). Earlier users whose names differ only in case: the oldest keeps
-- its name, each later one gets a suffix from its id, so the index can hold.
UPDATE admin_users SET username = username || '-' || substr(id, 5, 8)
WHERE EXISTS (
    SELECT 1 FROM admin_users o
    WHERE lower(o.username) = lower(admin_users.username)
      AND (o.created_at < admin_users.created_at
           OR (o.created_at = admin_users.created_at AND o.id < admin_users.id))
);
CREATE UNIQUE INDEX admin_users_username_lower ON admin_users (lower(username));
