//! The web crate's tests, in one binary (one link of the models and the engine, one set of
//! shared servers): a real server on a loopback port over the real application layer (the
//! repository's assets, a SQLite store in a run's own directory), driven over HTTP as a
//! browser or an API client would.
//!
//! - [`app`]: pages, the JSON API, the SSE stream, users and CSRF, sharing, exports, the plan
//!   cache, cancellation, the OpenAPI document; the prose of a plan and a day's rewrite on a
//!   scripted language model.
//! - [`lists`]: trip lists, notes, suggestions, the list PDF, supermarkets, a restart.
//! - [`online`]: the optional Nominatim and Overpass lookups against a stand-in that speaks
//!   both protocols and fails as they do.
//! - [`hardening`]: rate limits, quotas, another site's posts and the recovery link.
//! - [`openai_api`]: the OpenAI-compatible `/v1` over the real embedded engine (SmolLM2).
//!
//! [`support`] holds what these modules share: the servers and a few page helpers.

mod app;
mod hardening;
mod lists;
mod online;
mod openai_api;
mod support;
