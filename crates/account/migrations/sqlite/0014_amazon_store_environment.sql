-- The environment of the key that registered an Amazon store: a Sandbox key
-- sees (and acts on) only the stores registered with Sandbox keys, a
-- Production key only those registered with Production keys. Existing
-- stores were registered with Production keys (the Admin's only field).
ALTER TABLE amazon_stores ADD COLUMN environment TEXT NOT NULL DEFAULT 'production';
