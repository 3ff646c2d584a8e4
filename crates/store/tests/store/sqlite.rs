//! The SQLite store against real database files in temporary folders: every operation,
//! persistence across a restart, concurrent writers, and the errors a user would see.

use std::collections::{BTreeMap, HashSet};
use std::sync::Arc;
use std::time::Instant;

use chrono::SecondsFormat;
use sqlx::Connection;
use tripwright_domain::{GeoPoint, OwnerId, Place, PlaceCategory, PlaceId};
use tripwright_store::{
    CacheStore, ListStore, PlaceStore, PlanStore, SqliteStore, Store, StoreError,
};

use super::common::{
    TestDb, assert_invalid, count_rows, ids, open, pid, raw, sample_plan, temp_path, temp_store,
};

fn place(id: &str, category: PlaceCategory, lat: f64, lon: f64) -> Place {
    Place {
        id: id.into(),
        name: format!("Place {id}"),
        category,
        kind: match category {
            PlaceCategory::Hotel => "hotel",
            PlaceCategory::Attraction => "museum",
            PlaceCategory::Artwork => "artwork",
            PlaceCategory::Food => "cafe",
            PlaceCategory::Grocery => "supermarket",
        }
        .to_owned(),
        lat,
        lon,
        opening_hours: Some("Mo-Fr 09:00-17:00".to_owned()),
        tags: BTreeMap::from([
            ("name".to_owned(), format!("Place {id}")),
            ("wheelchair".to_owned(), "yes".to_owned()),
            ("note".to_owned(), "quotes \" and ünïcödé".to_owned()),
        ]),
    }
}

/// Great-circle distance by the atan2 form of the spherical law of cosines (Vincenty's
/// formula on a sphere) — a different formula from the store's haversine, same mean radius.
fn independent_km(a: GeoPoint, b: GeoPoint) -> f64 {
    let (p1, p2) = (a.lat.to_radians(), b.lat.to_radians());
    let dl = (b.lon - a.lon).to_radians();
    let y = ((p2.cos() * dl.sin()).powi(2)
        + (p1.cos() * p2.sin() - p1.sin() * p2.cos() * dl.cos()).powi(2))
    .sqrt();
    let x = p1.sin() * p2.sin() + p1.cos() * p2.cos() * dl.cos();
    6371.0088 * y.atan2(x)
}

#[tokio::test]
async fn open_creates_folders_and_file_in_wal_mode() {
    let dir = tempfile::tempdir().expect("temp dir");
    let path = dir.path().join("nested/deeper/store.sqlite");
    let store = SqliteStore::open(&path).await.expect("open");
    assert!(path.is_file());
    assert_eq!(store.place_count().await.expect("count"), 0);

    let mut conn = raw(&path).await;
    let mode: String = sqlx::query_scalar("PRAGMA journal_mode")
        .fetch_one(&mut conn)
        .await
        .expect("pragma");
    assert_eq!(mode, "wal");
    let tables: Vec<String> =
        sqlx::query_scalar("SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name")
            .fetch_all(&mut conn)
            .await
            .expect("tables");
    for table in [
        "place_embeddings",
        "places",
        "plans",
        "trip_lists",
        "list_items",
        "response_cache",
    ] {
        assert!(
            tables.iter().any(|t| t == table),
            "{table} missing from {tables:?}"
        );
    }
}

