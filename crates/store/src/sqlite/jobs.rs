//! The queue of plans being made, and each one's log of events, in SQLite.
//!
//! The queue works as on PostgreSQL, with SQLite's one writer for the locks: every write is a
//! single statement or a `BEGIN IMMEDIATE` transaction, and SQLite runs one at a time (even
//! for two stores open on the file), so two claims never take the same job and a fenced write
//! (by attempt) checks and writes with no claim in between. One process serves a SQLite store,
//! so there is nobody to announce news to ([`JobStore::job_news`] is `None`).

use async_trait::async_trait;
use chrono::Utc;
use futures::stream::BoxStream;
use sqlx::{QueryBuilder, Sqlite};
use tracing::instrument;
use tripwright_domain::{OwnerId, PlanId};

use super::{SqliteStore, unique_as_duplicate};
use crate::jobs_sql::{
    END_JOB, INSERT_EVENTS, JOB, JOB_EVENTS, RENEW_JOB_LEASE, REQUEST_JOB_CANCEL, REQUEUE_JOB,
    START_JOB, claim_job, holds_job, owned_jobs,
};
use crate::shared::{
    JobRow, JobStatusRow, event_seq, job_and_status, job_columns, job_record, lease_renewed,
    lease_until,
};
use crate::{ENDED_JOBS_KEPT, Entity, JobNews, JobRecord, JobStatus, JobStore, Lease, Result};

/// Events written by one `INSERT` (three parameters each, far below SQLite's limit).
const EVENTS_PER_INSERT: usize = 1000;

/// Claims the oldest claimable job ([`claim_job!`]): one statement, so that the one writer
/// takes the job whole. SQLite compares ids byte by byte already.
const CLAIM_JOB: &str = claim_job!("id", "");

/// Answers whether an attempt holds its job ([`holds_job!`]); the transaction's write lock
/// keeps it so.
const HOLDS_JOB: &str = holds_job!("");

/// An owner's jobs that have not ended ([`owned_jobs!`]).
const OWNED_JOBS: &str = owned_jobs!("id");

#[async_trait]
impl JobStore for SqliteStore {
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
            .execute(&self.writer)
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
            .fetch_optional(&self.writer)
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
            .fetch_optional(&self.writer)
            .await?;
        Ok(lease_renewed(cancel))
    }

    /// A number already in the log is a query error (a unique key), and nothing is written.
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
        let mut tx = self.write().await?;
        let holds: Option<i64> = sqlx::query_scalar(HOLDS_JOB)
            .bind(id.as_str())
            .bind(i64::from(attempt))
            .fetch_optional(&mut *tx)
            .await?;
        if holds.is_none() {
            return Ok(false);
        }
        for chunk in rows.chunks(EVENTS_PER_INSERT) {
            let mut query = QueryBuilder::<Sqlite>::new(INSERT_EVENTS);
            query.push_values(chunk, |mut row, (seq, event)| {
                row.push_bind(id.as_str())
                    .push_bind(*seq)
                    .push_bind(event.as_str());
            });
            query.build().execute(&mut *tx).await?;
        }
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
            .fetch_all(&self.readers)
            .await?)
    }

    #[instrument(level = "debug", skip_all, fields(id = %id, attempt))]
    async fn end_job(&self, id: &PlanId, attempt: u32) -> Result<bool> {
        let now_ms = Utc::now().timestamp_millis();
        let cutoff = now_ms.saturating_sub(ENDED_JOBS_KEPT.num_milliseconds());
        let mut tx = self.write().await?;
        let ended = sqlx::query(END_JOB)
            .bind(now_ms)
            .bind(id.as_str())
            .bind(i64::from(attempt))
            .execute(&mut *tx)
            .await?;
        sqlx::query(
            "DELETE FROM plan_events WHERE plan_id IN \
             (SELECT id FROM plan_jobs WHERE status = 'ended' AND ended_at < ?)",
        )
        .bind(cutoff)
        .execute(&mut *tx)
        .await?;
        sqlx::query("DELETE FROM plan_jobs WHERE status = 'ended' AND ended_at < ?")
            .bind(cutoff)
            .execute(&mut *tx)
            .await?;
        tx.commit().await?;
        Ok(ended.rows_affected() > 0)
    }

    #[instrument(level = "debug", skip_all, fields(id = %id, attempt))]
    async fn requeue_job(&self, id: &PlanId, attempt: u32) -> Result<bool> {
        let done = sqlx::query(REQUEUE_JOB)
            .bind(id.as_str())
            .bind(i64::from(attempt))
            .execute(&self.writer)
            .await?;
        Ok(done.rows_affected() > 0)
    }

    #[instrument(level = "debug", skip_all, fields(id = %id))]
    async fn request_job_cancel(&self, id: &PlanId) -> Result<bool> {
        let done = sqlx::query(REQUEST_JOB_CANCEL)
            .bind(id.as_str())
            .execute(&self.writer)
            .await?;
        Ok(done.rows_affected() > 0)
    }

    async fn job(&self, id: &PlanId) -> Result<Option<(JobRecord, JobStatus)>> {
        let row: Option<JobStatusRow> = sqlx::query_as(JOB)
            .bind(id.as_str())
            .fetch_optional(&self.readers)
            .await?;
        row.map(job_and_status).transpose()
    }

    async fn owned_jobs(&self, owner: &OwnerId) -> Result<Vec<JobRecord>> {
        let rows: Vec<JobRow> = sqlx::query_as(OWNED_JOBS)
            .bind(owner.as_str())
            .fetch_all(&self.readers)
            .await?;
        rows.into_iter().map(job_record).collect()
    }

    /// Always `None`: one process uses a SQLite store, so there is nobody to hear from.
    async fn job_news(&self) -> Result<Option<BoxStream<'static, JobNews>>> {
        Ok(None)
    }
}
