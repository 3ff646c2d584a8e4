//! Storage for Tripwright: imported places, cached embeddings, saved plans (with their owners
//! and share links), trip lists, and a cache of online services' responses.
//!
//! Everything above this crate talks to backend-neutral traits, one per concern
//! ([`PlaceStore`], [`PlanStore`], [`ListStore`], [`CacheStore`], [`MapStore`]; [`Store`] is
//! all of them), held as `Arc<dyn …>`, so the embedded SQLite file ([`SqliteStore`], the
//! zero-config default) and PostgreSQL ([`PgStore`], for several app replicas sharing one
//! database) are interchangeable. Each backend owns its migrations: SQLite's in
//! `crates/store/migrations/`, PostgreSQL's copies in `crates/store/migrations_pg/`, numbered
//! alike. Errors are typed ([`StoreError`], [`Entity`]): callers never read message text to
//! tell them apart.

mod bbox;
mod error;
mod geometry;
mod jobs_sql;
mod patient;
mod postgres;
mod shared;
mod sqlite;

use std::collections::{BTreeMap, HashMap};
use std::path::Path;
use std::sync::Arc;

use async_trait::async_trait;
use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Serialize};
use tripwright_domain::{
    Destination, GeoPoint, ItemId, ListId, ListItem, OwnerId, Place, PlaceCategory, PlaceId, Plan,
    PlanId, TripList, TripRequest,
};

pub use error::{Entity, StoreError};
pub use patient::Patient;
pub use postgres::PgStore;
pub use sqlite::SqliteStore;
/// One source of stored places ([`PlaceStore::place_sources`]).
pub use tripwright_domain::PlaceSource;

/// Opens the SQLite store at `path`, creating it when missing ([`PgStore::connect`] opens the
/// PostgreSQL one; the app's `open_store` chooses between them from the configuration).
pub async fn open(path: &Path) -> Result<Arc<dyn Store>> {
    Ok(Arc::new(SqliteStore::open(path).await?))
}

/// Result of a store call.
pub type Result<T, E = StoreError> = std::result::Result<T, E>;

/// One line of the plan history: what a list page shows without loading whole plans.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PlanSummary {
    /// Plan id (UUID).
    pub id: PlanId,
    /// When the plan was made (the plan's `created_at`, normalised to UTC).
    pub created_at: DateTime<Utc>,
    /// Destination city name.
    pub destination: String,
    /// Destination country name.
    pub country: String,
    /// Requested trip length in days.
    pub days: u8,
    /// The first day of the trip (`None` for a plan saved before dates were kept readable).
    #[serde(default)]
    pub start_date: Option<NaiveDate>,
    /// The traveller's wishes, as typed.
    #[serde(default)]
    pub prefs: String,
    /// The budget for the whole party, in `currency`.
    #[serde(default)]
    pub budget: Option<f64>,
    /// The plan's currency (ISO 4217).
    #[serde(default)]
    pub currency: String,
    /// The name its owner gave it, if any.
    #[serde(default)]
    pub title: Option<String>,
}

/// A plan that stopped before it was made (it failed, the server was restarted, its owner
/// cancelled it): kept a while so that its address still says what happened.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct StoppedPlan {
    /// The id the plan would have had.
    pub id: PlanId,
    /// Who asked for it.
    pub owner: OwnerId,
    /// When it stopped.
    pub stopped_at: DateTime<Utc>,
    /// What was asked.
    pub request: TripRequest,
    /// Where, as geocoded.
    pub destination: Destination,
    /// Why, in words for the user; `None` when the owner cancelled it.
    pub message: Option<String>,
}

/// A partial update of one list item: `None` leaves a field as it is.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct ItemPatch {
    /// New name (same rules as a new item's name).
    pub name: Option<String>,
    /// New "at home" quantity, 0..=12.
    pub qty_home: Option<i64>,
    /// New "to take" quantity, 0..=12.
    pub qty_take: Option<i64>,
    /// New "taken" tick.
    pub taken: Option<bool>,
}

impl ItemPatch {
    /// Whether the patch changes nothing.
    pub fn is_empty(&self) -> bool {
        self.name.is_none()
            && self.qty_home.is_none()
            && self.qty_take.is_none()
            && self.taken.is_none()
    }
}

