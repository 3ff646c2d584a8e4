-- PostgreSQL copy of the SQLite migration of the same number.
ALTER TABLE plans ADD COLUMN purge_at TEXT;
