//! Shared test fixtures: temporary stores, a look beneath the trait, and a complete sample
//! plan.
//!
//! The tests written against the traits ([`temp_store`], [`TestDb`]) run on SQLite files by
//! default, and on PostgreSQL when `TRIPWRIGHT_TEST_POSTGRES_URL` names a server
//! (`scripts/test.sh` starts one and runs them again): each test then gets a schema of its
//! own. The tests that look at the SQLite file itself use [`temp_path`] and [`raw`].

use std::path::{Path, PathBuf};
use std::str::FromStr;
use std::sync::Arc;

use chrono::NaiveDate;
use sqlx::postgres::{PgConnectOptions, PgConnection};
use sqlx::{Connection, SqliteConnection};
use tempfile::TempDir;
use tripwright_domain::{
    Check, CostEstimate, CostLine, DayPlan, Destination, Hotel, Itinerary, MonthScore, OwnerId,
    PlaceId, Plan, PlanId, Stop, StopKind, Summary, TimeOfDay, TripRequest,
};
use tripwright_store::{PgStore, SqliteStore, Store, StoreError};

/// A new temporary folder and where a store file goes in it (not created yet).
pub fn temp_path() -> (TempDir, PathBuf) {
    let dir = tempfile::tempdir().expect("temp dir");
    let path = dir.path().join("store.sqlite");
    (dir, path)
}

/// Opens the store at `path`.
pub async fn open(path: &Path) -> Arc<dyn Store> {
    Arc::new(SqliteStore::open(path).await.expect("open store"))
}

/// The variable naming the PostgreSQL server the trait tests run on instead of SQLite.
pub const POSTGRES_URL: &str = "TRIPWRIGHT_TEST_POSTGRES_URL";

/// A new, empty database for one test: a SQLite file in a temporary folder, or a schema of
/// its own on the PostgreSQL server of [`POSTGRES_URL`].
pub enum TestDb {
    /// A file in a folder removed with the value.
    Sqlite(#[allow(dead_code)] TempDir, PathBuf),
    /// A schema on the server, with the options that select it.
    Postgres(Box<PgConnectOptions>),
}

impl TestDb {
    /// A new database, on the backend the environment chooses.
    pub async fn new() -> Self {
        match std::env::var(POSTGRES_URL) {
            Ok(url) if !url.trim().is_empty() => {
                let schema = format!("t_{}", uuid::Uuid::new_v4().simple());
                let mut admin = PgConnection::connect(&url)
                    .await
                    .unwrap_or_else(|e| panic!("{POSTGRES_URL} cannot be reached: {e}"));
                sqlx::query(&format!("CREATE SCHEMA {schema}"))
                    .execute(&mut admin)
                    .await
                    .expect("a schema for the test");
                let options = PgConnectOptions::from_str(&url)
                    .expect("a PostgreSQL URL")
                    .options([("search_path", schema.as_str())]);
                Self::Postgres(Box::new(options))
            }
            _ => {
                let (dir, path) = temp_path();
                Self::Sqlite(dir, path)
            }
        }
    }

    /// Opens a store on it: again after a first one, it is a restart (or, on PostgreSQL, a
    /// second replica).
    pub async fn open(&self) -> Arc<dyn Store> {
        match self {
            Self::Sqlite(_, path) => open(path).await,
            Self::Postgres(options) => Arc::new(
                PgStore::connect_with((**options).clone())
                    .await
                    .expect("open the PostgreSQL store"),
            ),
        }
    }

