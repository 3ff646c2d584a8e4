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

    /// The PostgreSQL database could not be reached or its schema brought up to date (the
    /// message never holds the URL, which may hold a password).
    #[error(
        "cannot use the database: {0} (check `database_url` / DATABASE_URL and that PostgreSQL is running)"
    )]
    Connect(String),

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
    #[error("{entity} {} not found", short_id(id))]
    NotFound {
        /// What kind of row.
        entity: Entity,
        /// The id the caller gave.
        id: String,
    },

    /// A uniqueness rule refused the write: an item of that name is already on the list, or
    /// another plan has that share token.
    #[error("{}", duplicate_message(*entity, name))]
    Duplicate {
        /// What kind of row.
        entity: Entity,
        /// The name (or token) already taken, as stored.
        name: String,
    },

    /// A versioned write lost a race: the row changed since the caller read it.
    #[error(
        "the {entity} was changed elsewhere (another tab or device) since you loaded it \
         (version {seen}, now {current}); reload it and try again"
    )]
    VersionConflict {
        /// What kind of row.
        entity: Entity,
        /// The version the caller saw.
        seen: i64,
        /// The version stored now.
        current: i64,
    },

    /// The row belongs to another owner and was left alone.
    #[error("{entity} {} belongs to someone else", short_id(id))]
    OwnedByAnother {
        /// What kind of row.
        entity: Entity,
        /// Its id.
        id: String,
    },
}

/// What kind of row an error is about.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Entity {
    /// An imported place.
    Place,
    /// A saved plan.
    Plan,
    /// A trip list.
    List,
    /// An item of a list.
    Item,
    /// A plan's share link.
    ShareLink,
    /// A region's street map.
    Map,
}

impl StoreError {
    /// Whether trying again soon may succeed: the database could not be reached, a connection
    /// broke or the pool had none free, PostgreSQL was restarting (SQLSTATE classes 08 and
    /// 57P), or SQLite was busy. Anything else fails the same way again.
    pub fn is_transient(&self) -> bool {
        match self {
            StoreError::Connect(_) => true,
            StoreError::Query(e) => match e {
                sqlx::Error::Io(_) | sqlx::Error::PoolTimedOut | sqlx::Error::Protocol(_) => true,
                sqlx::Error::Database(db) => db.code().is_some_and(|code| {
                    code.starts_with("08") || code.starts_with("57P") || code == "5" || code == "6"
                }),
                _ => false,
            },
            _ => false,
        }
    }
}

impl std::fmt::Display for Entity {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Entity::Place => "place",
            Entity::Plan => "plan",
            Entity::List => "list",
            Entity::Item => "item",
            Entity::ShareLink => "share link",
            Entity::Map => "street map",
        })
    }
}

fn duplicate_message(entity: Entity, name: &str) -> String {
    match entity {
        Entity::Item => format!("an item named \"{name}\" is already on the list"),
        Entity::ShareLink => "that share token is already in use".to_owned(),
        other => format!("a {other} named \"{name}\" already exists"),
    }
}

/// The first characters of an id, for messages: `list 1234abcd… not found`.
pub(crate) fn short_id(id: &str) -> String {
    let mut chars = id.chars().filter(|c| !c.is_control());
    let head: String = chars.by_ref().take(8).collect();
    if chars.next().is_some() {
        format!("{head}…")
    } else {
        head
    }
}
