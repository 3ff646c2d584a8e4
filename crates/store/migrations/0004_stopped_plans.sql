-- Fourth schema step: a plan that stopped before it was made (it failed, the server was
-- restarted, its owner cancelled it) keeps its address for a while, so that a reload or a
-- kept link says what happened instead of "not found". Kept until `expires_at`.
CREATE TABLE stopped_plans (
    id          TEXT PRIMARY KEY NOT NULL,   -- UUID, the address the plan would have had
    owner       TEXT NOT NULL,
    stopped_at  TEXT NOT NULL,               -- RFC 3339 UTC with microseconds
    expires_at  TEXT NOT NULL,
    request     TEXT NOT NULL,               -- the TripRequest as JSON
    destination TEXT NOT NULL,               -- the geocoded Destination as JSON
    message     TEXT                         -- why, for the user; NULL: the owner cancelled it
);

CREATE INDEX stopped_plans_expires_at ON stopped_plans (expires_at);
