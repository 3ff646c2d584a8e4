//! Grocery shops near a place (issue 5): `GET /supermarkets` (a form, a map and a list sorted by
//! distance) and `GET /api/supermarkets?near=…&radius_km=5`.
//!
//! The location is a city from the gazetteer ("Helsinki", "Rome, Italy") or coordinates
//! ("60.17, 24.94"); the shops are the store's places of the `grocery` category (OSM
//! `shop=supermarket|convenience|grocery|greengrocer`) within the radius. Offline by default,
//! so only the imported extracts have shops; with `[online]` configured (see `online.rs`), a
//! place the gazetteer does not know is asked of Nominatim, and Overpass's live shops are merged
//! with the store's. A failed online lookup falls back to the offline answer with a `notice`.

use std::collections::HashSet;
use std::sync::Arc;

use askama::Template;
use axum::Json;
use axum::Router;
use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::response::{Html, IntoResponse, Response};
use axum::routing::get;
use serde::{Deserialize, Serialize};
use serde_json::json;
use tripwright_domain::{GeoPoint, Place, PlaceCategory};
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::WebApp;
use super::error::{ErrorBody, WebError};
use super::session::User;
use super::view::{Chrome, OSM_ATTRIBUTION, render};

/// Radius when none is given, km.
pub(crate) const DEFAULT_RADIUS_KM: f64 = 5.0;
/// Smallest radius, km.
pub(crate) const MIN_RADIUS_KM: f64 = 0.5;
/// Largest radius, km.
pub(crate) const MAX_RADIUS_KM: f64 = 25.0;
/// Most shops answered (the nearest).
pub(crate) const MAX_SHOPS: usize = 200;

/// `?near=…&radius_km=…`.
#[derive(Debug, Default, Deserialize, utoipa::IntoParams)]
pub(crate) struct NearQuery {
    /// A city ("Helsinki", "Rome, Italy") or "lat, lon".
    #[serde(default)]
    near: String,
    /// Radius in km, 0.5..=25 (default 5).
    #[serde(default)]
    #[param(value_type = Option<f64>)]
    radius_km: Option<String>,
}

/// Where the search is centred.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub(crate) struct Location {
    /// "Helsinki, Finland", or the coordinates as given.
    label: String,
    /// `city` (from the gazetteer), `coordinates`, or `nominatim` (found online).
    kind: String,
    /// Latitude.
    lat: f64,
    /// Longitude.
    lon: f64,
}

/// One grocery shop.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub(crate) struct Shop {
    /// Place id (`osm:node/…`).
    id: String,
    /// Name.
    name: String,
    /// `supermarket`, `convenience`, `grocery` or `greengrocer`.
    kind: String,
    /// Latitude.
    lat: f64,
    /// Longitude.
    lon: f64,
    /// Great-circle distance from the location, km (3 decimals).
    distance_km: f64,
    /// The OSM `opening_hours` tag, when mapped.
    opening_hours: Option<String>,
    /// Street and house number, when mapped.
    address: Option<String>,
}

/// Grocery shops near a location.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub(crate) struct Supermarkets {
    /// The location searched around.
    location: Location,
    /// The radius, km.
    radius_km: f64,
    /// Shops found within the radius (before the cut to 200).
    count: usize,
    /// Whether only the nearest 200 are listed.
    truncated: bool,
    /// The shops, nearest first.
    places: Vec<Shop>,
    /// Set when a configured online lookup (Nominatim or Overpass) failed and the answer is
    /// the offline one: what happened, for the user. `null` otherwise.
    notice: Option<String>,
}

/// Parses "lat, lon" (or "lat lon"); `None` when `text` is not two numbers.
fn parse_coordinates(text: &str) -> Option<Result<GeoPoint, WebError>> {
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
        Err(WebError::bad_request(
            "invalid_coordinates",
            format!("{text:?} is not a position: latitude is −90..90 and longitude −180..180"),
        )
        .hint("give coordinates as \"60.17, 24.94\" (latitude, longitude)"))
    })
}

