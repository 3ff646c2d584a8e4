//! The four agents (weather, hotels, itinerary, summary), the plan's feasibility checks and
//! the orchestrator that runs them.

pub mod checks;
pub mod editing;
pub mod encyclopedia;
pub mod facts;
pub mod grounding;
pub mod hotels;
pub mod intros;
pub mod itinerary;
pub mod kinds;
pub mod orchestrator;
pub mod packing;
pub mod prose;
pub mod quality;
pub mod streets;
pub mod summary;
pub mod weather;
pub mod wishes;

pub use orchestrator::{AgentEvent, AgentName, AgentOutput, AgentStatus, Agents, Orchestrator};

/// Why a plan, or a part of one, failed. Each variant's message says what the user can do.
#[derive(Debug, thiserror::Error)]
pub enum AgentError {
    /// The request is invalid.
    #[error("invalid request: {0}")]
    Invalid(#[from] tripwright_domain::ValidationError),
    /// The destination is not in the gazetteer.
    #[error(transparent)]
    UnknownDestination(#[from] tripwright_data::gazetteer::GeocodeError),
    /// The store failed.
    #[error(transparent)]
    Store(#[from] tripwright_store::StoreError),
    /// The embedding model failed.
    #[error(transparent)]
    Embedding(#[from] tripwright_ml::embedding::EmbedError),
    /// Text was asked for, but there is no language model (off, or it failed to load).
    #[error("no language model: {0}")]
    NoModel(String),
    /// A day the plan does not have.
    #[error("the plan has days 1 to {days}, not day {day}")]
    NoSuchDay {
        /// The day asked for.
        day: u8,
        /// How many days the plan has.
        days: usize,
    },
    /// The language model failed while writing.
    #[error("the text could not be written: {0}")]
    Prose(tripwright_llm::LlmError),
    /// An edit that cannot be made, in words for the traveller.
    #[error("{0}")]
    Refused(String),
    /// A bug or a crashed worker thread.
    #[error("internal error: {0}")]
    Internal(String),
}

impl AgentError {
    /// The error in words for a traveller, without internals (addresses, paths, a provider's
    /// or the store's own messages); `Display` keeps them for the log.
    pub fn summary(&self) -> String {
        match self {
            Self::Invalid(_)
            | Self::UnknownDestination(_)
            | Self::NoSuchDay { .. }
            | Self::Refused(_) => self.to_string(),
            Self::Store(_) => "the plan store failed".to_owned(),
            Self::Embedding(_) => "the hotel search model failed".to_owned(),
            Self::NoModel(_) => "no language model is available".to_owned(),
            Self::Prose(e) => format!("the text could not be written: {}", e.summary()),
            Self::Internal(_) => "an internal error stopped it".to_owned(),
        }
    }
}

/// The Helsinki plan of the export tests, for tests of what reads or changes a plan.
#[cfg(test)]
pub(crate) fn fixture_plan() -> tripwright_domain::Plan {
    serde_json::from_str(include_str!(
        "../../export/tests/fixtures/helsinki_plan.json"
    ))
    .expect("the fixture is a plan")
}
