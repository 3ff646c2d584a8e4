//! The queue of plans being made, and each one's log of events, in PostgreSQL, shared by every
//! replica of the database.
//!
//! A claim locks the job it takes (`FOR UPDATE SKIP LOCKED`), so two replicas claiming at once
//! take different jobs and never wait for each other. The fenced writes (by attempt) lock the
//! job's row, not the store's write lock ([`PgStore::write`]): appending events, the most
//! frequent write, never queues behind other plans' jobs or list edits. News goes out on the
//! channel [`CHANNEL`] (`pg_notify` inside the writing transaction, so it is heard only once the
//! write is committed): the plan id when events were appended, an empty text when a job was
//! queued or cancelled.

use std::time::Duration;

use async_trait::async_trait;
use chrono::Utc;
use futures::stream::BoxStream;
use sqlx::postgres::{PgArguments, PgListener, PgNotification};
use sqlx::query::Query;
use sqlx::{Postgres, QueryBuilder};
use tracing::{instrument, warn};
use tripwright_domain::{OwnerId, PlanId};

use super::places::ROWS_PER_INSERT;
use super::{PgStore, unique_as_duplicate};
use crate::jobs_sql::{
    END_JOB, INSERT_EVENTS, JOB, JOB_EVENTS, RENEW_JOB_LEASE, REQUEST_JOB_CANCEL, REQUEUE_JOB,
    START_JOB, claim_job, holds_job, owned_jobs,
};
use crate::shared::{
    JobRow, JobStatusRow, event_seq, job_and_status, job_columns, job_record, lease_renewed,
    lease_until,
};
use crate::{ENDED_JOBS_KEPT, Entity, JobNews, JobRecord, JobStatus, JobStore, Lease, Result};

/// The channel the replicas announce job news on (`LISTEN`/`NOTIFY`; it spans the database,
/// whatever the schema).
const CHANNEL: &str = "tripwright_jobs";

/// How long the news stream waits before listening again after its connection failed twice
/// in a row, so that a database that is down is not asked in a tight loop.
const RETRY_AFTER: Duration = Duration::from_secs(1);

/// Claims the oldest claimable job ([`claim_job!`]), skipping the jobs another replica is
/// claiming or writing at the same moment. Ids sort byte by byte, as on SQLite.
const CLAIM_JOB: &str = claim_job!("id COLLATE \"C\"", " FOR UPDATE SKIP LOCKED");

/// Answers whether an attempt holds its job ([`holds_job!`]), locking the job's row until the
/// transaction ends.
const HOLDS_JOB: &str = holds_job!(" FOR UPDATE");

/// An owner's jobs that have not ended ([`owned_jobs!`]), ids sorting byte by byte.
const OWNED_JOBS: &str = owned_jobs!("id COLLATE \"C\"");

/// Deletes the jobs that ended before `$1`, with their events. Rows another transaction holds
/// are skipped (the next end deletes them), so two replicas ending jobs never wait on, or
/// deadlock over, the same old rows.
const DELETE_ENDED: &str = "\
    WITH gone AS (DELETE FROM plan_jobs WHERE id IN \
        (SELECT id FROM plan_jobs WHERE status = 'ended' AND ended_at < $1 \
         FOR UPDATE SKIP LOCKED) \
        RETURNING id) \
    DELETE FROM plan_events WHERE plan_id IN (SELECT id FROM gone)";

/// A notification as news: an empty payload is [`JobNews::Queued`], any other the plan id of
/// [`JobNews::Events`].
fn news(notification: &PgNotification) -> JobNews {
    match notification.payload() {
        "" => JobNews::Queued,
        id => JobNews::Events(PlanId::new(id)),
    }
}

impl PgStore {
    /// Announces `payload` on [`CHANNEL`] when `tx` commits.
    async fn notify(tx: &mut sqlx::Transaction<'static, Postgres>, payload: &str) -> Result<()> {
        sqlx::query("SELECT pg_notify($1, $2)")
            .bind(CHANNEL)
            .bind(payload)
            .execute(&mut **tx)
            .await?;
        Ok(())
    }

