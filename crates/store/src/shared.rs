//! What both backends share: times as stored, owner checks, the mapping of a uniqueness
//! violation, and the rows of the job queue.

use chrono::{DateTime, SecondsFormat, Utc};
use tripwright_domain::{Destination, OwnerId, PlanId, TripRequest};

use crate::{Entity, JobRecord, JobStatus, Lease, Result, StoreError};

/// A time as stored: RFC 3339 in UTC with microseconds. Every such text has the same width,
/// so sorting the column as text sorts by time (the `ORDER BY created_at` queries rely on it).
pub(crate) fn time_text(time: DateTime<Utc>) -> String {
    time.to_rfc3339_opts(SecondsFormat::Micros, true)
}

/// A stored time read back; an unreadable one is [`StoreError::Corrupt`], naming the row
/// (`entity` `id`) and `what` the time is.
pub(crate) fn stored_time(
    entity: Entity,
    id: &str,
    what: &str,
    text: &str,
) -> Result<DateTime<Utc>> {
    DateTime::parse_from_rfc3339(text)
        .map(|t| t.with_timezone(&Utc))
        .map_err(|e| StoreError::Corrupt(format!("{entity} {id} has the {what} {text:?}: {e}")))
}

/// The owner id must name someone: an empty one would make a plan or list nobody can find
/// again.
pub(crate) fn validate_owner(owner: &OwnerId) -> Result<()> {
    if owner.as_str().trim().is_empty() {
        return Err(StoreError::Invalid("the owner id is empty".into()));
    }
    Ok(())
}

/// Maps a write's error: a uniqueness violation becomes [`StoreError::Duplicate`] of `name`,
/// anything else stays a query error.
pub(crate) fn unique_as_duplicate(
    entity: Entity,
    name: &str,
) -> impl FnOnce(sqlx::Error) -> StoreError {
    move |e| match &e {
        sqlx::Error::Database(db) if db.is_unique_violation() => StoreError::Duplicate {
            entity,
            name: name.to_owned(),
        },
        _ => StoreError::Query(e),
    }
}

/// Whether a cache entry stored at `stored_ms` is younger than `max_age_secs` at `now_ms`
/// (Unix milliseconds). An entry from the future (the clock was set back) counts as new.
pub(crate) fn is_fresh(stored_ms: i64, now_ms: i64, max_age_secs: u64) -> bool {
    let max_age_ms = max_age_secs.saturating_mul(1000);
    match u64::try_from(now_ms.saturating_sub(stored_ms)) {
        Ok(age_ms) => age_ms < max_age_ms,
        Err(_) => max_age_ms > 0,
    }
}

/// What `Store::ready` answers from the count of migrations applied in the database: both
/// counts when they are exactly this version's, else why not.
pub(crate) fn migrations_ready(applied: i64, known: usize) -> Result<(usize, usize)> {
    let applied = usize::try_from(applied).unwrap_or(0);
    if applied != known {
        return Err(StoreError::Corrupt(format!(
            "the schema has {applied} migrations applied, this version has {known}"
        )));
    }
    Ok((applied, known))
}

/// A time in Unix milliseconds read back; one out of chrono's range is
/// [`StoreError::Corrupt`], naming the row (`entity` `id`) and `what` the time is.
pub(crate) fn stored_millis(
    entity: Entity,
    id: &str,
    what: &str,
    ms: i64,
) -> Result<DateTime<Utc>> {
    DateTime::from_timestamp_millis(ms)
        .ok_or_else(|| StoreError::Corrupt(format!("{entity} {id} has the {what} {ms} ms")))
}

/// `lease` after `now_ms` (Unix milliseconds): when a lease taken now runs out. A lease too
/// long to count runs until the end of time.
pub(crate) fn lease_until(now_ms: i64, lease: std::time::Duration) -> i64 {
    now_ms.saturating_add(i64::try_from(lease.as_millis()).unwrap_or(i64::MAX))
}

/// What a renewal answers from the `cancel_requested` column it returned: `None` when no row
/// was renewed (the attempt no longer holds the job).
pub(crate) fn lease_renewed(cancel_requested: Option<i64>) -> Lease {
    match cancel_requested {
        None => Lease::Lost,
        Some(0) => Lease::Held,
        Some(_) => Lease::CancelRequested,
    }
}

/// The number `first_seq + offset` of an appended event, as stored; one beyond the column's
/// range is [`StoreError::Invalid`].
pub(crate) fn event_seq(id: &PlanId, first_seq: u64, offset: usize) -> Result<i64> {
    u64::try_from(offset)
        .ok()
        .and_then(|offset| first_seq.checked_add(offset))
        .and_then(|seq| i64::try_from(seq).ok())
        .ok_or_else(|| {
            StoreError::Invalid(format!(
                "event {first_seq} + {offset} of job {id} is beyond the numbers the store keeps"
            ))
        })
}

