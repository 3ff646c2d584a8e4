//! Grocery shops near a place: `GET /supermarkets` (a form, a map and a list sorted by
//! distance) and `GET /api/supermarkets?near=…&radius_km=5`. The search is the application
//! layer's (offline by default; Nominatim and Overpass when `[online]` is configured); here
//! are its JSON shape and its page.

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
use tripwright_app::shops::{
    DEFAULT_RADIUS_KM, LocationKind, MAX_RADIUS_KM, MIN_RADIUS_KM, ShopSearch,
};
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::error::{ErrorBody, WebError};
use super::session::User;
use super::state::WebApp;
use super::view::{Chrome, OSM_ATTRIBUTION, render};

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
    #[schema(value_type = String)]
    kind: LocationKind,
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

impl From<ShopSearch> for Supermarkets {
    fn from(found: ShopSearch) -> Self {
        Self {
            location: Location {
                label: found.location.label,
                kind: found.location.kind,
                lat: found.location.point.lat,
                lon: found.location.point.lon,
            },
            radius_km: found.radius_km,
            count: found.count,
            truncated: found.truncated,
            places: found
                .shops
                .into_iter()
                .map(|s| Shop {
                    address: s.address(),
                    distance_km: s.distance_km,
                    id: s.place.id.into_string(),
                    name: s.place.name,
                    kind: s.place.kind,
                    lat: s.place.lat,
                    lon: s.place.lon,
                    opening_hours: s.place.opening_hours,
                })
                .collect(),
            notice: found.notice,
        }
    }
}

/// The search of `q`.
async fn search(web: &WebApp, q: &NearQuery) -> Result<Supermarkets, WebError> {
    Ok(web
        .app
        .shops()
        .search(&q.near, q.radius_km.as_deref())
        .await?
        .into())
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
    State(web): State<Arc<WebApp>>,
    Query(q): Query<NearQuery>,
) -> Result<Json<Supermarkets>, WebError> {
    Ok(Json(search(&web, &q).await?))
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
    State(web): State<Arc<WebApp>>,
    user: User,
    Query(q): Query<NearQuery>,
) -> Response {
    let near: String = q.near.chars().take(200).collect();
    let radius_text = q
        .radius_km
        .clone()
        .filter(|r| !r.trim().is_empty())
        .unwrap_or_else(|| DEFAULT_RADIUS_KM.to_string());
    let mut chrome = Chrome::new(&user.csrf, "Supermarkets", "supermarkets");
    chrome.module = Some("supermarkets.mjs");
    let mut page = SupermarketsPage {
        chrome,
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
        live_shops: web.app.shops().live_shops(),
        min_radius: MIN_RADIUS_KM,
        max_radius: MAX_RADIUS_KM,
    };
    let mut status = StatusCode::OK;
    if !near.trim().is_empty() {
        match search(&web, &q).await {
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
    fn distances_are_shown_to_a_tenth_below_10_km() {
        assert_eq!(km(0.43), "0.4 km");
        assert_eq!(km(12.4), "12 km");
    }
}
