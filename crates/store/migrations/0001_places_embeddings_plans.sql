-- First schema of the Tripwright store: imported places, the embedding cache and saved plans.
--
-- The SQL keeps to what SQLite and PostgreSQL share where that costs nothing (ON CONFLICT
-- upserts, plain indexes, TEXT/INTEGER/REAL columns); the PostgreSQL backend will carry its
-- own copy with native types (TIMESTAMPTZ, BYTEA, JSONB).

-- Places from OpenStreetMap extracts (or another source). One row per place id; a re-import
-- replaces the row, so `source` and `imported_at` always describe the latest import.
CREATE TABLE places (
    id            TEXT PRIMARY KEY NOT NULL, -- 'osm:node/123', 'osm:way/456'
    name          TEXT NOT NULL,
    category      TEXT NOT NULL,             -- PlaceCategory::as_str(): hotel, food …
    kind          TEXT NOT NULL,             -- the tag value behind the category: museum, cafe …
    lat           REAL NOT NULL,             -- WGS84 degrees
    lon           REAL NOT NULL,
    opening_hours TEXT,                      -- raw OSM `opening_hours`, NULL when untagged
    tags          TEXT NOT NULL,             -- every OSM tag as a JSON object of strings
    source        TEXT NOT NULL,             -- what it was imported from, e.g. 'Helsinki.osm.pbf'
    imported_at   TEXT NOT NULL              -- RFC 3339, UTC
);

-- "Places near a point" is a bounding-box range on lat (then lon) before the exact
-- great-circle filter in Rust; the composite index serves both columns from one b-tree.
CREATE INDEX places_lat_lon ON places (lat, lon);
-- Counts per category for `status`/metrics, and the category filter of the nearby search.
CREATE INDEX places_category ON places (category);

-- Cached sentence embeddings of place descriptions, one per (place, model). Not tied to
-- `places` by a foreign key: the cache is filled from descriptions, whatever imported them,
-- and a stale vector is recognised by `text_hash`, not by deleting it with its place.
CREATE TABLE place_embeddings (
    place_id  TEXT NOT NULL,
    model     TEXT NOT NULL,                 -- model id, e.g. 'all-MiniLM-L6-v2'
    text_hash INTEGER NOT NULL,              -- caller's u64 hash of the embedded text, as i64 bits
    vector    BLOB NOT NULL,                 -- little-endian f32 values, 4 bytes each
    PRIMARY KEY (place_id, model)
);

-- Saved plans. `body` is the whole Plan as JSON (the public contract, schema/plan.schema.json);
-- the other columns are copies for listing and sorting without parsing it.
CREATE TABLE plans (
    id          TEXT PRIMARY KEY NOT NULL,   -- UUID
    created_at  TEXT NOT NULL,               -- RFC 3339 in UTC with microseconds: sorts as text
    destination TEXT NOT NULL,               -- destination city name
    country     TEXT NOT NULL,
    days        INTEGER NOT NULL,            -- requested trip length
    body        TEXT NOT NULL
);

-- The history list is "newest first".
CREATE INDEX plans_created_at ON plans (created_at);
