//! Imported places and their cached embeddings in SQLite.

use std::collections::{BTreeMap, HashMap};

use async_trait::async_trait;
use chrono::Utc;
use sqlx::{Postgres, QueryBuilder};
use tracing::instrument;
use tripwright_domain::{GeoPoint, Place, PlaceCategory, PlaceId};

use super::{PgStore, stored_time, time_text};
use crate::bbox::{BoundingBox, LonRange};
use crate::{Entity, PlaceSource, PlaceStore, Result, StoreError};

/// Most values bound in one `IN (…)` list: far below SQLite's limit of 32 766 variables,
/// and enough for a city's hotels in one query.
const IDS_PER_QUERY: usize = 500;

/// The columns a [`PlaceRow`] is read from.
const PLACE_COLUMNS: &str = "id, name, category, kind, lat, lon, opening_hours, tags";

/// Replaces a place by id (`ON CONFLICT … DO UPDATE` rather than `INSERT OR REPLACE`, which
/// PostgreSQL lacks).
/// Rows written by one multi-row `INSERT` (10 values each: well under PostgreSQL's 65,535
/// parameters a statement).
pub(super) const ROWS_PER_INSERT: usize = 1000;

const UPSERT_PLACE_CONFLICT: &str = " \
    ON CONFLICT (id) DO UPDATE SET \
        name = excluded.name, category = excluded.category, kind = excluded.kind, \
        lat = excluded.lat, lon = excluded.lon, opening_hours = excluded.opening_hours, \
        tags = excluded.tags, source = excluded.source, imported_at = excluded.imported_at";

const UPSERT_EMBEDDING_CONFLICT: &str = " \
    ON CONFLICT (place_id, model) DO UPDATE SET \
        text_hash = excluded.text_hash, vector = excluded.vector";

/// A `places` row as stored, before its JSON and category are checked.
#[derive(sqlx::FromRow)]
struct PlaceRow {
    id: String,
    name: String,
    category: String,
    kind: String,
    lat: f64,
    lon: f64,
    opening_hours: Option<String>,
    tags: String,
}

impl TryFrom<PlaceRow> for Place {
    type Error = StoreError;

    fn try_from(row: PlaceRow) -> Result<Self> {
        let category = PlaceCategory::parse(&row.category).ok_or_else(|| {
            StoreError::Corrupt(format!(
                "place {} has the unknown category {:?}",
                row.id, row.category
            ))
        })?;
        let tags = serde_json::from_str(&row.tags).map_err(|e| {
            StoreError::Corrupt(format!(
                "the tags of place {} are not a JSON object of strings: {e}",
                row.id
            ))
        })?;
        Ok(Place {
            id: PlaceId::from(row.id),
            name: row.name,
            category,
            kind: row.kind,
            lat: row.lat,
            lon: row.lon,
            opening_hours: row.opening_hours,
            tags,
        })
    }
}

/// `SELECT <place columns> FROM places WHERE `, for the caller to finish.
/// Each item of `items` whose key no later item repeats, in order: one multi-row upsert may
/// not touch a row twice, and the last one wins, as it does for SQLite's one-by-one writes.
pub(super) fn last_of_each<T>(items: &[T], key: impl Fn(&T) -> &str) -> Vec<&T> {
    let mut last = HashMap::with_capacity(items.len());
    for (i, item) in items.iter().enumerate() {
        last.insert(key(item), i);
    }
    items
        .iter()
        .enumerate()
        .filter(|(i, item)| last.get(key(item)) == Some(i))
        .map(|(_, item)| item)
        .collect()
}

fn select_places<'a>() -> QueryBuilder<'a, Postgres> {
    QueryBuilder::new(format!("SELECT {PLACE_COLUMNS} FROM places WHERE "))
}

/// Appends ` IN (?, ?, …)` binding `values`, which must not be empty (`IN ()` is not SQL
/// everywhere).
fn push_in<'a>(query: &mut QueryBuilder<'a, Postgres>, values: impl IntoIterator<Item = &'a str>) {
    query.push(" IN (");
    let mut list = query.separated(", ");
    for value in values {
        list.push_bind(value);
    }
    list.push_unseparated(")");
}

