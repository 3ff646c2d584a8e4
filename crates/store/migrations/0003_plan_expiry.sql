-- Third schema step: plans of clients without a cookie (API clients, curl) are kept for a
-- while only. `expires_at` is NULL for plans kept for ever (browsers' and the CLI's).
ALTER TABLE plans ADD COLUMN expires_at TEXT;   -- RFC 3339 UTC with microseconds

CREATE INDEX plans_expires_at ON plans (expires_at) WHERE expires_at IS NOT NULL;
