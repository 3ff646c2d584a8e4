-- PostgreSQL copy of the SQLite migration of the same number.
CREATE TABLE rate_windows (
    key          TEXT NOT NULL,
    window_start BIGINT NOT NULL,
    hits         BIGINT NOT NULL,
    PRIMARY KEY (key, window_start)
);
CREATE INDEX rate_windows_by_start ON rate_windows (window_start);
