//! Walks between stops: along the streets where the region has a street map (the shortest
//! path on its street graph), else the straight line times the detour factor.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use tripwright_config::PlannerConfig;
use tripwright_domain::GeoPoint;
use tripwright_map::route::StreetGraph;

/// Where the street graphs come from (the application's street map).
#[async_trait::async_trait]
pub trait Streets: Send + Sync {
    /// The street graph of the region around `p`, if one has a street map.
    async fn graph_near(&self, p: GeoPoint) -> Option<Arc<StreetGraph>>;
}

/// One walk of a day.
#[derive(Debug, Clone, PartialEq)]
pub struct Leg {
    /// Its length in km.
    pub km: f64,
    /// Minutes of walking, rounded up.
    pub minutes: u32,
    /// The way along the streets, from start to end; empty when it is a straight-line
    /// estimate (no street data there).
    pub path: Vec<GeoPoint>,
}

/// Times walks at the configured speed, along `streets` when given.
#[derive(Clone, Copy)]
pub struct Walker<'a> {
    cfg: &'a PlannerConfig,
    streets: Option<&'a StreetGraph>,
    memo: Option<&'a Walks>,
}

/// Walks already found along the streets, by their ends: the scheduler tries several orders
/// of a day and walks the same legs again.
pub type Walks = Mutex<HashMap<[u64; 4], Leg>>;

impl<'a> Walker<'a> {
    /// A walker at `cfg`'s speed, along `streets` where they reach.
    pub fn new(cfg: &'a PlannerConfig, streets: Option<&'a StreetGraph>) -> Self {
        Self {
            cfg,
            streets,
            memo: None,
        }
    }

    /// The same walker, remembering the walks it finds along the streets in `memo`.
    pub fn remembering(self, memo: &'a Walks) -> Self {
        Self {
            memo: Some(memo),
            ..self
        }
    }

    /// The planner settings it times walks with.
    pub fn config(&self) -> &'a PlannerConfig {
        self.cfg
    }

    /// Whether walks follow streets (a street graph is there and not empty).
    pub fn on_streets(&self) -> bool {
        self.streets.is_some_and(|g| !g.is_empty())
    }

    /// The walk from `from` to `to`.
    pub fn leg(&self, from: GeoPoint, to: GeoPoint) -> Leg {
        let key = [
            from.lat.to_bits(),
            from.lon.to_bits(),
            to.lat.to_bits(),
            to.lon.to_bits(),
        ];
        if let Some(leg) = self
            .memo
            .and_then(|m| m.lock().ok().and_then(|m| m.get(&key).cloned()))
        {
            return leg;
        }
        if let Some(walk) = self.streets.and_then(|g| g.route(from, to)) {
            let leg = Leg {
                km: walk.km,
                minutes: minutes(walk.km, self.cfg),
                path: walk.points,
            };
            if let Some(mut m) = self.memo.and_then(|m| m.lock().ok()) {
                m.insert(key, leg.clone());
            }
            return leg;
        }
        let km = from.distance_km(&to) * self.cfg.detour_factor;
        Leg {
            km,
            minutes: minutes(km, self.cfg),
            path: Vec::new(),
        }
    }
}

fn minutes(km: f64, cfg: &PlannerConfig) -> u32 {
    (km / cfg.walk_speed_kmh * 60.0).ceil() as u32
}

/// A path as the plan stores it: `[lat, lon]` pairs to 6 decimals (~0.1 m).
pub fn stored_path(path: &[GeoPoint]) -> Vec<[f64; 2]> {
    let r = |v: f64| (v * 1e6).round() / 1e6;
    path.iter().map(|p| [r(p.lat), r(p.lon)]).collect()
}
