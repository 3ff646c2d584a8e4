//! The four agents (weather, hotels, itinerary, summary), the plan's feasibility checks and
//! the orchestrator that runs them.

pub mod assets;
pub mod checks;
pub mod grounding;
pub mod hotels;
pub mod itinerary;
pub mod orchestrator;
pub mod packing;
pub mod prose;
pub mod summary;
pub mod weather;

use std::path::PathBuf;

pub use orchestrator::{
    AgentEvent, AgentName, AgentOutput, AgentStatus, Orchestrator, StartupReport,
};

/// Why a plan (or start-up) failed. Each variant's message says what the user can do.
#[derive(Debug, thiserror::Error)]
pub enum AgentError {
    /// The request is invalid.
    #[error("invalid request: {0}")]
    Invalid(#[from] tripwright_domain::ValidationError),
    /// The destination is not in the gazetteer.
    #[error(transparent)]
    UnknownDestination(#[from] tripwright_data::gazetteer::GeocodeError),
    /// Assets were never fetched.
    #[error(
        "assets are missing under {}: {}. Run scripts/fetch_assets.sh (or set TRIPWRIGHT_ASSETS_DIR)",
        root.display(),
        missing.join(", ")
    )]
    MissingAssets {
        /// The assets directory.
        root: PathBuf,
        /// Missing files.
        missing: Vec<String>,
    },
    /// The store failed.
    #[error(transparent)]
    Store(#[from] tripwright_store::StoreError),
    /// The embedding model failed.
    #[error(transparent)]
    Embedding(#[from] tripwright_ml::embedding::EmbedError),
    /// The gazetteer could not be loaded.
    #[error(transparent)]
    Gazetteer(#[from] tripwright_data::gazetteer::GazetteerError),
    /// An OSM extract could not be imported.
    #[error(transparent)]
    Osm(#[from] tripwright_data::osm::OsmError),
    /// The weather model could not be loaded or trained.
    #[error(transparent)]
    Weather(#[from] weather::WeatherError),
    /// A bug or a crashed worker thread.
    #[error("internal error: {0}")]
    Internal(String),
}

impl AgentError {
    /// A stable machine-readable code for the error.
    pub fn code(&self) -> &'static str {
        match self {
            AgentError::Invalid(e) => e.code,
            AgentError::UnknownDestination(_) => "unknown_destination",
            AgentError::MissingAssets { .. } => "missing_assets",
            AgentError::Store(_) => "store_error",
            AgentError::Embedding(_) => "embedding_error",
            AgentError::Gazetteer(_) => "gazetteer_error",
            AgentError::Osm(_) => "osm_error",
            AgentError::Weather(_) => "weather_error",
            AgentError::Internal(_) => "internal",
        }
    }
}