/// The location of `near`: coordinates, a city of the gazetteer, or (when it is configured and
/// `online` is set) Nominatim's hit.
async fn locate(app: &WebApp, near: &str, online: bool) -> Result<Location, WebError> {
    let near: String = near.trim().chars().take(200).collect();
    if near.is_empty() {
        return Err(WebError::bad_request(
            "missing_location",
            "say where to look: a city or coordinates",
        )
        .hint("for example \"Helsinki\" or \"60.17, 24.94\""));
    }
    if let Some(p) = parse_coordinates(&near) {
        let p = p?;
        return Ok(Location {
            label: format!("{:.5}, {:.5}", p.lat, p.lon),
            kind: "coordinates".into(),
            lat: p.lat,
            lon: p.lon,
        });
    }
    let e = match app.orchestrator.gazetteer().geocode(&near) {
        Ok(d) => {
            return Ok(Location {
                label: format!("{}, {}", d.name, d.country),
                kind: "city".into(),
                lat: d.lat,
                lon: d.lon,
            });
        }
        Err(e) => e,
    };
    let mut hint = String::from(
        "type a city (\"Helsinki\", \"Rome, Italy\") or coordinates (\"60.17, 24.94\")",
    );
    if online && app.online.geocodes() {
        match app.online.geocode(app.store().as_ref(), &near).await {
            Ok(Some(hit)) => {
                return Ok(Location {
                    label: hit.display_name,
                    kind: "nominatim".into(),
                    lat: hit.lat,
                    lon: hit.lon,
                });
            }
            Ok(None) => {}
            Err(why) => hint.push_str(&format!(
                "; the online geocoder (Nominatim) could not be asked ({why}), so only the offline list of cities was searched — try again later"
            )),
        }
    }
    Err(WebError::new(StatusCode::NOT_FOUND, "unknown_location", e.to_string()).hint(hint))
}

/// The radius of `text` (default 5 km), refused outside 0.5..=25 km.
fn radius(text: Option<&str>) -> Result<f64, WebError> {
    let Some(t) = text.map(str::trim).filter(|t| !t.is_empty()) else {
        return Ok(DEFAULT_RADIUS_KM);
    };
    match t.parse::<f64>() {
        Ok(r) if (MIN_RADIUS_KM..=MAX_RADIUS_KM).contains(&r) => Ok(r),
        _ => Err(WebError::bad_request(
            "invalid_radius",
            format!("the radius must be a number of km from {MIN_RADIUS_KM} to {MAX_RADIUS_KM}, not {t:?}"),
        )
        .hint("leave it out for 5 km")),
    }
}

fn address(p: &Place) -> Option<String> {
    let street = p.tag("addr:street")?;
    Some(match p.tag("addr:housenumber") {
        Some(n) => format!("{street} {n}"),
        None => street.to_owned(),
    })
}

/// The shops within `radius_km` of the location, nearest first: the store's, and Overpass's
/// when it is configured (the live entry wins when both have an id).
async fn search(app: &WebApp, q: &NearQuery) -> Result<Supermarkets, WebError> {
    let radius_km = radius(q.radius_km.as_deref());
    // No online request for a search refused anyway.
    let location = locate(app, &q.near, radius_km.is_ok()).await?;
    let radius_km = radius_km?;
    let center = GeoPoint::new(location.lat, location.lon);
    let mut places = app
        .store()
        .places_near(center, radius_km, &[PlaceCategory::Grocery])
        .await?;
    let mut notice = None;
    if app.online.lists_shops() {
        match app
            .online
            .shops(app.store().as_ref(), center, radius_km)
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
            address: address(&p),
            id: p.id,
            name: p.name,
            kind: p.kind,
            lat: p.lat,
            lon: p.lon,
            opening_hours: p.opening_hours,
        })
        .filter(|s| s.distance_km <= radius_km)
        .collect();
    shops.sort_by(|a, b| {
        a.distance_km
            .total_cmp(&b.distance_km)
            .then_with(|| a.id.cmp(&b.id))
    });
    let count = shops.len();
    shops.truncate(MAX_SHOPS);
    Ok(Supermarkets {
        location,
        radius_km,
        count,
        truncated: count > MAX_SHOPS,
        places: shops,
        notice,
    })
}

/// Grocery shops (supermarkets, convenience stores, greengrocers) within a radius of a city or
/// coordinates, nearest first (at most 200). Offline by default: only imported map extracts
/// have shops. When the server enables online lookups, unknown places are geocoded with
/// Nominatim and live shops from Overpass are merged in; if one of those fails the answer is
/// the offline one with a `notice`.
#[utoipa::path(
    get, path = "/api/supermarkets", tag = "supermarkets",
    params(NearQuery),
    responses(
        (status = 200, description = "The shops (with a `notice` when a configured online lookup failed and only offline data is shown)", body = Supermarkets),
        (status = 400, description = "No location, bad coordinates or a radius outside 0.5..=25 km", body = ErrorBody),
        (status = 404, description = "Unknown location (offline, and online when configured; the hint says when the online geocoder could not be asked)", body = ErrorBody),
    )
)]
pub(crate) async fn api_supermarkets(
    State(app): State<Arc<WebApp>>,
    Query(q): Query<NearQuery>,
) -> Result<Json<Supermarkets>, WebError> {
    Ok(Json(search(&app, &q).await?))
}