/// A row of `plan_jobs` as a [`JobRecord`] is read back (the columns of
/// [`job_columns!`](crate::jobs_sql::job_columns)), by column name.
#[derive(sqlx::FromRow)]
pub(crate) struct JobRow {
    /// The plan id.
    id: String,
    /// The owner's id.
    owner: String,
    /// The request as JSON.
    request: String,
    /// The destination as JSON.
    destination: String,
    /// The key of the cached plan it makes.
    cache_key: String,
    /// When it was asked for, in Unix milliseconds.
    started_at: i64,
    /// When its plan is deleted, in Unix milliseconds.
    expires_at: Option<i64>,
    /// Its attempt.
    attempt: i64,
}

/// A job as `plan_jobs` stores it: the columns a new job is written with.
pub(crate) struct JobColumns {
    /// The request as JSON.
    pub(crate) request: String,
    /// The destination as JSON.
    pub(crate) destination: String,
    /// When it was asked for, in Unix milliseconds.
    pub(crate) started_at: i64,
    /// When its plan is deleted, in Unix milliseconds.
    pub(crate) expires_at: Option<i64>,
    /// Its attempt.
    pub(crate) attempt: i64,
}

/// `job` as stored, checked to read back: a request or destination that would not (a NaN
/// coordinate, which JSON writes as `null`) would make the job unreadable to every replica, so
/// it is [`StoreError::Invalid`] now, as is an empty owner.
pub(crate) fn job_columns(job: &JobRecord) -> Result<JobColumns> {
    validate_owner(&job.owner)?;
    let invalid = |what: &str, e: serde_json::Error| {
        StoreError::Invalid(format!(
            "the {what} of job {} cannot be stored: {e}",
            job.id
        ))
    };
    let request = serde_json::to_string(&job.request).map_err(|e| invalid("request", e))?;
    serde_json::from_str::<TripRequest>(&request)
        .map_err(|e| invalid("request (a NaN or infinite number?)", e))?;
    let destination =
        serde_json::to_string(&job.destination).map_err(|e| invalid("destination", e))?;
    serde_json::from_str::<Destination>(&destination)
        .map_err(|e| invalid("destination (a NaN or infinite number?)", e))?;
    Ok(JobColumns {
        request,
        destination,
        started_at: job.started_at.timestamp_millis(),
        expires_at: job.expires.map(|t| t.timestamp_millis()),
        attempt: i64::from(job.attempt),
    })
}

/// A [`JobRow`] as a [`JobRecord`]; unreadable JSON, times or attempt are
/// [`StoreError::Corrupt`].
pub(crate) fn job_record(
    JobRow {
        id,
        owner,
        request,
        destination,
        cache_key,
        started_at,
        expires_at,
        attempt,
    }: JobRow,
) -> Result<JobRecord> {
    let corrupt = |what: &str, e: &dyn std::fmt::Display| {
        StoreError::Corrupt(format!("job {id} has an unreadable {what}: {e}"))
    };
    Ok(JobRecord {
        request: serde_json::from_str(&request).map_err(|e| corrupt("request", &e))?,
        destination: serde_json::from_str(&destination).map_err(|e| corrupt("destination", &e))?,
        started_at: stored_millis(Entity::Plan, &id, "job start time", started_at)?,
        expires: expires_at
            .map(|ms| stored_millis(Entity::Plan, &id, "job expiry time", ms))
            .transpose()?,
        attempt: u32::try_from(attempt).map_err(|e| corrupt("attempt", &e))?,
        owner: OwnerId::from(owner),
        cache_key,
        id: PlanId::from(id),
    })
}

/// A [`JobRow`] with where the job stands, by column name.
#[derive(sqlx::FromRow)]
pub(crate) struct JobStatusRow {
    /// The job.
    #[sqlx(flatten)]
    job: JobRow,
    /// Its status: `queued`, `running` or `ended`.
    status: String,
    /// When the lease of a running job runs out, in Unix milliseconds.
    lease_until: Option<i64>,
}

/// A [`JobStatusRow`] as the job and where it stands.
pub(crate) fn job_and_status(row: JobStatusRow) -> Result<(JobRecord, JobStatus)> {
    let status = job_status(&row.job.id, &row.status, row.lease_until)?;
    Ok((job_record(row.job)?, status))
}

/// Where job `id` stands, from its `status` and `lease_until` columns; an unknown status, or
/// a running job without lease, is [`StoreError::Corrupt`].
fn job_status(id: &str, status: &str, lease_until: Option<i64>) -> Result<JobStatus> {
    match (status, lease_until) {
        ("queued", _) => Ok(JobStatus::Queued),
        ("running", Some(lease_until_ms)) => Ok(JobStatus::Running { lease_until_ms }),
        ("ended", _) => Ok(JobStatus::Ended),
        _ => Err(StoreError::Corrupt(format!(
            "job {id} has the status {status:?} with the lease {lease_until:?}"
        ))),
    }
}