/// Imported places and the embeddings cached for them.
///
/// Implementations are cheap to share and safe to call from many tasks at once. Every method
/// is one round of work against the database: multi-row writes are a single transaction, so a
/// failure leaves nothing half-written (this holds for every trait of the store).
#[async_trait]
pub trait PlaceStore: Send + Sync {
    /// Inserts `places`, replacing any stored place with the same id, in one transaction.
    ///
    /// `source` names what they were imported from (e.g. `Helsinki.osm.pbf`) and is recorded
    /// with each row. Returns how many places were written. A place with an out-of-range or
    /// non-finite position is refused ([`StoreError::Invalid`]) before anything is written.
    async fn upsert_places(&self, source: &str, places: &[Place]) -> Result<usize>;

    /// Number of stored places.
    async fn place_count(&self) -> Result<u64>;

    /// One place by id, `None` when unknown.
    async fn place(&self, id: &PlaceId) -> Result<Option<Place>>;

    /// The places with the given ids, in the order of `ids`; unknown ids are skipped and a
    /// repeated id is returned once.
    async fn places_by_ids(&self, ids: &[PlaceId]) -> Result<Vec<Place>>;

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

    /// Where the stored places came from: one line per source (an extract's file name, a
    /// fetched region), with its places and its latest import time, newest first.
    async fn place_sources(&self) -> Result<Vec<PlaceSource>>;

    /// The sources of the places `ids` (unknown ids are skipped), each with how many of them
    /// it gave and its latest import time, newest first.
    async fn sources_of(&self, ids: &[PlaceId]) -> Result<Vec<PlaceSource>>;

    /// Deletes the places whose latest import was from `source`; returns how many.
    async fn delete_places_from(&self, source: &str) -> Result<u64>;

    /// Cached embeddings made by `model` for the places `ids`, keyed by place id, each with
    /// the hash of the text it was computed from. Ids without a cached vector are absent.
    ///
    /// The caller compares the hash with its current text's hash and recomputes on a
    /// mismatch, so a changed description never reuses a stale vector.
    async fn embeddings(
        &self,
        model: &str,
        ids: &[PlaceId],
    ) -> Result<HashMap<PlaceId, (u64, Vec<f32>)>>;

    /// Stores `(place id, text hash, vector)` items for `model` in one transaction,
    /// replacing earlier vectors of the same place and model. Vectors are kept bit-exact.
    ///
    /// The hash is the caller's; it must be stable across runs (a fixed algorithm, not
    /// `std`'s randomly seeded hasher) for the cache to hit after a restart.
    async fn save_embeddings(&self, model: &str, items: &[(PlaceId, u64, Vec<f32>)]) -> Result<()>;
}

/// Saved plans, their owners and share links.
#[async_trait]
pub trait PlanStore: Send + Sync {
    /// Saves `plan`, replacing a stored plan with the same id.
    ///
    /// The plan must survive a JSON round trip (no NaN or infinite numbers,
    /// [`StoreError::Invalid`] otherwise), so that whatever is saved can be read back.
    async fn save_plan(&self, plan: &Plan) -> Result<()>;

    /// One saved plan by id, `None` when unknown.
    async fn plan(&self, id: &PlanId) -> Result<Option<Plan>>;

    /// Summaries of the `limit` newest saved plans, newest first.
    async fn list_plans(&self, limit: u32) -> Result<Vec<PlanSummary>>;

    /// Saves `plan` as owned by `owner` (an opaque browser id), replacing a plan with the
    /// same id.
    ///
    /// Same validation as [`PlanStore::save_plan`]; an empty owner is [`StoreError::Invalid`].
    /// A plan without owner (saved by the CLI) is taken over by `owner`; a plan of another
    /// owner is not replaced ([`StoreError::OwnedByAnother`]). The share token, if any, is kept.
    async fn save_owned_plan(&self, owner: &OwnerId, plan: &Plan) -> Result<()>;

    /// The owner of a saved plan (`None` for unknown plans or plans saved without owner,
    /// e.g. by the CLI).
    async fn plan_owner(&self, id: &PlanId) -> Result<Option<OwnerId>>;

    /// Summaries of `owner`'s `limit` newest plans, newest first.
    async fn list_owned_plans(&self, owner: &OwnerId, limit: u32) -> Result<Vec<PlanSummary>>;

