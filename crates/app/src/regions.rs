//! Place data on demand: a destination with too little local data gets its places from the
//! Overpass API (while `[online]` lookups are on, the default), stored like imported places (source
//! `overpass`, with the date they were fetched), so that a city outside the imported extracts
//! can be planned. Nothing is asked when the store already knows the area, and an answer is
//! cached (see [`crate::shops::online`] for the service's usage policy: one request at a time,
//! a second apart, `Retry-After`, a timeout and a size limit).

use std::sync::Arc;

use tripwright_domain::{BBox, Destination, GeoPoint, PlaceCategory};
use tripwright_store::{CacheStore, PlaceStore};

use crate::shops::online::{MAX_MAP_RADIUS_KM, Online, OnlineError};
use crate::streets::StreetMap;

/// Why a destination's places could not be fetched.
#[derive(Debug)]
pub(crate) enum FetchError {
    /// Overpass is not asked: the sentence says which setting to change.
    Off(&'static str),
    /// The lookup failed.
    Online(OnlineError),
    /// The store could not take them.
    Store(String),
}

impl std::fmt::Display for FetchError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Off(why) => f.write_str(why),
            Self::Online(OnlineError::Unreachable(_)) => {
                f.write_str("OpenStreetMap (Overpass) could not be reached")
            }
            Self::Online(e) => write!(f, "OpenStreetMap (Overpass) failed: {e}"),
            Self::Store(e) => write!(f, "the places could not be stored: {e}"),
        }
    }
}

/// Where a plan for a destination gets its places.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Coverage {
    /// The store has them (an imported extract or a city fetched before).
    Stored,
    /// The store has too few; they are fetched from OpenStreetMap when the plan is made.
    Fetched,
    /// The store has too few and online lookups are off: the plan has no hotels or stops.
    None,
}

impl Coverage {
    /// Its name in the API: `stored`, `fetched`, `none`.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Stored => "stored",
            Self::Fetched => "fetched",
            Self::None => "none",
        }
    }
}

/// Fewer sights than this within the planner's radius, and the destination's places are
/// fetched: a handful of statues is not a city to plan.
pub const MIN_SIGHTS: usize = 8;

/// The source recorded with the places fetched for `dest`: `overpass: Rome, Italy` (what
/// `tripwright regions` lists and removes).
pub fn source_of(dest: &Destination) -> String {
    format!("{SOURCE_PREFIX}{}, {}", dest.name, dest.country)
}

/// How the sources of fetched places start.
pub const SOURCE_PREFIX: &str = "overpass: ";

/// Stop descriptions from Wikipedia, through the online client and the store's cache.
pub(crate) struct Wikipedia {
    pub(crate) online: Arc<Online>,
    pub(crate) cache: Arc<dyn CacheStore>,
}

#[async_trait::async_trait]
impl tripwright_agents::encyclopedia::Encyclopedia for Wikipedia {
    async fn describe(&self, reference: &str) -> Option<tripwright_domain::Description> {
        match self.online.wikipedia(self.cache.as_ref(), reference).await {
            Ok(article) => article.map(|a| tripwright_domain::Description {
                text: a.summary,
                url: a.url,
            }),
            Err(e) => {
                tracing::debug!(reference, error = %e, "no Wikipedia summary");
                None
            }
        }
    }
}

/// What [`OnDemand::fetch`] stored.
#[derive(Debug)]
pub(crate) struct Fetched {
    /// Places stored.
    pub(crate) places: usize,
    /// Street map features stored, or why there is no street map (the walks then follow
    /// straight lines, and the plan's `reachable` check says so).
    pub(crate) map: Result<usize, String>,
}

/// Fetches a destination's places when the store has too few.
#[derive(Clone)]
pub(crate) struct OnDemand {
    online: Arc<Online>,
    places: Arc<dyn PlaceStore>,
    cache: Arc<dyn CacheStore>,
    streets: Arc<StreetMap>,
    /// The planner's radius: sights are looked for within it.
    radius_km: f64,
}

impl OnDemand {
    pub(crate) fn new(
        online: Arc<Online>,
        places: Arc<dyn PlaceStore>,
        cache: Arc<dyn CacheStore>,
        streets: Arc<StreetMap>,
        radius_km: f64,
    ) -> Self {
        Self {
            online,
            places,
            cache,
            streets,
            radius_km,
        }
    }

