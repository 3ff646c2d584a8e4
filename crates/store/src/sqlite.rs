//! The SQLite backend: one file next to the user's data, nothing to install or run.
//!
//! The file is in WAL mode so that page loads (readers) never wait for a plan being saved or
//! an import in progress (the writer). SQLite admits one writer at a time anyway, so writes go
//! through a pool of exactly one connection: they queue fairly in the pool instead of racing
//! for the file lock, and a burst of saves never fails with "database is locked". Reads use a
//! separate small pool and run side by side.

use std::collections::{BTreeMap, HashMap};
use std::path::Path;
use std::time::Duration;

use async_trait::async_trait;
use chrono::{DateTime, SecondsFormat, Utc};
use sqlx::migrate::Migrator;
use sqlx::sqlite::{
    SqliteConnectOptions, SqliteJournalMode, SqlitePool, SqlitePoolOptions, SqliteSynchronous,
};
use sqlx::{QueryBuilder, Sqlite};
use tracing::instrument;
use tripwright_domain::{
    GeoPoint, ItemId, ListId, ListItem, OwnerId, Place, PlaceCategory, PlaceId, Plan, PlanId,
    TripList,
};

use crate::bbox::{BoundingBox, LonRange};
use crate::lists::{self, validate_owner};
use crate::{
    CacheStore, Entity, ItemPatch, ListStore, PlaceStore, PlanStore, PlanSummary, Result, Store,
    StoreError,
};

/// The SQL migrations, embedded at build time.
static MIGRATOR: Migrator = sqlx::migrate!("./migrations");

/// How long a connection waits for a lock held by another process (e.g. a CLI import beside
/// the server) before a query fails.
const BUSY_TIMEOUT: Duration = Duration::from_secs(5);

/// Read connections: enough for a few concurrent page loads and agents on a small machine.
const READERS: u32 = 4;

/// Most values bound in one `IN (…)` list: far below SQLite's limit of 32 766 variables,
/// and enough for a city's hotels in one query.
const IDS_PER_QUERY: usize = 500;

/// The columns a [`PlaceRow`] is read from.
const PLACE_COLUMNS: &str = "id, name, category, kind, lat, lon, opening_hours, tags";

/// Replaces a place by id (`ON CONFLICT … DO UPDATE` rather than `INSERT OR REPLACE`, which
/// PostgreSQL lacks).
const UPSERT_PLACE: &str = "\
    INSERT INTO places (id, name, category, kind, lat, lon, opening_hours, tags, source, imported_at) \
    VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?) \
    ON CONFLICT (id) DO UPDATE SET \
        name = excluded.name, category = excluded.category, kind = excluded.kind, \
        lat = excluded.lat, lon = excluded.lon, opening_hours = excluded.opening_hours, \
        tags = excluded.tags, source = excluded.source, imported_at = excluded.imported_at";

const UPSERT_EMBEDDING: &str = "\
    INSERT INTO place_embeddings (place_id, model, text_hash, vector) VALUES (?, ?, ?, ?) \
    ON CONFLICT (place_id, model) DO UPDATE SET \
        text_hash = excluded.text_hash, vector = excluded.vector";

const UPSERT_PLAN: &str = "\
    INSERT INTO plans (id, created_at, destination, country, days, body) \
    VALUES (?, ?, ?, ?, ?, ?) \
    ON CONFLICT (id) DO UPDATE SET \
        created_at = excluded.created_at, destination = excluded.destination, \
        country = excluded.country, days = excluded.days, body = excluded.body";

/// Saves a plan for an owner: a plan without owner is taken over, another owner's plan is
/// left alone (no row changes). The share token is never touched.
const UPSERT_OWNED_PLAN: &str = "\
    INSERT INTO plans (id, created_at, destination, country, days, body, owner) \
    VALUES (?, ?, ?, ?, ?, ?, ?) \
    ON CONFLICT (id) DO UPDATE SET \
        created_at = excluded.created_at, destination = excluded.destination, \
        country = excluded.country, days = excluded.days, body = excluded.body, \
        owner = excluded.owner \
    WHERE plans.owner IS NULL OR plans.owner = excluded.owner";

const UPSERT_CACHE: &str = "\
    INSERT INTO response_cache (namespace, key, value, stored_at) VALUES (?, ?, ?, ?) \
    ON CONFLICT (namespace, key) DO UPDATE SET \
        value = excluded.value, stored_at = excluded.stored_at";

