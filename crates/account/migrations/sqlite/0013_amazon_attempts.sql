-- The last failed authorization attempt of an Amazon store (a callback that
-- met a refusal, a missing code or an unreachable token endpoint): when, and
-- the reason code. A store that holds a working authorization keeps it; the
-- attempt is only recorded here (and in the audit trail). A successful
-- authorization clears it.
ALTER TABLE amazon_stores ADD COLUMN last_attempt_at BIGINT;
ALTER TABLE amazon_stores ADD COLUMN last_attempt_reason TEXT;