    /// The area fetched around a destination: 2 to 5 km, growing with its population (a
    /// town's centre is small, a capital's sights spread wider), within the planner's radius.
    pub fn radius_km(population: u64) -> f64 {
        (1.5 + (population as f64).sqrt() / 500.0).clamp(2.0, 5.0)
    }

    /// Where a plan for `dest` would get its places: from the store, fetched when it is
    /// planned, or nowhere.
    pub(crate) async fn coverage(&self, dest: &Destination) -> Coverage {
        let sights = self
            .places
            .places_near(
                GeoPoint::new(dest.lat, dest.lon),
                self.radius_km,
                &[PlaceCategory::Attraction, PlaceCategory::Artwork],
            )
            .await
            .map_or(0, |s| s.len());
        if sights >= MIN_SIGHTS {
            Coverage::Stored
        } else if self.online.lists_shops() {
            Coverage::Fetched
        } else {
            Coverage::None
        }
    }

    /// Makes sure the store knows `dest`'s places: when fewer than [`MIN_SIGHTS`] sights are
    /// stored near it and Overpass is configured, fetches them (calling `fetching` first, to
    /// tell the user) and stores them. Returns how
    /// many places were stored (0: none needed, or Overpass is not configured).
    ///
    /// # Errors
    /// A sentence for the plan's warnings when the places could not be fetched or stored.
    pub(crate) async fn ensure(
        &self,
        dest: &Destination,
        fetching: impl FnOnce(),
    ) -> Result<usize, String> {
        if !self.online.lists_shops() {
            return Ok(0);
        }
        let center = GeoPoint::new(dest.lat, dest.lon);
        let sights = self
            .places
            .places_near(
                center,
                self.radius_km,
                &[PlaceCategory::Attraction, PlaceCategory::Artwork],
            )
            .await
            .map_err(|e| format!("the place data could not be read: {e}"))?;
        if sights.len() >= MIN_SIGHTS {
            return Ok(0);
        }
        let radius = Self::radius_km(dest.population).min(self.radius_km.max(1.0));
        fetching();
        let import = format!(
            "`tripwright import region \"{}, {}\"` where there is internet, or `tripwright import osm FILE.osm.pbf`",
            dest.name, dest.country
        );
        self.fetch(dest, radius).await.map(|f| f.places).map_err(|e| match e {
            FetchError::Online(OnlineError::Unreachable(_)) => format!(
                "no place data for {}, and OpenStreetMap could not be reached: the plan has no hotels or stops. Whoever runs this server can import the region with {import}",
                dest.name
            ),
            FetchError::Online(e) => format!(
                "places near {} could not be fetched from OpenStreetMap ({e}): try again in a few minutes. Whoever runs this server can import the region with {import}",
                dest.name
            ),
            e => format!("places near {} could not be fetched: {e}", dest.name),
        })
    }

    /// Fetches `dest`'s places within `radius_km` and stores them under [`source_of`] (a
    /// region imported again replaces its places), then the street map of the same area (at
    /// most [`MAX_MAP_RADIUS_KM`] from the centre) under the same source. A street map that
    /// could not be fetched leaves the places stored.
    ///
    /// # Errors
    /// Overpass is off or failed, or the store could not take the places.
    pub(crate) async fn fetch(
        &self,
        dest: &Destination,
        radius_km: f64,
    ) -> Result<Fetched, FetchError> {
        if let Some(why) = self.online.overpass_off() {
            return Err(FetchError::Off(why));
        }
        let center = GeoPoint::new(dest.lat, dest.lon);
        tracing::info!(destination = %dest.name, radius_km, "fetching places from OpenStreetMap");
        let places = self
            .online
            .places(self.cache.as_ref(), center, radius_km)
            .await
            .map_err(FetchError::Online)?;
        if places.is_empty() {
            return Ok(Fetched {
                places: 0,
                map: Ok(0),
            });
        }
        let source = source_of(dest);
        let store = |e: tripwright_store::StoreError| FetchError::Store(e.to_string());
        self.places
            .delete_places_from(&source)
            .await
            .map_err(store)?;
        let stored = self
            .places
            .upsert_places(&source, &places)
            .await
            .map_err(store)?;
        let extent = map_extent(center, radius_km, &places);
        tracing::info!(destination = %dest.name, ?extent, "fetching the street map from OpenStreetMap");
        let map = match self.online.street_map(extent).await {
            Ok(map) => self
                .streets
                .replace(&source, extent, &map.features)
                .await
                .map_err(|e| format!("the street map could not be stored: {e}")),
            Err(e) => Err(format!("OpenStreetMap (Overpass) failed: {e}")),
        };
        if let Err(e) = &map {
            tracing::warn!(destination = %dest.name, error = %e, "no street map: walks follow straight lines");
        }
        Ok(Fetched {
            places: stored,
            map,
        })
    }
}