/// The store in one SQLite file. Cloning is cheap and shares the connections.
#[derive(Debug, Clone)]
pub struct SqliteStore {
    /// Exactly one connection: every write goes through it, in turn.
    writer: SqlitePool,
    /// Concurrent readers, which WAL lets run beside the writer.
    readers: SqlitePool,
}

impl SqliteStore {
    /// Opens the store at `path`, creating the file and its folders when missing and
    /// bringing the schema up to date.
    ///
    /// Connections use WAL, `synchronous = NORMAL` (durable across application crashes; a
    /// power cut may lose the last commits but never corrupts), foreign keys and a 5 s busy
    /// timeout.
    #[instrument(level = "debug", skip_all, fields(path = %path.display()))]
    pub async fn open(path: &Path) -> Result<Self> {
        let open_error = |source: Box<dyn std::error::Error + Send + Sync>| StoreError::Open {
            path: path.to_owned(),
            source,
        };
        if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
            tokio::fs::create_dir_all(dir)
                .await
                .map_err(|e| open_error(e.into()))?;
        }
        // Open the file once ourselves: SQLite reports every failure here as "unable to
        // open database file", while the OS error says what is wrong (permission denied,
        // not a directory …).
        tokio::fs::OpenOptions::new()
            .read(true)
            .write(true)
            .create(true)
            .truncate(false)
            .open(path)
            .await
            .map_err(|e| open_error(e.into()))?;

        let options = SqliteConnectOptions::new()
            .filename(path)
            .create_if_missing(true)
            .journal_mode(SqliteJournalMode::Wal)
            .synchronous(SqliteSynchronous::Normal)
            .foreign_keys(true)
            .busy_timeout(BUSY_TIMEOUT);
        let writer = SqlitePoolOptions::new()
            .max_connections(1)
            .connect_with(options.clone())
            .await
            .map_err(|e| open_error(e.into()))?;
        MIGRATOR
            .run(&writer)
            .await
            .map_err(|source| StoreError::Migrate {
                path: path.to_owned(),
                source,
            })?;
        let readers = SqlitePoolOptions::new()
            .max_connections(READERS)
            .connect_with(options)
            .await
            .map_err(|e| open_error(e.into()))?;
        Ok(Self { writer, readers })
    }
}

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
fn select_places<'a>() -> QueryBuilder<'a, Sqlite> {
    QueryBuilder::new(format!("SELECT {PLACE_COLUMNS} FROM places WHERE "))
}

/// Appends ` IN (?, ?, …)` binding `values`, which must not be empty (`IN ()` is not SQL
/// everywhere).
fn push_in<'a>(query: &mut QueryBuilder<'a, Sqlite>, values: impl IntoIterator<Item = &'a str>) {
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

/// A plan checked for saving: its `created_at` as stored (fixed-width UTC text, which sorts
/// in time order) and its JSON body.
fn plan_columns(plan: &Plan) -> Result<(String, String)> {
    let body = serde_json::to_string(plan).map_err(|e| {
        StoreError::Invalid(format!("plan {} cannot be encoded as JSON: {e}", plan.id))
    })?;
    // serde_json writes NaN and infinities as `null`, which would then fail to load:
    // refuse such a plan now rather than store something unreadable.
    if let Err(e) = serde_json::from_str::<Plan>(&body) {
        return Err(StoreError::Invalid(format!(
            "plan {} would not read back (a NaN or infinite number?): {e}",
            plan.id
        )));
    }
    Ok((
        plan.created_at.to_rfc3339_opts(SecondsFormat::Micros, true),
        body,
    ))
}

/// A stored plan body as a [`Plan`].
fn decode_plan(id: &str, body: &str) -> Result<Plan> {
    serde_json::from_str(body)
        .map_err(|e| StoreError::Corrupt(format!("saved plan {id} is not a valid plan: {e}")))
}

/// `(id, created_at, destination, country, days)` rows as [`PlanSummary`]s.
fn summaries(rows: Vec<(String, String, String, String, i64)>) -> Result<Vec<PlanSummary>> {
    rows.into_iter()
        .map(|(id, created_at, destination, country, days)| {
            let created_at = DateTime::parse_from_rfc3339(&created_at)
                .map_err(|e| {
                    StoreError::Corrupt(format!(
                        "plan {id} has the creation time {created_at:?}: {e}"
                    ))
                })?
                .with_timezone(&Utc);
            let days = u8::try_from(days)
                .map_err(|_| StoreError::Corrupt(format!("plan {id} has {days} days")))?;
            Ok(PlanSummary {
                id: PlanId::from(id),
                created_at,
                destination,
                country,
                days,
            })
        })
        .collect()
}

