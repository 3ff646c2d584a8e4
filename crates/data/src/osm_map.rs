//! The street map of an OpenStreetMap extract: streets and paths (with their node ids, for the
//! walking graph), railways, water, the sea (built from the coastline), parks, squares and
//! buildings, as [`MapFeature`]s for the basemap tiles and the walking routes.
//!
//! Three passes over the file keep memory to the features kept: the multipolygon relations
//! first (which ways they are made of), then the ways, then the coordinates of the nodes those
//! ways use. Areas mapped as relations are assembled into rings from their member ways.
//!
//! The sea has no polygon in OpenStreetMap: the coastline is a line with the land on its left.
//! Inside the extract, the sea is the area on the right of each coastline chain, closed along
//! the extract's border (the method of `osmcoastline`, for one box): from where a chain leaves
//! the box, follow the border clockwise to where the next chain enters.

use std::collections::{HashMap, HashSet};
use std::path::Path;

use osmpbf::{Element, ElementReader, RelMemberType};
use tripwright_domain::{BBox, GeoPoint, MapFeature, MapLayer};

use crate::osm::OsmError;

/// What [`import_map`] read.
#[derive(Debug, Clone, Default)]
pub struct MapImport {
    /// The features, in file order (relations' areas and the sea last).
    pub features: Vec<MapFeature>,
    /// The extent of every node in the file: what the map covers.
    pub extent: Option<BBox>,
}

impl MapImport {
    /// How many features are on `layer`.
    pub fn count(&self, layer: MapLayer) -> usize {
        self.features.iter().filter(|f| f.layer == layer).count()
    }
}

/// The layer, class and walkability of an element by its tags, or `None` for what the map
/// does not draw.
fn classify<'a>(
    tags: impl Iterator<Item = (&'a str, &'a str)>,
) -> Option<(MapLayer, String, bool)> {
    let tags: HashMap<&str, &str> = tags.collect();
    let get = |k: &str| tags.get(k).copied();
    if let Some(h) = get("highway") {
        if get("area") == Some("yes") && matches!(h, "pedestrian" | "footway" | "service") {
            return Some((MapLayer::Square, h.to_owned(), false));
        }
        let class = match h {
            "motorway" | "motorway_link" | "trunk" | "trunk_link" => h.trim_end_matches("_link"),
            "primary" | "primary_link" | "secondary" | "secondary_link" | "tertiary"
            | "tertiary_link" => h.trim_end_matches("_link"),
            "residential" | "unclassified" | "living_street" | "service" | "road" => h,
            "pedestrian" | "footway" | "path" | "cycleway" | "steps" | "track" | "bridleway" => h,
            _ => return None,
        };
        let closed_to_walkers = |v: Option<&str>| matches!(v, Some("no" | "private"));
        let foot = get("foot");
        // Private access closes a way unless walkers are let in by name.
        let let_in = matches!(foot, Some("yes" | "designated"));
        let walkable = class != "motorway"
            && !closed_to_walkers(foot)
            && (!closed_to_walkers(get("access")) || let_in);
        return Some((MapLayer::Road, class.to_owned(), walkable));
    }
    if let Some(r) = get("railway")
        && matches!(r, "rail" | "tram" | "light_rail" | "narrow_gauge")
        && get("tunnel").is_none_or(|t| t == "no")
    {
        return Some((MapLayer::Rail, r.to_owned(), false));
    }
    let water = get("natural") == Some("water")
        || get("waterway") == Some("riverbank")
        || matches!(get("landuse"), Some("reservoir" | "basin"));
    if water {
        return Some((MapLayer::Water, "water".to_owned(), false));
    }
    let green = match (get("leisure"), get("landuse"), get("natural")) {
        (Some(v @ ("park" | "garden" | "nature_reserve")), _, _) => Some(v),
        (
            _,
            Some(
                v @ ("grass" | "forest" | "meadow" | "cemetery" | "recreation_ground"
                | "village_green"),
            ),
            _,
        ) => Some(v),
        (_, _, Some(v @ ("wood" | "scrub" | "grassland" | "heath"))) => Some(v),
        _ => None,
    };
    if let Some(v) = green {
        return Some((MapLayer::Green, v.to_owned(), false));
    }
    if get("place") == Some("square") || get("amenity") == Some("marketplace") {
        return Some((MapLayer::Square, "square".to_owned(), false));
    }
    if get("building").is_some_and(|b| b != "no") {
        return Some((MapLayer::Building, "building".to_owned(), false));
    }
    None
}

