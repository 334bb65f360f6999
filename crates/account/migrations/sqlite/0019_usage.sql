-- Usage (SPEC §11): verifications per key, hour and outcome. Every node
-- adds its counts to a row (additive upserts), so the nodes' counts add up.
-- `hour` is Unix seconds / 3600 (UTC).
CREATE TABLE key_usage (
    key_id TEXT NOT NULL REFERENCES api_keys(id) ON DELETE CASCADE,
    hour BIGINT NOT NULL,
    valid BIGINT NOT NULL DEFAULT 0,
    invalid BIGINT NOT NULL DEFAULT 0,
    expired BIGINT NOT NULL DEFAULT 0,
    revoked BIGINT NOT NULL DEFAULT 0,
    disabled BIGINT NOT NULL DEFAULT 0,
    ip_not_allowed BIGINT NOT NULL DEFAULT 0,
    insufficient_scope BIGINT NOT NULL DEFAULT 0,
    throttled BIGINT NOT NULL DEFAULT 0,
    PRIMARY KEY (key_id, hour)
);

-- Hours older than 90 days, rolled up by UTC day (`day` is Unix seconds /
-- 86400) and kept 13 months.
CREATE TABLE key_usage_daily (
    key_id TEXT NOT NULL REFERENCES api_keys(id) ON DELETE CASCADE,
    day BIGINT NOT NULL,
    valid BIGINT NOT NULL DEFAULT 0,
    invalid BIGINT NOT NULL DEFAULT 0,
    expired BIGINT NOT NULL DEFAULT 0,
    revoked BIGINT NOT NULL DEFAULT 0,
    disabled BIGINT NOT NULL DEFAULT 0,
    ip_not_allowed BIGINT NOT NULL DEFAULT 0,
    insufficient_scope BIGINT NOT NULL DEFAULT 0,
    throttled BIGINT NOT NULL DEFAULT 0,
    PRIMARY KEY (key_id, day)
);
