//! The statements of the job queue ([`JobStore`](crate::JobStore)), written once for both
//! backends.
//!
//! Parameters are numbered `$1`, `$2`, …: PostgreSQL reads them so, and SQLite takes each for a
//! named parameter, which sqlx binds by its number. Where the backends differ (how ids sort
//! byte by byte, which PostgreSQL does only with `COLLATE "C"`, and PostgreSQL's row locks) a
//! macro takes the backend's part as a literal and gives the whole statement, and each backend
//! keeps its statement as a `const`. What only one backend runs (deleting old ended jobs) stays
//! in that backend.

/// The columns of a [`JobRecord`](crate::JobRecord) in `plan_jobs`, in the order of
/// [`JobRow`](crate::shared::JobRow), as a literal that `concat!` takes.
macro_rules! job_columns {
    () => {
        "id, owner, request, destination, cache_key, started_at, expires_at, attempt"
    };
}

/// Claims the oldest claimable job (`$1` the worker, `$2` the new lease end, `$3` now) and
/// returns its [`JobRow`](crate::shared::JobRow). `$id_order` is how the backend orders ids
/// byte by byte, `$lock` what it adds to the choosing `SELECT` to lock the chosen row.
macro_rules! claim_job {
    ($id_order:literal, $lock:literal) => {
        concat!(
            "UPDATE plan_jobs SET status = 'running', worker = $1, attempt = attempt + 1, \
             lease_until = $2 \
             WHERE id = (SELECT id FROM plan_jobs \
                         WHERE status = 'queued' OR (status = 'running' AND lease_until < $3) \
                         ORDER BY started_at, ",
            $id_order,
            " LIMIT 1",
            $lock,
            ") RETURNING ",
            $crate::jobs_sql::job_columns!()
        )
    };
}

/// Answers `1` when attempt `$2` of job `$1` holds it (the job is running with that attempt).
/// `$lock` is what the backend adds to lock the job's row until the transaction ends.
macro_rules! holds_job {
    ($lock:literal) => {
        concat!(
            "SELECT 1 FROM plan_jobs WHERE id = $1 AND attempt = $2 AND status = 'running'",
            $lock
        )
    };
}

/// An owner's (`$1`) jobs that have not ended as [`JobRow`](crate::shared::JobRow)s, newest
/// first. `$id_order` is how the backend orders ids byte by byte.
macro_rules! owned_jobs {
    ($id_order:literal) => {
        concat!(
            "SELECT ",
            $crate::jobs_sql::job_columns!(),
            " FROM plan_jobs WHERE owner = $1 AND status != 'ended' ORDER BY started_at DESC, ",
            $id_order,
            " DESC"
        )
    };
}

pub(crate) use {claim_job, holds_job, job_columns, owned_jobs};

/// Writes a new job, running (`$1` to `$7` its [`JobRow`](crate::shared::JobRow) but the
/// attempt, `$8` the worker, `$9` the attempt, `$10` the lease end).
pub(crate) const START_JOB: &str = "\
    INSERT INTO plan_jobs (id, owner, request, destination, cache_key, started_at, expires_at, \
    status, worker, attempt, lease_until) \
    VALUES ($1, $2, $3, $4, $5, $6, $7, 'running', $8, $9, $10)";

/// Renews the lease of attempt `$3` of job `$2` until `$1`, if it still holds the job, and
/// returns whether a cancel was requested.
pub(crate) const RENEW_JOB_LEASE: &str = "\
    UPDATE plan_jobs SET lease_until = $1 \
    WHERE id = $2 AND attempt = $3 AND status = 'running' RETURNING cancel_requested";

/// The start of the `INSERT` of events, to which the rows (plan id, number, event) are added.
pub(crate) const INSERT_EVENTS: &str = "INSERT INTO plan_events (plan_id, seq, event) ";

/// Up to `$3` events of job `$1` from number `$2`, in order.
pub(crate) const JOB_EVENTS: &str =
    "SELECT event FROM plan_events WHERE plan_id = $1 AND seq >= $2 ORDER BY seq LIMIT $3";

/// Ends job `$2` at `$1` (Unix milliseconds), if attempt `$3` is its latest and it has not
/// ended yet.
pub(crate) const END_JOB: &str = "\
    UPDATE plan_jobs SET status = 'ended', ended_at = $1, lease_until = NULL \
    WHERE id = $2 AND attempt = $3 AND status != 'ended'";

/// Queues job `$1` again, if attempt `$2` holds it.
pub(crate) const REQUEUE_JOB: &str = "\
    UPDATE plan_jobs SET status = 'queued', worker = NULL, lease_until = NULL \
    WHERE id = $1 AND attempt = $2 AND status = 'running'";

/// Asks for job `$1` to be cancelled, if it is queued or running.
pub(crate) const REQUEST_JOB_CANCEL: &str = "\
    UPDATE plan_jobs SET cancel_requested = 1 \
    WHERE id = $1 AND status IN ('queued', 'running')";

/// Job `$1` as a [`JobStatusRow`](crate::shared::JobStatusRow).
pub(crate) const JOB: &str = concat!(
    "SELECT ",
    job_columns!(),
    ", status, lease_until FROM plan_jobs WHERE id = $1"
);
