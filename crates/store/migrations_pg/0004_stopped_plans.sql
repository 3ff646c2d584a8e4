-- PostgreSQL copy of the SQLite migration of the same number.
CREATE TABLE stopped_plans (
    id          TEXT PRIMARY KEY NOT NULL,
    owner       TEXT NOT NULL,
    stopped_at  TEXT NOT NULL,
    expires_at  TEXT NOT NULL,
    request     TEXT NOT NULL,
    destination TEXT NOT NULL,
    message     TEXT
);
CREATE INDEX stopped_plans_expires_at ON stopped_plans (expires_at);
