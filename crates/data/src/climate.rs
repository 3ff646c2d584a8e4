//! Climate normals (GeoRank / CHELSA CSVs). Owned by the weather work.
