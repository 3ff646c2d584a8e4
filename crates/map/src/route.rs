//! Walking routes along the streets: a graph of the walkable roads among the map's features,
//! and the shortest walk between two points snapped onto it.
//!
//! The graph is prepared once with contraction hierarchies (the `fast_paths` crate), which
//! answers a query in microseconds rather than the milliseconds of a plain Dijkstra, so the
//! itinerary can route every candidate leg it weighs instead of guessing from straight lines.

use std::collections::{HashMap, HashSet};
use std::sync::Mutex;

use fast_paths::{FastGraph, InputGraph, PathCalculator};
use tripwright_domain::{GeoPoint, MapFeature, MapLayer};

/// A walk along the streets.
#[derive(Debug, Clone, PartialEq)]
pub struct Walk {
    /// Its length: from the start to the street, along it, and off it to the end.
    pub km: f64,
    /// Starts at `from`, ends at `to`, with the street nodes walked in between.
    pub points: Vec<GeoPoint>,
}

/// How far from a street a point may be and still be routed.
pub const MAX_SNAP_KM: f64 = 0.3;

/// Side of a snapping cell in degrees of latitude (~100 m); longitude cells are as wide in km.
const CELL_LAT_DEG: f64 = 0.0009;
/// Kilometres per degree of latitude (the haversine's Earth radius × π / 180).
const KM_PER_DEG: f64 = 111.195;
/// Points closer than this are the same place: the walk is the straight step between them.
const SAME_PLACE_KM: f64 = 0.005;

/// The walkable streets as a graph prepared for fast shortest-path queries.
pub struct StreetGraph {
    /// Each node's position, by dense index.
    coords: Vec<GeoPoint>,
    /// Undirected street segments (each pair of nodes once).
    edges: usize,
    /// The contracted graph, or `None` without streets.
    fast: Option<FastGraph>,
    /// Reusable query state: each calculator holds arrays sized by the node count.
    calculators: Mutex<Vec<PathCalculator>>,
    /// Degrees of longitude per snapping cell.
    cell_lon_deg: f64,
    /// Nodes of the largest connected component, by snapping cell.
    grid: HashMap<(i32, i32), Vec<usize>>,
}

impl std::fmt::Debug for StreetGraph {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("StreetGraph")
            .field("nodes", &self.node_count())
            .field("edges", &self.edges)
            .finish_non_exhaustive()
    }
}

impl StreetGraph {
    /// Builds the graph from the walkable roads among `features` (other features ignored).
    pub fn build(features: &[MapFeature]) -> Self {
        let mut index: HashMap<i64, usize> = HashMap::new();
        let mut coords = Vec::new();
        let mut segments = HashSet::new();
        let mut input = InputGraph::new();
        let roads = features
            .iter()
            .filter(|f| f.layer == MapLayer::Road && f.walkable);
        for road in roads {
            let nodes = road
                .nodes
                .iter()
                .zip(road.rings.first().into_iter().flatten());
            for ((&a, pa), (&b, pb)) in nodes.clone().zip(nodes.skip(1)) {
                if a == b {
                    continue; // a repeated node: no zero-length loop
                }
                let mut intern = |id: i64, p: &GeoPoint| {
                    *index.entry(id).or_insert_with(|| {
                        coords.push(*p);
                        coords.len() - 1
                    })
                };
                let (a, b) = (intern(a, pa), intern(b, pb));
                if segments.insert((a.min(b), a.max(b))) {
                    let decimetres = (coords[a].distance_km(&coords[b]) * 10_000.0).round();
                    // fast_paths skips zero weights, which would leave a node without edges.
                    input.add_edge_bidir(a, b, (decimetres as usize).max(1));
                }
            }
        }
        input.freeze();
        let fast = (!coords.is_empty()).then(|| fast_paths::prepare(&input));

        let main = largest_component(coords.len(), &segments);
        let mean_lat = coords.iter().map(|p| p.lat).sum::<f64>() / coords.len().max(1) as f64;
        let cell_lon_deg = CELL_LAT_DEG / mean_lat.to_radians().cos().max(0.1);
        let mut grid: HashMap<(i32, i32), Vec<usize>> = HashMap::new();
        for (node, p) in coords.iter().enumerate().filter(|&(n, _)| main[n]) {
            grid.entry(cell(p, cell_lon_deg)).or_default().push(node);
        }
        tracing::debug!(nodes = coords.len(), edges = segments.len(), "street graph");
        Self {
            coords,
            edges: segments.len(),
            fast,
            calculators: Mutex::new(Vec::new()),
            cell_lon_deg,
            grid,
        }
    }