/// The supermarket API's route, with its documentation (merged into `/api`'s router).
pub(crate) fn api_routes() -> OpenApiRouter<Arc<WebApp>> {
    OpenApiRouter::new().routes(routes!(api_supermarkets))
}

/// One shop in the page's list.
struct ShopRow {
    name: String,
    kind: String,
    distance: String,
    opening_hours: Option<String>,
    address: Option<String>,
}

/// `GET /supermarkets`.
#[derive(Template)]
#[template(path = "lists/supermarkets.html")]
struct SupermarketsPage {
    chrome: Chrome,
    near: String,
    radius: String,
    error: Option<(String, Option<String>)>,
    searched: bool,
    label: String,
    count: usize,
    truncated: bool,
    shops: Vec<ShopRow>,
    map_json: String,
    notice: Option<String>,
    live_shops: bool,
    min_radius: f64,
    max_radius: f64,
}

/// "0.4 km", "12 km".
fn km(d: f64) -> String {
    if d < 10.0 {
        format!("{d:.1} km")
    } else {
        format!("{d:.0} km")
    }
}

async fn supermarkets_page(
    State(app): State<Arc<WebApp>>,
    user: User,
    Query(q): Query<NearQuery>,
) -> Response {
    let near: String = q.near.chars().take(200).collect();
    let radius_text = q
        .radius_km
        .clone()
        .filter(|r| !r.trim().is_empty())
        .unwrap_or_else(|| DEFAULT_RADIUS_KM.to_string());
    let mut page = SupermarketsPage {
        chrome: Chrome::new(&user.csrf, "Supermarkets", "supermarkets"),
        near: near.clone(),
        radius: radius_text,
        error: None,
        searched: false,
        label: String::new(),
        count: 0,
        truncated: false,
        shops: Vec::new(),
        map_json: String::new(),
        notice: None,
        live_shops: app.online.lists_shops(),
        min_radius: MIN_RADIUS_KM,
        max_radius: MAX_RADIUS_KM,
    };
    let mut status = StatusCode::OK;
    if !near.trim().is_empty() {
        match search(&app, &q).await {
            Ok(found) => {
                page.searched = true;
                page.label = found.location.label.clone();
                page.count = found.count;
                page.truncated = found.truncated;
                page.radius = found.radius_km.to_string();
                page.notice = found.notice.clone();
                page.map_json = json!({
                    "center": found.location,
                    "radius_km": found.radius_km,
                    "places": found.places,
                    "attribution": OSM_ATTRIBUTION,
                })
                .to_string();
                page.chrome.map = true;
                page.shops = found
                    .places
                    .into_iter()
                    .map(|s| ShopRow {
                        distance: km(s.distance_km),
                        name: s.name,
                        kind: s.kind,
                        opening_hours: s.opening_hours,
                        address: s.address,
                    })
                    .collect();
            }
            Err(e) => {
                status = e.status;
                page.error = Some((e.message.clone(), e.hint.clone()));
                drop(e.into_response());
            }
        }
    }
    (status, Html(render(&page))).into_response()
}

/// The supermarkets page's route.
pub(crate) fn routes() -> Router<Arc<WebApp>> {
    Router::new().route("/supermarkets", get(supermarkets_page))
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
        assert_eq!(radius(None).expect("default"), 5.0);
        assert_eq!(radius(Some(" ")).expect("default"), 5.0);
        assert_eq!(radius(Some("0.5")).expect("min"), 0.5);
        assert_eq!(radius(Some("25")).expect("max"), 25.0);
        for bad in ["0.4", "26", "-1", "abc", "NaN", "inf"] {
            let e = radius(Some(bad)).expect_err(bad);
            assert_eq!(e.code, "invalid_radius", "{bad}");
        }
        assert_eq!(km(0.43), "0.4 km");
        assert_eq!(km(12.4), "12 km");
    }
}
