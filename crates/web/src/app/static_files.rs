//! `/static/`: the front end's files (styles, images and the ES modules of the pages),
//! embedded in the binary at build time, and under `/static/vendor/` the vendored libraries
//! (Leaflet, TopoJSON, world-atlas, htmx and its SSE extension) read from the assets
//! directory. Both are cached by browsers for an hour.

use std::sync::Arc;

use axum::Router;
use axum::body::Body;
use axum::extract::{Path, Request, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use tower::ServiceExt;
use tower_http::services::ServeDir;

use super::state::WebApp;

mod embedded {
    include!(concat!(env!("OUT_DIR"), "/static_files.rs"));
}

const CACHE: &str = "public, max-age=3600";

/// The content type of a file by its extension.
pub(crate) fn content_type(path: &str) -> &'static str {
    match path.rsplit_once('.').map(|(_, ext)| ext) {
        Some("js" | "mjs") => "text/javascript; charset=utf-8",
        Some("css") => "text/css; charset=utf-8",
        Some("svg") => "image/svg+xml",
        Some("png") => "image/png",
        Some("ico") => "image/x-icon",
        Some("json" | "map") => "application/json",
        Some("woff2") => "font/woff2",
        Some("html") => "text/html; charset=utf-8",
        Some("txt") => "text/plain; charset=utf-8",
        _ => "application/octet-stream",
    }
}

/// An embedded file, if there is one at `path`.
pub(crate) fn embedded(path: &str) -> Option<&'static [u8]> {
    embedded::FILES
        .iter()
        .find(|(p, _)| *p == path)
        .map(|(_, bytes)| *bytes)
}

async fn serve_static(
    State(app): State<Arc<WebApp>>,
    Path(path): Path<String>,
    request: Request,
) -> Response {
    if let Some(rest) = path.strip_prefix("vendor/") {
        return serve_vendor(&app, rest, request).await;
    }
    match embedded(&path) {
        Some(bytes) => (
            [
                (header::CONTENT_TYPE, content_type(&path)),
                (header::CACHE_CONTROL, CACHE),
            ],
            bytes,
        )
            .into_response(),
        None => (StatusCode::NOT_FOUND, "no such file").into_response(),
    }
}

async fn serve_vendor(app: &WebApp, rest: &str, request: Request) -> Response {
    // ServeDir refuses `..` and absolute paths itself; it gets the path below vendor/.
    let (mut parts, _) = request.into_parts();
    let Ok(uri) = format!("/{rest}").parse() else {
        return (StatusCode::NOT_FOUND, "no such file").into_response();
    };
    parts.uri = uri;
    let request = Request::from_parts(parts, Body::empty());
    match ServeDir::new(&app.vendor_dir).oneshot(request).await {
        Ok(response) => {
            let mut response = response.map(Body::new);
            if response.status().is_success() {
                response
                    .headers_mut()
                    .insert(header::CACHE_CONTROL, HeaderValue::from_static(CACHE));
            }
            response
        }
        Err(e) => match e {},
    }
}

/// The `/static/` routes.
pub(crate) fn router() -> Router<Arc<WebApp>> {
    Router::new().route("/static/{*path}", get(serve_static))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_front_end_is_embedded() {
        for path in [
            "site.mjs",
            "map.mjs",
            "planner.mjs",
            "plan.mjs",
            "plans.mjs",
            "lists.mjs",
            "supermarkets.mjs",
            "style.css",
        ] {
            let bytes = embedded(path).unwrap_or_else(|| panic!("{path} is embedded"));
            assert!(!bytes.is_empty());
        }
        assert!(embedded("../Cargo.toml").is_none());
        assert_eq!(content_type("app.js"), "text/javascript; charset=utf-8");
        assert_eq!(content_type("plan.mjs"), "text/javascript; charset=utf-8");
        assert_eq!(content_type("x/leaflet.css"), "text/css; charset=utf-8");
        assert_eq!(content_type("noext"), "application/octet-stream");
    }
}
