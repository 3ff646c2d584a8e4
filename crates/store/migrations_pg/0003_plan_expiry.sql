-- PostgreSQL copy of the SQLite migration of the same number.
ALTER TABLE plans ADD COLUMN expires_at TEXT;
CREATE INDEX plans_expires_at ON plans (expires_at) WHERE expires_at IS NOT NULL;
