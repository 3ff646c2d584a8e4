//! Storage for Tripwright: imported places, cached embeddings and saved plans.
//!
//! Everything above this crate talks to the backend-neutral [`Store`] trait, held as
//! `Arc<dyn Store>`, so the embedded SQLite file ([`SqliteStore`], the zero-config default) and
//! PostgreSQL (for several app replicas, later) are interchangeable. Each backend owns its
//! migrations; this crate's SQLite ones live in `crates/store/migrations/`.

mod bbox;
mod error;
mod sqlite;

use std::collections::{BTreeMap, HashMap};

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use tripwright_domain::{GeoPoint, Place, PlaceCategory, Plan};

pub use error::StoreError;
pub use sqlite::SqliteStore;

/// Result of a store call.
pub type Result<T, E = StoreError> = std::result::Result<T, E>;

/// One line of the plan history: what a list page shows without loading whole plans.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PlanSummary {
    /// Plan id (UUID).
    pub id: String,
    /// When the plan was made (the plan's `created_at`, normalised to UTC).
    pub created_at: DateTime<Utc>,
    /// Destination city name.
    pub destination: String,
    /// Destination country name.
    pub country: String,
    /// Requested trip length in days.
    pub days: u8,
}

/// The storage operations Tripwright needs, whatever the database behind them.
///
/// Implementations are cheap to share (`Arc<dyn Store>`) and safe to call from many tasks
/// at once. Every method is one round of work against the database: multi-row writes are a
/// single transaction, so a failure leaves nothing half-written.
#[async_trait]
pub trait Store: Send + Sync {
    /// Inserts `places`, replacing any stored place with the same id, in one transaction.
    ///
    /// `source` names what they were imported from (e.g. `Helsinki.osm.pbf`) and is recorded
    /// with each row. Returns how many places were written. A place with an out-of-range or
    /// non-finite position is refused ([`StoreError::Invalid`]) before anything is written.
    async fn upsert_places(&self, source: &str, places: &[Place]) -> Result<usize>;

    /// Number of stored places.
    async fn place_count(&self) -> Result<u64>;

    /// One place by id, `None` when unknown.
    async fn place(&self, id: &str) -> Result<Option<Place>>;

    /// The places with the given ids, in the order of `ids`; unknown ids are skipped and a
    /// repeated id is returned once.
    async fn places_by_ids(&self, ids: &[String]) -> Result<Vec<Place>>;

    /// Places within `radius_km` (great-circle) of `center`, nearest first (ties by id).
    ///
    /// An empty `categories` means every category. Fine near the poles and across the
    /// 180th meridian. A non-finite or negative radius, or an invalid centre, is
    /// [`StoreError::Invalid`].
    async fn places_near(
        &self,
        center: GeoPoint,
        radius_km: f64,
        categories: &[PlaceCategory],
    ) -> Result<Vec<Place>>;

    /// Number of stored places per category; categories without places are absent.
    async fn place_counts_by_category(&self) -> Result<BTreeMap<PlaceCategory, u64>>;

    /// Cached embeddings made by `model` for the places `ids`, keyed by place id, each with
    /// the hash of the text it was computed from. Ids without a cached vector are absent.
    ///
    /// The caller compares the hash with its current text's hash and recomputes on a
    /// mismatch, so a changed description never reuses a stale vector.
    async fn embeddings(
        &self,
        model: &str,
        ids: &[String],
    ) -> Result<HashMap<String, (u64, Vec<f32>)>>;

    /// Stores `(place id, text hash, vector)` items for `model` in one transaction,
    /// replacing earlier vectors of the same place and model. Vectors are kept bit-exact.
    ///
    /// The hash is the caller's; it must be stable across runs (a fixed algorithm, not
    /// `std`'s randomly seeded hasher) for the cache to hit after a restart.
    async fn save_embeddings(&self, model: &str, items: &[(String, u64, Vec<f32>)]) -> Result<()>;

    /// Saves `plan`, replacing a stored plan with the same id.
    ///
    /// Its `created_at` must be RFC 3339 ([`StoreError::Invalid`] otherwise), and the plan
    /// must survive a JSON round trip (no NaN or infinite numbers), so that whatever is
    /// saved can be read back.
    async fn save_plan(&self, plan: &Plan) -> Result<()>;

    /// One saved plan by id, `None` when unknown.
    async fn plan(&self, id: &str) -> Result<Option<Plan>>;

    /// Summaries of the `limit` newest saved plans, newest first.
    async fn list_plans(&self, limit: u32) -> Result<Vec<PlanSummary>>;

    /// Waits for queries in flight, then closes every connection, for a clean shutdown:
    /// afterwards the database holds everything committed (for SQLite, in the one file,
    /// without a WAL to replay). Later calls fail with [`StoreError::Query`].
    async fn close(&self) -> Result<()>;
}