    /// Returns the plan's share token, creating one (the given `new_token`) if it has none
    /// yet; a second call returns the first token.
    ///
    /// [`StoreError::NotFound`] if the plan does not exist; an empty `new_token` is
    /// [`StoreError::Invalid`], one that another plan already has [`StoreError::Duplicate`].
    async fn share_token(&self, plan_id: &PlanId, new_token: &str) -> Result<String>;

    /// The plan whose share token is `token`, `None` when no plan has it.
    async fn plan_by_share_token(&self, token: &str) -> Result<Option<Plan>>;

    /// Ends the plan's share link: its token opens nothing any more, and the next
    /// [`PlanStore::share_token`] makes a new one. `false` when it had none;
    /// [`StoreError::NotFound`] for an unknown plan.
    async fn revoke_share(&self, plan_id: &PlanId) -> Result<bool>;

    /// How many plans `owner` saved since `since`.
    async fn owned_plans_since(&self, owner: &OwnerId, since: DateTime<Utc>) -> Result<u64>;

    /// Marks a saved plan to be deleted at `at` by [`PlanStore::delete_expired_plans`].
    /// [`StoreError::NotFound`] for an unknown plan.
    async fn expire_plan(&self, plan_id: &PlanId, at: DateTime<Utc>) -> Result<()>;

    /// Deletes the plans whose time ran out by `now` (their lists stay, without a plan), and
    /// the stopped plans kept until `now`. Returns how many.
    async fn delete_expired_plans(&self, now: DateTime<Utc>) -> Result<u64>;

    /// Records a plan that stopped before it was made, replacing a record with the same id,
    /// to be deleted at `expires`. An empty owner is [`StoreError::Invalid`].
    async fn save_stopped_plan(&self, stopped: &StoppedPlan, expires: DateTime<Utc>) -> Result<()>;

    /// The record of stopped plan `id`, `None` when there is none (or it expired and was
    /// deleted).
    async fn stopped_plan(&self, id: &PlanId) -> Result<Option<StoppedPlan>>;

    /// Deletes `owner`'s plan `id`: at once it is no longer listed, opened, shared or given
    /// a list, and it is removed for good at `purge_at` unless [`PlanStore::restore_owned_plan`]
    /// brings it back first. A stopped plan's record is removed at once. `false` when `owner`
    /// has no such plan (or it is deleted already).
    async fn delete_owned_plan(
        &self,
        owner: &OwnerId,
        id: &PlanId,
        purge_at: DateTime<Utc>,
    ) -> Result<bool>;

    /// Brings back `owner`'s deleted plan `id` before its purge. `false` when there is none.
    async fn restore_owned_plan(&self, owner: &OwnerId, id: &PlanId) -> Result<bool>;

    /// Saves `owner`'s edited plan, keeping `previous` (the plan before the edit) to undo it,
    /// in one transaction; the newest [`PLAN_VERSIONS_KEPT`] versions of a plan are kept.
    /// [`StoreError::NotFound`] when it is not `owner`'s plan.
    async fn save_edited_plan(&self, owner: &OwnerId, previous: &Plan, edited: &Plan)
    -> Result<()>;

    /// Undoes the newest edit of `owner`'s plan `id`: the plan as it was is saved back and
    /// returned, and that version is dropped; `None` when there is nothing to undo (or it is
    /// not `owner`'s plan).
    async fn undo_plan_edit(&self, owner: &OwnerId, id: &PlanId) -> Result<Option<Plan>>;

    /// How many edits of plan `id` can be undone.
    async fn plan_edits(&self, id: &PlanId) -> Result<u32>;

    /// `owner`'s `limit` latest stopped plans still kept (until
    /// [`PlanStore::delete_expired_plans`] removes them), the latest first.
    async fn list_owned_stopped_plans(
        &self,
        owner: &OwnerId,
        limit: u32,
    ) -> Result<Vec<StoppedPlan>>;
}

