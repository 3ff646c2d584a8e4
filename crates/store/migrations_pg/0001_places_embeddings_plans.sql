-- PostgreSQL copy of the SQLite migration of the same number (crates/store/migrations/).
-- Same tables, columns and meanings; integers are BIGINT (read as i64), coordinates DOUBLE
-- PRECISION, binary BYTEA. Times stay RFC 3339 text in UTC with microseconds, as in SQLite:
-- one row mapping for both backends, and the fixed width still sorts them by time.

CREATE TABLE places (
    id            TEXT PRIMARY KEY NOT NULL,
    name          TEXT NOT NULL,
    category      TEXT NOT NULL,
    kind          TEXT NOT NULL,
    lat           DOUBLE PRECISION NOT NULL,
    lon           DOUBLE PRECISION NOT NULL,
    opening_hours TEXT,
    tags          TEXT NOT NULL,
    source        TEXT NOT NULL,
    imported_at   TEXT NOT NULL
);
CREATE INDEX places_lat_lon ON places (lat, lon);
CREATE INDEX places_category ON places (category);

CREATE TABLE place_embeddings (
    place_id  TEXT NOT NULL,
    model     TEXT NOT NULL,
    text_hash BIGINT NOT NULL,
    vector    BYTEA NOT NULL,
    PRIMARY KEY (place_id, model)
);

CREATE TABLE plans (
    id          TEXT PRIMARY KEY NOT NULL,
    created_at  TEXT NOT NULL,
    destination TEXT NOT NULL,
    country     TEXT NOT NULL,
    days        BIGINT NOT NULL,
    body        TEXT NOT NULL
);
CREATE INDEX plans_created_at ON plans (created_at);
