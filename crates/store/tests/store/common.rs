//! Shared test fixtures: temporary stores, a look beneath the trait, and a complete sample
//! plan.

use std::path::{Path, PathBuf};

use chrono::NaiveDate;
use sqlx::{Connection, SqliteConnection};
use tempfile::TempDir;
use tripwright_domain::{
    Check, CostEstimate, CostLine, DayPlan, Destination, Hotel, Itinerary, MonthScore, OwnerId,
    PlaceId, Plan, PlanId, Stop, StopKind, Summary, TimeOfDay, TripRequest,
};
use tripwright_store::{SqliteStore, StoreError};

/// A new temporary folder and where a store file goes in it (not created yet).
pub fn temp_path() -> (TempDir, PathBuf) {
    let dir = tempfile::tempdir().expect("temp dir");
    let path = dir.path().join("store.sqlite");
    (dir, path)
}

/// Opens the store at `path`.
pub async fn open(path: &Path) -> SqliteStore {
    SqliteStore::open(path).await.expect("open store")
}

/// A store in a new temporary folder (kept as long as the folder).
pub async fn temp_store() -> (TempDir, SqliteStore) {
    let (dir, path) = temp_path();
    (dir, open(&path).await)
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
