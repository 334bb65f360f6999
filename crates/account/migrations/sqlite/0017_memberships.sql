-- Shared access (SPEC §9): an account belongs to any number of companies,
-- with a role in each. Every account keeps the company and role it had.
CREATE TABLE memberships (
    account_id TEXT NOT NULL REFERENCES accounts(id) ON DELETE CASCADE,
    company_id TEXT NOT NULL REFERENCES companies(id),
    role TEXT NOT NULL,
    joined_at BIGINT NOT NULL,
    PRIMARY KEY (account_id, company_id)
);
CREATE INDEX memberships_company ON memberships(company_id, role);

INSERT INTO memberships (account_id, company_id, role, joined_at)
SELECT id, company_id, role, COALESCE(joined_at, created_at) FROM accounts;

-- accounts.company_id is from now on the company a new session starts in
-- (the one last chosen); the role lives in the membership.
ALTER TABLE accounts DROP COLUMN role;
ALTER TABLE accounts DROP COLUMN joined_at;

-- The session's current company (NULL: none chosen yet; the account's
-- default, or any of its companies, is taken).
ALTER TABLE account_sessions ADD COLUMN company_id TEXT REFERENCES companies(id);

-- A closed company keeps its row (audit, history) and has no members.
ALTER TABLE companies ADD COLUMN closed_at BIGINT;