#[tokio::test]
async fn upsert_replaces_places_by_id_and_records_the_source() {
    let (_dir, path) = temp_path();
    let store = open(&path).await;

    let upsert = async |source: &str, places: &[Place]| {
        store.upsert_places(source, places).await.expect("upsert")
    };
    let first = vec![
        place("osm:node/1", PlaceCategory::Hotel, 60.17, 24.94),
        place("osm:node/2", PlaceCategory::Food, 60.16, 24.93),
        place("osm:way/3", PlaceCategory::Food, 60.18, 24.95),
    ];
    assert_eq!(upsert("old.osm.pbf", &first).await, 3);
    assert_eq!(store.place_count().await.expect("count"), 3);

    let mut renamed = place("osm:node/2", PlaceCategory::Attraction, 60.161, 24.931);
    renamed.name = "Renamed".to_owned();
    renamed.opening_hours = None;
    renamed.tags.clear();
    let second = vec![
        renamed.clone(),
        place("osm:node/4", PlaceCategory::Grocery, 60.2, 25.0),
    ];
    assert_eq!(upsert("new.osm.pbf", &second).await, 2);

    assert_eq!(store.place_count().await.expect("count"), 4);
    assert_eq!(
        store.place(&PlaceId::new("osm:node/2")).await.expect("get"),
        Some(renamed)
    );
    assert_eq!(
        store.place(&PlaceId::new("osm:node/1")).await.expect("get"),
        Some(first[0].clone())
    );
    assert_eq!(
        store
            .place(&PlaceId::new("osm:node/999"))
            .await
            .expect("get"),
        None
    );
    assert_eq!(
        store.place_counts_by_category().await.expect("counts"),
        BTreeMap::from([
            (PlaceCategory::Hotel, 1),
            (PlaceCategory::Attraction, 1),
            (PlaceCategory::Food, 1),
            (PlaceCategory::Grocery, 1),
        ])
    );

    let mut conn = raw(&path).await;
    let sources: Vec<(String, String)> =
        sqlx::query_as("SELECT id, source FROM places ORDER BY id")
            .fetch_all(&mut conn)
            .await
            .expect("sources");
    assert_eq!(
        sources,
        [
            ("osm:node/1", "old.osm.pbf"),
            ("osm:node/2", "new.osm.pbf"),
            ("osm:node/4", "new.osm.pbf"),
            ("osm:way/3", "old.osm.pbf"),
        ]
        .map(|(id, s)| (id.to_owned(), s.to_owned()))
    );

    // The sources of some places: how many each gave, newest first; unknown and repeated
    // ids are ignored.
    let of = store
        .sources_of(&[
            PlaceId::new("osm:node/1"),
            PlaceId::new("osm:node/2"),
            PlaceId::new("osm:node/4"),
            PlaceId::new("osm:node/4"),
            PlaceId::new("osm:node/999"),
        ])
        .await
        .expect("sources");
    let counted: Vec<(&str, u64)> = of.iter().map(|s| (s.source.as_str(), s.places)).collect();
    assert_eq!(counted, [("new.osm.pbf", 2), ("old.osm.pbf", 1)]);
    assert!(of[0].imported_at >= of[1].imported_at);
    assert!(store.sources_of(&[]).await.expect("none").is_empty());
}

#[tokio::test]
async fn a_place_with_a_bad_position_fails_the_whole_batch() {
    let (_dir, store) = temp_store().await;
    let batch = vec![
        place("osm:node/1", PlaceCategory::Hotel, 60.17, 24.94),
        place("osm:node/2", PlaceCategory::Hotel, f64::NAN, 24.94),
    ];
    let message = assert_invalid(store.upsert_places("x", &batch).await);
    assert!(message.contains("osm:node/2"), "{message}");
    assert_eq!(store.place_count().await.expect("count"), 0);
}

#[tokio::test]
async fn places_by_ids_follows_the_requested_order_across_chunks() {
    let (_dir, store) = temp_store().await;
    let places: Vec<Place> = (0..1200)
        .map(|i| {
            place(
                &format!("osm:node/{i}"),
                PlaceCategory::Food,
                60.0,
                24.0 + f64::from(i) * 1e-4,
            )
        })
        .collect();
    store.upsert_places("t", &places).await.expect("upsert");

    let ids = vec![
        PlaceId::new("osm:node/7"),
        PlaceId::new("osm:node/missing"),
        PlaceId::new("osm:node/3"),
        PlaceId::new("osm:node/7"),
    ];
    let got: Vec<PlaceId> = store
        .places_by_ids(&ids)
        .await
        .expect("by ids")
        .into_iter()
        .map(|p| p.id)
        .collect();
    assert_eq!(got, ["osm:node/7", "osm:node/3"]);

    // More ids than one query binds: the answer is still complete and in order.
    let reversed: Vec<PlaceId> = places.iter().rev().map(|p| p.id.clone()).collect();
    let got = store.places_by_ids(&reversed).await.expect("by ids");
    assert_eq!(got, places.iter().rev().cloned().collect::<Vec<_>>());
    assert!(store.places_by_ids(&[]).await.expect("none").is_empty());
}