/// An area relation: what it is and the ways it is made of.
struct AreaRelation {
    layer: MapLayer,
    class: String,
    name: Option<String>,
    ways: Vec<i64>,
}

/// A way kept for drawing.
struct KeptWay {
    layer: MapLayer,
    class: String,
    name: Option<String>,
    walkable: bool,
    refs: Vec<i64>,
}

fn name_of<'a>(mut tags: impl Iterator<Item = (&'a str, &'a str)>) -> Option<String> {
    tags.find(|(k, _)| *k == "name").map(|(_, v)| v.to_owned())
}

/// Builds a street map from OpenStreetMap elements given in three rounds, as a `.osm.pbf`
/// extract or an Overpass answer holds them: every relation first, then every way, then every
/// node (only the nodes of kept ways are remembered).
#[derive(Default)]
pub struct MapBuilder {
    relations: Vec<AreaRelation>,
    members: HashSet<i64>,
    kept: Vec<KeptWay>,
    member_refs: HashMap<i64, Vec<i64>>,
    coast: Vec<Vec<i64>>,
    needed: HashSet<i64>,
    coords: HashMap<i64, GeoPoint>,
}

impl MapBuilder {
    /// A relation with its member ways' ids: kept when it is a multipolygon the map draws.
    pub fn relation<'a>(
        &mut self,
        tags: impl Iterator<Item = (&'a str, &'a str)> + Clone,
        member_ways: impl Iterator<Item = i64>,
    ) {
        let is_multipolygon = tags
            .clone()
            .any(|(k, v)| k == "type" && v == "multipolygon");
        let Some((layer, class, _)) = classify(tags.clone()) else {
            return;
        };
        if !is_multipolygon || !layer.is_area() {
            return;
        }
        let ways: Vec<i64> = member_ways.collect();
        self.members.extend(ways.iter().copied());
        self.relations.push(AreaRelation {
            layer,
            class,
            name: name_of(tags),
            ways,
        });
    }

    /// A way with its node ids: kept when the map draws it, when it is part of a kept relation
    /// or when it is coastline. All relations must have been given first.
    pub fn way<'a>(
        &mut self,
        id: i64,
        tags: impl Iterator<Item = (&'a str, &'a str)> + Clone,
        refs: impl Iterator<Item = i64>,
    ) {
        let is_member = self.members.contains(&id);
        let is_coast = tags
            .clone()
            .any(|(k, v)| k == "natural" && v == "coastline");
        let class = classify(tags.clone());
        if class.is_none() && !is_member && !is_coast {
            return;
        }
        let refs: Vec<i64> = refs.collect();
        self.needed.extend(refs.iter().copied());
        if is_member {
            self.member_refs.insert(id, refs.clone());
        }
        if is_coast {
            self.coast.push(refs.clone());
        }
        if let Some((layer, class, walkable)) = class {
            // An area needs a closed way; an open one tagged as an area is a broken outline.
            if layer.is_area() && (refs.len() < 4 || refs.first() != refs.last()) {
                return;
            }
            self.kept.push(KeptWay {
                layer,
                class,
                name: name_of(tags),
                walkable,
                refs,
            });
        }
    }

    /// A node: remembered when a kept way uses it.
    pub fn node(&mut self, id: i64, p: GeoPoint) {
        if self.needed.contains(&id) {
            self.coords.insert(id, p);
        }
    }

    /// The features, with the sea built from the coastline within `extent` (where the data is
    /// complete: the whole extract, or the box an Overpass query asked for).
    pub fn finish(self, extent: Option<BBox>) -> MapImport {
        let coords = self.coords;
        let mut import = MapImport {
            extent,
            ..MapImport::default()
        };
        for way in self.kept {
            // Nodes outside a clipped extract are left out of the line (or ring).
            let (points, nodes): (Vec<GeoPoint>, Vec<i64>) = way
                .refs
                .iter()
                .filter_map(|id| coords.get(id).map(|p| (*p, *id)))
                .unzip();
            if points.len() < 2 {
                continue;
            }
            let is_road = way.layer == MapLayer::Road;
            import.features.push(MapFeature {
                layer: way.layer,
                class: way.class,
                name: way.name,
                rings: vec![points],
                nodes: if is_road { nodes } else { Vec::new() },
                walkable: way.walkable,
            });
        }
        for rel in self.relations {
            let parts = rel
                .ways
                .iter()
                .filter_map(|id| self.member_refs.get(id).cloned())
                .collect();
            let rings: Vec<Vec<GeoPoint>> = join(parts, true)
                .into_iter()
                .filter_map(|ring| ring.iter().map(|id| coords.get(id).copied()).collect())
                .collect();
            if !rings.is_empty() {
                import.features.push(MapFeature {
                    layer: rel.layer,
                    class: rel.class,
                    name: rel.name,
                    rings,
                    nodes: Vec::new(),
                    walkable: false,
                });
            }
        }
        if let Some(extent) = extent {
            let chains: Vec<Vec<GeoPoint>> = join(self.coast, false)
                .into_iter()
                .map(|c| {
                    c.iter()
                        .filter_map(|id| coords.get(id).copied())
                        .collect::<Vec<_>>()
                })
                .flat_map(|c| clip_chain(&c, &extent))
                .filter(|c| c.len() >= 2)
                .collect();
            import.features.extend(sea_areas(&chains, extent));
        }
        import
    }
}

