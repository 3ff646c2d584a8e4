//! Grocery shops near a place: the store's places of the `grocery` category (OSM
//! `shop=supermarket|convenience|grocery|greengrocer`) within a radius of a city of the
//! gazetteer or of coordinates. Offline by default, so only imported extracts have shops; with
//! `[online]` configured, a place the gazetteer does not know is asked of Nominatim, and
//! Overpass's live shops are merged with the store's. A failed online lookup falls back to the
//! offline answer with a notice.

pub mod online;

use std::collections::HashSet;
use std::sync::Arc;

use tripwright_data::gazetteer::Gazetteer;
use tripwright_domain::{GeoPoint, Place, PlaceCategory};
use tripwright_store::{CacheStore, PlaceStore};

use crate::{AppError, Invalid};
use online::Online;

/// Radius when none is given, km.
pub const DEFAULT_RADIUS_KM: f64 = 5.0;
/// Smallest radius, km.
pub const MIN_RADIUS_KM: f64 = 0.5;
/// Largest radius, km.
pub const MAX_RADIUS_KM: f64 = 25.0;
/// Most shops answered (the nearest).
pub const MAX_SHOPS: usize = 200;

/// How a location was found.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum LocationKind {
    /// A city of the gazetteer.
    City,
    /// Coordinates as typed.
    Coordinates,
    /// Found online by Nominatim.
    Nominatim,
}

/// Where a search is centred.
#[derive(Debug, Clone, PartialEq)]
pub struct Location {
    /// "Helsinki, Finland", or the coordinates as given.
    pub label: String,
    /// How it was found.
    pub kind: LocationKind,
    /// The point.
    pub point: GeoPoint,
}

/// One shop and its distance.
#[derive(Debug, Clone, PartialEq)]
pub struct Shop {
    /// The place.
    pub place: Place,
    /// Great-circle distance from the location, km (3 decimals).
    pub distance_km: f64,
}

impl Shop {
    /// Street and house number, when mapped.
    pub fn address(&self) -> Option<String> {
        let street = self.place.tag("addr:street")?;
        Some(match self.place.tag("addr:housenumber") {
            Some(n) => format!("{street} {n}"),
            None => street.to_owned(),
        })
    }
}

/// What a search found.
#[derive(Debug, Clone, PartialEq)]
pub struct ShopSearch {
    /// The location searched around.
    pub location: Location,
    /// The radius, km.
    pub radius_km: f64,
    /// Shops found within the radius (before the cut to [`MAX_SHOPS`]).
    pub count: usize,
    /// Whether only the nearest [`MAX_SHOPS`] are listed.
    pub truncated: bool,
    /// The shops, nearest first.
    pub shops: Vec<Shop>,
    /// Set when a configured online lookup failed and the answer is the offline one.
    pub notice: Option<String>,
}

/// The shop search use case.
pub struct Shops {
    gazetteer: Arc<Gazetteer>,
    places: Arc<dyn PlaceStore>,
    cache: Arc<dyn CacheStore>,
    online: Arc<Online>,
}

impl std::fmt::Debug for Shops {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Shops")
            .field("online", &self.online)
            .finish_non_exhaustive()
    }
}

/// Parses "lat, lon" (or "lat lon"); `None` when `text` is not two numbers.
fn parse_coordinates(text: &str) -> Option<Result<GeoPoint, AppError>> {
    let parts: Vec<&str> = text
        .split(|c: char| c == ',' || c == ';' || c.is_whitespace())
        .filter(|p| !p.is_empty())
        .collect();
    let [lat, lon] = parts.as_slice() else {
        return None;
    };
    let (Ok(lat), Ok(lon)) = (lat.parse::<f64>(), lon.parse::<f64>()) else {
        return None;
    };
    let p = GeoPoint::new(lat, lon);
    Some(if p.is_valid() {
        Ok(p)
    } else {
        Err(AppError::invalid(
            Invalid::Coordinates,
            format!("{text:?} is not a position: latitude is −90..90 and longitude −180..180"),
            Some("give coordinates as \"60.17, 24.94\" (latitude, longitude)".into()),
        ))
    })
}

/// The radius of `text` (default 5 km), refused outside 0.5..=25 km.
pub fn parse_radius(text: Option<&str>) -> Result<f64, AppError> {
    let Some(t) = text.map(str::trim).filter(|t| !t.is_empty()) else {
        return Ok(DEFAULT_RADIUS_KM);
    };
    match t.parse::<f64>() {
        Ok(r) if (MIN_RADIUS_KM..=MAX_RADIUS_KM).contains(&r) => Ok(r),
        _ => Err(AppError::invalid(
            Invalid::Radius,
            format!(
                "the radius must be a number of km from {MIN_RADIUS_KM} to {MAX_RADIUS_KM}, not {t:?}"
            ),
            Some("leave it out for 5 km".into()),
        )),
    }
}

impl Shops {
    /// The search over the gazetteer, the store and the configured online lookups.
    pub(crate) fn new(
        gazetteer: Arc<Gazetteer>,
        places: Arc<dyn PlaceStore>,
        cache: Arc<dyn CacheStore>,
        online: Arc<Online>,
    ) -> Self {
        Self {
            gazetteer,
            places,
            cache,
            online,
        }
    }

