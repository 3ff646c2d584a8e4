//! The street map of the shipped Helsinki extract: tiles drawn from it, walks routed on it.

use std::path::PathBuf;

use resvg::tiny_skia::Pixmap;
use tripwright_data::osm_map::{MapImport, import_map};
use tripwright_domain::{GeoPoint, MapFeature};
use tripwright_map::route::StreetGraph;
use tripwright_map::tiles::{Renderer, TileId, layers_at};

fn helsinki() -> MapImport {
    import_map(&tripwright_testkit::assets::asset(
        "data/osm/Helsinki.osm.pbf",
    ))
    .expect("the shipped extract reads")
}

fn tile_of(p: GeoPoint, z: u8) -> (TileId, u32, u32) {
    let n = f64::from(1u32 << z) * 256.0;
    let x = (p.lon + 180.0) / 360.0 * n;
    let lat = p.lat.to_radians();
    let y = (1.0 - (lat.tan() + 1.0 / lat.cos()).ln() / std::f64::consts::PI) / 2.0 * n;
    let id = TileId::new(z, (x / 256.0) as u32, (y / 256.0) as u32).expect("a tile");
    (id, (x % 256.0) as u32, (y % 256.0) as u32)
}

fn on(id: TileId, features: &[MapFeature]) -> Vec<MapFeature> {
    let area = id.bbox(16.0);
    let layers = layers_at(id.z);
    features
        .iter()
        .filter(|f| layers.contains(&f.layer) && f.bbox().is_some_and(|b| b.intersects(&area)))
        .cloned()
        .collect()
}

#[test]
fn a_tile_shows_the_sea_the_land_and_the_street_names() {
    let map = helsinki();
    let regions: Vec<_> = map.extent.into_iter().collect();
    let renderer = Renderer::new(&[PathBuf::from("/usr/share/fonts/truetype/dejavu")]);
    // The bay north of Kaisaniemi park, and the park, on one zoom-16 tile.
    let bay = GeoPoint::new(60.1767, 24.9473);
    let (id, bx, by) = tile_of(bay, 16);
    let png = renderer
        .png(id, &regions, &on(id, &map.features))
        .expect("drawn");
    let pixmap = Pixmap::decode_png(&png).expect("a PNG");
    assert_eq!((pixmap.width(), pixmap.height()), (256, 256));
    let colour = |x: u32, y: u32| {
        let p = pixmap.pixel(x, y).expect("on the tile");
        (p.red(), p.green(), p.blue(), p.alpha())
    };
    assert_eq!(colour(bx, by), (0xaa, 0xd3, 0xdf, 255), "the bay is water");
    let opaque = (0..256)
        .flat_map(|y| (0..256).map(move |x| (x, y)))
        .filter(|&(x, y)| colour(x, y).3 == 255)
        .count();
    assert!(
        opaque > 256 * 200,
        "the region covers most of the tile: {opaque}"
    );

    // Street names are written along the streets at zoom 16, where they fit.
    let (id, _, _) = tile_of(GeoPoint::new(60.1686, 24.9413), 16);
    let svg = renderer.svg(id, &regions, &on(id, &map.features));
    assert!(svg.contains("<textPath"), "labels along the streets");
    assert!(
        svg.contains(">Mannerheimintie</textPath>"),
        "the main street is named"
    );
    let labels = svg.matches("<textPath").count();
    assert!(labels <= 12, "{labels} labels crowd one tile");

    // Far from the extract, a tile is transparent: the country outlines show through.
    let (far, _, _) = tile_of(GeoPoint::new(60.2500, 25.1000), 16);
    let png = renderer
        .png(far, &regions, &on(far, &map.features))
        .expect("drawn");
    let pixmap = Pixmap::decode_png(&png).expect("a PNG");
    assert!(pixmap.pixels().iter().all(|p| p.alpha() == 0));
}

#[test]
fn walks_follow_the_streets_of_central_helsinki() {
    let map = helsinki();
    let graph = StreetGraph::build(&map.features);
    assert!(graph.node_count() > 3000, "{} nodes", graph.node_count());
    // From the railway station square to the Esplanadi park's bandstand.
    let station = GeoPoint::new(60.1710, 24.9414);
    let esplanadi = GeoPoint::new(60.1676, 24.9469);
    let straight = station.distance_km(&esplanadi);
    let walk = graph.route(station, esplanadi).expect("a walk");
    assert!(
        walk.km >= straight,
        "{} km < {straight} km straight",
        walk.km
    );
    assert!(
        walk.km <= straight * 1.6,
        "{} km for {straight} km straight",
        walk.km
    );
    assert!(walk.points.len() > 5, "it turns corners: {:?}", walk.points);
    assert_eq!(walk.points.first(), Some(&station));
    assert_eq!(walk.points.last(), Some(&esplanadi));
    let extent = map.extent.expect("an extent");
    assert!(walk.points.iter().all(|p| extent.contains(*p)));
    // Each step is short: the walk is on the street network, not across blocks.
    for w in walk.points.windows(2) {
        assert!(
            w[0].distance_km(&w[1]) < 0.35,
            "a {} km jump",
            w[0].distance_km(&w[1])
        );
    }
    // Out in the Gulf of Finland there is no street to walk.
    assert!(graph.route(station, GeoPoint::new(60.10, 24.95)).is_none());
}
