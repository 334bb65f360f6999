-- Who did what, when: key events, sign-ins, members. Never a secret.
-- The actor's email is copied, so the trail outlives a removed member.
CREATE TABLE audit_events (
    id BIGSERIAL PRIMARY KEY,
    company_id TEXT,
    actor_id TEXT,
    actor TEXT,
    action TEXT NOT NULL,
    target TEXT,
    detail TEXT,
    ip TEXT,
    created_at BIGINT NOT NULL
);
CREATE INDEX audit_events_company ON audit_events(company_id, id);