/// Whether a cache entry stored at `stored_ms` is younger than `max_age_secs` at `now_ms`
/// (Unix milliseconds). An entry from the future (the clock was set back) counts as new.
fn is_fresh(stored_ms: i64, now_ms: i64, max_age_secs: u64) -> bool {
    let max_age_ms = max_age_secs.saturating_mul(1000);
    match u64::try_from(now_ms.saturating_sub(stored_ms)) {
        Ok(age_ms) => age_ms < max_age_ms,
        Err(_) => max_age_ms > 0,
    }
}

#[async_trait]
impl PlaceStore for SqliteStore {
    #[instrument(level = "debug", skip_all, fields(source, places = places.len()))]
    async fn upsert_places(&self, source: &str, places: &[Place]) -> Result<usize> {
        // Check everything first so that a bad place fails the call before any write.
        if let Some(p) = places.iter().find(|p| !p.point().is_valid()) {
            return Err(StoreError::Invalid(format!(
                "place {} has the invalid position ({}, {})",
                p.id, p.lat, p.lon
            )));
        }
        let imported_at = Utc::now().to_rfc3339_opts(SecondsFormat::Secs, true);
        let mut tx = self.writer.begin().await?;
        for p in places {
            let tags = serde_json::to_string(&p.tags).map_err(|e| {
                StoreError::Invalid(format!("the tags of place {} cannot be encoded: {e}", p.id))
            })?;
            sqlx::query(UPSERT_PLACE)
                .bind(p.id.as_str())
                .bind(&p.name)
                .bind(p.category.as_str())
                .bind(&p.kind)
                .bind(p.lat)
                .bind(p.lon)
                .bind(&p.opening_hours)
                .bind(tags)
                .bind(source)
                .bind(&imported_at)
                .execute(&mut *tx)
                .await?;
        }
        tx.commit().await?;
        Ok(places.len())
    }

    async fn place_count(&self) -> Result<u64> {
        let n: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM places")
            .fetch_one(&self.readers)
            .await?;
        count(n)
    }

    async fn place(&self, id: &PlaceId) -> Result<Option<Place>> {
        let mut query = select_places();
        query.push("id = ").push_bind(id.as_str());
        let row: Option<PlaceRow> = query.build_query_as().fetch_optional(&self.readers).await?;
        row.map(Place::try_from).transpose()
    }

    #[instrument(level = "debug", skip_all, fields(ids = ids.len()))]
    async fn places_by_ids(&self, ids: &[PlaceId]) -> Result<Vec<Place>> {
        let mut found = HashMap::with_capacity(ids.len());
        for chunk in ids.chunks(IDS_PER_QUERY) {
            let mut query = select_places();
            query.push("id");
            push_in(&mut query, chunk.iter().map(PlaceId::as_str));
            let rows: Vec<PlaceRow> = query.build_query_as().fetch_all(&self.readers).await?;
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
        let rows: Vec<PlaceRow> = query.build_query_as().fetch_all(&self.readers).await?;

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
                .fetch_all(&self.readers)
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
                query.build_query_as().fetch_all(&self.readers).await?;
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
        let mut tx = self.writer.begin().await?;
        for (id, hash, vector) in items {
            sqlx::query(UPSERT_EMBEDDING)
                .bind(id.as_str())
                .bind(model)
                .bind(hash_to_sql(*hash))
                .bind(encode_vector(vector))
                .execute(&mut *tx)
                .await?;
        }
        tx.commit().await?;
        Ok(())
    }
}

#[async_trait]
impl PlanStore for SqliteStore {
    #[instrument(level = "debug", skip_all, fields(id = %plan.id))]
    async fn save_plan(&self, plan: &Plan) -> Result<()> {
        let (created_at, body) = plan_columns(plan)?;
        sqlx::query(UPSERT_PLAN)
            .bind(plan.id.as_str())
            .bind(created_at)
            .bind(&plan.destination.name)
            .bind(&plan.destination.country)
            .bind(i64::from(plan.request.days))
            .bind(body)
            .execute(&self.writer)
            .await?;
        Ok(())
    }

    async fn plan(&self, id: &PlanId) -> Result<Option<Plan>> {
        let body: Option<String> = sqlx::query_scalar("SELECT body FROM plans WHERE id = ?")
            .bind(id.as_str())
            .fetch_optional(&self.readers)
            .await?;
        body.map(|body| decode_plan(id.as_str(), &body)).transpose()
    }

