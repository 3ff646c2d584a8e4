-- Second schema step: plan owners and share links (the web app), trip lists, and a cache of
-- responses from optional online services.

-- Plans saved from the web app belong to a browser (an opaque id); plans saved by the CLI
-- have none (NULL). `share_token` is the secret of a read-only share link, NULL until the
-- owner first shares the plan.
ALTER TABLE plans ADD COLUMN owner TEXT;
ALTER TABLE plans ADD COLUMN share_token TEXT;

-- "My plans", newest first.
CREATE INDEX plans_owner_created_at ON plans (owner, created_at);
-- A token opens exactly one plan (NULLs do not collide in a unique index).
CREATE UNIQUE INDEX plans_share_token ON plans (share_token);

-- Trip lists: what to pack or buy, owned by a browser, optionally attached to a saved plan.
CREATE TABLE trip_lists (
    id             TEXT PRIMARY KEY NOT NULL,   -- UUID
    owner          TEXT NOT NULL,               -- opaque browser id
    title          TEXT NOT NULL,
    plan_id        TEXT REFERENCES plans (id) ON DELETE SET NULL,
    notes          TEXT NOT NULL DEFAULT '',
    notes_saved_at TEXT,                        -- RFC 3339 UTC, NULL before the first save
    created_at     TEXT NOT NULL,               -- RFC 3339 UTC with microseconds: sorts as text
    version        INTEGER NOT NULL DEFAULT 1   -- bumped by changes to title or notes
);

CREATE INDEX trip_lists_owner_created_at ON trip_lists (owner, created_at);
CREATE INDEX trip_lists_owner_plan ON trip_lists (owner, plan_id);

-- The items of a list; they go with their list.
CREATE TABLE list_items (
    id       TEXT PRIMARY KEY NOT NULL,         -- UUID
    list_id  TEXT NOT NULL REFERENCES trip_lists (id) ON DELETE CASCADE,
    name     TEXT NOT NULL,                     -- as the user typed it, trimmed
    name_key TEXT NOT NULL,                     -- lower-cased name: unique within the list
    qty_home INTEGER NOT NULL CHECK (qty_home BETWEEN 0 AND 12),
    qty_take INTEGER NOT NULL CHECK (qty_take BETWEEN 0 AND 12),
    taken    INTEGER NOT NULL DEFAULT 0 CHECK (taken IN (0, 1)),
    position INTEGER NOT NULL,                  -- display order within the list, smaller first
    version  INTEGER NOT NULL DEFAULT 1,        -- bumped by every change to the item
    UNIQUE (list_id, name_key)
);

CREATE INDEX list_items_list_position ON list_items (list_id, position);

-- Responses of optional online services (geocoding, map queries), so that a repeated
-- question is not asked again while the answer is fresh.
CREATE TABLE response_cache (
    namespace TEXT NOT NULL,                    -- the service, e.g. 'nominatim'
    key       TEXT NOT NULL,                    -- the question, as the caller spells it
    value     TEXT NOT NULL,
    stored_at INTEGER NOT NULL,                 -- Unix time in milliseconds
    PRIMARY KEY (namespace, key)
);
