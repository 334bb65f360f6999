-- PostgreSQL re-creates its key-change trigger here; SQLite has none.
SELECT 1;
