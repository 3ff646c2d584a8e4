//! The web app: the planner page, plans made by the agents while their progress streams to
//! the page (SSE), saved plans per browser, share links, exports, trip lists, the shop
//! search and the JSON API with its OpenAPI document. Everything is server-rendered; the
//! scripts under `static/` enhance it.
//!
//! This crate keeps the HTTP concerns only: routing, extraction, sessions and CSRF,
//! rendering and SSE framing. Every use case is the application layer's (`tripwright-app`).

mod api;
mod error;
mod events;
mod exports;
mod lists;
mod pages;
mod session;
mod state;
mod static_files;
mod supermarkets;
mod view;

use std::sync::Arc;

use axum::Router;

pub use api::openapi_document;
pub use state::{WebApp, WebAppError};

/// The web app's routes: pages, JSON API, static files. They carry their own state and the
/// session middleware; `max_body_bytes` bounds a form read for its CSRF field.
pub(crate) fn routes<S>(web: Arc<WebApp>, max_body_bytes: usize) -> Router<S>
where
    S: Clone + Send + Sync + 'static,
{
    let (api, _) = api::router().split_for_parts();
    api.merge(pages::router())
        .merge(lists::routes())
        .merge(supermarkets::routes())
        .merge(static_files::router())
        .fallback(pages::not_found_page)
        .layer(axum::middleware::from_fn_with_state(
            (Arc::clone(&web), max_body_bytes),
            session::session,
        ))
        .with_state(web)
}