    /// Whether there are no streets at all.
    pub fn is_empty(&self) -> bool {
        self.coords.is_empty()
    }

    /// The number of street nodes (ends and bends of segments, junctions).
    pub fn node_count(&self) -> usize {
        self.coords.len()
    }

    /// The number of undirected street segments.
    pub fn edge_count(&self) -> usize {
        self.edges
    }

    /// The shortest walk from `from` to `to` along the streets, or None when either point is
    /// more than [`MAX_SNAP_KM`] from the street graph or no path joins them.
    pub fn route(&self, from: GeoPoint, to: GeoPoint) -> Option<Walk> {
        let fast = self.fast.as_ref()?;
        let (start, start_km) = self.snap(from)?;
        let (end, end_km) = self.snap(to)?;
        let straight = from.distance_km(&to);
        if straight <= SAME_PLACE_KM {
            return Some(Walk {
                km: straight,
                points: vec![from, to],
            });
        }
        let nodes = if start == end {
            vec![start]
        } else {
            let pooled = self.pool().pop();
            let mut calculator = pooled.unwrap_or_else(|| fast_paths::create_calculator(fast));
            let path = calculator.calc_path(fast, start, end);
            self.pool().push(calculator);
            path?.get_nodes().clone()
        };
        let mut points = Vec::with_capacity(nodes.len() + 2);
        points.push(from);
        points.extend(nodes.iter().map(|&n| self.coords[n]));
        points.push(to);
        let along: f64 = points[1..points.len() - 1]
            .windows(2)
            .map(|w| w[0].distance_km(&w[1]))
            .sum();
        Some(Walk {
            km: start_km + along + end_km,
            points,
        })
    }

    /// The nearest node of the largest component to `p` and its distance, if within reach.
    fn snap(&self, p: GeoPoint) -> Option<(usize, f64)> {
        let (row, col) = cell(&p, self.cell_lon_deg);
        // Nearest by an equirectangular distance (no trigonometry per node), exact at the end.
        let cos_lat = p.lat.to_radians().cos();
        let km_to = |q: &GeoPoint| KM_PER_DEG * (q.lat - p.lat).hypot((q.lon - p.lon) * cos_lat);
        let cell_km = (CELL_LAT_DEG * KM_PER_DEG).min(self.cell_lon_deg * KM_PER_DEG * cos_lat);
        let cell_km = cell_km.max(1e-3);
        let mut best: Option<(usize, f64)> = None;
        for ring in 0..=(MAX_SNAP_KM / cell_km).ceil() as i32 + 1 {
            // The nodes not yet seen, in this ring and beyond, are at least ring − 1 cells away.
            if best.is_some_and(|(_, km)| km <= f64::from(ring - 1) * cell_km) {
                break;
            }
            for dr in -ring..=ring {
                for dc in -ring..=ring {
                    if dr.abs() != ring && dc.abs() != ring {
                        continue;
                    }
                    for &node in self.grid.get(&(row + dr, col + dc)).into_iter().flatten() {
                        let km = km_to(&self.coords[node]);
                        if best.is_none_or(|(_, b)| km < b) {
                            best = Some((node, km));
                        }
                    }
                }
            }
        }
        let (node, _) = best?;
        let km = p.distance_km(&self.coords[node]);
        (km <= MAX_SNAP_KM).then_some((node, km))
    }

    /// The calculators not in use, even if a panic poisoned the lock (each resets per query).
    fn pool(&self) -> std::sync::MutexGuard<'_, Vec<PathCalculator>> {
        self.calculators.lock().unwrap_or_else(|e| e.into_inner())
    }
}

/// The snapping cell holding `p`.
fn cell(p: &GeoPoint, cell_lon_deg: f64) -> (i32, i32) {
    (
        (p.lat / CELL_LAT_DEG).floor() as i32,
        (p.lon / cell_lon_deg).floor() as i32,
    )
}

