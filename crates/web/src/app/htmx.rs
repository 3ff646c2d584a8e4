//! htmx's side of HTTP: whether a request comes from htmx (it then gets an HTML fragment to
//! swap in, where a plain form gets a redirect or a whole page) and the response headers that
//! steer htmx's swap. The pages work without JavaScript; htmx only makes them answer in place.

use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use axum::http::{HeaderName, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};

/// Whether the request carries `HX-Request: true` (htmx sends it with every request it makes).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct HxRequest(pub(crate) bool);

impl<S: Send + Sync> FromRequestParts<S> for HxRequest {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, Self::Rejection> {
        Ok(Self(is_htmx(&parts.headers)))
    }
}

/// Whether these request headers carry `HX-Request: true`.
pub(crate) fn is_htmx(headers: &axum::http::HeaderMap) -> bool {
    headers
        .get("hx-request")
        .is_some_and(|v| v.as_bytes() == b"true")
}

/// Tells htmx to load `url` as a new page (a redirect that an XHR would otherwise follow
/// itself and swap in).
pub(crate) fn redirect(url: &str) -> Response {
    with_header(StatusCode::OK.into_response(), "hx-redirect", url)
}

/// Tells htmx to reload the page (what the fragment was for is gone).
pub(crate) fn refresh() -> Response {
    with_header(StatusCode::OK.into_response(), "hx-refresh", "true")
}

/// Swaps the answer into `target` (a CSS selector) with `swap` instead of what the request's
/// element asked for.
pub(crate) fn retarget(response: Response, target: &str, swap: &str) -> Response {
    with_header(
        with_header(response, "hx-retarget", target),
        "hx-reswap",
        swap,
    )
}

fn with_header(mut response: Response, name: &'static str, value: &str) -> Response {
    if let Ok(value) = HeaderValue::from_str(value) {
        response
            .headers_mut()
            .insert(HeaderName::from_static(name), value);
    }
    response
}