/// Checks one `places_near` answer against the test's own distances: the same set, nearest
/// first, only the asked categories. Returns how many places matched.
async fn check_near(
    store: &Arc<dyn Store>,
    all: &[Place],
    center: GeoPoint,
    radius_km: f64,
    categories: &[PlaceCategory],
) -> usize {
    let got = store
        .places_near(center, radius_km, categories)
        .await
        .expect("near");
    let mut expected = HashSet::new();
    for p in all {
        let d = independent_km(center, p.point());
        // Two formulas may disagree in the last bits: keep test points off the circle.
        assert!((d - radius_km).abs() > 1e-6, "{} lies on the circle", p.id);
        if d <= radius_km && (categories.is_empty() || categories.contains(&p.category)) {
            expected.insert(p.id.clone());
        }
    }
    let got_ids: HashSet<PlaceId> = got.iter().map(|p| p.id.clone()).collect();
    assert_eq!(got_ids.len(), got.len(), "duplicates in the answer");
    assert_eq!(got_ids, expected, "centre {center:?} r={radius_km}");
    let distances: Vec<f64> = got
        .iter()
        .map(|p| independent_km(center, p.point()))
        .collect();
    assert!(
        distances.windows(2).all(|w| w[0] <= w[1] + 1e-9),
        "not nearest first: {distances:?}"
    );
    got.len()
}

#[tokio::test]
async fn places_near_agrees_with_independent_distances() {
    let (_dir, store) = temp_store().await;
    let mut all = Vec::new();
    // A 41 × 41 grid around Helsinki, about 1.1 km × 1.1 km cells, categories cycling.
    for i in 0..41 {
        for j in 0..41 {
            let n = all.len();
            all.push(place(
                &format!("osm:node/{n}"),
                PlaceCategory::ALL[n % 5],
                60.0 + f64::from(i) * 0.01 + 0.00013,
                24.6 + f64::from(j) * 0.02 + 0.00017,
            ));
        }
    }
    // Either side of the 180th meridian (Fiji) and around the North Pole.
    for k in 0..40 {
        let lon = 179.9 + f64::from(k) * 0.005 + 0.0003;
        let lon = if lon > 180.0 { lon - 360.0 } else { lon };
        all.push(place(&format!("fiji/{k}"), PlaceCategory::Food, -16.8, lon));
        all.push(place(
            &format!("pole/{k}"),
            PlaceCategory::Food,
            89.95,
            f64::from(k) * 9.0 - 179.0,
        ));
    }
    store.upsert_places("grid", &all).await.expect("upsert");

    let helsinki = GeoPoint::new(60.2, 25.0);
    let n = check_near(&store, &all, helsinki, 3.3, &[]).await;
    assert!((20..200).contains(&n), "{n} places within 3.3 km");
    let n = check_near(
        &store,
        &all,
        helsinki,
        7.5,
        &[PlaceCategory::Food, PlaceCategory::Hotel],
    )
    .await;
    assert!((50..500).contains(&n), "{n} food and hotels within 7.5 km");
    assert_eq!(check_near(&store, &all, helsinki, 0.0, &[]).await, 0);

    // Across the meridian the answer takes in both sides.
    let fiji = GeoPoint::new(-16.8, 179.99);
    let near_fiji = store.places_near(fiji, 12.0, &[]).await.expect("near");
    assert!(near_fiji.iter().any(|p| p.lon < 0.0) && near_fiji.iter().any(|p| p.lon > 0.0));
    check_near(&store, &all, fiji, 12.0, &[]).await;

    // 11 km from the pole covers every longitude.
    let n = check_near(&store, &all, GeoPoint::new(89.99, 0.0), 11.0, &[]).await;
    assert_eq!(n, 40);

    let hotels = store
        .places_near(helsinki, 5.0, &[PlaceCategory::Hotel])
        .await
        .expect("near");
    assert!(!hotels.is_empty() && hotels.iter().all(|p| p.category == PlaceCategory::Hotel));
}

