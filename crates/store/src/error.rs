//! The one error type of every store backend, worded for the person who has to fix it.

use std::path::PathBuf;

/// What can go wrong talking to the store.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// The database file (or its folder) could not be created, opened or configured.
    #[error(
        "cannot open the store at {}: {source} (check that the folder exists or can be created, \
         is writable, and that the file is a Tripwright SQLite store)",
        path.display()
    )]
    Open {
        /// The database file.
        path: PathBuf,
        /// The underlying file-system or SQLite error.
        #[source]
        source: Box<dyn std::error::Error + Send + Sync>,
    },

    /// The schema could not be brought up to date, e.g. a store written by a newer
    /// Tripwright, or a migration failed.
    #[error(
        "cannot update the schema of the store at {}: {source} (was it written by a newer \
         Tripwright? use a matching version or a fresh store file)",
        path.display()
    )]
    Migrate {
        /// The database file.
        path: PathBuf,
        /// The migration error.
        #[source]
        source: sqlx::migrate::MigrateError,
    },

    /// A query failed (database locked for too long, disk full, connection lost …).
    #[error("store query failed: {0}")]
    Query(#[from] sqlx::Error),

    /// Stored data cannot be decoded (bad JSON, unknown category, truncated vector …).
    #[error(
        "the store holds data it cannot read: {0} (re-import the places, or move the store file \
         away to start afresh)"
    )]
    Corrupt(String),

    /// The caller passed something the store refuses to write or search with.
    #[error("invalid input for the store: {0}")]
    Invalid(String),

    /// A row the caller named does not exist (or is not the caller's).
    #[error("{0} not found")]
    NotFound(String),

    /// A write lost a race: the row changed since the caller read it (versioned write), or a
    /// uniqueness rule refused it (duplicate item name).
    #[error("{0}")]
    Conflict(String),
}
