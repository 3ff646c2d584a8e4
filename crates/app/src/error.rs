//! What a use case can refuse or fail with, as types: front ends choose their status codes and
//! words from the variant, never from message text.

use std::fmt;
use std::path::PathBuf;

use tripwright_agents::AgentError;
use tripwright_domain::InvalidRequest;
use tripwright_store::{Entity, StoreError};

/// Which input a refused request got wrong.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Invalid {
    /// A field of a trip request (its own rule).
    Request(InvalidRequest),
    /// An item name: empty, too long or with control characters.
    ItemName,
    /// A quantity outside 0..=12.
    Quantity,
    /// A list title: empty, too long or with control characters.
    ListTitle,
    /// Notes over the length limit.
    Notes,
    /// Coordinates out of range.
    Coordinates,
    /// A search radius outside its range.
    Radius,
    /// No location given to search around.
    MissingLocation,
    /// A change to a plan that cannot be made (no such stop, no other place …).
    Edit,
    /// A plan's name: too long or with control characters.
    PlanTitle,
    /// Anything else the store refused (a bug in a front end's checks, most likely).
    Input,
}

/// What was changed elsewhere when a versioned write lost the race.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Changed {
    /// The list's title.
    List,
    /// One item.
    Item,
    /// The list's notes.
    Notes,
}

impl fmt::Display for Changed {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Changed::List => "the list",
            Changed::Item => "this item",
            Changed::Notes => "the notes",
        })
    }
}

/// A per-user quota that a request would exceed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Quota {
    /// Plans started in 24 hours.
    PlansPerDay(u32),
    /// Trip lists kept.
    Lists(u32),
    /// Items on one list.
    Items(u32),
}

impl fmt::Display for Quota {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Quota::PlansPerDay(n) => write!(
                f,
                "you have started {n} plans in the last 24 hours, the most this server makes for one person in a day"
            ),
            Quota::Lists(n) => write!(
                f,
                "you have {n} trip lists, the most this server keeps for one person"
            ),
            Quota::Items(n) => write!(f, "this list has {n} items, the most a list can hold"),
        }
    }
}

impl Quota {
    /// What the user can do about it.
    pub fn hint(self) -> &'static str {
        match self {
            Quota::PlansPerDay(_) => {
                "your saved plans are all still there; you can plan again tomorrow"
            }
            Quota::Lists(_) => "delete a list you no longer need, then make the new one",
            Quota::Items(_) => "remove items you no longer need, or start a second list",
        }
    }
}

/// What a request named that does not exist (or is not the caller's).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Missing {
    /// A plan.
    Plan,
    /// A plan behind a share link.
    SharedPlan,
    /// A trip list.
    List,
    /// An item of a list.
    Item,
}

impl fmt::Display for Missing {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Missing::Plan => "plan",
            Missing::SharedPlan => "shared plan",
            Missing::List => "list",
            Missing::Item => "item",
        })
    }
}

