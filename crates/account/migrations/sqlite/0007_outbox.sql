-- Messages to send: expiry notices, leak alerts. The worker sends each once
-- over SMTP when SMTP is configured; without it the outbox is shown in the
-- account site. `dedupe_key` makes a notice (a key and a threshold) unique.
CREATE TABLE outbox (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    company_id TEXT,
    recipient TEXT NOT NULL,
    kind TEXT NOT NULL,
    subject TEXT NOT NULL,
    body TEXT NOT NULL,
    dedupe_key TEXT UNIQUE,
    created_at BIGINT NOT NULL,
    sent_at BIGINT,
    attempts BIGINT NOT NULL DEFAULT 0,
    claimed_until BIGINT,
    last_error TEXT
);
CREATE INDEX outbox_unsent ON outbox(sent_at, id);
CREATE INDEX outbox_company ON outbox(company_id, id);