/// Trip lists and their items. Every method takes the caller's `owner` and treats someone
/// else's list exactly like a missing one.
#[async_trait]
pub trait ListStore: Send + Sync {
    /// Creates an empty list owned by `owner`, optionally attached to a saved plan.
    ///
    /// The title is checked by [`validate_list_title`] and the owner must not be empty
    /// ([`StoreError::Invalid`] otherwise); an unknown `plan_id` is [`StoreError::NotFound`].
    ///
    /// [`validate_list_title`]: tripwright_domain::validate_list_title
    async fn create_list(
        &self,
        owner: &OwnerId,
        title: &str,
        plan_id: Option<&PlanId>,
    ) -> Result<TripList>;

    /// The owner's lists, newest first, each with its items in display order.
    async fn lists(&self, owner: &OwnerId) -> Result<Vec<TripList>>;

    /// One list with its items ordered by position; [`StoreError::NotFound`] when missing or
    /// not the owner's.
    async fn list(&self, owner: &OwnerId, id: &ListId) -> Result<TripList>;

    /// The owner's list attached to the plan `plan_id` (the newest, should there be several),
    /// `None` when there is none.
    async fn list_for_plan(&self, owner: &OwnerId, plan_id: &PlanId) -> Result<Option<TripList>>;

    /// Renames a list (title rules as for [`ListStore::create_list`]) and bumps its version.
    ///
    /// `expected_version` is the list version the client saw: [`StoreError::VersionConflict`] if
    /// the list changed since (`None` skips the check).
    async fn rename_list(
        &self,
        owner: &OwnerId,
        id: &ListId,
        title: &str,
        expected_version: Option<i64>,
    ) -> Result<TripList>;

    /// Deletes a list and its items; [`StoreError::NotFound`] when missing or not the owner's.
    async fn delete_list(&self, owner: &OwnerId, id: &ListId) -> Result<()>;

    /// Saves the list's notes (checked by [`validate_notes`], [`StoreError::Invalid`]
    /// otherwise), sets `notes_saved_at` to now and bumps the version; `expected_version` as
    /// for [`ListStore::rename_list`]. Returns the list.
    ///
    /// [`validate_notes`]: tripwright_domain::validate_notes
    async fn save_notes(
        &self,
        owner: &OwnerId,
        id: &ListId,
        notes: &str,
        expected_version: Option<i64>,
    ) -> Result<TripList>;

    /// Appends an item at the end of a list.
    ///
    /// The name is checked by [`validate_item_name`] and the quantities by
    /// [`validate_quantity`] ([`StoreError::Invalid`]); a name equal, case-insensitively and
    /// after trimming, to another item's in the same list is [`StoreError::Duplicate`].
    ///
    /// [`validate_item_name`]: tripwright_domain::validate_item_name
    /// [`validate_quantity`]: tripwright_domain::validate_quantity
    async fn add_item(
        &self,
        owner: &OwnerId,
        list_id: &ListId,
        name: &str,
        qty_home: i64,
        qty_take: i64,
    ) -> Result<ListItem>;

    /// Changes only the fields of one item that `patch` sets, so that two tabs editing
    /// different fields or items never overwrite each other, and bumps the item's version.
    ///
    /// `expected_version` is the item version the client saw: [`StoreError::VersionConflict`] if
    /// the item changed since. A new name obeys the rules of [`ListStore::add_item`]. An empty
    /// patch changes nothing and returns the item as it is.
    async fn update_item(
        &self,
        owner: &OwnerId,
        list_id: &ListId,
        item_id: &ItemId,
        patch: &ItemPatch,
        expected_version: Option<i64>,
    ) -> Result<ListItem>;

    /// Removes one item; [`StoreError::NotFound`] when the list or item is missing.
    async fn remove_item(&self, owner: &OwnerId, list_id: &ListId, item_id: &ItemId) -> Result<()>;

    /// Moves an item to index `to` (0-based, clamped to the last index) in display order and
    /// renumbers the positions `0, 1, …` in one transaction; each item whose position changed
    /// has its version bumped. Returns the list.
    async fn move_item(
        &self,
        owner: &OwnerId,
        list_id: &ListId,
        item_id: &ItemId,
        to: usize,
    ) -> Result<TripList>;
}

/// A cache of online services' answers.
#[async_trait]
pub trait CacheStore: Send + Sync {
    /// The cached value for `(namespace, key)` if it is younger than `max_age_secs`.
    async fn cache_get(
        &self,
        namespace: &str,
        key: &str,
        max_age_secs: u64,
    ) -> Result<Option<String>>;