    async fn list_plans(&self, limit: u32) -> Result<Vec<PlanSummary>> {
        let rows = sqlx::query_as(
            "SELECT id, created_at, destination, country, days FROM plans \
             ORDER BY created_at DESC, id DESC LIMIT ?",
        )
        .bind(i64::from(limit))
        .fetch_all(&self.readers)
        .await?;
        summaries(rows)
    }

    #[instrument(level = "debug", skip_all, fields(id = %plan.id))]
    async fn save_owned_plan(&self, owner: &OwnerId, plan: &Plan) -> Result<()> {
        validate_owner(owner.as_str())?;
        let (created_at, body) = plan_columns(plan)?;
        let done = sqlx::query(UPSERT_OWNED_PLAN)
            .bind(plan.id.as_str())
            .bind(created_at)
            .bind(&plan.destination.name)
            .bind(&plan.destination.country)
            .bind(i64::from(plan.request.days))
            .bind(body)
            .bind(owner.as_str())
            .execute(&self.writer)
            .await?;
        if done.rows_affected() == 0 {
            return Err(StoreError::OwnedByAnother {
                entity: Entity::Plan,
                id: plan.id.to_string(),
            });
        }
        Ok(())
    }

    async fn plan_owner(&self, id: &PlanId) -> Result<Option<OwnerId>> {
        let owner: Option<Option<String>> =
            sqlx::query_scalar("SELECT owner FROM plans WHERE id = ?")
                .bind(id.as_str())
                .fetch_optional(&self.readers)
                .await?;
        Ok(owner.flatten().map(OwnerId::from))
    }

    async fn list_owned_plans(&self, owner: &OwnerId, limit: u32) -> Result<Vec<PlanSummary>> {
        let rows = sqlx::query_as(
            "SELECT id, created_at, destination, country, days FROM plans WHERE owner = ? \
             ORDER BY created_at DESC, id DESC LIMIT ?",
        )
        .bind(owner.as_str())
        .bind(i64::from(limit))
        .fetch_all(&self.readers)
        .await?;
        summaries(rows)
    }

    async fn share_token(&self, plan_id: &PlanId, new_token: &str) -> Result<String> {
        if new_token.trim().is_empty() {
            return Err(StoreError::Invalid("the new share token is empty".into()));
        }
        let mut tx = self.writer.begin().await?;
        let current: Option<Option<String>> =
            sqlx::query_scalar("SELECT share_token FROM plans WHERE id = ?")
                .bind(plan_id.as_str())
                .fetch_optional(&mut *tx)
                .await?;
        match current {
            None => Err(StoreError::NotFound {
                entity: Entity::Plan,
                id: plan_id.to_string(),
            }),
            Some(Some(token)) => Ok(token),
            Some(None) => {
                sqlx::query("UPDATE plans SET share_token = ? WHERE id = ?")
                    .bind(new_token)
                    .bind(plan_id.as_str())
                    .execute(&mut *tx)
                    .await
                    .map_err(|e| match &e {
                        sqlx::Error::Database(db) if db.is_unique_violation() => {
                            StoreError::Duplicate {
                                entity: Entity::ShareLink,
                                name: new_token.to_owned(),
                            }
                        }
                        _ => StoreError::Query(e),
                    })?;
                tx.commit().await?;
                Ok(new_token.to_owned())
            }
        }
    }

    async fn plan_by_share_token(&self, token: &str) -> Result<Option<Plan>> {
        let row: Option<(String, String)> =
            sqlx::query_as("SELECT id, body FROM plans WHERE share_token = ?")
                .bind(token)
                .fetch_optional(&self.readers)
                .await?;
        row.map(|(id, body)| decode_plan(&id, &body)).transpose()
    }
}

// The list queries take plain text ids (they bind them); the trait's typed ids stop at this
// boundary.
#[async_trait]
impl ListStore for SqliteStore {
    #[instrument(level = "debug", skip_all)]
    async fn create_list(
        &self,
        owner: &OwnerId,
        title: &str,
        plan_id: Option<&PlanId>,
    ) -> Result<TripList> {
        lists::create(
            &self.writer,
            owner.as_str(),
            title,
            plan_id.map(PlanId::as_str),
        )
        .await
    }

    async fn lists(&self, owner: &OwnerId) -> Result<Vec<TripList>> {
        lists::all(&self.readers, owner.as_str()).await
    }

    async fn list(&self, owner: &OwnerId, id: &ListId) -> Result<TripList> {
        lists::one(&self.readers, owner.as_str(), id.as_str()).await
    }

    async fn list_for_plan(&self, owner: &OwnerId, plan_id: &PlanId) -> Result<Option<TripList>> {
        lists::for_plan(&self.readers, owner.as_str(), plan_id.as_str()).await
    }

