//! The cache of online services' answers, and the counted request windows, in SQLite.

use async_trait::async_trait;
use chrono::Utc;

use super::SqliteStore;
use crate::shared::is_fresh;
use crate::{CacheStore, RATE_WINDOWS_KEPT_SECS, Result};

const UPSERT_CACHE: &str = "\
    INSERT INTO response_cache (namespace, key, value, stored_at) VALUES (?, ?, ?, ?) \
    ON CONFLICT (namespace, key) DO UPDATE SET \
        value = excluded.value, stored_at = excluded.stored_at";

#[async_trait]
impl CacheStore for SqliteStore {
    async fn cache_get(
        &self,
        namespace: &str,
        key: &str,
        max_age_secs: u64,
    ) -> Result<Option<String>> {
        let row: Option<(String, i64)> = sqlx::query_as(
            "SELECT value, stored_at FROM response_cache WHERE namespace = ? AND key = ?",
        )
        .bind(namespace)
        .bind(key)
        .fetch_optional(&self.readers)
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
            .execute(&self.writer)
            .await?;
        Ok(())
    }

    async fn count_request(&self, key: &str, window_start: i64) -> Result<u64> {
        // One statement: concurrent requests (of any replica) each get their own count.
        let hits: i64 = sqlx::query_scalar(
            "INSERT INTO rate_windows (key, window_start, hits) VALUES (?, ?, 1) \
             ON CONFLICT (key, window_start) DO UPDATE SET hits = hits + 1 RETURNING hits",
        )
        .bind(key)
        .bind(window_start)
        .fetch_one(&self.writer)
        .await?;
        if hits == 1 {
            sqlx::query("DELETE FROM rate_windows WHERE window_start < ?")
                .bind(window_start - RATE_WINDOWS_KEPT_SECS)
                .execute(&self.writer)
                .await?;
        }
        Ok(u64::try_from(hits).unwrap_or(0))
    }
}
