//! Basemap tiles: 256-pixel PNG squares in the Web Mercator grid every web map uses
//! (`/{z}/{x}/{y}.png`), drawn from the OpenStreetMap features of the imported regions.
//!
//! Each tile is written as an SVG document (water, land, parks, squares, buildings, railways,
//! streets with their casings, then street and park names along their lines) and rasterised
//! by `resvg`, the SVG renderer already in the build through typst: no map server, no WebGL,
//! nothing to fetch. Outside the imported regions a tile is transparent, so the country
//! outlines below show through. Labels are placed only where they fit inside the tile, so none
//! is cut at a tile's edge, and never over another label.

use std::fmt::Write as _;
use std::path::PathBuf;
use std::sync::Arc;

use resvg::tiny_skia;
use resvg::usvg;
use tripwright_domain::{BBox, GeoPoint, MapFeature, MapLayer};

/// Pixels on a tile's side.
pub const TILE_SIZE: u32 = 256;
/// The lowest zoom the basemap draws (a city's streets; below it, the country outlines).
pub const MIN_ZOOM: u8 = 12;
/// The highest zoom the basemap draws.
pub const MAX_ZOOM: u8 = 19;

/// The land's colour, where a region has data.
const LAND: &str = "#f2efe9";
const WATER: &str = "#aad3df";
/// Pixels kept free of labels along a tile's edges.
const LABEL_PADDING: f64 = 8.0;
/// The side of a label-collision cell in pixels.
const CELL: f64 = 8.0;

/// A tile of the grid.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct TileId {
    /// Zoom level.
    pub z: u8,
    /// Column, from the antimeridian eastwards.
    pub x: u32,
    /// Row, from the north.
    pub y: u32,
}

impl TileId {
    /// The tile, or `None` when it is outside the grid or the zooms the basemap draws.
    pub fn new(z: u8, x: u32, y: u32) -> Option<Self> {
        let n = 1u64 << z.min(31);
        ((MIN_ZOOM..=MAX_ZOOM).contains(&z) && u64::from(x) < n && u64::from(y) < n)
            .then_some(Self { z, x, y })
    }

    /// The tile's pixel position of `p`.
    fn pixel(&self, p: GeoPoint) -> (f64, f64) {
        let scale = f64::from(TILE_SIZE) * f64::from(1u32 << self.z);
        let lat = p.lat.clamp(-85.0511, 85.0511).to_radians();
        let x = (p.lon + 180.0) / 360.0 * scale;
        let y = (1.0 - (lat.tan() + 1.0 / lat.cos()).ln() / std::f64::consts::PI) / 2.0 * scale;
        (
            x - f64::from(self.x) * f64::from(TILE_SIZE),
            y - f64::from(self.y) * f64::from(TILE_SIZE),
        )
    }

    /// The longitude and latitude at world pixel (`x`, `y`) of zoom `z`.
    fn point_at(z: u8, x: f64, y: f64) -> GeoPoint {
        let scale = f64::from(TILE_SIZE) * f64::from(1u32 << z);
        let lon = x / scale * 360.0 - 180.0;
        let n = std::f64::consts::PI * (1.0 - 2.0 * y / scale);
        GeoPoint::new(n.sinh().atan().to_degrees(), lon)
    }

    /// The tile's box, grown by `margin` pixels on each side (what a wide street or a label
    /// just outside still needs).
    pub fn bbox(&self, margin: f64) -> BBox {
        let s = f64::from(TILE_SIZE);
        let (x0, y0) = (
            f64::from(self.x) * s - margin,
            f64::from(self.y) * s - margin,
        );
        let (x1, y1) = (x0 + s + 2.0 * margin, y0 + s + 2.0 * margin);
        let nw = Self::point_at(self.z, x0, y0);
        let se = Self::point_at(self.z, x1, y1);
        BBox {
            min_lat: se.lat,
            min_lon: nw.lon,
            max_lat: nw.lat,
            max_lon: se.lon,
        }
    }
}

/// The layers a zoom level draws: buildings and paths only when close enough to see them.
pub fn layers_at(z: u8) -> Vec<MapLayer> {
    let mut layers = vec![
        MapLayer::Water,
        MapLayer::Land,
        MapLayer::Green,
        MapLayer::Square,
        MapLayer::Rail,
        MapLayer::Road,
    ];
    if z >= 15 {
        layers.push(MapLayer::Building);
    }
    layers
}

