//! The four agents (weather, hotels, itinerary, summary) and the orchestrator that runs them.

pub mod weather;