/// Little-endian f32 bytes: the same on every machine, and exactly the bits given.
fn encode_vector(vector: &[f32]) -> Vec<u8> {
    vector.iter().flat_map(|x| x.to_le_bytes()).collect()
}

/// The inverse of [`encode_vector`]; `None` when the length is not a multiple of 4.
fn decode_vector(bytes: &[u8]) -> Option<Vec<f32>> {
    let chunks = bytes.chunks_exact(4);
    chunks.remainder().is_empty().then(|| {
        chunks
            .map(|c| f32::from_le_bytes([c[0], c[1], c[2], c[3]]))
            .collect()
    })
}

/// SQLite integers are signed 64-bit: a `u64` hash is stored as the `i64` with the same bits.
fn hash_to_sql(hash: u64) -> i64 {
    i64::from_ne_bytes(hash.to_ne_bytes())
}

/// The inverse of [`hash_to_sql`].
fn hash_from_sql(stored: i64) -> u64 {
    u64::from_ne_bytes(stored.to_ne_bytes())
}

/// Non-negative SQL counts as `u64`.
fn count(n: i64) -> Result<u64> {
    u64::try_from(n).map_err(|_| StoreError::Corrupt(format!("negative count {n}")))
}

#[async_trait]
impl PlaceStore for PgStore {
    #[instrument(level = "debug", skip_all, fields(source, places = places.len()))]
    async fn upsert_places(&self, source: &str, places: &[Place]) -> Result<usize> {
        // Check everything first so that a bad place fails the call before any write.
        if let Some(p) = places.iter().find(|p| !p.point().is_valid()) {
            return Err(StoreError::Invalid(format!(
                "place {} has the invalid position ({}, {})",
                p.id, p.lat, p.lon
            )));
        }
        let imported_at = time_text(Utc::now());
        let mut rows = Vec::with_capacity(places.len());
        for p in last_of_each(places, |p| p.id.as_str()) {
            let tags = serde_json::to_string(&p.tags).map_err(|e| {
                StoreError::Invalid(format!("the tags of place {} cannot be encoded: {e}", p.id))
            })?;
            rows.push((p, tags));
        }
        let mut tx = self.write().await?;
        // Many rows a statement: one round trip per thousand places, not per place.
        for chunk in rows.chunks(ROWS_PER_INSERT) {
            let mut query = QueryBuilder::<Postgres>::new(
                "INSERT INTO places (id, name, category, kind, lat, lon, opening_hours, tags, \
                 source, imported_at) ",
            );
            query.push_values(chunk, |mut row, (p, tags)| {
                row.push_bind(p.id.as_str())
                    .push_bind(&p.name)
                    .push_bind(p.category.as_str())
                    .push_bind(&p.kind)
                    .push_bind(p.lat)
                    .push_bind(p.lon)
                    .push_bind(&p.opening_hours)
                    .push_bind(tags)
                    .push_bind(source)
                    .push_bind(&imported_at);
            });
            query.push(UPSERT_PLACE_CONFLICT);
            query.build().execute(&mut *tx).await?;
        }
        tx.commit().await?;
        Ok(places.len())
    }

    async fn place_count(&self) -> Result<u64> {
        let n: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM places")
            .fetch_one(&self.pool)
            .await?;
        count(n)
    }

    async fn place(&self, id: &PlaceId) -> Result<Option<Place>> {
        let mut query = select_places();
        query.push("id = ").push_bind(id.as_str());
        let row: Option<PlaceRow> = query.build_query_as().fetch_optional(&self.pool).await?;
        row.map(Place::try_from).transpose()
    }