    #[instrument(level = "debug", skip_all, fields(id = %id))]
    async fn rename_list(
        &self,
        owner: &OwnerId,
        id: &ListId,
        title: &str,
        expected_version: Option<i64>,
    ) -> Result<TripList> {
        lists::rename(
            &self.writer,
            owner.as_str(),
            id.as_str(),
            title,
            expected_version,
        )
        .await
    }

    #[instrument(level = "debug", skip_all, fields(id = %id))]
    async fn delete_list(&self, owner: &OwnerId, id: &ListId) -> Result<()> {
        lists::delete(&self.writer, owner.as_str(), id.as_str()).await
    }

    #[instrument(level = "debug", skip_all, fields(id = %id))]
    async fn save_notes(
        &self,
        owner: &OwnerId,
        id: &ListId,
        notes: &str,
        expected_version: Option<i64>,
    ) -> Result<TripList> {
        lists::save_notes(
            &self.writer,
            owner.as_str(),
            id.as_str(),
            notes,
            expected_version,
        )
        .await
    }

    #[instrument(level = "debug", skip_all, fields(list_id = %list_id))]
    async fn add_item(
        &self,
        owner: &OwnerId,
        list_id: &ListId,
        name: &str,
        qty_home: i64,
        qty_take: i64,
    ) -> Result<ListItem> {
        lists::add_item(
            &self.writer,
            owner.as_str(),
            list_id.as_str(),
            name,
            qty_home,
            qty_take,
        )
        .await
    }

    #[instrument(level = "debug", skip_all, fields(list_id = %list_id, item_id = %item_id))]
    async fn update_item(
        &self,
        owner: &OwnerId,
        list_id: &ListId,
        item_id: &ItemId,
        patch: &ItemPatch,
        expected_version: Option<i64>,
    ) -> Result<ListItem> {
        lists::update_item(
            &self.writer,
            owner.as_str(),
            list_id.as_str(),
            item_id.as_str(),
            patch,
            expected_version,
        )
        .await
    }

    #[instrument(level = "debug", skip_all, fields(list_id = %list_id, item_id = %item_id))]
    async fn remove_item(&self, owner: &OwnerId, list_id: &ListId, item_id: &ItemId) -> Result<()> {
        lists::remove_item(
            &self.writer,
            owner.as_str(),
            list_id.as_str(),
            item_id.as_str(),
        )
        .await
    }

    #[instrument(level = "debug", skip_all, fields(list_id = %list_id, item_id = %item_id, to = to))]
    async fn move_item(
        &self,
        owner: &OwnerId,
        list_id: &ListId,
        item_id: &ItemId,
        to: usize,
    ) -> Result<TripList> {
        lists::move_item(
            &self.writer,
            owner.as_str(),
            list_id.as_str(),
            item_id.as_str(),
            to,
        )
        .await
    }
}

#[async_trait]
impl CacheStore for SqliteStore {
    async fn cache_get(
        &self,
        namespace: &str,
        key: &str,
        max_age_secs: u64,
    ) -> Result<Option<String>> {
        let row: Option<(String, i64)> = sqlx::query_as(
            "SELECT value, stored_at FROM response_cache WHERE namespace = ? AND key = ?",
        )
        .bind(namespace)
        .bind(key)
        .fetch_optional(&self.readers)
        .await?;
        let now_ms = Utc::now().timestamp_millis();
        Ok(row
            .filter(|(_, stored_ms)| is_fresh(*stored_ms, now_ms, max_age_secs))
            .map(|(value, _)| value))
    }

    async fn cache_put(&self, namespace: &str, key: &str, value: &str) -> Result<()> {
        sqlx::query(UPSERT_CACHE)
            .bind(namespace)
            .bind(key)
            .bind(value)
            .bind(Utc::now().timestamp_millis())
            .execute(&self.writer)
            .await?;
        Ok(())
    }
}

#[async_trait]
impl Store for SqliteStore {
    async fn close(&self) -> Result<()> {
        self.readers.close().await;
        // Fold the WAL into the main file so that the file alone is complete (a copy of it
        // is a full backup). Closing the last connection would do this too, but sqlx may
        // still be returning a connection when `close` resolves, so do not rely on it.
        let checkpoint = sqlx::query("PRAGMA wal_checkpoint(TRUNCATE)")
            .execute(&self.writer)
            .await;
        self.writer.close().await;
        checkpoint.map(|_| ()).map_err(StoreError::from)
    }
}