    /// Whether live shop data (Overpass) is configured.
    pub fn live_shops(&self) -> bool {
        self.online.lists_shops()
    }

    /// The location of `near`: coordinates, a city of the gazetteer, or (when it is
    /// configured and `online` is set) Nominatim's hit.
    async fn locate(&self, near: &str, online: bool) -> Result<Location, AppError> {
        let near: String = near.trim().chars().take(200).collect();
        if near.is_empty() {
            return Err(AppError::invalid(
                Invalid::MissingLocation,
                "say where to look: a city or coordinates",
                Some("for example \"Helsinki\" or \"60.17, 24.94\"".into()),
            ));
        }
        if let Some(p) = parse_coordinates(&near) {
            let p = p?;
            return Ok(Location {
                label: format!("{:.5}, {:.5}", p.lat, p.lon),
                kind: LocationKind::Coordinates,
                point: p,
            });
        }
        let e = match self.gazetteer.geocode(&near) {
            Ok(d) => {
                return Ok(Location {
                    label: format!("{}, {}", d.name, d.country),
                    kind: LocationKind::City,
                    point: d.point(),
                });
            }
            Err(e) => e,
        };
        let mut hint = String::from(
            "type a city (\"Helsinki\", \"Rome, Italy\") or coordinates (\"60.17, 24.94\")",
        );
        if online && self.online.geocodes() {
            match self.online.geocode(self.cache.as_ref(), &near).await {
                Ok(Some(hit)) => {
                    return Ok(Location {
                        label: hit.display_name,
                        kind: LocationKind::Nominatim,
                        point: GeoPoint::new(hit.lat, hit.lon),
                    });
                }
                Ok(None) => {}
                Err(why) => hint.push_str(&format!(
                    "; the online geocoder (Nominatim) could not be asked ({why}), so only the offline list of cities was searched — try again later"
                )),
            }
        }
        Err(AppError::UnknownLocation {
            message: e.to_string(),
            hint,
        })
    }

    /// The shops within `radius` km (text as typed; default 5) of `near`, nearest first:
    /// the store's, and Overpass's when it is configured (the live entry wins when both have
    /// an id).
    pub async fn search(&self, near: &str, radius: Option<&str>) -> Result<ShopSearch, AppError> {
        let radius_km = parse_radius(radius);
        // No online request for a search refused anyway.
        let location = self.locate(near, radius_km.is_ok()).await?;
        let radius_km = radius_km?;
        let center = location.point;
        let mut places = self
            .places
            .places_near(center, radius_km, &[PlaceCategory::Grocery])
            .await?;
        let mut notice = None;
        if self.online.lists_shops() {
            match self
                .online
                .shops(self.cache.as_ref(), center, radius_km)
                .await
            {
                Ok(live) => {
                    let ids: HashSet<&str> = live.iter().map(|p| p.id.as_str()).collect();
                    places.retain(|p| !ids.contains(p.id.as_str()));
                    places.extend(live);
                }
                Err(why) => {
                    notice = Some(format!(
                        "Live shop data (Overpass) is not available: {why}. Showing only the shops of the map data on this server; try again later."
                    ));
                }
            }
        }
        let mut shops: Vec<Shop> = places
            .into_iter()
            .map(|p| Shop {
                distance_km: (center.distance_km(&p.point()) * 1000.0).round() / 1000.0,
                place: p,
            })
            .filter(|s| s.distance_km <= radius_km)
            .collect();
        shops.sort_by(|a, b| {
            a.distance_km
                .total_cmp(&b.distance_km)
                .then_with(|| a.place.id.cmp(&b.place.id))
        });
        let count = shops.len();
        shops.truncate(MAX_SHOPS);
        Ok(ShopSearch {
            location,
            radius_km,
            count,
            truncated: count > MAX_SHOPS,
            shops,
            notice,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn coordinates_are_two_numbers_in_range() {
        let p = parse_coordinates("60.17, 24.94")
            .expect("two numbers")
            .expect("valid");
        assert_eq!((p.lat, p.lon), (60.17, 24.94));
        assert!(parse_coordinates("60.17 24.94").is_some_and(|r| r.is_ok()));
        assert!(parse_coordinates("-33.9;151.2").is_some_and(|r| r.is_ok()));
        assert!(parse_coordinates("95, 10").is_some_and(|r| r.is_err()));
        assert!(parse_coordinates("NaN, 10").is_some_and(|r| r.is_err()));
        assert!(parse_coordinates("Helsinki").is_none());
        assert!(parse_coordinates("Rome, Italy").is_none());
        assert!(parse_coordinates("1, 2, 3").is_none());
    }

    #[test]
    fn the_radius_defaults_to_5_km_and_stays_in_range() {
        assert_eq!(parse_radius(None).expect("default"), 5.0);
        assert_eq!(parse_radius(Some(" ")).expect("default"), 5.0);
        assert_eq!(parse_radius(Some("0.5")).expect("min"), 0.5);
        assert_eq!(parse_radius(Some("25")).expect("max"), 25.0);
        for bad in ["0.4", "26", "-1", "abc", "NaN", "inf"] {
            let e = parse_radius(Some(bad)).expect_err(bad);
            assert!(
                matches!(
                    e,
                    AppError::Invalid {
                        invalid: Invalid::Radius,
                        ..
                    }
                ),
                "{bad}"
            );
        }
    }
}