    #[instrument(level = "debug", skip_all, fields(ids = ids.len()))]
    async fn places_by_ids(&self, ids: &[PlaceId]) -> Result<Vec<Place>> {
        let mut found = HashMap::with_capacity(ids.len());
        for chunk in ids.chunks(IDS_PER_QUERY) {
            let mut query = select_places();
            query.push("id");
            push_in(&mut query, chunk.iter().map(PlaceId::as_str));
            let rows: Vec<PlaceRow> = query.build_query_as().fetch_all(&self.pool).await?;
            for row in rows {
                found.insert(row.id.clone(), row);
            }
        }
        // `remove` hands each row out once, so a repeated id does not repeat the place.
        ids.iter()
            .filter_map(|id| found.remove(id.as_str()))
            .map(Place::try_from)
            .collect()
    }

    #[instrument(level = "debug", skip_all, fields(lat = center.lat, lon = center.lon, radius_km))]
    async fn places_near(
        &self,
        center: GeoPoint,
        radius_km: f64,
        categories: &[PlaceCategory],
    ) -> Result<Vec<Place>> {
        if !center.is_valid() {
            return Err(StoreError::Invalid(format!(
                "the search centre ({}, {}) is not a valid position",
                center.lat, center.lon
            )));
        }
        if !(radius_km.is_finite() && radius_km >= 0.0) {
            return Err(StoreError::Invalid(format!(
                "the search radius must be a non-negative number of km, got {radius_km}"
            )));
        }
        let bbox = BoundingBox::around(center, radius_km);
        let mut query = select_places();
        query
            .push("lat BETWEEN ")
            .push_bind(bbox.min_lat)
            .push(" AND ")
            .push_bind(bbox.max_lat);
        match bbox.lon {
            LonRange::All => {}
            LonRange::Within { west, east } => {
                query
                    .push(" AND lon BETWEEN ")
                    .push_bind(west)
                    .push(" AND ")
                    .push_bind(east);
            }
            LonRange::Wrapping { west, east } => {
                query
                    .push(" AND (lon >= ")
                    .push_bind(west)
                    .push(" OR lon <= ")
                    .push_bind(east)
                    .push(")");
            }
        }
        if !categories.is_empty() {
            query.push(" AND category");
            push_in(&mut query, categories.iter().map(|c| c.as_str()));
        }
        let rows: Vec<PlaceRow> = query.build_query_as().fetch_all(&self.pool).await?;

        // The box holds the circle's corners too: keep what is truly within the radius,
        // measuring before decoding so that the corners' tags are never parsed.
        let mut near = Vec::new();
        for row in rows {
            let d = center.distance_km(&GeoPoint::new(row.lat, row.lon));
            if d <= radius_km {
                near.push((d, Place::try_from(row)?));
            }
        }
        near.sort_by(|(da, a), (db, b)| da.total_cmp(db).then_with(|| a.id.cmp(&b.id)));
        Ok(near.into_iter().map(|(_, p)| p).collect())
    }

    async fn place_counts_by_category(&self) -> Result<BTreeMap<PlaceCategory, u64>> {
        let rows: Vec<(String, i64)> =
            sqlx::query_as("SELECT category, COUNT(*) FROM places GROUP BY category")
                .fetch_all(&self.pool)
                .await?;
        rows.into_iter()
            .map(|(name, n)| {
                let category = PlaceCategory::parse(&name).ok_or_else(|| {
                    StoreError::Corrupt(format!("{n} places have the unknown category {name:?}"))
                })?;
                Ok((category, count(n)?))
            })
            .collect()
    }

    async fn place_sources(&self) -> Result<Vec<PlaceSource>> {
        let rows: Vec<(String, i64, String)> = sqlx::query_as(
            "SELECT source, COUNT(*), MAX(imported_at) FROM places GROUP BY source \
             ORDER BY MAX(imported_at) DESC, source",
        )
        .fetch_all(&self.pool)
        .await?;
        rows.into_iter()
            .map(|(source, n, at)| {
                Ok(PlaceSource {
                    imported_at: stored_time(Entity::Place, &source, "import time", &at)?,
                    places: count(n)?,
                    source,
                })
            })
            .collect()
    }