#[tokio::test]
async fn places_near_refuses_bad_input() {
    let (_dir, store) = temp_store().await;
    for (center, radius) in [
        (GeoPoint::new(60.0, 25.0), -1.0),
        (GeoPoint::new(60.0, 25.0), f64::NAN),
        (GeoPoint::new(60.0, 25.0), f64::INFINITY),
        (GeoPoint::new(95.0, 25.0), 1.0),
        (GeoPoint::new(60.0, f64::NAN), 1.0),
    ] {
        assert_invalid(store.places_near(center, radius, &[]).await);
    }
}

#[tokio::test]
async fn embeddings_round_trip_bit_exact() {
    let (_dir, store) = temp_store().await;
    let odd = vec![
        -0.0_f32,
        f32::MIN_POSITIVE / 3.0, // subnormal
        f32::MAX,
        f32::MIN,
        f32::EPSILON,
        f32::INFINITY,
        f32::from_bits(0x7fc0_1234), // NaN with a payload
        1.0 / 3.0,
    ];
    let long: Vec<f32> = (0..384u16)
        .map(|i| (f32::from(i) * 0.618).sin() / 19.0)
        .collect();
    let items = vec![
        (PlaceId::new("osm:node/1"), u64::MAX, odd.clone()),
        (PlaceId::new("osm:node/2"), 1 << 63, long.clone()),
        (PlaceId::new("osm:node/3"), 42, Vec::new()),
    ];
    store
        .save_embeddings("all-MiniLM-L6-v2", &items)
        .await
        .expect("save");

    let ids = ids(&["osm:node/1", "osm:node/2", "osm:node/3", "osm:node/9"]);
    let got = store
        .embeddings("all-MiniLM-L6-v2", &ids)
        .await
        .expect("load");
    assert_eq!(got.len(), 3, "the unknown id is absent");
    let bits = |v: &[f32]| v.iter().map(|x| x.to_bits()).collect::<Vec<_>>();
    for (id, hash, vector) in &items {
        let (got_hash, got_vector) = &got[id];
        assert_eq!(got_hash, hash);
        assert_eq!(bits(got_vector), bits(vector), "{id}");
    }

    // Another model's cache is separate; saving again replaces the vector and hash.
    assert!(
        store
            .embeddings("other-model", &ids)
            .await
            .expect("load")
            .is_empty()
    );
    store
        .save_embeddings(
            "all-MiniLM-L6-v2",
            &[(PlaceId::new("osm:node/1"), 7, vec![0.5, 0.25])],
        )
        .await
        .expect("save");
    let got = store
        .embeddings("all-MiniLM-L6-v2", &ids[..1])
        .await
        .expect("load");
    assert_eq!(got["osm:node/1"], (7, vec![0.5, 0.25]));

    // Lookups larger than one query's id list.
    let many: Vec<(PlaceId, u64, Vec<f32>)> = (0..1100u32)
        .map(|i| (PlaceId::new(format!("p{i}")), u64::from(i), vec![i as f32]))
        .collect();
    store.save_embeddings("m", &many).await.expect("save many");
    let ids: Vec<PlaceId> = many.iter().map(|(id, _, _)| id.clone()).collect();
    let got = store.embeddings("m", &ids).await.expect("load many");
    assert_eq!(got.len(), 1100);
    assert_eq!(got["p1099"], (1099, vec![1099.0]));
}