    /// Runs `update` in a transaction and, if it changed a row, announces
    /// [`JobNews::Queued`] with it; whether it changed one.
    async fn write_announcing_queued(
        &self,
        update: Query<'_, Postgres, PgArguments>,
    ) -> Result<bool> {
        let mut tx = self.pool.begin().await?;
        let done = update.execute(&mut *tx).await?;
        if done.rows_affected() == 0 {
            return Ok(false);
        }
        Self::notify(&mut tx, "").await?;
        tx.commit().await?;
        Ok(true)
    }
}

#[async_trait]
impl JobStore for PgStore {
    /// Also [`StoreError::Invalid`](crate::StoreError::Invalid) for an empty owner or a
    /// request that would not read back. Times are kept to the millisecond.
    #[instrument(level = "debug", skip_all, fields(id = %job.id))]
    async fn start_job(
        &self,
        job: &JobRecord,
        worker: &str,
        lease: std::time::Duration,
    ) -> Result<()> {
        let columns = job_columns(job)?;
        let now_ms = Utc::now().timestamp_millis();
        sqlx::query(START_JOB)
            .bind(job.id.as_str())
            .bind(job.owner.as_str())
            .bind(columns.request)
            .bind(columns.destination)
            .bind(&job.cache_key)
            .bind(columns.started_at)
            .bind(columns.expires_at)
            .bind(worker)
            .bind(columns.attempt)
            .bind(lease_until(now_ms, lease))
            .execute(&self.pool)
            .await
            .map_err(unique_as_duplicate(Entity::Plan, job.id.as_str()))?;
        Ok(())
    }

    #[instrument(level = "debug", skip(self))]
    async fn claim_job(
        &self,
        worker: &str,
        lease: std::time::Duration,
    ) -> Result<Option<JobRecord>> {
        let now_ms = Utc::now().timestamp_millis();
        let row: Option<JobRow> = sqlx::query_as(CLAIM_JOB)
            .bind(worker)
            .bind(lease_until(now_ms, lease))
            .bind(now_ms)
            .fetch_optional(&self.pool)
            .await?;
        row.map(job_record).transpose()
    }

    async fn renew_job_lease(
        &self,
        id: &PlanId,
        attempt: u32,
        lease: std::time::Duration,
    ) -> Result<Lease> {
        let now_ms = Utc::now().timestamp_millis();
        let cancel: Option<i64> = sqlx::query_scalar(RENEW_JOB_LEASE)
            .bind(lease_until(now_ms, lease))
            .bind(id.as_str())
            .bind(i64::from(attempt))
            .fetch_optional(&self.pool)
            .await?;
        Ok(lease_renewed(cancel))
    }

    /// The job's row stays locked until the events are committed, so no claim takes the job
    /// in between. A number already in the log is a query error (a unique key), and nothing
    /// is written.
    #[instrument(level = "debug", skip_all, fields(id = %id, attempt, first_seq, n = events.len()))]
    async fn append_job_events(
        &self,
        id: &PlanId,
        attempt: u32,
        first_seq: u64,
        events: &[String],
    ) -> Result<bool> {
        let mut rows = Vec::with_capacity(events.len());
        for (offset, event) in events.iter().enumerate() {
            rows.push((event_seq(id, first_seq, offset)?, event));
        }
        let mut tx = self.pool.begin().await?;
        let holds: Option<i32> = sqlx::query_scalar(HOLDS_JOB)
            .bind(id.as_str())
            .bind(i64::from(attempt))
            .fetch_optional(&mut *tx)
            .await?;
        if holds.is_none() {
            return Ok(false);
        }
        if rows.is_empty() {
            return Ok(true);
        }
        for chunk in rows.chunks(ROWS_PER_INSERT) {
            let mut query = QueryBuilder::<Postgres>::new(INSERT_EVENTS);
            query.push_values(chunk, |mut row, (seq, event)| {
                row.push_bind(id.as_str())
                    .push_bind(*seq)
                    .push_bind(event.as_str());
            });
            query.build().execute(&mut *tx).await?;
        }
        Self::notify(&mut tx, id.as_str()).await?;
        tx.commit().await?;
        Ok(true)
    }