/// Why a use case refused or failed. The message (`Display`) is for the user.
#[derive(Debug, thiserror::Error)]
pub enum AppError {
    /// The input is invalid; the message says how, the hint what to do.
    #[error("{message}")]
    Invalid {
        /// Which rule.
        invalid: Invalid,
        /// What is wrong.
        message: String,
        /// What to do about it, when there is advice.
        hint: Option<String>,
    },
    /// The destination is not in the gazetteer.
    #[error(transparent)]
    UnknownDestination(#[from] tripwright_data::gazetteer::GeocodeError),
    /// A place to search around that neither the gazetteer nor (when configured) the online
    /// geocoder knows.
    #[error("{message}")]
    UnknownLocation {
        /// What was not found.
        message: String,
        /// What to try instead (and whether the online geocoder could be asked).
        hint: String,
    },
    /// Nothing of that kind with that id is the caller's.
    #[error("{0} not found")]
    NotFound(Missing),
    /// An item of that name is already on the list.
    #[error("an item named \"{0}\" is already on the list")]
    Duplicate(String),
    /// A versioned write lost the race: it changed in another tab since it was read.
    #[error("{0} was changed in another tab — reloaded")]
    Changed(Changed),
    /// The plan is still being made: it cannot be rewritten, shared or listed yet.
    #[error("the plan is still being made; wait until it is done")]
    PlanRunning,
    /// The plan is not finished yet: it cannot be shared, exported or packed for.
    #[error("the plan is not finished yet; try again when it is ready")]
    PlanNotDone,
    /// There is nothing to cancel.
    #[error("the plan is not being made any more; there is nothing to cancel")]
    NotRunning,
    /// A day the plan does not have.
    #[error("the plan has days 1 to {days}, not day {day}")]
    NoSuchDay {
        /// The day asked for.
        day: u8,
        /// The plan's days.
        days: usize,
    },
    /// Too many plans are being made at once.
    #[error("the planner is busy, try again in a moment")]
    Busy,
    /// A per-user quota would be exceeded.
    #[error("{0}")]
    Quota(Quota),
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
    /// Start-up failed: a model or data file could not be loaded, the store not opened.
    #[error("{0}")]
    Startup(String),
    /// An outside service (OpenStreetMap's Overpass) is not configured or did not answer; in
    /// words for the user.
    #[error("{0}")]
    Online(String),
    /// A bug or a failing dependency (store, worker thread); the detail is for the log.
    #[error("internal error: {0}")]
    Internal(String),
}

impl AppError {
    /// An invalid input.
    pub fn invalid(invalid: Invalid, message: impl Into<String>, hint: Option<String>) -> Self {
        Self::Invalid {
            invalid,
            message: message.into(),
            hint,
        }
    }

    /// Whether the failure is the server's (a bug or a failing dependency), not the input's.
    pub fn is_internal(&self) -> bool {
        matches!(
            self,
            AppError::Internal(_) | AppError::Startup(_) | AppError::MissingAssets { .. }
        )
    }

    /// A store error in the words of the use case that got it: `changed` says what a
    /// version conflict is about, `missing` what a "not found" names.
    pub(crate) fn from_store(e: StoreError, changed: Changed) -> Self {
        match e {
            StoreError::NotFound { entity, .. } => AppError::NotFound(missing_of(entity)),
            StoreError::VersionConflict { .. } => AppError::Changed(changed),
            StoreError::Duplicate { name, .. } => AppError::Duplicate(name),
            StoreError::Invalid(m) => AppError::invalid(Invalid::Input, m, None),
            // Someone else's row is not the caller's: as good as absent.
            StoreError::OwnedByAnother { entity, .. } => AppError::NotFound(missing_of(entity)),
            other => AppError::Internal(other.to_string()),
        }
    }
}

fn missing_of(entity: Entity) -> Missing {
    match entity {
        Entity::List => Missing::List,
        Entity::Item => Missing::Item,
        Entity::ShareLink => Missing::SharedPlan,
        Entity::Plan | Entity::Place | Entity::Map => Missing::Plan,
    }
}

impl From<StoreError> for AppError {
    fn from(e: StoreError) -> Self {
        AppError::from_store(e, Changed::List)
    }
}

impl From<AgentError> for AppError {
    fn from(e: AgentError) -> Self {
        match e {
            AgentError::Invalid(v) => AppError::Invalid {
                invalid: Invalid::Request(v.code),
                message: v.message,
                hint: Some(v.hint),
            },
            AgentError::UnknownDestination(g) => AppError::UnknownDestination(g),
            AgentError::NoSuchDay { day, days } => AppError::NoSuchDay { day, days },
            AgentError::Refused(message) => AppError::Invalid {
                invalid: Invalid::Edit,
                message,
                hint: None,
            },
            AgentError::Store(s) => AppError::from(s),
            other => AppError::Internal(other.to_string()),
        }
    }
}

impl From<tripwright_domain::ValidationError> for AppError {
    fn from(v: tripwright_domain::ValidationError) -> Self {
        AppError::from(AgentError::Invalid(v))
    }
}