#[tokio::test]
async fn plans_round_trip_and_list_newest_first() {
    let (_dir, store) = temp_store().await;
    // Plans hold UTC times: 12:00+03:00 is 09:00Z, older than 10:00Z although its text
    // would sort after it.
    let a = sample_plan("plan-a", "2025-06-01T12:00:00+03:00", "Helsinki");
    let b = sample_plan("plan-b", "2025-06-01T10:00:00Z", "Tampere");
    let c = sample_plan("plan-c", "2024-12-31T23:59:59.5Z", "Turku");
    for p in [&a, &b, &c] {
        store.save_plan(p).await.expect("save");
    }
    for p in [&a, &b, &c] {
        assert_eq!(store.plan(&p.id).await.expect("load").as_ref(), Some(p));
    }
    assert_eq!(store.plan(&pid("nope")).await.expect("load"), None);

    let list = store.list_plans(10).await.expect("list");
    let order: Vec<&str> = list.iter().map(|s| s.id.as_str()).collect();
    assert_eq!(order, ["plan-b", "plan-a", "plan-c"]);
    assert_eq!(
        list.iter().map(|s| s.created_at).collect::<Vec<_>>(),
        [b.created_at, a.created_at, c.created_at]
    );
    assert_eq!(list[1].destination, "Helsinki");
    assert_eq!(list[1].country, "Finland");
    assert_eq!(list[1].days, 2);
    assert_eq!(list[1].created_at.to_rfc3339(), "2025-06-01T09:00:00+00:00");
    assert_eq!(store.list_plans(2).await.expect("list").len(), 2);
    assert!(store.list_plans(0).await.expect("list").is_empty());

    // Saving the same id again replaces the plan.
    let mut a2 = a.clone();
    a2.warnings.push("budget exceeded".to_owned());
    a2.request.days = 3;
    store.save_plan(&a2).await.expect("resave");
    assert_eq!(store.plan(&pid("plan-a")).await.expect("load"), Some(a2));
    let list = store.list_plans(10).await.expect("list");
    assert_eq!(list.len(), 3);
    assert_eq!(list[1].days, 3);
}

#[tokio::test]
async fn a_plans_time_round_trips_to_the_microsecond() {
    let (_dir, path) = temp_path();
    let store = open(&path).await;
    // Given with an offset, kept in UTC to the microsecond; a microsecond later and a whole
    // second earlier list in time order (the stored texts have one width).
    let plan = sample_plan("plan-a", "2025-06-01T12:34:56.123456+03:00", "Helsinki");
    let later = sample_plan("plan-b", "2025-06-01T09:34:56.123457Z", "Oulu");
    let earlier = sample_plan("plan-c", "2025-06-01T09:34:56Z", "Turku");
    for p in [&earlier, &later, &plan] {
        store.save_plan(p).await.expect("save");
    }
    let loaded = store.plan(&plan.id).await.expect("load").expect("saved");
    assert_eq!(loaded, plan);
    assert_eq!(
        loaded
            .created_at
            .to_rfc3339_opts(SecondsFormat::Micros, true),
        "2025-06-01T09:34:56.123456Z"
    );
    let list = store.list_plans(10).await.expect("list");
    assert_eq!(
        list.iter()
            .map(|s| (s.id.as_str(), s.created_at))
            .collect::<Vec<_>>(),
        [
            ("plan-b", later.created_at),
            ("plan-a", plan.created_at),
            ("plan-c", earlier.created_at),
        ]
    );
    let stored: String = sqlx::query_scalar("SELECT created_at FROM plans WHERE id = 'plan-a'")
        .fetch_one(&mut raw(&path).await)
        .await
        .expect("time");
    assert_eq!(stored, "2025-06-01T09:34:56.123456Z");
}

#[tokio::test]
async fn plans_that_could_not_be_read_back_are_refused() {
    let (_dir, store) = temp_store().await;
    // A creation time that is not a time can no longer reach the store: the type refuses it
    // where plans come in (JSON from a client or a file).
    let mut json =
        serde_json::to_value(sample_plan("p1", "2025-01-01T00:00:00Z", "Helsinki")).expect("json");
    json["created_at"] = "yesterday".into();
    assert!(serde_json::from_value::<tripwright_domain::Plan>(json).is_err());

    let mut nan = sample_plan("p2", "2025-01-01T00:00:00Z", "Helsinki");
    nan.hotels[0].price_per_night = f64::NAN;
    assert_invalid(store.save_plan(&nan).await);
    assert!(store.list_plans(10).await.expect("list").is_empty());
}

