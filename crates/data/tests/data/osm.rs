//! OpenStreetMap import against the shipped Helsinki extract and the peer parser's reference
//! (`fixtures/helsinki_osm_reference.json`, read by pyosmium).

use std::time::Instant;

use serde::Deserialize;
use tripwright_data::osm::{CategoryCount, OsmError, import_pbf};
use tripwright_domain::PlaceCategory;
use tripwright_testkit::assets::{asset, repo_root};

#[derive(Deserialize)]
struct Reference {
    counts: std::collections::BTreeMap<String, ReferenceCount>,
    grocery: Vec<ReferenceShop>,
}

#[derive(Deserialize)]
struct ReferenceCount {
    node: usize,
    way: usize,
    way_unlocatable: usize,
}

#[derive(Deserialize)]
struct ReferenceShop {
    id: String,
    name: String,
    shop: String,
    lat: f64,
    lon: f64,
}

fn reference() -> Reference {
    let path = repo_root().join("fixtures/helsinki_osm_reference.json");
    let text = std::fs::read_to_string(path).expect("fixtures/helsinki_osm_reference.json");
    serde_json::from_str(&text).expect("reference fixture parses")
}

#[test]
fn helsinki_matches_the_peer_parser() {
    let path = asset("data/osm/Helsinki.osm.pbf");
    let started = Instant::now();
    let import = import_pbf(&path).expect("Helsinki extract imports");
    println!(
        "imported {} places from {} in {:?} ({} unlocatable ways, {} missing node refs)",
        import.places.len(),
        path.display(),
        started.elapsed(),
        import.unlocatable,
        import.missing_node_refs
    );

    let reference = reference();
    for category in PlaceCategory::ALL {
        let expected = &reference.counts[category.as_str()];
        let expected = CategoryCount {
            node: expected.node,
            way: expected.way,
            way_unlocatable: expected.way_unlocatable,
        };
        assert_eq!(import.counts[&category], expected, "{}", category.as_str());
    }
    // Two statues are tagged both `tourism=artwork` and `historic=memorial`: the reference
    // counts them as artworks and as attractions; they are imported once, as artworks.
    let memorials = ["osm:node/60131839", "osm:node/60131847"];
    for id in memorials {
        let place = import.places.iter().find(|p| p.id == id).expect(id);
        assert_eq!(place.category, PlaceCategory::Artwork, "{id}");
        assert_eq!(place.kind, "artwork", "{id}");
        assert_eq!(place.tag("historic"), Some("memorial"), "{id}");
    }
    for category in PlaceCategory::ALL {
        let count = import.counts[&category];
        let twice_counted = match category {
            PlaceCategory::Attraction => memorials.len(),
            _ => 0,
        };
        let places = import
            .places
            .iter()
            .filter(|place| place.category == category)
            .count();
        assert_eq!(
            places + twice_counted,
            count.node + count.way,
            "{}",
            category.as_str()
        );
    }
    let unlocatable: usize = import.counts.values().map(|c| c.way_unlocatable).sum();
    assert_eq!(import.unlocatable, unlocatable);

    let mut grocery: Vec<_> = import
        .places
        .iter()
        .filter(|place| place.category == PlaceCategory::Grocery)
        .collect();
    grocery.sort_by(|a, b| a.id.cmp(&b.id));
    let mut expected = reference.grocery;
    expected.sort_by(|a, b| a.id.cmp(&b.id));
    assert_eq!(
        grocery.iter().map(|p| p.id.as_str()).collect::<Vec<_>>(),
        expected.iter().map(|s| s.id.as_str()).collect::<Vec<_>>()
    );
    for (place, shop) in grocery.iter().zip(&expected) {
        assert_eq!(place.name, shop.name, "{}", shop.id);
        assert_eq!(place.kind, shop.shop, "{}", shop.id);
        assert_eq!(place.tag("shop"), Some(shop.shop.as_str()), "{}", shop.id);
        assert!(
            (place.lat - shop.lat).abs() < 1e-6 && (place.lon - shop.lon).abs() < 1e-6,
            "{} at ({}, {}), reference ({}, {})",
            shop.id,
            place.lat,
            place.lon,
            shop.lat,
            shop.lon
        );
    }
}