    /// Runs `sql` beneath the traits (plain SQL both databases speak).
    pub async fn exec(&self, sql: &str) {
        match self {
            Self::Sqlite(_, path) => sqlx::query(sql)
                .execute(&mut raw(path).await)
                .await
                .map(|_| ()),
            Self::Postgres(options) => {
                let mut conn = PgConnection::connect_with(options).await.expect("connect");
                sqlx::query(sql).execute(&mut conn).await.map(|_| ())
            }
        }
        .unwrap_or_else(|e| panic!("{sql}: {e}"));
    }
}

/// A store on a new, empty database (kept as long as the [`TestDb`]).
pub async fn temp_store() -> (TestDb, Arc<dyn Store>) {
    let db = TestDb::new().await;
    let store = db.open().await;
    (db, store)
}

/// A raw connection to the file, to look beneath the trait.
pub async fn raw(path: &Path) -> SqliteConnection {
    SqliteConnection::connect(&format!("sqlite://{}", path.display()))
        .await
        .expect("raw connection")
}

/// The number of rows in `table`, read beneath the trait.
pub async fn count_rows(conn: &mut SqliteConnection, table: &str) -> i64 {
    sqlx::query_scalar(&format!("SELECT COUNT(*) FROM {table}"))
        .fetch_one(conn)
        .await
        .expect("count")
}

/// A refused input ([`StoreError::Invalid`]): its message.
#[track_caller]
pub fn assert_invalid<T: std::fmt::Debug>(result: Result<T, StoreError>) -> String {
    match result {
        Err(e @ StoreError::Invalid(_)) => e.to_string(),
        other => panic!("expected Invalid, got {other:?}"),
    }
}

/// An owner id.
pub fn o(id: &str) -> OwnerId {
    OwnerId::new(id)
}

/// A plan id.
pub fn pid(id: &str) -> PlanId {
    PlanId::new(id)
}

/// Place ids.
pub fn ids(names: &[&str]) -> Vec<PlaceId> {
    names.iter().map(|n| PlaceId::new(*n)).collect()
}

fn date(y: i32, m: u32, d: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(y, m, d).expect("valid date")
}

fn time(s: &str) -> TimeOfDay {
    TimeOfDay::parse(s).expect("valid time")
}

/// A small but complete plan, with computed (not round) numbers so that the JSON round trip
/// is tested on full-precision floats.
pub fn sample_plan(id: &str, created_at: &str, city: &str) -> Plan {
    let created_at = created_at.parse().expect("an RFC 3339 time");
    let walk = 0.1 + 0.2;
    let stop = |place_id: &str, kind, start: &str, end: &str| Stop {
        route: Vec::new(),
        place_id: place_id.into(),
        name: format!("Stop {place_id}"),
        kind,
        place_kind: "museum".to_owned(),
        lat: 60.1699 + 1.0 / 3.0 / 100.0,
        lon: 24.9384,
        start: time(start),
        end: time(end),
        walk_minutes: 12,
        walk_km: walk,
        opening_hours: None,
        facts: Vec::new(),
        note: String::new(),
        description: None,
    };
    Plan {
        title: None,
        id: id.into(),
        created_at,
        request: TripRequest {
            days: 2,
            budget: Some(1500.0),
            start_date: Some(date(2025, 7, 14)),
            ..TripRequest::new(city)
        },
        destination: Destination {
            name: city.to_owned(),
            country: "Finland".to_owned(),
            country_code: "FI".to_owned(),
            lat: 60.16952,
            lon: 24.93545,
            population: 558_457,
            timezone: "Europe/Helsinki".to_owned(),
            currency: "EUR".to_owned(),
            geoname_id: 658_225,
        },
        best_months: vec![MonthScore {
            month: 7,
            name: "July".to_owned(),
            score: 87.654_321_987,
            reason: "mean 17 °C, long days".to_owned(),
            mean_temp_c: 17.2,
        }],
        hotels: vec![Hotel {
            id: "osm:node/1".into(),
            name: "Hotel Kämp".to_owned(),
            description: "Luxury hotel with spa".to_owned(),
            stars: Some(5),
            price_per_night: 320.0,
            price_estimated: true,
            lat: 60.1679,
            lon: 24.9453,
            similarity: 0.712_345_678_901_234_5,
            distance_km: std::f64::consts::PI / 10.0,
            kind: "hotel".into(),
            amenities: vec!["sauna".into()],
            matches: vec!["sauna".into()],
            conflicts: Vec::new(),
            unknown: vec!["quiet".into()],
            score: 0.812_345,
        }],
        itinerary: Itinerary {
            month: 7,
            month_fixed: false,
            start_date: date(2025, 7, 14),
            hotel_id: Some("osm:node/1".into()),
            days: vec![
                DayPlan {
                    route_back: Vec::new(),
                    day: 1,
                    date: date(2025, 7, 14),
                    weekday: "Monday".to_owned(),
                    title: "Around Senate Square".to_owned(),
                    intro: String::new(),
                    stops: vec![
                        stop("osm:node/2", StopKind::Sight, "09:30", "11:00"),
                        stop("osm:way/3", StopKind::Lunch, "12:00", "13:00"),
                    ],
                    walk_km: walk * 7.0,
                },
                DayPlan {
                    route_back: Vec::new(),
                    day: 2,
                    date: date(2025, 7, 15),
                    weekday: "Tuesday".to_owned(),
                    title: "Design District".to_owned(),
                    intro: "A slower day.".to_owned(),
                    stops: vec![stop("osm:node/4", StopKind::Cafe, "10:00", "10:45")],
                    walk_km: 2.0_f64.sqrt(),
                },
            ],
        },
        summary: Summary {
            text: "Two days in Helsinki for 1 280 EUR.".to_owned(),
            cost: CostEstimate {
                currency: "EUR".to_owned(),
                total: 1280.5,
                budget: Some(1500.0),
                within_budget: Some(true),
                nights: 2,
                travelers: 1,
                rooms: 1,
                hotel_per_night: 320.0,
                lines: vec![CostLine {
                    label: "Hotel".to_owned(),
                    amount: 640.0,
                    estimated: true,
                }],
                estimated: true,
            },
        },
        checks: vec![Check {
            name: "grounded".to_owned(),
            passed: true,
            detail: "every stop is a stored place".to_owned(),
        }],
        warnings: vec!["prices are estimates".to_owned()],
        sources: vec![tripwright_domain::PlaceSource {
            source: "Helsinki.osm.pbf".to_owned(),
            places: 2,
            imported_at: "2026-12-01T10:00:00Z".parse().expect("a time"),
        }],
    }
}
