-- Issue #32: every check the Amazon Sales Channel gate makes of the stored
-- Production key (opening the channel, key-status, channel:amazon:verify):
-- when, the status and the reason code. Never the key, its hint or anything
-- secret. Only the newest 50 rows are kept (older ones are deleted with each
-- insert), however often the page is opened.
CREATE TABLE admin_key_checks (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    checked_at BIGINT NOT NULL,
    -- valid, missing, invalid, expired, revoked or unreachable.
    status TEXT NOT NULL,
    -- sandbox_key, down, ... when the gate knows why.
    reason TEXT
);