/// How a road class is drawn: fill colour, casing colour, width at zoom 17 in pixels, dashes.
fn road_style(class: &str) -> (&'static str, &'static str, f64, Option<&'static str>) {
    match class {
        "motorway" => ("#e892a2", "#dc2a67", 14.0, None),
        "trunk" => ("#f9b29c", "#c84e2f", 14.0, None),
        "primary" => ("#fcd6a4", "#a06b00", 13.0, None),
        "secondary" => ("#f7fabf", "#707d05", 12.0, None),
        "tertiary" | "residential" | "unclassified" | "living_street" | "road" => {
            ("#ffffff", "#bbb2a8", 10.0, None)
        }
        "pedestrian" => ("#dddde8", "#999999", 9.0, None),
        "service" => ("#ffffff", "#bbb2a8", 5.0, None),
        "steps" => ("#fa8072", "", 3.0, Some("1.5,1.5")),
        "cycleway" => ("#4466ee", "", 1.4, Some("4,2")),
        _ => ("#fa8072", "", 1.4, Some("3,2")), // footway, path, track, bridleway
    }
}

/// A road class's drawing order (minor first, so major streets cross over them).
fn road_rank(class: &str) -> u8 {
    match class {
        "motorway" => 9,
        "trunk" => 8,
        "primary" => 7,
        "secondary" => 6,
        "tertiary" => 5,
        "residential" | "unclassified" | "living_street" | "road" | "pedestrian" => 4,
        "service" => 3,
        _ => 1,
    }
}

/// The zoom from which a road class is labelled.
fn label_zoom(class: &str) -> u8 {
    match road_rank(class) {
        5.. => 15,
        3..=4 => 16,
        _ => 18,
    }
}

fn road_width(class: &str, z: u8) -> f64 {
    let (_, casing, w17, _) = road_style(class);
    if casing.is_empty() {
        // Paths keep a hairline, a little wider close up.
        return if z >= 17 { w17 } else { w17 * 0.8 };
    }
    (w17 * 2f64.powi(i32::from(z) - 17)).clamp(1.2, w17 * 2.5)
}