#[test]
fn places_carry_kind_tags_and_plausible_locations() {
    let import = import_pbf(&asset("data/osm/Helsinki.osm.pbf")).expect("imports");
    for place in &import.places {
        assert!(!place.name.is_empty(), "{}", place.id);
        // As people read it: "Äiti ja lapset;Kaksi lasta" is "Äiti ja lapset and Kaksi lasta".
        assert_eq!(
            place
                .tag("name")
                .map(tripwright_domain::readable_name)
                .as_deref(),
            Some(place.name.as_str()),
            "{}",
            place.id
        );
        assert_eq!(
            place.opening_hours.as_deref(),
            place.tag("opening_hours"),
            "{}",
            place.id
        );
        // The extract covers central Helsinki; a way centroid far away means a bad mean.
        assert!(
            (60.0..60.4).contains(&place.lat) && (24.7..25.2).contains(&place.lon),
            "{} at ({}, {})",
            place.id,
            place.lat,
            place.lon
        );
        let kind_tag = match place.kind.strip_prefix("historic:") {
            Some(historic) => place.tag("historic") == Some(historic),
            None => ["tourism", "amenity", "shop"]
                .iter()
                .any(|key| place.tag(key) == Some(place.kind.as_str())),
        };
        assert!(
            kind_tag,
            "{} kind {} not among its tags",
            place.id, place.kind
        );
    }
    let ways = import
        .places
        .iter()
        .filter(|p| p.id.as_str().starts_with("osm:way/"))
        .count();
    assert_eq!(ways, 13, "ways in the reference counts");
    assert!(
        import
            .places
            .iter()
            .any(|p| p.kind == "museum" && p.opening_hours.is_some())
    );
}

#[test]
fn test_extract_parses() {
    let import = import_pbf(&asset("data/osm/test.osm.pbf")).expect("test extract imports");
    println!(
        "test.osm.pbf: {} places, {:?}, {} unlocatable, {} missing refs",
        import.places.len(),
        import.counts,
        import.unlocatable,
        import.missing_node_refs
    );
    // The test extract holds a single named grocery shop (a node).
    assert_eq!(import.places.len(), 1, "{:?}", import.places);
    assert_eq!(import.places[0].category, PlaceCategory::Grocery);
    assert!(import.places[0].id.as_str().starts_with("osm:node/"));
    assert_eq!(import.counts.len(), PlaceCategory::ALL.len());
    assert_eq!(import.counts[&PlaceCategory::Grocery].node, 1);
}

#[test]
fn bad_files_are_errors_naming_the_path() {
    let dir = tempfile::tempdir().expect("temp dir");
    let fake = dir.path().join("not-a-map.osm.pbf");
    std::fs::write(
        &fake,
        b"<?xml version='1.0'?><osm></osm> this is not a PBF file",
    )
    .unwrap();
    let err = import_pbf(&fake).expect_err("XML is not PBF");
    assert!(matches!(err, OsmError::Parse { .. }), "{err:?}");
    assert!(err.to_string().contains("not-a-map.osm.pbf"), "{err}");

    let empty = dir.path().join("empty.osm.pbf");
    std::fs::write(&empty, b"").unwrap();
    let err = import_pbf(&empty).expect_err("empty file");
    assert!(matches!(err, OsmError::Empty { .. }), "{err:?}");
    assert!(err.to_string().contains("empty.osm.pbf"), "{err}");

    let helsinki = std::fs::read(asset("data/osm/Helsinki.osm.pbf")).unwrap();
    let truncated = dir.path().join("truncated.osm.pbf");
    std::fs::write(&truncated, &helsinki[..helsinki.len() / 2]).unwrap();
    let err = import_pbf(&truncated).expect_err("truncated file");
    assert!(matches!(err, OsmError::Parse { .. }), "{err:?}");
    assert!(err.to_string().contains("truncated.osm.pbf"), "{err}");

    let missing = dir.path().join("missing.osm.pbf");
    let err = import_pbf(&missing).expect_err("missing file");
    assert!(matches!(err, OsmError::Open { .. }), "{err:?}");
    assert!(err.to_string().contains("missing.osm.pbf"), "{err}");
}