/// Which of the `n` nodes belong to the largest connected component (union-find).
fn largest_component(n: usize, segments: &HashSet<(usize, usize)>) -> Vec<bool> {
    fn root(parent: &mut [usize], mut x: usize) -> usize {
        while parent[x] != x {
            parent[x] = parent[parent[x]];
            x = parent[x];
        }
        x
    }
    let mut parent: Vec<usize> = (0..n).collect();
    for &(a, b) in segments {
        let (ra, rb) = (root(&mut parent, a), root(&mut parent, b));
        parent[ra] = rb;
    }
    let mut sizes = vec![0usize; n];
    let roots: Vec<usize> = (0..n).map(|x| root(&mut parent, x)).collect();
    roots.iter().for_each(|&r| sizes[r] += 1);
    let biggest = (0..n).max_by_key(|&r| sizes[r]);
    roots.iter().map(|&r| Some(r) == biggest).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The point `row` × ~100 m north and `col` × ~100 m east of the grid's corner 1.
    fn at(row: f64, col: f64) -> GeoPoint {
        GeoPoint::new(60.17 + row * 0.0009, 24.94 + col * 0.0018)
    }

    /// A road through `(node id, row, col)`s.
    fn road(walkable: bool, nodes: &[(i64, f64, f64)]) -> MapFeature {
        MapFeature {
            layer: MapLayer::Road,
            class: "footway".into(),
            name: None,
            rings: vec![nodes.iter().map(|&(_, r, c)| at(r, c)).collect()],
            nodes: nodes.iter().map(|&(id, _, _)| id).collect(),
            walkable,
        }
    }

    /// A 3×3 grid (node `3r + c + 1` at row r, column c; row 0 repeats its middle node), a
    /// non-walkable diagonal from corner 1 to corner 9, a walkable two-node fragment 40 m
    /// east of corner 9, and a building.
    fn town() -> StreetGraph {
        let n = |r: usize, c: usize| ((r * 3 + c + 1) as i64, r as f64, c as f64);
        let mut features = vec![road(true, &[n(0, 0), n(0, 1), n(0, 1), n(0, 2)])];
        features.extend((1..3).map(|r| road(true, &[n(r, 0), n(r, 1), n(r, 2)])));
        features.extend((0..3).map(|c| road(true, &[n(0, c), n(1, c), n(2, c)])));
        features.push(road(false, &[n(0, 0), n(1, 1), n(2, 2)]));
        features.push(road(true, &[(100, 2.05, 2.4), (101, 2.05, 2.7)]));
        let mut building = road(true, &[(0, 0.5, 0.5), (0, 0.5, 0.6), (0, 0.6, 0.5)]);
        (building.layer, building.nodes) = (MapLayer::Building, vec![]);
        features.push(building);
        StreetGraph::build(&features)
    }

    #[test]
    fn counts_nodes_and_segments_without_loops() {
        let graph = town();
        assert_eq!((graph.node_count(), graph.edge_count()), (11, 13));
        assert!(!graph.is_empty());
    }

    #[test]
    fn walks_the_grid_not_the_shortcut_nor_the_fragment() {
        let graph = town();
        let (from, corner, to) = (at(0., 0.), at(2., 2.), at(2., 2.4));
        let walk = graph.route(from, to).expect("routed");
        let grid_km = from.distance_km(&at(0., 2.)) + at(0., 2.).distance_km(&corner);
        let expected = grid_km + corner.distance_km(&to);
        assert!((walk.km / expected - 1.0).abs() < 0.01, "{walk:?}");
        assert!(
            walk.km > 0.4,
            "the non-walkable diagonal was taken: {walk:?}"
        );
        assert_eq!((walk.points[0], walk.points[6]), (from, to));
        // Five grid nodes, the last corner 9: `to` did not snap to the nearer fragment.
        assert_eq!((walk.points.len(), walk.points[5]), (7, corner));
    }

    #[test]
    fn same_node_and_same_place() {
        let graph = town();
        let (a, middle, b) = (at(0.8, 1.1), at(1., 1.), at(1.2, 0.9));
        let walk = graph.route(a, b).expect("routed");
        assert_eq!(walk.points, vec![a, middle, b]);
        let km = a.distance_km(&middle) + middle.distance_km(&b);
        assert!((walk.km - km).abs() < 1e-9);
        let walk = graph.route(a, a).expect("routed");
        assert_eq!((walk.km, walk.points), (0.0, vec![a, a]));
    }

    #[test]
    fn far_points_and_empty_graphs_do_not_route() {
        let graph = town();
        assert_eq!(graph.route(at(0., 0.), at(12., 1.)), None);
        assert_eq!(graph.route(at(1., -10.), at(0., 0.)), None);
        let empty = StreetGraph::build(&[]);
        assert!(empty.is_empty());
        assert_eq!(empty.route(at(0., 0.), at(0., 0.)), None);
    }

    #[test]
    fn is_send_and_sync() {
        fn assert_send_sync<T: Send + Sync>() {}
        assert_send_sync::<StreetGraph>();
    }
}