/// Walks start this far outside the box of the sights and hotels at most, km.
const MAP_MARGIN_KM: f64 = 0.5;

/// The box whose street map is fetched with `places`: around the sights and hotels (where the
/// walks go) with a margin, within `radius_km` and [`MAX_MAP_RADIUS_KM`] of `center`.
fn map_extent(center: GeoPoint, radius_km: f64, places: &[tripwright_domain::Place]) -> BBox {
    let limit = BBox::around_km(center, radius_km.min(MAX_MAP_RADIUS_KM));
    let visited: Vec<GeoPoint> = places
        .iter()
        .filter(|p| {
            matches!(
                p.category,
                PlaceCategory::Attraction | PlaceCategory::Artwork | PlaceCategory::Hotel
            )
        })
        .map(tripwright_domain::Place::point)
        .filter(|p| limit.contains(*p))
        .collect();
    let Some(around) = BBox::around(&visited) else {
        return limit;
    };
    let margin = BBox::around_km(GeoPoint::new(around.min_lat, around.min_lon), MAP_MARGIN_KM);
    let (dlat, dlon) = (
        margin.max_lat - around.min_lat,
        margin.max_lon - around.min_lon,
    );
    BBox {
        min_lat: (around.min_lat - dlat).max(limit.min_lat),
        min_lon: (around.min_lon - dlon).max(limit.min_lon),
        max_lat: (around.max_lat + dlat).min(limit.max_lat),
        max_lon: (around.max_lon + dlon).min(limit.max_lon),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_street_map_covers_the_sights_and_hotels_within_the_limit() {
        let center = GeoPoint::new(41.8919, 12.5113);
        let place = |category, lat, lon| tripwright_domain::Place {
            id: tripwright_domain::PlaceId::osm("node", 1),
            name: "p".into(),
            category,
            kind: "museum".into(),
            lat,
            lon,
            opening_hours: None,
            tags: Default::default(),
        };
        let places = [
            place(PlaceCategory::Attraction, 41.8902, 12.4922),
            place(PlaceCategory::Hotel, 41.9009, 12.4725),
            // Restaurants and far sights do not widen it.
            place(PlaceCategory::Food, 41.95, 12.60),
            place(PlaceCategory::Attraction, 42.5, 12.5),
        ];
        let b = map_extent(center, 5.0, &places);
        assert!(
            b.contains(GeoPoint::new(41.8902, 12.4922))
                && b.contains(GeoPoint::new(41.9009, 12.4725))
        );
        assert!((b.min_lon - (12.4725 - 0.006)).abs() < 0.001, "{b:?}");
        assert!(!b.contains(GeoPoint::new(41.95, 12.60)));
        // Within 4 km of the centre whatever the radius; the whole box without places.
        assert_eq!(
            map_extent(center, 9.0, &[]),
            BBox::around_km(center, MAX_MAP_RADIUS_KM)
        );
        assert_eq!(map_extent(center, 2.0, &[]), BBox::around_km(center, 2.0));
    }

    #[test]
    fn the_area_grows_with_the_population_within_bounds() {
        assert_eq!(OnDemand::radius_km(0), 2.0);
        assert!((OnDemand::radius_km(600_000) - 3.05).abs() < 0.01);
        assert_eq!(OnDemand::radius_km(20_000_000), 5.0);
    }
}
