//! The web app: the planner page, plans made by the agents while their progress streams to
//! the page (SSE), saved plans per browser, share links, exports, trip lists, the shop
//! search and the JSON API with its OpenAPI document. Everything is server-rendered; htmx
//! swaps in server-rendered fragments (the live plan, the list rows) and small ES modules under
//! `static/` add the rest.
//!
//! This crate keeps the HTTP concerns only: routing, extraction, sessions and CSRF,
//! rendering and SSE framing. Every use case is the application layer's (`tripwright-app`).

mod api;
mod error;
mod events;
mod exports;
mod htmx;
mod lists;
mod pages;
mod session;
mod state;
mod static_files;
mod supermarkets;
mod tiles;
mod view;

use std::sync::Arc;

use axum::Router;
use axum::extract::{Request, State};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

use crate::ratelimit::{Class, RateLimits, wait_for};

pub use api::openapi_document;
pub use state::{WebApp, WebAppError};

/// The web app's routes: pages, JSON API, static files. They carry their own state and the
/// session middleware; `max_body_bytes` bounds a form read for its CSRF field.
pub(crate) fn routes<S>(
    web: Arc<WebApp>,
    max_body_bytes: usize,
    rates: Arc<RateLimits>,
) -> Router<S>
where
    S: Clone + Send + Sync + 'static,
{
    let (api, _) = api::router().split_for_parts();
    api.merge(pages::router())
        .merge(lists::routes())
        .merge(supermarkets::routes())
        .merge(static_files::router())
        .merge(tiles::router())
        .fallback(pages::not_found_page)
        .layer(axum::middleware::from_fn(api_errors_as_json))
        // Inside the session layer: a refusal is rendered for the user, after the CSRF check.
        .layer(axum::middleware::from_fn_with_state(rates, limit))
        .layer(axum::middleware::from_fn_with_state(
            (Arc::clone(&web), max_body_bytes),
            session::session,
        ))
        .with_state(web)
}

/// Refuses a request over its client's rate (429 with `Retry-After`): JSON under `/api/`, the
/// error box for htmx, else a page.
async fn limit(State(rates): State<Arc<RateLimits>>, request: Request, next: Next) -> Response {
    let class = Class::of(request.method(), request.uri().path());
    let wait = match class {
        Some(class) => wait_for(&rates, class, &request).await,
        None => None,
    };
    let Some(secs) = wait else {
        return next.run(request).await;
    };
    let e = error::WebError::rate_limited(secs);
    let path = request.uri().path();
    if path.starts_with("/api/") {
        return e.into_response();
    }
    let hx = htmx::is_htmx(request.headers());
    match request.extensions().get::<session::User>() {
        Some(user) => pages::refused(user, hx, path, e),
        None => e.into_response(),
    }
}

/// Every error under `/api/` in the API's JSON shape, including the extractors' own plain-text
/// rejections (a path that is not UTF-8, a query that does not parse).
async fn api_errors_as_json(request: Request, next: Next) -> Response {
    let api = request.uri().path().starts_with("/api/");
    let response = next.run(request).await;
    let status = response.status();
    let json = response
        .headers()
        .get(axum::http::header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.contains("json"));
    if !api || json || !(status.is_client_error() || status.is_server_error()) {
        return response;
    }
    let body = axum::body::to_bytes(response.into_body(), 16 * 1024)
        .await
        .unwrap_or_default();
    let text = String::from_utf8_lossy(&body).trim().to_owned();
    let message = if status.is_server_error() {
        "the server failed; try again".to_owned()
    } else if text.is_empty() {
        status
            .canonical_reason()
            .unwrap_or("the request failed")
            .to_lowercase()
    } else {
        text
    };
    let code = match status.as_u16() {
        404 => error::ErrorCode::UnknownEndpoint,
        413 => error::ErrorCode::TooLarge,
        500.. => error::ErrorCode::Internal,
        _ => error::ErrorCode::BadRequest,
    };
    error::WebError::new(status, code, message).into_response()
}
