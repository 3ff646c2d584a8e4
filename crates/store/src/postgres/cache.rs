//! The cache of online services' answers in SQLite.

use async_trait::async_trait;
use chrono::Utc;

use super::PgStore;
use crate::{CacheStore, Result};

const UPSERT_CACHE: &str = "\
    INSERT INTO response_cache (namespace, key, value, stored_at) VALUES ($1, $2, $3, $4) \
    ON CONFLICT (namespace, key) DO UPDATE SET \
        value = excluded.value, stored_at = excluded.stored_at";

/// Whether a cache entry stored at `stored_ms` is younger than `max_age_secs` at `now_ms`
/// (Unix milliseconds). An entry from the future (the clock was set back) counts as new.
fn is_fresh(stored_ms: i64, now_ms: i64, max_age_secs: u64) -> bool {
    let max_age_ms = max_age_secs.saturating_mul(1000);
    match u64::try_from(now_ms.saturating_sub(stored_ms)) {
        Ok(age_ms) => age_ms < max_age_ms,
        Err(_) => max_age_ms > 0,
    }
}

#[async_trait]
impl CacheStore for PgStore {
    async fn cache_get(
        &self,
        namespace: &str,
        key: &str,
        max_age_secs: u64,
    ) -> Result<Option<String>> {
        let row: Option<(String, i64)> = sqlx::query_as(
            "SELECT value, stored_at FROM response_cache WHERE namespace = $1 AND key = $2",
        )
        .bind(namespace)
        .bind(key)
        .fetch_optional(&self.pool)
        .await?;
        let now_ms = Utc::now().timestamp_millis();
        Ok(row
            .filter(|(_, stored_ms)| is_fresh(*stored_ms, now_ms, max_age_secs))
            .map(|(value, _)| value))
    }

    async fn cache_put(&self, namespace: &str, key: &str, value: &str) -> Result<()> {
        sqlx::query(UPSERT_CACHE)
            .bind(namespace)
            .bind(key)
            .bind(value)
            .bind(Utc::now().timestamp_millis())
            .execute(&self.pool)
            .await?;
        Ok(())
    }
}
