//! The street map in the store: replaced per source, found by box and layer, removed.

use sqlx::Executor;
use tripwright_domain::{BBox, GeoPoint, MapFeature, MapLayer};
use tripwright_store::StoreError;

use crate::common::{count_rows, open, raw, temp_path, temp_store};

fn road(name: &str, from: (f64, f64), to: (f64, f64), nodes: [i64; 2]) -> MapFeature {
    MapFeature {
        layer: MapLayer::Road,
        class: "residential".into(),
        name: Some(name.into()),
        rings: vec![vec![
            GeoPoint::new(from.0, from.1),
            GeoPoint::new(to.0, to.1),
        ]],
        nodes: nodes.to_vec(),
        walkable: true,
    }
}

fn park() -> MapFeature {
    MapFeature {
        layer: MapLayer::Green,
        class: "park".into(),
        name: None,
        rings: vec![
            vec![
                GeoPoint::new(60.1700000, 24.9400000),
                GeoPoint::new(60.1700000, 24.9410000),
                GeoPoint::new(60.1710000, 24.9410000),
                GeoPoint::new(60.1700000, 24.9400000),
            ],
            vec![],
        ],
        nodes: vec![],
        walkable: false,
    }
}

fn area(min_lat: f64, min_lon: f64, max_lat: f64, max_lon: f64) -> BBox {
    BBox {
        min_lat,
        min_lon,
        max_lat,
        max_lon,
    }
}

#[tokio::test]
async fn a_region_map_is_found_by_box_and_layer_and_replaced_whole() {
    let (_dir, store) = temp_store().await;
    assert!(store.map_regions().await.expect("regions").is_empty());
    let extent = area(60.16, 24.93, 60.18, 24.96);
    let features = vec![
        road(
            "Aleksanterinkatu",
            (60.1690, 24.9440),
            (60.1692, 24.9500),
            [1, 2],
        ),
        road("Far away", (61.0, 25.0), (61.1, 25.1), [3, 4]),
        park(),
    ];
    let written = store
        .replace_map("Helsinki.osm.pbf", extent, &features)
        .await
        .expect("stored");
    assert_eq!(written, 3);
    let regions = store.map_regions().await.expect("regions");
    assert_eq!(regions.len(), 1);
    assert_eq!(regions[0].source, "Helsinki.osm.pbf");
    assert_eq!(regions[0].extent, extent);
    assert_eq!(regions[0].features, 3);

    // A box around the centre meets the street and the park, not the road far away.
    let centre = area(60.168, 24.939, 60.172, 24.946);
    let found = store
        .map_features(centre, &[MapLayer::Road, MapLayer::Green])
        .await
        .expect("found");
    assert_eq!(found.len(), 2);
    assert_eq!(
        found[0], features[0],
        "read back as written, node ids and all"
    );
    assert_eq!(found[1].rings.len(), 2, "rings kept, the empty one too");
    // Only the layers asked for.
    let roads = store
        .map_features(centre, &[MapLayer::Road])
        .await
        .expect("found");
    assert_eq!(roads.len(), 1);
    assert!(
        store
            .map_features(centre, &[])
            .await
            .expect("none")
            .is_empty()
    );

    // Importing the source again replaces its map, features and all.
    let again = vec![road(
        "Esplanadi",
        (60.1675, 24.9450),
        (60.1678, 24.9480),
        [5, 6],
    )];
    store
        .replace_map("Helsinki.osm.pbf", extent, &again)
        .await
        .expect("replaced");
    let found = store
        .map_features(extent, &[MapLayer::Road, MapLayer::Green])
        .await
        .expect("found");
    assert_eq!(found, again);
    assert_eq!(store.map_regions().await.expect("regions")[0].features, 1);

    assert_eq!(
        store.delete_map("Helsinki.osm.pbf").await.expect("removed"),
        1
    );
    assert!(store.map_regions().await.expect("regions").is_empty());
    assert_eq!(
        store.delete_map("Helsinki.osm.pbf").await.expect("nothing"),
        0
    );
}

#[tokio::test]
async fn an_unreadable_geometry_is_reported_as_corrupt() {
    let (_dir, path) = temp_path();
    let store = open(&path).await;
    store
        .replace_map("x.osm.pbf", area(0.0, 0.0, 1.0, 1.0), &[park()])
        .await
        .expect("stored");
    let mut conn = raw(&path).await;
    assert_eq!(count_rows(&mut conn, "map_features").await, 1);
    conn.execute("UPDATE map_features SET geometry = x'0102'")
        .await
        .expect("damaged");
    let err = store
        .map_features(area(0.0, 0.0, 90.0, 90.0), &[MapLayer::Green])
        .await
        .expect_err("corrupt");
    assert!(matches!(err, StoreError::Corrupt(_)), "{err:?}");
    assert!(err.to_string().contains("geometry"), "{err}");
}