fn escape(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

/// The basemap renderer, with the fonts its labels use.
#[derive(Clone)]
pub struct Renderer {
    fonts: Arc<usvg::fontdb::Database>,
}

impl Renderer {
    /// A renderer whose labels use the fonts in `font_dirs` (DejaVu Sans first): without
    /// fonts, tiles are drawn without names.
    pub fn new(font_dirs: &[PathBuf]) -> Self {
        let mut db = usvg::fontdb::Database::new();
        for dir in font_dirs {
            db.load_fonts_dir(dir);
        }
        db.set_sans_serif_family("DejaVu Sans");
        Self {
            fonts: Arc::new(db),
        }
    }

    /// Whether labels can be drawn.
    pub fn has_fonts(&self) -> bool {
        !self.fonts.is_empty()
    }

    /// The tile's SVG document: `regions` are the extents with map data (land is drawn inside
    /// them only), `features` what lies on the tile.
    pub fn svg(&self, tile: TileId, regions: &[BBox], features: &[MapFeature]) -> String {
        let size = TILE_SIZE;
        let mut svg = format!(
            r#"<svg xmlns="http://www.w3.org/2000/svg" width="{size}" height="{size}" viewBox="0 0 {size} {size}">"#
        );
        let area = tile.bbox(0.0);
        for r in regions.iter().filter(|r| r.intersects(&area)) {
            let (x0, y0) = tile.pixel(GeoPoint::new(r.max_lat, r.min_lon));
            let (x1, y1) = tile.pixel(GeoPoint::new(r.min_lat, r.max_lon));
            let _ = write!(
                svg,
                r#"<rect x="{:.1}" y="{:.1}" width="{:.1}" height="{:.1}" fill="{LAND}"/>"#,
                x0.max(-1.0),
                y0.max(-1.0),
                x1.min(257.0) - x0.max(-1.0),
                y1.min(257.0) - y0.max(-1.0)
            );
        }
        let of = |layer: MapLayer| features.iter().filter(move |f| f.layer == layer);
        for (layer, fill, stroke) in [
            (MapLayer::Water, WATER, ""),
            (MapLayer::Land, LAND, ""),
            (MapLayer::Green, "", ""),
            (MapLayer::Square, "#e4e2ec", "#c8c6d2"),
            (MapLayer::Building, "#e0d9d2", "#cdbfb4"),
        ] {
            for f in of(layer) {
                let fill = match (layer, f.class.as_str()) {
                    (MapLayer::Green, "wood" | "forest") => "#add19e",
                    (MapLayer::Green, "scrub" | "heath") => "#c8d7ab",
                    (MapLayer::Green, "cemetery") => "#aacbaf",
                    (MapLayer::Green, _) => "#cdebb0",
                    _ => fill,
                };
                let d = self.path(tile, &f.rings, true);
                let stroke = if stroke.is_empty() {
                    String::new()
                } else {
                    format!(r#" stroke="{stroke}" stroke-width="0.6""#)
                };
                let _ = write!(
                    svg,
                    r#"<path d="{d}" fill="{fill}" fill-rule="evenodd"{stroke}/>"#
                );
            }
        }
        for f in of(MapLayer::Rail) {
            let d = self.path(tile, &f.rings, false);
            let (w, dash) = if f.class == "tram" {
                (1.2, "")
            } else {
                (2.0, r#" stroke-dasharray="6,4""#)
            };
            let _ = write!(
                svg,
                r##"<path d="{d}" fill="none" stroke="#8a8a8a" stroke-width="{w}"{dash}/>"##
            );
        }
        // Footways and paths from zoom 15: farther out they are a fuzz of dashes.
        let mut roads: Vec<&MapFeature> = of(MapLayer::Road)
            .filter(|f| tile.z >= 15 || road_rank(&f.class) > 1)
            .collect();
        roads.sort_by_key(|f| road_rank(&f.class));
        // Casings under every fill, so crossings join cleanly.
        for f in roads.iter().filter(|f| !road_style(&f.class).1.is_empty()) {
            let (_, casing, _, _) = road_style(&f.class);
            let w = road_width(&f.class, tile.z) + if tile.z >= 15 { 2.0 } else { 1.0 };
            let d = self.path(tile, &f.rings, false);
            let _ = write!(
                svg,
                r#"<path d="{d}" fill="none" stroke="{casing}" stroke-width="{w:.1}" stroke-linecap="round" stroke-linejoin="round"/>"#
            );
        }
        for f in &roads {
            let (fill, _, _, dash) = road_style(&f.class);
            let w = road_width(&f.class, tile.z);
            let d = self.path(tile, &f.rings, false);
            let dash = dash
                .map(|d| format!(r#" stroke-dasharray="{d}""#))
                .unwrap_or_default();
            let _ = write!(
                svg,
                r#"<path d="{d}" fill="none" stroke="{fill}" stroke-width="{w:.1}" stroke-linecap="round" stroke-linejoin="round"{dash}/>"#
            );
        }
        if self.has_fonts() {
            self.labels(&mut svg, tile, &roads, features);
        }
        svg.push_str("</svg>");
        svg
    }

    /// SVG path data of `rings` in the tile's pixels.
    fn path(&self, tile: TileId, rings: &[Vec<GeoPoint>], close: bool) -> String {
        let mut d = String::new();
        for ring in rings {
            for (i, p) in ring.iter().enumerate() {
                let (x, y) = tile.pixel(*p);
                let _ = write!(d, "{}{x:.1} {y:.1}", if i == 0 { 'M' } else { 'L' });
            }
            if close {
                d.push('Z');
            }
        }
        d
    }

    /// Street names along their lines, then park and water names, where each fits.
    fn labels(
        &self,
        svg: &mut String,
        tile: TileId,
        roads: &[&MapFeature],
        features: &[MapFeature],
    ) {
        let size = if tile.z >= 17 { 12.0 } else { 11.0 };
        let mut taken = Occupied::default();
        let mut defs = String::new();
        let mut texts = String::new();
        // The longest fitting stretch of each name, major streets first.
        let mut best: Vec<(u8, String, Line, f64)> = Vec::new();
        // A street is mapped as many short ways: join the pieces of each name end to end.
        let mut lines: Vec<Named<'_>> = Vec::new();
        for f in roads.iter().rev() {
            let Some(name) = f.name.as_deref() else {
                continue;
            };
            if tile.z < label_zoom(&f.class) {
                continue;
            }
            lines.push((
                road_rank(&f.class),
                name,
                f.rings[0].iter().map(|p| tile.pixel(*p)).collect(),
            ));
        }
        for (rank, name, points) in join_lines(lines) {
            let Some((run, length)) = longest_inside_run(&points) else {
                continue;
            };
            let width = text_width(name, size);
            if length < width + 10.0 {
                continue;
            }
            match best.iter_mut().find(|b| b.1 == name) {
                Some(b) if b.3 >= length => {}
                Some(b) => *b = (rank, name.to_owned(), run, length),
                None => best.push((rank, name.to_owned(), run, length)),
            }
        }
        best.sort_by(|a, b| b.0.cmp(&a.0).then(b.3.total_cmp(&a.3)));
        for (i, (_, name, mut run, length)) in best.into_iter().enumerate() {
            let width = text_width(&name, size);
            if run[run.len() - 1].0 < run[0].0 {
                run.reverse();
            }
            let cells = cells_along(&run, (length - width) / 2.0, (length + width) / 2.0);
            if !taken.try_take(&cells) {
                continue;
            }
            let d: String = run
                .iter()
                .enumerate()
                .map(|(k, (x, y))| format!("{}{x:.1} {y:.1}", if k == 0 { 'M' } else { 'L' }))
                .collect();
            let _ = write!(defs, r#"<path id="l{i}" d="{d}"/>"#);
            let _ = write!(
                texts,
                r##"<text font-family="DejaVu Sans" font-size="{size}" fill="#3a3a3a" stroke="#ffffff" stroke-width="3" stroke-linejoin="round" paint-order="stroke" dominant-baseline="central"><textPath href="#l{i}" startOffset="50%" text-anchor="middle">{}</textPath></text>"##,
                escape(&name)
            );
        }
        // Named parks and lakes at their middle, from zoom 15.
        if tile.z >= 15 {
            for f in features
                .iter()
                .filter(|f| matches!(f.layer, MapLayer::Green | MapLayer::Water))
            {
                let Some(name) = f.name.as_deref() else {
                    continue;
                };
                let Some(b) = f.bbox() else { continue };
                let (x0, y0) = tile.pixel(GeoPoint::new(b.max_lat, b.min_lon));
                let (x1, y1) = tile.pixel(GeoPoint::new(b.min_lat, b.max_lon));
                let (cx, cy) = ((x0 + x1) / 2.0, (y0 + y1) / 2.0);
                let width = text_width(name, size);
                let inside = |v: f64, half: f64| {
                    v - half > LABEL_PADDING && v + half < 256.0 - LABEL_PADDING
                };
                if x1 - x0 < width || !inside(cx, width / 2.0) || !inside(cy, size) {
                    continue;
                }
                let line = [(cx - width / 2.0, cy), (cx + width / 2.0, cy)];
                if !taken.try_take(&cells_along(&line, 0.0, width)) {
                    continue;
                }
                let colour = if f.layer == MapLayer::Green {
                    "#2f6b1f"
                } else {
                    "#1f5f8b"
                };
                let _ = write!(
                    texts,
                    r##"<text x="{cx:.1}" y="{cy:.1}" font-family="DejaVu Sans" font-style="italic" font-size="{size}" fill="{colour}" stroke="#ffffff" stroke-width="3" stroke-linejoin="round" paint-order="stroke" text-anchor="middle" dominant-baseline="central">{}</text>"##,
                    escape(name)
                );
            }
        }
        if !defs.is_empty() {
            let _ = write!(svg, "<defs>{defs}</defs>");
        }
        svg.push_str(&texts);
    }

    /// The tile as a PNG: see [`Renderer::svg`].
    pub fn png(
        &self,
        tile: TileId,
        regions: &[BBox],
        features: &[MapFeature],
    ) -> Result<Vec<u8>, TileError> {
        let svg = self.svg(tile, regions, features);
        let options = usvg::Options {
            fontdb: Arc::clone(&self.fonts),
            font_family: "DejaVu Sans".to_owned(),
            ..usvg::Options::default()
        };
        let tree = usvg::Tree::from_str(&svg, &options).map_err(|e| TileError(e.to_string()))?;
        let mut pixmap = tiny_skia::Pixmap::new(TILE_SIZE, TILE_SIZE)
            .ok_or_else(|| TileError("no pixmap".to_owned()))?;
        resvg::render(
            &tree,
            tiny_skia::Transform::identity(),
            &mut pixmap.as_mut(),
        );
        pixmap.encode_png().map_err(|e| TileError(e.to_string()))
    }
}

/// A transparent tile: what is served outside the regions with map data.
pub fn empty_png() -> Vec<u8> {
    tiny_skia::Pixmap::new(TILE_SIZE, TILE_SIZE)
        .and_then(|p| p.encode_png().ok())
        .unwrap_or_default()
}

/// A tile could not be drawn.
#[derive(Debug, thiserror::Error)]
#[error("the map tile could not be drawn: {0}")]
pub struct TileError(String);

/// The label cells already used on a tile.
#[derive(Default)]
struct Occupied(std::collections::HashSet<(i32, i32)>);

impl Occupied {
    /// Takes `cells` if none is taken yet.
    fn try_take(&mut self, cells: &[(i32, i32)]) -> bool {
        if cells.iter().any(|c| self.0.contains(c)) {
            return false;
        }
        self.0.extend(cells.iter().copied());
        true
    }
}

/// An estimate of a DejaVu Sans text's width in pixels.
fn text_width(text: &str, size: f64) -> f64 {
    text.chars().count() as f64 * size * 0.62
}

/// A line in a tile's pixels.
type Line = Vec<(f64, f64)>;

/// A named line with its road rank.
type Named<'a> = (u8, &'a str, Line);

/// Joins lines of the same name whose ends meet (in either direction), keeping the highest rank.
fn join_lines(mut lines: Vec<Named<'_>>) -> Vec<Named<'_>> {
    let near = |a: (f64, f64), b: (f64, f64)| (a.0 - b.0).abs() < 0.5 && (a.1 - b.1).abs() < 0.5;
    let mut out = Vec::new();
    while let Some((mut rank, name, mut line)) = lines.pop() {
        while let Some(i) = lines.iter().position(|(_, n, other)| {
            *n == name
                && [line[0], line[line.len() - 1]]
                    .iter()
                    .any(|&e| near(e, other[0]) || near(e, other[other.len() - 1]))
        }) {
            let (r, _, mut other) = lines.swap_remove(i);
            rank = rank.max(r);
            let end = line[line.len() - 1];
            if near(end, other[0]) {
                line.extend_from_slice(&other[1..]);
            } else if near(end, other[other.len() - 1]) {
                other.reverse();
                line.extend_from_slice(&other[1..]);
            } else if near(line[0], other[other.len() - 1]) {
                other.extend_from_slice(&line[1..]);
                line = other;
            } else {
                other.reverse();
                other.extend_from_slice(&line[1..]);
                line = other;
            }
        }
        out.push((rank, name, line));
    }
    out
}

/// The longest run of consecutive points inside the tile's label area, with its length.
fn longest_inside_run(points: &[(f64, f64)]) -> Option<(Vec<(f64, f64)>, f64)> {
    let inside = |(x, y): (f64, f64)| {
        (LABEL_PADDING..=256.0 - LABEL_PADDING).contains(&x)
            && (LABEL_PADDING..=256.0 - LABEL_PADDING).contains(&y)
    };
    let mut best: Option<(Vec<(f64, f64)>, f64)> = None;
    let mut run: Vec<(f64, f64)> = Vec::new();
    let mut flush = |run: &mut Vec<(f64, f64)>| {
        let length = polyline_length(run);
        if run.len() >= 2 && best.as_ref().is_none_or(|b| b.1 < length) {
            best = Some((run.clone(), length));
        }
        run.clear();
    };
    for &p in points {
        if inside(p) {
            run.push(p);
        } else {
            flush(&mut run);
        }
    }
    flush(&mut run);
    best
}

fn polyline_length(points: &[(f64, f64)]) -> f64 {
    points
        .windows(2)
        .map(|w| (w[1].0 - w[0].0).hypot(w[1].1 - w[0].1))
        .sum()
}

/// The collision cells around the stretch `from..to` (pixels along `line`).
fn cells_along(line: &[(f64, f64)], from: f64, to: f64) -> Vec<(i32, i32)> {
    let mut cells = Vec::new();
    let mut walked = 0.0;
    for w in line.windows(2) {
        let seg = (w[1].0 - w[0].0).hypot(w[1].1 - w[0].1);
        let mut s = 0.0;
        while s <= seg {
            let at = walked + s;
            if (from..=to).contains(&at) {
                let t = if seg > 0.0 { s / seg } else { 0.0 };
                let (x, y) = (
                    w[0].0 + (w[1].0 - w[0].0) * t,
                    w[0].1 + (w[1].1 - w[0].1) * t,
                );
                let (cx, cy) = ((x / CELL).floor() as i32, (y / CELL).floor() as i32);
                for dx in -1..=1 {
                    for dy in -1..=1 {
                        cells.push((cx + dx, cy + dy));
                    }
                }
            }
            s += CELL / 2.0;
        }
        walked += seg;
    }
    cells.sort_unstable();
    cells.dedup();
    cells
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tiles_cover_the_grid_and_points_fall_on_their_tile() {
        assert!(TileId::new(11, 0, 0).is_none(), "below the basemap's zooms");
        assert!(TileId::new(12, 4096, 0).is_none(), "outside the grid");
        // Helsinki's Senate Square at zoom 16.
        let senate = GeoPoint::new(60.1693, 24.9525);
        let tile = TileId::new(16, 37310, 18969).expect("a tile");
        let (x, y) = tile.pixel(senate);
        assert!(
            (0.0..256.0).contains(&x) && (0.0..256.0).contains(&y),
            "{x} {y}"
        );
        assert!(tile.bbox(0.0).contains(senate));
        assert!(!tile.bbox(0.0).contains(GeoPoint::new(60.18, 24.9525)));
    }
}
