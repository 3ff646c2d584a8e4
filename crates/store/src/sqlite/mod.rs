//! The SQLite backend: one file next to the user's data, nothing to install or run.
//!
//! The file is in WAL mode so that page loads (readers) never wait for a plan being saved or
//! an import in progress (the writer). SQLite admits one writer at a time anyway, so writes go
//! through a pool of exactly one connection: they queue fairly in the pool instead of racing
//! for the file lock, and a burst of saves never fails with "database is locked". Reads use a
//! separate small pool and run side by side.
//!
//! Each focused trait of the store is implemented in the module named after it: [`places`],
//! [`plans`], [`lists`], [`cache`], [`map`] and [`jobs`]; this module opens the file and holds
//! what they share.

mod cache;
mod jobs;
mod lists;
mod map;
mod places;
mod plans;

use std::path::Path;
use std::time::Duration;

pub(crate) use crate::shared::{stored_time, time_text, unique_as_duplicate, validate_owner};
use crate::{Result, Store, StoreError};
use async_trait::async_trait;
use sqlx::migrate::Migrator;
use sqlx::sqlite::{
    SqliteConnectOptions, SqliteJournalMode, SqlitePool, SqlitePoolOptions, SqliteSynchronous,
};
use tracing::instrument;

/// The SQL migrations, embedded at build time.
static MIGRATOR: Migrator = sqlx::migrate!("./migrations");

/// How long a connection waits for a lock held by another process (e.g. a CLI import beside
/// the server) before a query fails.
const BUSY_TIMEOUT: Duration = Duration::from_secs(5);

/// Read connections: enough for a few concurrent page loads and agents on a small machine.
const READERS: u32 = 4;

/// The store in one SQLite file. Cloning is cheap and shares the connections.
#[derive(Debug, Clone)]
pub struct SqliteStore {
    /// Exactly one connection: every write goes through it, in turn.
    writer: SqlitePool,
    /// Concurrent readers, which WAL lets run beside the writer.
    readers: SqlitePool,
}

impl SqliteStore {
    /// Opens the store at `path`, creating the file and its folders when missing and
    /// bringing the schema up to date.
    ///
    /// Connections use WAL, `synchronous = NORMAL` (durable across application crashes; a
    /// power cut may lose the last commits but never corrupts), foreign keys and a 5 s busy
    /// timeout.
    #[instrument(level = "debug", skip_all, fields(path = %path.display()))]
    pub async fn open(path: &Path) -> Result<Self> {
        let open_error = |source: Box<dyn std::error::Error + Send + Sync>| StoreError::Open {
            path: path.to_owned(),
            source,
        };
        if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
            tokio::fs::create_dir_all(dir)
                .await
                .map_err(|e| open_error(e.into()))?;
        }
        // Open the file once ourselves: SQLite reports every failure here as "unable to
        // open database file", while the OS error says what is wrong (permission denied,
        // not a directory …).
        tokio::fs::OpenOptions::new()
            .read(true)
            .write(true)
            .create(true)
            .truncate(false)
            .open(path)
            .await
            .map_err(|e| open_error(e.into()))?;

        let options = SqliteConnectOptions::new()
            .filename(path)
            .create_if_missing(true)
            .journal_mode(SqliteJournalMode::Wal)
            .synchronous(SqliteSynchronous::Normal)
            .foreign_keys(true)
            .busy_timeout(BUSY_TIMEOUT);
        let writer = SqlitePoolOptions::new()
            .max_connections(1)
            .connect_with(options.clone())
            .await
            .map_err(|e| open_error(e.into()))?;
        MIGRATOR
            .run(&writer)
            .await
            .map_err(|source| StoreError::Migrate {
                path: path.to_owned(),
                source,
            })?;
        let readers = SqlitePoolOptions::new()
            .max_connections(READERS)
            .connect_with(options)
            .await
            .map_err(|e| open_error(e.into()))?;
        Ok(Self { writer, readers })
    }
}

impl SqliteStore {
    /// A write transaction that takes the write lock at once (`BEGIN IMMEDIATE`). A deferred
    /// one that reads first and writes after fails at once with "database is locked" when
    /// another connection wrote in between (a CLI import beside the server, another process),
    /// whatever the busy timeout; an immediate one waits its turn for up to the timeout.
    async fn write(&self) -> Result<sqlx::Transaction<'static, sqlx::Sqlite>> {
        Ok(self.writer.begin_with("BEGIN IMMEDIATE").await?)
    }

    /// Writes a consistent copy of the whole store to the new file `to` (`VACUUM INTO`), while
    /// it is in use: readers and the writer go on meanwhile. Restoring is putting the copy in
    /// the store's place while no server runs.
    ///
    /// # Errors
    /// `to` exists already, or cannot be written.
    pub async fn backup(&self, to: &Path) -> Result<()> {
        if to.exists() {
            return Err(StoreError::Invalid(format!(
                "{} exists already; back up to a new file",
                to.display()
            )));
        }
        sqlx::query("VACUUM INTO ?")
            .bind(to.to_string_lossy().into_owned())
            .execute(&self.readers)
            .await?;
        Ok(())
    }
}

#[async_trait]
impl Store for SqliteStore {
    async fn ready(&self) -> Result<(usize, usize)> {
        let applied: i64 =
            sqlx::query_scalar("SELECT COUNT(*) FROM _sqlx_migrations WHERE success")
                .fetch_one(&self.readers)
                .await?;
        crate::shared::migrations_ready(applied, MIGRATOR.iter().count())
    }

    async fn close(&self) -> Result<()> {
        self.readers.close().await;
        // Fold the WAL into the main file so that the file alone is complete (a copy of it
        // is a full backup). Closing the last connection would do this too, but sqlx may
        // still be returning a connection when `close` resolves, so do not rely on it.
        let checkpoint = sqlx::query("PRAGMA wal_checkpoint(TRUNCATE)")
            .execute(&self.writer)
            .await;
        self.writer.close().await;
        checkpoint.map(|_| ()).map_err(StoreError::from)
    }
}