/// Reads the street map of the `.osm.pbf` extract at `path` (see the module documentation).
pub fn import_map(path: &Path) -> Result<MapImport, OsmError> {
    let parse_error = |source| OsmError::Parse {
        path: path.to_owned(),
        source,
    };
    let reader = || {
        if std::fs::metadata(path).is_ok_and(|m| m.len() == 0) {
            return Err(OsmError::Empty {
                path: path.to_owned(),
            });
        }
        let file = std::fs::File::open(path).map_err(|source| OsmError::Open {
            path: path.to_owned(),
            source,
        })?;
        Ok(ElementReader::new(std::io::BufReader::new(file)))
    };
    let mut map = MapBuilder::default();
    // 1. Area relations and their member ways.
    reader()?
        .for_each(|element| {
            if let Element::Relation(rel) = element {
                map.relation(
                    rel.tags(),
                    rel.members()
                        .filter(|m| m.member_type == RelMemberType::Way)
                        .map(|m| m.member_id),
                );
            }
        })
        .map_err(parse_error)?;
    // 2. The ways drawn, the relations' members and the coastline.
    reader()?
        .for_each(|element| {
            if let Element::Way(way) = element {
                map.way(way.id(), way.tags(), way.refs());
            }
        })
        .map_err(parse_error)?;
    // 3. Coordinates of the nodes used, and the extent of the whole file.
    let mut extent: Option<BBox> = None;
    reader()?
        .for_each(|element| {
            let (id, p) = match element {
                Element::Node(n) => (n.id(), GeoPoint::new(n.lat(), n.lon())),
                Element::DenseNode(n) => (n.id(), GeoPoint::new(n.lat(), n.lon())),
                _ => return,
            };
            match extent.as_mut() {
                Some(b) => b.include(p),
                None => extent = BBox::around([&p]),
            }
            map.node(id, p);
        })
        .map_err(parse_error)?;
    Ok(map.finish(extent))
}

