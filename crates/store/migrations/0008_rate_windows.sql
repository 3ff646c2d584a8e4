-- Eighth schema step: requests counted per client and minute in the store, so that replicas
-- sharing one database share their rate limits. A row is one key (the request's class and the
-- client's address) in one fixed window (its first second, Unix time); old windows are deleted
-- as new ones begin.
CREATE TABLE rate_windows (
    key          TEXT NOT NULL,
    window_start INTEGER NOT NULL,
    hits         INTEGER NOT NULL,
    PRIMARY KEY (key, window_start)
);
CREATE INDEX rate_windows_by_start ON rate_windows (window_start);
