//! Trip lists: what to pack or buy, with quantities "at home" and "to take", a "taken" tick,
//! notes, suggested items for a plan's list and a PDF. The use cases (and every check of the
//! input) are the application layer's; here are the JSON API ([`api`]) and the pages
//! ([`pages`]). Lists are the caller's only: anyone else's id is "not found".

mod api;
mod pages;

pub(crate) use api::api_routes;
pub(crate) use pages::{error_fragment, routes};

/// The URL of a list's page.
pub(crate) fn list_url(id: impl std::fmt::Display) -> String {
    format!("/lists/{id}")
}
