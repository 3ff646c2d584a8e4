-- PostgreSQL copy of the SQLite migration of the same number.
CREATE TABLE plan_versions (
    plan_id  TEXT NOT NULL REFERENCES plans (id) ON DELETE CASCADE,
    version  BIGINT NOT NULL,
    body     TEXT NOT NULL,
    saved_at TEXT NOT NULL,
    PRIMARY KEY (plan_id, version)
);
