//! `/tiles/{z}/{x}/{y}.png`: the offline street map's basemap tiles, drawn from the imported
//! regions' OpenStreetMap data (transparent outside them). Browsers keep a tile for a day (an
//! empty one five minutes: a region fetched for a plan may fill it);
//! a tile that is not in the grid, or at a zoom the basemap does not draw, is a 404.

use std::sync::Arc;

use axum::Router;
use axum::extract::{Path, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;

use super::state::WebApp;

/// A drawn tile changes only when its region is imported again.
const CACHE: &str = "public, max-age=86400";
/// An empty tile may be drawn soon: a region fetched for a plan fills it.
const CACHE_EMPTY: &str = "public, max-age=300";

async fn tile(
    State(web): State<Arc<WebApp>>,
    Path((z, x, y)): Path<(String, String, String)>,
) -> Response {
    let parsed = (
        z.parse::<u8>(),
        x.parse::<u32>(),
        y.strip_suffix(".png").map(str::parse::<u32>),
    );
    let (Ok(z), Ok(x), Some(Ok(y))) = parsed else {
        return (StatusCode::NOT_FOUND, "no such map tile").into_response();
    };
    match web.app.streets().tile(z, x, y).await {
        Ok(Some(t)) => {
            let mut response = (StatusCode::OK, t.png.as_ref().clone()).into_response();
            let headers = response.headers_mut();
            headers.insert(header::CONTENT_TYPE, HeaderValue::from_static("image/png"));
            let cache = if t.drawn { CACHE } else { CACHE_EMPTY };
            headers.insert(header::CACHE_CONTROL, HeaderValue::from_static(cache));
            response
        }
        Ok(None) => (StatusCode::NOT_FOUND, "no such map tile").into_response(),
        Err(e) => {
            tracing::warn!(error = %e, z, x, y, "a map tile could not be drawn");
            (
                StatusCode::INTERNAL_SERVER_ERROR,
                "the map tile could not be drawn",
            )
                .into_response()
        }
    }
}

/// The `/tiles/` route.
pub(crate) fn router() -> Router<Arc<WebApp>> {
    Router::new().route("/tiles/{z}/{x}/{y}", get(tile))
}
