-- Seventh schema step: edits to a plan can be undone. Before an edit is saved, the plan as it
-- was is kept here (the newest 20 per plan); undoing puts the newest back and drops it.
CREATE TABLE plan_versions (
    plan_id  TEXT NOT NULL REFERENCES plans (id) ON DELETE CASCADE,
    version  INTEGER NOT NULL,          -- 1, 2, 3 … per plan
    body     TEXT NOT NULL,             -- the plan's JSON as it was
    saved_at TEXT NOT NULL,             -- RFC 3339 UTC
    PRIMARY KEY (plan_id, version)
);