#[tokio::test]
async fn undecodable_rows_are_reported_as_corrupt() {
    let (_dir, path) = temp_path();
    let store = open(&path).await;
    store
        .upsert_places("t", &[place("osm:node/1", PlaceCategory::Food, 60.0, 25.0)])
        .await
        .expect("upsert");
    store
        .save_plan(&sample_plan("p", "2025-01-01T00:00:00Z", "Helsinki"))
        .await
        .expect("save");
    store
        .save_embeddings("m", &[(PlaceId::new("osm:node/1"), 1, vec![1.0])])
        .await
        .expect("save");

    let mut conn = raw(&path).await;
    for sql in [
        "UPDATE places SET tags = '{not json'",
        "UPDATE plans SET body = '{\"id\": 1}'",
        "UPDATE place_embeddings SET vector = X'0000803F00'",
    ] {
        sqlx::query(sql).execute(&mut conn).await.expect(sql);
    }
    let ids = [PlaceId::new("osm:node/1")];
    let errors = [
        store
            .place(&PlaceId::new("osm:node/1"))
            .await
            .expect_err("bad tags"),
        store.plan(&pid("p")).await.expect_err("bad body"),
        store.embeddings("m", &ids).await.expect_err("bad blob"),
    ];
    for err in errors {
        assert!(matches!(err, StoreError::Corrupt(_)), "{err:?}");
    }

    sqlx::query("UPDATE places SET tags = '{}', category = 'spa'")
        .execute(&mut conn)
        .await
        .expect("update");
    let err = store
        .place_counts_by_category()
        .await
        .expect_err("bad category");
    assert!(err.to_string().contains("\"spa\""), "{err}");
}