/// The parts of `chain` inside `b`, cut where it crosses the border (at the crossing points),
/// so that a coastline running on beyond the box still starts and ends on its border.
fn clip_chain(chain: &[GeoPoint], b: &BBox) -> Vec<Vec<GeoPoint>> {
    if chain.iter().all(|p| b.contains(*p)) {
        return vec![chain.to_vec()];
    }
    let mut parts = Vec::new();
    let mut current: Vec<GeoPoint> = Vec::new();
    for w in chain.windows(2) {
        let Some((s, e)) = clip_segment(w[0], w[1], b) else {
            if current.len() >= 2 {
                parts.push(std::mem::take(&mut current));
            }
            current.clear();
            continue;
        };
        if current.last() != Some(&s) {
            if current.len() >= 2 {
                parts.push(std::mem::take(&mut current));
            }
            current = vec![s];
        }
        current.push(e);
        if e != w[1] {
            // It leaves the box here.
            parts.push(std::mem::take(&mut current));
        }
    }
    if current.len() >= 2 {
        parts.push(current);
    }
    parts
}

/// The part of the segment `a`–`c` inside `b` (Liang–Barsky), if any.
fn clip_segment(a: GeoPoint, c: GeoPoint, b: &BBox) -> Option<(GeoPoint, GeoPoint)> {
    let (dx, dy) = (c.lon - a.lon, c.lat - a.lat);
    let (mut t0, mut t1) = (0.0_f64, 1.0_f64);
    for (p, q) in [
        (-dx, a.lon - b.min_lon),
        (dx, b.max_lon - a.lon),
        (-dy, a.lat - b.min_lat),
        (dy, b.max_lat - a.lat),
    ] {
        if p == 0.0 {
            if q < 0.0 {
                return None;
            }
        } else {
            let r = q / p;
            if p < 0.0 {
                t0 = t0.max(r);
            } else {
                t1 = t1.min(r);
            }
        }
    }
    if t0 > t1 {
        return None;
    }
    let at = |t: f64| {
        if t == 0.0 {
            a
        } else if t == 1.0 {
            c
        } else {
            GeoPoint::new(a.lat + t * dy, a.lon + t * dx)
        }
    };
    Some((at(t0), at(t1)))
}

/// Joins ways (node id lists) that share end nodes into longer lines. With `closed_only`, only
/// the closed rings are returned and ways may be reversed to fit (multipolygon members);
/// without, the direction is kept (the coastline's land is on its left) and open lines are
/// returned too.
fn join(mut parts: Vec<Vec<i64>>, closed_only: bool) -> Vec<Vec<i64>> {
    parts.retain(|p| p.len() >= 2);
    let mut out = Vec::new();
    while let Some(mut line) = parts.pop() {
        loop {
            if line.len() > 2 && line.first() == line.last() {
                break;
            }
            let end = *line.last().unwrap_or(&0);
            let start = line[0];
            let next = parts.iter().position(|p| {
                p[0] == end || (closed_only && p.last() == Some(&end)) || p.last() == Some(&start)
            });
            let Some(i) = next else { break };
            let mut part = parts.swap_remove(i);
            if part[0] == end {
                line.extend_from_slice(&part[1..]);
            } else if part.last() == Some(&start) && (!closed_only || part[0] != end) {
                part.extend_from_slice(&line[1..]);
                line = part;
            } else {
                part.reverse();
                line.extend_from_slice(&part[1..]);
            }
        }
        let closed = line.len() > 3 && line.first() == line.last();
        if closed || !closed_only {
            out.push(line);
        }
    }
    out
}

/// Where `p` (on the border of `b`) is along the border, measured clockwise from the
/// north-west corner in degrees.
fn border_position(p: GeoPoint, b: &BBox) -> f64 {
    let (w, h) = (b.max_lon - b.min_lon, b.max_lat - b.min_lat);
    let d = [
        (p.lat - b.max_lat).abs(),
        (p.lon - b.max_lon).abs(),
        (p.lat - b.min_lat).abs(),
        (p.lon - b.min_lon).abs(),
    ];
    let edge = (0..4).min_by(|&i, &j| d[i].total_cmp(&d[j])).unwrap_or(0);
    match edge {
        0 => p.lon - b.min_lon,
        1 => w + (b.max_lat - p.lat),
        2 => w + h + (b.max_lon - p.lon),
        _ => 2.0 * w + h + (p.lat - b.min_lat),
    }
}