    #[instrument(level = "debug", skip_all, fields(ids = ids.len()))]
    async fn sources_of(&self, ids: &[PlaceId]) -> Result<Vec<PlaceSource>> {
        let mut ids: Vec<&str> = ids.iter().map(PlaceId::as_str).collect();
        ids.sort_unstable();
        ids.dedup();
        let mut found: HashMap<String, (u64, String)> = HashMap::new();
        for chunk in ids.chunks(IDS_PER_QUERY) {
            let mut query =
                QueryBuilder::new("SELECT source, COUNT(*), MAX(imported_at) FROM places WHERE id");
            push_in(&mut query, chunk.iter().copied());
            query.push(" GROUP BY source");
            let rows: Vec<(String, i64, String)> =
                query.build_query_as().fetch_all(&self.pool).await?;
            for (source, n, at) in rows {
                let entry = found.entry(source).or_insert((0, String::new()));
                entry.0 += count(n)?;
                if at > entry.1 {
                    entry.1 = at;
                }
            }
        }
        let mut sources = found
            .into_iter()
            .map(|(source, (places, at))| {
                Ok(PlaceSource {
                    imported_at: stored_time(Entity::Place, &source, "import time", &at)?,
                    places,
                    source,
                })
            })
            .collect::<Result<Vec<_>>>()?;
        sources.sort_by(|a, b| {
            b.imported_at
                .cmp(&a.imported_at)
                .then_with(|| a.source.cmp(&b.source))
        });
        Ok(sources)
    }

    #[instrument(level = "debug", skip(self))]
    async fn delete_places_from(&self, source: &str) -> Result<u64> {
        let done = sqlx::query("DELETE FROM places WHERE source = $1")
            .bind(source)
            .execute(&self.pool)
            .await?;
        Ok(done.rows_affected())
    }

    #[instrument(level = "debug", skip_all, fields(model, ids = ids.len()))]
    async fn embeddings(
        &self,
        model: &str,
        ids: &[PlaceId],
    ) -> Result<HashMap<PlaceId, (u64, Vec<f32>)>> {
        let mut cached = HashMap::with_capacity(ids.len());
        for chunk in ids.chunks(IDS_PER_QUERY) {
            let mut query = QueryBuilder::new(
                "SELECT place_id, text_hash, vector FROM place_embeddings WHERE model = ",
            );
            query.push_bind(model).push(" AND place_id");
            push_in(&mut query, chunk.iter().map(PlaceId::as_str));
            let rows: Vec<(String, i64, Vec<u8>)> =
                query.build_query_as().fetch_all(&self.pool).await?;
            for (id, hash, blob) in rows {
                let vector = decode_vector(&blob).ok_or_else(|| {
                    StoreError::Corrupt(format!(
                        "the {model} embedding of place {id} is {} bytes, not a whole number \
                         of f32 values",
                        blob.len()
                    ))
                })?;
                cached.insert(PlaceId::from(id), (hash_from_sql(hash), vector));
            }
        }
        Ok(cached)
    }

    #[instrument(level = "debug", skip_all, fields(model, items = items.len()))]
    async fn save_embeddings(&self, model: &str, items: &[(PlaceId, u64, Vec<f32>)]) -> Result<()> {
        let items = last_of_each(items, |(id, _, _)| id.as_str());
        let mut tx = self.write().await?;
        for chunk in items.chunks(ROWS_PER_INSERT) {
            let mut query = QueryBuilder::<Postgres>::new(
                "INSERT INTO place_embeddings (place_id, model, text_hash, vector) ",
            );
            query.push_values(chunk, |mut row, (id, hash, vector)| {
                row.push_bind(id.as_str())
                    .push_bind(model)
                    .push_bind(hash_to_sql(*hash))
                    .push_bind(encode_vector(vector));
            });
            query.push(UPSERT_EMBEDDING_CONFLICT);
            query.build().execute(&mut *tx).await?;
        }
        tx.commit().await?;
        Ok(())
    }
}
