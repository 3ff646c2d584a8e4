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
use sqlx::postgres::{PgListener, PgNotification};
use sqlx::{Postgres, QueryBuilder};
use tracing::{instrument, warn};
use tripwright_domain::{OwnerId, PlanId};

use super::places::ROWS_PER_INSERT;
use super::{PgStore, unique_as_duplicate};
use crate::shared::{
    JOB_COLUMNS, JOB_STATUS_COLUMNS, JobRow, JobStatusRow, event_seq, job_and_status, job_columns,
    job_record, lease_until,
};
use crate::{ENDED_JOBS_KEPT, Entity, JobNews, JobRecord, JobStatus, JobStore, Lease, Result};

/// The channel the replicas announce job news on (`LISTEN`/`NOTIFY`; it spans the database,
/// whatever the schema).
const CHANNEL: &str = "tripwright_jobs";

/// How long the news stream waits before listening again after its connection failed twice
/// in a row, so that a database that is down is not asked in a tight loop.
const RETRY_AFTER: Duration = Duration::from_secs(1);

/// Claims the oldest claimable job (`$1` the worker, `$2` the new lease end, `$3` now), skipping
/// the jobs another replica is claiming or writing at the same moment.
const CLAIM_JOB: &str = "\
    UPDATE plan_jobs SET status = 'running', worker = $1, attempt = attempt + 1, lease_until = $2 \
    WHERE id = (SELECT id FROM plan_jobs \
                WHERE status = 'queued' OR (status = 'running' AND lease_until < $3) \
                ORDER BY started_at, id COLLATE \"C\" LIMIT 1 FOR UPDATE SKIP LOCKED) \
    RETURNING ";

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
        sqlx::query(
            "INSERT INTO plan_jobs (id, owner, request, destination, cache_key, started_at, \
             expires_at, status, worker, attempt, lease_until) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, 'running', $8, $9, $10)",
        )
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
        let row: Option<JobRow> = sqlx::query_as(&format!("{CLAIM_JOB}{JOB_COLUMNS}"))
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
        let cancel: Option<i64> = sqlx::query_scalar(
            "UPDATE plan_jobs SET lease_until = $1 \
             WHERE id = $2 AND attempt = $3 AND status = 'running' RETURNING cancel_requested",
        )
        .bind(lease_until(now_ms, lease))
        .bind(id.as_str())
        .bind(i64::from(attempt))
        .fetch_optional(&self.pool)
        .await?;
        Ok(match cancel {
            None => Lease::Lost,
            Some(0) => Lease::Held,
            Some(_) => Lease::CancelRequested,
        })
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
        let holds: Option<i32> = sqlx::query_scalar(
            "SELECT 1 FROM plan_jobs WHERE id = $1 AND attempt = $2 AND status = 'running' \
             FOR UPDATE",
        )
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
            let mut query =
                QueryBuilder::<Postgres>::new("INSERT INTO plan_events (plan_id, seq, event) ");
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
        Ok(sqlx::query_scalar(
            "SELECT event FROM plan_events WHERE plan_id = $1 AND seq >= $2 ORDER BY seq LIMIT $3",
        )
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
        let ended = sqlx::query(
            "UPDATE plan_jobs SET status = 'ended', ended_at = $1, lease_until = NULL \
             WHERE id = $2 AND attempt = $3 AND status != 'ended'",
        )
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
        let mut tx = self.pool.begin().await?;
        let done = sqlx::query(
            "UPDATE plan_jobs SET status = 'queued', worker = NULL, lease_until = NULL \
             WHERE id = $1 AND attempt = $2 AND status = 'running'",
        )
        .bind(id.as_str())
        .bind(i64::from(attempt))
        .execute(&mut *tx)
        .await?;
        if done.rows_affected() == 0 {
            return Ok(false);
        }
        Self::notify(&mut tx, "").await?;
        tx.commit().await?;
        Ok(true)
    }

    /// Announced as [`JobNews::Queued`], so that the replica holding the job hears of it
    /// before its next renewal if it listens.
    #[instrument(level = "debug", skip_all, fields(id = %id))]
    async fn request_job_cancel(&self, id: &PlanId) -> Result<bool> {
        let mut tx = self.pool.begin().await?;
        let done = sqlx::query(
            "UPDATE plan_jobs SET cancel_requested = 1 \
             WHERE id = $1 AND status IN ('queued', 'running')",
        )
        .bind(id.as_str())
        .execute(&mut *tx)
        .await?;
        if done.rows_affected() == 0 {
            return Ok(false);
        }
        Self::notify(&mut tx, "").await?;
        tx.commit().await?;
        Ok(true)
    }

    async fn job(&self, id: &PlanId) -> Result<Option<(JobRecord, JobStatus)>> {
        let row: Option<JobStatusRow> = sqlx::query_as(&format!(
            "SELECT {JOB_STATUS_COLUMNS} FROM plan_jobs WHERE id = $1"
        ))
        .bind(id.as_str())
        .fetch_optional(&self.pool)
        .await?;
        row.map(job_and_status).transpose()
    }

    async fn owned_jobs(&self, owner: &OwnerId) -> Result<Vec<JobRecord>> {
        let rows: Vec<JobRow> = sqlx::query_as(&format!(
            "SELECT {JOB_COLUMNS} FROM plan_jobs WHERE owner = $1 AND status != 'ended' \
             ORDER BY started_at DESC, id COLLATE \"C\" DESC"
        ))
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
