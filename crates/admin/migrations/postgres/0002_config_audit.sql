-- Every configuration change: who, when, which path at which scope, and
-- whether it was set or cleared. Never the value (secrets included).
CREATE TABLE config_audit (
    id BIGSERIAL PRIMARY KEY,
    actor TEXT NOT NULL,
    path TEXT NOT NULL,
    scope TEXT NOT NULL,
    scope_id BIGINT NOT NULL,
    change TEXT NOT NULL,
    created_at BIGINT NOT NULL
);