/// The point of the border of `b` at `t` (see [`border_position`]).
fn border_point(t: f64, b: &BBox) -> GeoPoint {
    let (w, h) = (b.max_lon - b.min_lon, b.max_lat - b.min_lat);
    let t = t.rem_euclid(2.0 * (w + h));
    if t <= w {
        GeoPoint::new(b.max_lat, b.min_lon + t)
    } else if t <= w + h {
        GeoPoint::new(b.max_lat - (t - w), b.max_lon)
    } else if t <= 2.0 * w + h {
        GeoPoint::new(b.min_lat, b.max_lon - (t - w - h))
    } else {
        GeoPoint::new(b.min_lat + (t - 2.0 * w - h), b.min_lon)
    }
}

/// Twice the signed area of a ring (positive when counter-clockwise, north up).
fn signed_area(ring: &[GeoPoint]) -> f64 {
    ring.windows(2)
        .map(|w| w[0].lon * w[1].lat - w[1].lon * w[0].lat)
        .sum()
}

/// The sea inside `extent` from the coastline `chains` (open ones end on or near its border):
/// water areas, and islands as land.
fn sea_areas(chains: &[Vec<GeoPoint>], extent: BBox) -> Vec<MapFeature> {
    let area = |layer, rings| MapFeature {
        layer,
        class: if layer == MapLayer::Water {
            "sea"
        } else {
            "island"
        }
        .to_owned(),
        name: None,
        rings,
        nodes: Vec::new(),
        walkable: false,
    };
    let mut out = Vec::new();
    let (closed, open): (Vec<&Vec<GeoPoint>>, Vec<&Vec<GeoPoint>>) = chains
        .iter()
        .partition(|c| c.len() > 3 && c.first() == c.last());
    for ring in &closed {
        // Land on the left: a counter-clockwise ring is an island, a clockwise one a lake.
        let layer = if signed_area(ring) > 0.0 {
            MapLayer::Land
        } else {
            MapLayer::Water
        };
        out.push(area(layer, vec![(*ring).clone()]));
    }
    if open.is_empty() {
        if !closed.is_empty() && closed.iter().any(|r| signed_area(r) > 0.0) {
            // Only islands: everything around them is sea (drawn first, islands over it).
            let b = extent;
            let whole = vec![
                GeoPoint::new(b.max_lat, b.min_lon),
                GeoPoint::new(b.max_lat, b.max_lon),
                GeoPoint::new(b.min_lat, b.max_lon),
                GeoPoint::new(b.min_lat, b.min_lon),
                GeoPoint::new(b.max_lat, b.min_lon),
            ];
            out.insert(0, area(MapLayer::Water, vec![whole]));
        }
        return out;
    }
    let perimeter = 2.0 * ((extent.max_lon - extent.min_lon) + (extent.max_lat - extent.min_lat));
    let ends: Vec<(f64, f64)> = open
        .iter()
        .map(|c| {
            let (first, last) = (c[0], c[c.len() - 1]);
            (
                border_position(first, &extent),
                border_position(last, &extent),
            )
        })
        .collect();
    let corners = [
        0.0,
        extent.max_lon - extent.min_lon,
        perimeter / 2.0,
        perimeter / 2.0 + (extent.max_lon - extent.min_lon),
    ];
    let mut used = vec![false; open.len()];
    let mut sea = Vec::new();
    for first in 0..open.len() {
        if used[first] {
            continue;
        }
        used[first] = true;
        let mut ring: Vec<GeoPoint> = open[first].clone();
        let mut at = ends[first].1;
        loop {
            // The chain that enters next, clockwise from where this one left.
            let gap = |i: usize| (ends[i].0 - at).rem_euclid(perimeter);
            let next = (0..open.len())
                .filter(|&i| !used[i] || i == first)
                .min_by(|&i, &j| gap(i).total_cmp(&gap(j)));
            let Some(next) = next else { break };
            let g = gap(next);
            ring.push(border_point(at, &extent));
            let mut passed: Vec<f64> = corners
                .iter()
                .map(|&c| (c - at).rem_euclid(perimeter))
                .filter(|&d| d > 0.0 && d < g)
                .collect();
            passed.sort_by(f64::total_cmp);
            ring.extend(passed.iter().map(|d| border_point(at + d, &extent)));
            ring.push(border_point(ends[next].0, &extent));
            if next == first {
                ring.push(ring[0]);
                break;
            }
            used[next] = true;
            ring.extend_from_slice(open[next]);
            at = ends[next].1;
        }
        sea.push(ring);
    }
    out.insert(0, area(MapLayer::Water, sea));
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn b() -> BBox {
        BBox {
            min_lat: 0.0,
            min_lon: 0.0,
            max_lat: 1.0,
            max_lon: 1.0,
        }
    }

    fn inside(p: GeoPoint, ring: &[GeoPoint]) -> bool {
        let mut c = false;
        for w in ring.windows(2) {
            let (a, b) = (w[0], w[1]);
            if (a.lat > p.lat) != (b.lat > p.lat)
                && p.lon < (b.lon - a.lon) * (p.lat - a.lat) / (b.lat - a.lat) + a.lon
            {
                c = !c;
            }
        }
        c
    }

    #[test]
    fn the_sea_is_on_the_right_of_the_coastline() {
        // West to east across the box: land north, sea south.
        let coast = vec![GeoPoint::new(0.5, 0.0), GeoPoint::new(0.5, 1.0)];
        let features = sea_areas(&[coast], b());
        let sea = &features[0];
        assert_eq!(sea.layer, MapLayer::Water);
        assert!(inside(GeoPoint::new(0.2, 0.5), &sea.rings[0]));
        assert!(!inside(GeoPoint::new(0.8, 0.5), &sea.rings[0]));
        // East to west: the sea is north.
        let coast = vec![GeoPoint::new(0.5, 1.0), GeoPoint::new(0.5, 0.0)];
        let features = sea_areas(&[coast], b());
        assert!(inside(GeoPoint::new(0.8, 0.5), &features[0].rings[0]));
        assert!(!inside(GeoPoint::new(0.2, 0.5), &features[0].rings[0]));
    }

    #[test]
    fn a_bay_between_two_chains_is_closed_along_the_border() {
        // A peninsula pointing south: coast comes down the west side and goes up the east
        // side; the sea is around it: west, south and east of the land.
        let west = vec![
            GeoPoint::new(1.0, 0.3),
            GeoPoint::new(0.3, 0.3),
            GeoPoint::new(0.3, 0.7),
        ];
        let east = [GeoPoint::new(0.3, 0.7), GeoPoint::new(1.0, 0.7)];
        let lines = join(vec![vec![1, 2, 3], vec![3, 4]], false);
        assert_eq!(lines, vec![vec![1, 2, 3, 4]]);
        // Joined, it runs north → south → north: land on its left is the peninsula's inside?
        // Walking south along lon 0.3, left is east: the peninsula is east of the west coast.
        let mut chain = west;
        chain.extend_from_slice(&east[1..]);
        let features = sea_areas(&[chain], b());
        let ring = &features[0].rings[0];
        assert!(inside(GeoPoint::new(0.1, 0.5), ring), "south of the land");
        assert!(inside(GeoPoint::new(0.6, 0.1), ring), "west of the land");
        assert!(inside(GeoPoint::new(0.6, 0.9), ring), "east of the land");
        assert!(!inside(GeoPoint::new(0.6, 0.5), ring), "the peninsula");
    }

    #[test]
    fn a_coast_running_on_beyond_the_box_is_cut_at_its_border() {
        // From outside in the west to outside in the east, leaving and re-entering the
        // south edge on the way.
        let coast = [
            GeoPoint::new(0.5, -0.5),
            GeoPoint::new(0.5, 0.3),
            GeoPoint::new(-0.5, 0.5),
            GeoPoint::new(0.5, 0.7),
            GeoPoint::new(0.5, 1.5),
        ];
        let parts = clip_chain(&coast, &b());
        assert_eq!(parts.len(), 2, "{parts:?}");
        assert_eq!(parts[0][0], GeoPoint::new(0.5, 0.0));
        assert_eq!(parts[1][parts[1].len() - 1], GeoPoint::new(0.5, 1.0));
        for p in parts.iter().flatten() {
            assert!(b().contains(*p), "{p:?} is inside");
        }
        // The sea closed from the parts lies south, except the land dipping into it.
        let features = sea_areas(&parts, b());
        let ring = &features[0].rings[0];
        assert!(inside(GeoPoint::new(0.2, 0.1), ring));
        assert!(!inside(GeoPoint::new(0.8, 0.5), ring));
        // A chain wholly inside is kept whole; one wholly outside disappears.
        assert_eq!(clip_chain(&coast[1..2], &b()).len(), 1);
        assert!(clip_chain(&[GeoPoint::new(2.0, 2.0), GeoPoint::new(3.0, 3.0)], &b()).is_empty());
    }

    #[test]
    fn multipolygon_members_are_joined_into_rings_whatever_their_direction() {
        let rings = join(vec![vec![1, 2, 3], vec![1, 4, 3], vec![7, 8]], true);
        assert_eq!(rings.len(), 1);
        let ring = &rings[0];
        assert_eq!(ring.first(), ring.last());
        assert_eq!(ring.len(), 5);
    }

    #[test]
    fn islands_alone_make_the_rest_of_the_box_sea() {
        let island = vec![
            GeoPoint::new(0.4, 0.4),
            GeoPoint::new(0.4, 0.6),
            GeoPoint::new(0.6, 0.6),
            GeoPoint::new(0.6, 0.4),
            GeoPoint::new(0.4, 0.4),
        ];
        // Counter-clockwise (north up: east, north, west, south): land inside.
        assert!(signed_area(&island) > 0.0);
        let features = sea_areas(&[island], b());
        assert_eq!(features[0].layer, MapLayer::Water);
        assert_eq!(features[1].layer, MapLayer::Land);
    }

    #[test]
    fn the_helsinki_extract_has_streets_sea_parks_and_buildings() {
        let path = tripwright_testkit::assets::asset("data/osm/Helsinki.osm.pbf");
        let map = import_map(&path).expect("the shipped extract reads");
        let walkable = map
            .features
            .iter()
            .filter(|f| f.layer == MapLayer::Road && f.walkable)
            .count();
        assert!(walkable > 500, "{walkable} walkable streets");
        assert!(map.count(MapLayer::Building) > 400);
        assert!(map.count(MapLayer::Green) > 5);
        assert!(map.count(MapLayer::Rail) > 5, "tram lines");
        assert!(map.features.iter().any(|f| f.layer == MapLayer::Road
            && f.name.as_deref() == Some("Aleksanterinkatu")));
        for f in map.features.iter().filter(|f| f.layer == MapLayer::Road) {
            assert_eq!(f.nodes.len(), f.rings[0].len());
        }
        // Kaisaniemenlahti, the bay north of Kaisaniemi park, is water; the park is not.
        let sea: Vec<&MapFeature> = map.features.iter().filter(|f| f.class == "sea").collect();
        assert_eq!(sea.len(), 1, "one sea area");
        let in_sea = |p| {
            map.features
                .iter()
                .filter(|f| f.layer == MapLayer::Water)
                .any(|f| f.rings.iter().filter(|r| inside(p, r)).count() % 2 == 1)
        };
        assert!(in_sea(GeoPoint::new(60.1767, 24.9473)), "Kaisaniemenlahti");
        assert!(
            !in_sea(GeoPoint::new(60.1780, 24.9473)),
            "Siltasaari, across the bay"
        );
        assert!(!in_sea(GeoPoint::new(60.1751, 24.9460)), "Kaisaniemi park");
        assert!(!in_sea(GeoPoint::new(60.1686, 24.9413)), "Kaivokatu");
    }
}
