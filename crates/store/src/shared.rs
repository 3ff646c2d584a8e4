//! What both backends share: times as stored, owner checks, and the mapping of a uniqueness
//! violation.

use chrono::{DateTime, SecondsFormat, Utc};
use tripwright_domain::OwnerId;

use crate::{Entity, Result, StoreError};

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