    /// Stores (or replaces) the cached value for `(namespace, key)`, stamped with the
    /// current time.
    async fn cache_put(&self, namespace: &str, key: &str, value: &str) -> Result<()>;

    /// Counts one request of `key` in the fixed window starting at `window_start` (Unix
    /// seconds) and returns the window's count so far, this request included: the rate limits
    /// that replicas sharing a database share. The first request of a window deletes the
    /// windows that began more than [`RATE_WINDOWS_KEPT_SECS`] before it.
    async fn count_request(&self, key: &str, window_start: i64) -> Result<u64>;
}

/// How long counted request windows are kept (the limits look at the current one only).
pub const RATE_WINDOWS_KEPT_SECS: i64 = 300;

/// How many earlier versions of an edited plan are kept for undoing.
pub const PLAN_VERSIONS_KEPT: u32 = 20;

/// A region with a street map: where its data came from, what it covers, when it came.
#[derive(Debug, Clone, PartialEq)]
pub struct MapRegion {
    /// The source, as for places (the extract's file name).
    pub source: String,
    /// What the map covers.
    pub extent: tripwright_domain::BBox,
    /// How many features it has.
    pub features: u64,
    /// When it was imported.
    pub imported_at: DateTime<Utc>,
}

/// The street map of the imported regions: what the basemap draws and the walking routes
/// follow.
#[async_trait]
pub trait MapStore: Send + Sync {
    /// Replaces the map of `source` with `features` covering `extent`, in one transaction;
    /// returns how many were written.
    async fn replace_map(
        &self,
        source: &str,
        extent: tripwright_domain::BBox,
        features: &[tripwright_domain::MapFeature],
    ) -> Result<usize>;

    /// The regions with a map, by source.
    async fn map_regions(&self) -> Result<Vec<MapRegion>>;

    /// The features on `layers` whose bounding box meets `area`, in storage order.
    async fn map_features(
        &self,
        area: tripwright_domain::BBox,
        layers: &[tripwright_domain::MapLayer],
    ) -> Result<Vec<tripwright_domain::MapFeature>>;

    /// Removes the map of `source`; returns how many features went.
    async fn delete_map(&self, source: &str) -> Result<u64>;
}

/// A plan being made, as the job queue holds it: enough for any replica to make it again.
#[derive(Debug, Clone, PartialEq)]
pub struct JobRecord {
    /// The id its plan will have.
    pub id: PlanId,
    /// Who asked for it.
    pub owner: OwnerId,
    /// What was asked.
    pub request: TripRequest,
    /// Where, as geocoded.
    pub destination: Destination,
    /// The plan-cache key of the request (the day it was asked included).
    pub cache_key: String,
    /// When it was asked for.
    pub started_at: DateTime<Utc>,
    /// When the plan made is deleted (an anonymous requester's); `None`: kept.
    pub expires: Option<DateTime<Utc>>,
    /// The claim that holds it: 1 for the replica that took the request, one more for each
    /// replica that claimed it since. Every write of a job names its attempt and is refused
    /// once a later claim holds the job, so a replica that lost its lease writes nothing.
    pub attempt: u32,
}

/// Where a job stands in the queue.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum JobStatus {
    /// Waiting for a replica to claim it (handed back by a replica that shut down).
    Queued,
    /// Claimed by a replica, whose lease runs until the time given (Unix milliseconds).
    Running {
        /// When the lease runs out unless renewed.
        lease_until_ms: i64,
    },
    /// Over: its last event (done, failed or cancelled) is in its log.
    Ended,
}

/// What renewing a lease found.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Lease {
    /// The lease is renewed.
    Held,
    /// The lease is renewed, and its owner asked (through another replica) to cancel it.
    CancelRequested,
    /// Another claim holds the job now, or it ended: stop working on it.
    Lost,
}

/// Something changed in the job queue, as another replica announced it (PostgreSQL's
/// `LISTEN/NOTIFY`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum JobNews {
    /// New events were appended to the log of this plan's job.
    Events(PlanId),
    /// A job was queued (handed back by a replica that shut down), or cancelled.
    Queued,
}

