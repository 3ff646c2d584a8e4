//! The PostgreSQL backend, for several app replicas sharing one database: the same tables and
//! meanings as the SQLite file (its migrations are copies of SQLite's, in
//! `crates/store/migrations_pg/`, numbered alike), the same traits.
//!
//! Writes that read before they write (a list item's version, a plan's newest saved version)
//! take one transaction-level advisory lock ([`PgStore::write`]), so they run one at a time
//! across every replica, exactly as SQLite's one writer runs them; reads and single-statement
//! writes do not wait for it. A finer lock per list or plan is a later step, when writes are
//! many enough to queue.
//!
//! Each focused trait is implemented in the module named after it, as for SQLite.

mod cache;
mod jobs;
mod lists;
mod map;
mod places;
mod plans;

use std::time::Duration;

use async_trait::async_trait;
use sqlx::migrate::Migrator;
use sqlx::postgres::{PgConnectOptions, PgPool, PgPoolOptions};
use tracing::instrument;

pub(crate) use crate::shared::{stored_time, time_text, unique_as_duplicate, validate_owner};
use crate::{Result, Store, StoreError};

/// The SQL migrations, embedded at build time.
static MIGRATOR: Migrator = sqlx::migrate!("./migrations_pg");

/// The advisory lock every read-then-write transaction takes (any number; "TRIP" in ASCII).
const WRITE_LOCK: i64 = 0x5452_4950;

/// Connections per replica.
const CONNECTIONS: u32 = 8;

/// How long a query may wait for a connection from the pool.
const ACQUIRE_TIMEOUT: Duration = Duration::from_secs(10);

/// The store in a PostgreSQL database. Cloning is cheap and shares the connections.
#[derive(Debug, Clone)]
pub struct PgStore {
    pool: PgPool,
}

impl PgStore {
    /// Connects to the database at `url` (`postgres://user:password@host:port/db`, or with
    /// `?host=/socket/dir`) and brings its schema up to date. The URL is never logged or
    /// put in an error (it may hold a password).
    #[instrument(level = "debug", skip_all)]
    pub async fn connect(url: &str) -> Result<Self> {
        let options: PgConnectOptions = url.parse().map_err(|e: sqlx::Error| {
            StoreError::Connect(format!(
                "the database URL is not valid: {}",
                without_url(&e)
            ))
        })?;
        Self::connect_with(options).await
    }

    /// Connects with `options` (a test sets a schema through them) and migrates.
    pub async fn connect_with(options: PgConnectOptions) -> Result<Self> {
        let pool = PgPoolOptions::new()
            .max_connections(CONNECTIONS)
            .acquire_timeout(ACQUIRE_TIMEOUT)
            .connect_with(options)
            .await
            .map_err(|e| StoreError::Connect(format!("PostgreSQL: {}", without_url(&e))))?;
        MIGRATOR
            .run(&pool)
            .await
            .map_err(|e| StoreError::Connect(format!("PostgreSQL migrations: {e}")))?;
        Ok(Self { pool })
    }

    /// A write transaction that holds the store's write lock until it ends (see the module
    /// documentation).
    async fn write(&self) -> Result<sqlx::Transaction<'static, sqlx::Postgres>> {
        let mut tx = self.pool.begin().await?;
        sqlx::query("SELECT pg_advisory_xact_lock($1)")
            .bind(WRITE_LOCK)
            .execute(&mut *tx)
            .await?;
        Ok(tx)
    }
}

/// An error's text without the connection URL sqlx may quote.
fn without_url(e: &sqlx::Error) -> String {
    let text = e.to_string();
    match text.find("postgres") {
        Some(i) if text[i..].contains("://") => format!("{}…", &text[..i]),
        _ => text,
    }
}

#[async_trait]
impl Store for PgStore {
    async fn ready(&self) -> Result<(usize, usize)> {
        let applied: i64 =
            sqlx::query_scalar("SELECT COUNT(*) FROM _sqlx_migrations WHERE success")
                .fetch_one(&self.pool)
                .await?;
        crate::shared::migrations_ready(applied, MIGRATOR.iter().count())
    }

    async fn close(&self) -> Result<()> {
        self.pool.close().await;
        Ok(())
    }
}
