-- PostgreSQL copy of the SQLite migration of the same number. `seq` stands for SQLite's rowid:
-- the order rows were made in, which breaks ties of `created_at` and `position`.
ALTER TABLE plans ADD COLUMN owner TEXT;
ALTER TABLE plans ADD COLUMN share_token TEXT;
CREATE INDEX plans_owner_created_at ON plans (owner, created_at);
CREATE UNIQUE INDEX plans_share_token ON plans (share_token);

CREATE TABLE trip_lists (
    id             TEXT PRIMARY KEY NOT NULL,
    owner          TEXT NOT NULL,
    title          TEXT NOT NULL,
    plan_id        TEXT REFERENCES plans (id) ON DELETE SET NULL,
    notes          TEXT NOT NULL DEFAULT '',
    notes_saved_at TEXT,
    created_at     TEXT NOT NULL,
    version        BIGINT NOT NULL DEFAULT 1,
    seq            BIGINT GENERATED ALWAYS AS IDENTITY
);
CREATE INDEX trip_lists_owner_created_at ON trip_lists (owner, created_at);
CREATE INDEX trip_lists_owner_plan ON trip_lists (owner, plan_id);

CREATE TABLE list_items (
    id       TEXT PRIMARY KEY NOT NULL,
    list_id  TEXT NOT NULL REFERENCES trip_lists (id) ON DELETE CASCADE,
    name     TEXT NOT NULL,
    name_key TEXT NOT NULL,
    qty_home BIGINT NOT NULL CHECK (qty_home BETWEEN 0 AND 12),
    qty_take BIGINT NOT NULL CHECK (qty_take BETWEEN 0 AND 12),
    taken    BIGINT NOT NULL DEFAULT 0 CHECK (taken IN (0, 1)),
    position BIGINT NOT NULL,
    version  BIGINT NOT NULL DEFAULT 1,
    seq      BIGINT GENERATED ALWAYS AS IDENTITY,
    UNIQUE (list_id, name_key)
);
CREATE INDEX list_items_list_position ON list_items (list_id, position);

CREATE TABLE response_cache (
    namespace TEXT NOT NULL,
    key       TEXT NOT NULL,
    value     TEXT NOT NULL,
    stored_at BIGINT NOT NULL,
    PRIMARY KEY (namespace, key)
);