/// How long an ended job and its event log are kept (a page opened later reads the saved plan).
pub const ENDED_JOBS_KEPT: chrono::Duration = chrono::Duration::hours(24);

/// The queue of plans being made, and each one's log of events, shared by every replica of a
/// database: a job is claimed with a lease that its replica renews while it works; when the
/// lease runs out (the replica died) another claims it. Events are JSON text, numbered from 0
/// per plan; their meaning is the app's.
#[async_trait]
pub trait JobStore: Send + Sync {
    /// Records `job` as claimed by `worker` until `lease` from now (its `attempt` is stored
    /// as given, normally 1). A job with that id already recorded is
    /// [`StoreError::Duplicate`].
    async fn start_job(
        &self,
        job: &JobRecord,
        worker: &str,
        lease: std::time::Duration,
    ) -> Result<()>;

    /// Claims the oldest job that is queued, or running with a lease that ran out, for
    /// `worker` until `lease` from now, counting one more attempt; `None` when there is none.
    /// Two replicas claiming at once never get the same job (PostgreSQL: `FOR UPDATE SKIP
    /// LOCKED`; SQLite: one writer).
    async fn claim_job(
        &self,
        worker: &str,
        lease: std::time::Duration,
    ) -> Result<Option<JobRecord>>;

    /// Renews the lease of `attempt` of job `id` until `lease` from now.
    async fn renew_job_lease(
        &self,
        id: &PlanId,
        attempt: u32,
        lease: std::time::Duration,
    ) -> Result<Lease>;

    /// Appends `events` to the log of job `id` as numbers `first_seq`, `first_seq + 1`, …, in
    /// one transaction, if `attempt` still holds the job (`false`, nothing written,
    /// otherwise), and announces them to the other replicas ([`JobNews::Events`]).
    async fn append_job_events(
        &self,
        id: &PlanId,
        attempt: u32,
        first_seq: u64,
        events: &[String],
    ) -> Result<bool>;

    /// The events of job `id` numbered `from` and after, in order (at most `limit`).
    async fn job_events(&self, id: &PlanId, from: u64, limit: u32) -> Result<Vec<String>>;

    /// Ends job `id` (its last event is logged) if `attempt` still holds it; deletes the jobs
    /// that ended more than [`ENDED_JOBS_KEPT`] ago, with their events.
    async fn end_job(&self, id: &PlanId, attempt: u32) -> Result<bool>;

    /// Hands job `id` back to the queue if `attempt` holds it (a replica shutting down),
    /// announcing it ([`JobNews::Queued`]).
    async fn requeue_job(&self, id: &PlanId, attempt: u32) -> Result<bool>;

    /// Asks whichever replica holds job `id` to cancel it: its next [`JobStore::renew_job_lease`]
    /// answers [`Lease::CancelRequested`] (a queued job's claimer learns it on its first
    /// renewal). `false` when the job is not queued or running.
    async fn request_job_cancel(&self, id: &PlanId) -> Result<bool>;

    /// Job `id` and where it stands.
    async fn job(&self, id: &PlanId) -> Result<Option<(JobRecord, JobStatus)>>;

    /// `owner`'s jobs not ended (queued or running), newest first.
    async fn owned_jobs(&self, owner: &OwnerId) -> Result<Vec<JobRecord>>;

    /// The news of every replica's jobs as they happen, for as long as the stream is held
    /// (news sent while its connection was down is lost: followers read the log again on a
    /// timer too). `None` for a store only one process uses (SQLite).
    async fn job_news(&self) -> Result<Option<futures::stream::BoxStream<'static, JobNews>>>;
}

/// The storage operations Tripwright needs, whatever the database behind them: every focused
/// trait, and closing.
#[async_trait]
pub trait Store: PlaceStore + PlanStore + ListStore + CacheStore + MapStore + JobStore {
    /// Waits for queries in flight, then closes every connection, for a clean shutdown:
    /// afterwards the database holds everything committed (for SQLite, in the one file,
    /// without a WAL to replay). Later calls fail with [`StoreError::Query`].
    async fn close(&self) -> Result<()>;

    /// Whether the store answers and its schema is this version's: how many migrations are
    /// applied, of how many this build has. A newer or older schema, or no answer, is an error.
    async fn ready(&self) -> Result<(usize, usize)>;
}