    async fn job_events(&self, id: &PlanId, from: u64, limit: u32) -> Result<Vec<String>> {
        let Ok(from) = i64::try_from(from) else {
            return Ok(Vec::new());
        };
        Ok(sqlx::query_scalar(JOB_EVENTS)
            .bind(id.as_str())
            .bind(from)
            .bind(i64::from(limit))
            .fetch_all(&self.pool)
            .await?)
    }

    #[instrument(level = "debug", skip_all, fields(id = %id, attempt))]
    async fn end_job(&self, id: &PlanId, attempt: u32) -> Result<bool> {
        let now_ms = Utc::now().timestamp_millis();
        let cutoff = now_ms.saturating_sub(ENDED_JOBS_KEPT.num_milliseconds());
        let mut tx = self.pool.begin().await?;
        let ended = sqlx::query(END_JOB)
            .bind(now_ms)
            .bind(id.as_str())
            .bind(i64::from(attempt))
            .execute(&mut *tx)
            .await?;
        sqlx::query(DELETE_ENDED)
            .bind(cutoff)
            .execute(&mut *tx)
            .await?;
        tx.commit().await?;
        Ok(ended.rows_affected() > 0)
    }

    #[instrument(level = "debug", skip_all, fields(id = %id, attempt))]
    async fn requeue_job(&self, id: &PlanId, attempt: u32) -> Result<bool> {
        self.write_announcing_queued(
            sqlx::query(REQUEUE_JOB)
                .bind(id.as_str())
                .bind(i64::from(attempt)),
        )
        .await
    }

    /// Announced as [`JobNews::Queued`], so that the replica holding the job hears of it
    /// before its next renewal if it listens.
    #[instrument(level = "debug", skip_all, fields(id = %id))]
    async fn request_job_cancel(&self, id: &PlanId) -> Result<bool> {
        self.write_announcing_queued(sqlx::query(REQUEST_JOB_CANCEL).bind(id.as_str()))
            .await
    }

    async fn job(&self, id: &PlanId) -> Result<Option<(JobRecord, JobStatus)>> {
        let row: Option<JobStatusRow> = sqlx::query_as(JOB)
            .bind(id.as_str())
            .fetch_optional(&self.pool)
            .await?;
        row.map(job_and_status).transpose()
    }

    async fn owned_jobs(&self, owner: &OwnerId) -> Result<Vec<JobRecord>> {
        let rows: Vec<JobRow> = sqlx::query_as(OWNED_JOBS)
            .bind(owner.as_str())
            .fetch_all(&self.pool)
            .await?;
        rows.into_iter().map(job_record).collect()
    }

    /// The stream holds one of the store's connections, listening, until it is dropped or the
    /// store is closed (then it ends, if it is being read; [`Store::close`](crate::Store::close)
    /// waits for that connection). A lost connection is made again by itself (news meanwhile
    /// is lost); each failure is logged, and after two in a row it waits a second before
    /// trying again.
    async fn job_news(&self) -> Result<Option<BoxStream<'static, JobNews>>> {
        let mut listener = PgListener::connect_with(&self.pool).await?;
        listener.listen(CHANNEL).await?;
        let stream = futures::stream::unfold(listener, |mut listener| async move {
            let mut failures = 0_u32;
            loop {
                match listener.recv().await {
                    Ok(notification) => return Some((news(&notification), listener)),
                    // The store was closed: give its connection back and end.
                    Err(sqlx::Error::PoolClosed) => return None,
                    Err(e) => {
                        failures += 1;
                        warn!(error = %e, failures, "job news: listening failed; listening again");
                        if failures > 1 {
                            tokio::time::sleep(RETRY_AFTER).await;
                        }
                    }
                }
            }
        });
        Ok(Some(Box::pin(stream)))
    }
}
