-- Ninth schema step: plans being made live in the database, so that any replica can show one
-- and another can finish it when the replica making it dies. A job is claimed with a lease
-- (`lease_until`) that its replica renews while it works; `attempt` counts the claims and
-- fences every write, so a replica that lost its lease writes nothing. Times are Unix
-- milliseconds.
CREATE TABLE plan_jobs (
    id               TEXT PRIMARY KEY NOT NULL,   -- UUID, the id its plan will have
    owner            TEXT NOT NULL,
    request          TEXT NOT NULL,               -- the TripRequest as JSON
    destination      TEXT NOT NULL,               -- the geocoded Destination as JSON
    cache_key        TEXT NOT NULL,
    started_at       BIGINT NOT NULL,
    expires_at       BIGINT,                      -- when the plan made is deleted, if ever
    status           TEXT NOT NULL                -- queued | running | ended
                     CHECK (status IN ('queued', 'running', 'ended')),
    worker           TEXT,                        -- the replica holding it, for the logs
    attempt          INTEGER NOT NULL,            -- 1 for the first claim, one more each claim
    lease_until      BIGINT,
    cancel_requested INTEGER NOT NULL DEFAULT 0 CHECK (cancel_requested IN (0, 1)),
    ended_at         BIGINT
);
CREATE INDEX plan_jobs_claimable ON plan_jobs (status, lease_until);
CREATE INDEX plan_jobs_by_owner ON plan_jobs (owner, status);
CREATE INDEX plan_jobs_ended ON plan_jobs (ended_at);

-- Each job's events in order, numbered from 0: what any replica replays and follows.
CREATE TABLE plan_events (
    plan_id TEXT NOT NULL,
    seq     BIGINT NOT NULL,
    event   TEXT NOT NULL,                        -- the event as JSON
    PRIMARY KEY (plan_id, seq)
);
