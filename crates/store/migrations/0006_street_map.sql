-- Sixth schema step: the street map. Each imported extract keeps the features the basemap
-- draws and the walking routes follow (streets with their node ids, water, the sea, parks,
-- squares, buildings, railways), found by their bounding boxes; `map_regions` records what
-- each source covers, so that land is drawn only where there is data.
CREATE TABLE map_regions (
    source      TEXT PRIMARY KEY,
    min_lat     REAL NOT NULL,
    min_lon     REAL NOT NULL,
    max_lat     REAL NOT NULL,
    max_lon     REAL NOT NULL,
    features    INTEGER NOT NULL,
    imported_at TEXT NOT NULL           -- RFC 3339 UTC
);

CREATE TABLE map_features (
    id       INTEGER PRIMARY KEY,
    source   TEXT NOT NULL REFERENCES map_regions (source) ON DELETE CASCADE,
    layer    TEXT NOT NULL,             -- water, land, green, square, building, rail, road
    class    TEXT NOT NULL,             -- primary, footway, tram, park, sea …
    name     TEXT,
    walkable INTEGER NOT NULL DEFAULT 0,
    min_lat  REAL NOT NULL,
    min_lon  REAL NOT NULL,
    max_lat  REAL NOT NULL,
    max_lon  REAL NOT NULL,
    geometry BLOB NOT NULL              -- rings of (lat, lon) in 1e-7 degrees, road node ids
);
CREATE INDEX map_features_source ON map_features (source);
CREATE INDEX map_features_box ON map_features (layer, min_lat, max_lat);