#[tokio::test]
async fn data_survives_a_restart() {
    let (_dir, path) = temp_path();
    let p = place("osm:node/1", PlaceCategory::Hotel, 60.17, 24.94);
    let plan = sample_plan("plan-1", "2025-05-05T08:00:00Z", "Helsinki");
    let store = open(&path).await;
    store
        .upsert_places("t", std::slice::from_ref(&p))
        .await
        .expect("upsert");
    store.save_plan(&plan).await.expect("save");
    store
        .save_embeddings("m", &[(p.id.clone(), 9, vec![0.125])])
        .await
        .expect("save");
    // Another process with the file open keeps SQLite from checkpointing as the last
    // connection closes: `close` must fold the WAL into the file itself.
    let mut other = raw(&path).await;
    assert_eq!(count_rows(&mut other, "places").await, 1);
    store.close().await.expect("close");
    let err = store.place_count().await.expect_err("closed");
    assert!(matches!(err, StoreError::Query(_)), "{err:?}");

    // So a copy of just the database file (no WAL beside it) holds everything.
    let (_copy_dir, copy) = temp_path();
    std::fs::copy(&path, &copy).expect("copy");
    drop(other);
    let copied = open(&copy).await;
    assert_eq!(copied.place(&p.id).await.expect("get"), Some(p.clone()));
    assert_eq!(
        copied.plan(&pid("plan-1")).await.expect("get"),
        Some(plan.clone())
    );

    let store = open(&path).await;
    assert_eq!(store.place(&p.id).await.expect("get"), Some(p.clone()));
    assert_eq!(store.plan(&pid("plan-1")).await.expect("get"), Some(plan));
    assert_eq!(
        store
            .embeddings("m", std::slice::from_ref(&p.id))
            .await
            .expect("get")[&p.id],
        (9, vec![0.125])
    );

    // A store dropped without `close` (a crash, say) keeps its commits too.
    store
        .save_plan(&sample_plan("plan-2", "2025-05-06T08:00:00Z", "Oulu"))
        .await
        .expect("save");
    drop(store);
    let store = open(&path).await;
    assert_eq!(store.list_plans(10).await.expect("list").len(), 2);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn concurrent_saves_all_land() {
    // Two stores on one database, as a CLI import beside a running server would be (or, on
    // PostgreSQL, two replicas).
    let db = TestDb::new().await;
    let stores: [Arc<dyn Store>; 2] = [db.open().await, db.open().await];
    let mut tasks = Vec::new();
    for t in 0..16u32 {
        let store = Arc::clone(&stores[t as usize % 2]);
        tasks.push(tokio::spawn(async move {
            for k in 0..5u32 {
                let id = format!("plan-{t}-{k}");
                let created = format!("2025-01-01T00:{t:02}:{k:02}Z");
                store
                    .save_plan(&sample_plan(&id, &created, "Helsinki"))
                    .await?;
                let places: Vec<Place> = (0..50u32)
                    .map(|i| {
                        let id = format!("osm:node/{t}-{k}-{i}");
                        place(&id, PlaceCategory::Food, 60.0 + f64::from(i) * 1e-3, 25.0)
                    })
                    .collect();
                store.upsert_places("concurrent", &places).await?;
                // Readers run alongside the writers.
                store.list_plans(5).await?;
            }
            Ok::<_, StoreError>(())
        }));
    }
    for task in tasks {
        task.await.expect("task").expect("saves");
    }
    let list = stores[0].list_plans(1000).await.expect("list");
    assert_eq!(list.len(), 80);
    assert_eq!(list[0].id, "plan-15-4");
    assert_eq!(stores[1].place_count().await.expect("count"), 16 * 5 * 50);
}

#[tokio::test]
async fn opening_an_impossible_path_says_why() {
    let dir = tempfile::tempdir().expect("temp dir");
    let file = dir.path().join("a-file");
    std::fs::write(&file, "not a folder").expect("write");
    let path = file.join("sub/store.sqlite");
    let err = SqliteStore::open(&path)
        .await
        .expect_err("under a regular file");
    assert!(matches!(err, StoreError::Open { .. }), "{err:?}");
    let msg = err.to_string();
    assert!(
        msg.starts_with(&format!("cannot open the store at {}: ", path.display())),
        "{msg}"
    );
    assert!(
        msg.contains("Not a directory") || msg.contains("File exists"),
        "{msg}"
    );

    // A file that is not a database is refused, and left alone.
    let text = dir.path().join("notes.txt");
    std::fs::write(&text, "these are my notes, not a database ".repeat(100)).expect("write");
    let err = SqliteStore::open(&text).await.expect_err("text file");
    assert!(matches!(err, StoreError::Open { .. }), "{err:?}");
    assert!(err.to_string().contains("not a database"), "{err}");
    assert!(
        std::fs::read_to_string(&text)
            .expect("read")
            .starts_with("these are my notes")
    );
}

#[tokio::test]
async fn a_store_from_a_newer_version_is_refused() {
    let (_dir, path) = temp_path();
    let store = open(&path).await;
    store.close().await.expect("close");
    let mut conn = raw(&path).await;
    sqlx::query(
        "INSERT INTO _sqlx_migrations (version, description, success, checksum, execution_time) \
         VALUES (9999, 'from the future', 1, X'00', 0)",
    )
    .execute(&mut conn)
    .await
    .expect("insert");
    conn.close().await.expect("close");

    let err = SqliteStore::open(&path).await.expect_err("newer schema");
    assert!(matches!(err, StoreError::Migrate { .. }), "{err:?}");
    assert!(err.to_string().contains("newer Tripwright"), "{err}");
}

#[tokio::test]
async fn bulk_import_and_search_timing() {
    let (_dir, store) = temp_store().await;
    let places: Vec<Place> = (0..20_000u32)
        .map(|i| {
            let (row, col) = (f64::from(i / 200), f64::from(i % 200));
            place(
                &format!("osm:node/{i}"),
                PlaceCategory::ALL[i as usize % 5],
                60.1 + row * 0.001,
                24.8 + col * 0.002,
            )
        })
        .collect();
    let start = Instant::now();
    assert_eq!(
        store.upsert_places("bulk", &places).await.expect("upsert"),
        20_000
    );
    let import = start.elapsed();

    let start = Instant::now();
    let near = store
        .places_near(GeoPoint::new(60.15, 25.0), 1.0, &[PlaceCategory::Food])
        .await
        .expect("near");
    let search = start.elapsed();
    assert!(!near.is_empty());
    assert_eq!(store.place_count().await.expect("count"), 20_000);
    eprintln!(
        "upsert of 20 000 places: {import:?}; places_near 1 km (food): {} places in {search:?}",
        near.len()
    );
}

#[tokio::test]
async fn the_store_opened_from_configuration_serves_each_focused_trait() {
    let (_dir, path) = temp_path();
    let store: Arc<dyn Store> = tripwright_store::open(&path).await.expect("open");
    // Callers that need one concern hold just that trait (upcasting is stable Rust): this
    // must keep compiling for every focused trait.
    let places: Arc<dyn PlaceStore> = store.clone();
    let plans: Arc<dyn PlanStore> = store.clone();
    let lists: Arc<dyn ListStore> = store.clone();
    let cache: Arc<dyn CacheStore> = store.clone();
    places
        .upsert_places("t", &[place("osm:node/1", PlaceCategory::Food, 60.0, 25.0)])
        .await
        .expect("upsert");
    assert_eq!(places.place_count().await.expect("count"), 1);
    let plan = sample_plan("plan-1", "2025-05-05T08:00:00Z", "Helsinki");
    plans.save_plan(&plan).await.expect("save");
    let owner = OwnerId::new("someone");
    let list = lists
        .create_list(&owner, "Packing", Some(&plan.id))
        .await
        .expect("list");
    assert_eq!(lists.lists(&owner).await.expect("lists"), [list]);
    cache.cache_put("nominatim", "k", "v").await.expect("put");
    store.close().await.expect("close");

    // Each handle reaches the one file: what went in through one is there for the others.
    let store = open(&path).await;
    assert_eq!(store.plan(&plan.id).await.expect("plan"), Some(plan));
    assert_eq!(
        store.cache_get("nominatim", "k", 60).await.expect("get"),
        Some("v".to_owned())
    );
}

#[tokio::test]
async fn ready_means_every_migration_of_this_version_is_applied() {
    let (_dir, path) = temp_path();
    let store = open(&path).await;
    let (applied, known) = store.ready().await.expect("ready");
    assert_eq!(applied, known);
    assert!(known >= 7, "{known}");
    // A migration this version does not know (a newer Tripwright wrote the file): not ready.
    sqlx::query(
        "INSERT INTO _sqlx_migrations (version, description, success, checksum, execution_time) \
         VALUES (99990101000000, 'from the future', TRUE, X'00', 0)",
    )
    .execute(&mut raw(&path).await)
    .await
    .expect("a newer migration");
    let e = store.ready().await.expect_err("not ready");
    assert!(
        e.to_string().contains(&format!(
            "{} migrations applied, this version has {known}",
            known + 1
        )),
        "{e}"
    );
}

#[tokio::test]
async fn one_upsert_of_thousands_of_places_keeps_the_last_of_a_repeated_id() {
    let (_db, store) = temp_store().await;
    // More places than one multi-row statement holds, with one id twice.
    let mut batch: Vec<Place> = (0..2500)
        .map(|i| {
            place(
                &format!("osm:node/{i}"),
                PlaceCategory::Food,
                60.0 + f64::from(i) * 1e-4,
                25.0,
            )
        })
        .collect();
    batch[10].name = "First spelling".into();
    let mut again = batch[10].clone();
    again.name = "Last spelling".into();
    batch.insert(2400, again);
    let written = store.upsert_places("bulk", &batch).await.expect("upsert");
    assert_eq!(written, batch.len());
    assert_eq!(store.place_count().await.expect("count"), 2500);
    let got = store
        .place(&PlaceId::from("osm:node/10"))
        .await
        .expect("read")
        .expect("stored");
    assert_eq!(got.name, "Last spelling");
    let last = store
        .place(&PlaceId::from("osm:node/2499"))
        .await
        .expect("read")
        .expect("stored");
    assert_eq!(last, batch[2500]);
}
