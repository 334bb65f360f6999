-- SQLite runs one node: revocation invalidates the in-process cache directly.
-- (Kept so both backends have the same migration versions.)
SELECT 1;
