//! Saved plans, their owners and share links in PostgreSQL.

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use sqlx::{Postgres, QueryBuilder};
use tracing::instrument;
use tripwright_domain::{OwnerId, Plan, PlanId};

use super::{PgStore, stored_time, time_text, unique_as_duplicate, validate_owner};
use crate::{Entity, PlanStore, PlanSummary, Result, StoppedPlan, StoreError};

/// Saves a plan, replacing one with the same id. Saved with an owner, it takes over a plan
/// without owner and leaves another owner's plan alone (no row changes); saved without
/// (`owner` NULL, the CLI), it keeps the stored owner. The share token is never touched.
const UPSERT_PLAN: &str = "\
    INSERT INTO plans (id, created_at, destination, country, days, body, owner) \
    VALUES ($1, $2, $3, $4, $5, $6, $7) \
    ON CONFLICT (id) DO UPDATE SET \
        created_at = excluded.created_at, destination = excluded.destination, \
        country = excluded.country, days = excluded.days, body = excluded.body, \
        owner = COALESCE(excluded.owner, plans.owner) \
    WHERE excluded.owner IS NULL OR plans.owner IS NULL OR plans.owner = excluded.owner";

/// The plan as JSON, checked to read back.
fn encode_plan(plan: &Plan) -> Result<String> {
    let body = serde_json::to_string(plan).map_err(|e| {
        StoreError::Invalid(format!("plan {} cannot be encoded as JSON: {e}", plan.id))
    })?;
    // serde_json writes NaN and infinities as `null`, which would then fail to load:
    // refuse such a plan now rather than store something unreadable.
    if let Err(e) = serde_json::from_str::<Plan>(&body) {
        return Err(StoreError::Invalid(format!(
            "plan {} would not read back (a NaN or infinite number?): {e}",
            plan.id
        )));
    }
    Ok(body)
}

/// A stored plan body as a [`Plan`].
fn decode_plan(id: &str, body: &str) -> Result<Plan> {
    serde_json::from_str(body)
        .map_err(|e| StoreError::Corrupt(format!("saved plan {id} is not a valid plan: {e}")))
}

/// The columns of a [`PlanSummary`]: the plan's own, and what the list shows from its body
/// (read with PostgreSQL's JSON operators, so that no whole plan is loaded).
const SUMMARY_COLUMNS: &str = "SELECT id, created_at, destination, country, days, \
    body::jsonb #>> '{itinerary,start_date}', \
    COALESCE(body::jsonb #>> '{request,prefs}', ''), \
    (body::jsonb #>> '{request,budget}')::float8, \
    COALESCE(body::jsonb #>> '{summary,cost,currency}', ''), \
    body::jsonb #>> '{title}' FROM plans";

/// A row of [`SUMMARY_COLUMNS`].
type SummaryRow = (
    String,
    String,
    String,
    String,
    i64,
    Option<String>,
    String,
    Option<f64>,
    String,
    Option<String>,
);

/// Rows of [`SUMMARY_COLUMNS`] as [`PlanSummary`]s.
fn summaries(rows: Vec<SummaryRow>) -> Result<Vec<PlanSummary>> {
    rows.into_iter()
        .map(
            |(
                id,
                created_at,
                destination,
                country,
                days,
                start,
                prefs,
                budget,
                currency,
                title,
            )| {
                let created_at = stored_time(Entity::Plan, &id, "creation time", &created_at)?;
                let days = u8::try_from(days)
                    .map_err(|_| StoreError::Corrupt(format!("plan {id} has {days} days")))?;
                Ok(PlanSummary {
                    id: PlanId::from(id),
                    created_at,
                    destination,
                    country,
                    days,
                    start_date: start.and_then(|d| d.parse().ok()),
                    prefs,
                    budget,
                    currency,
                    title,
                })
            },
        )
        .collect()
}

impl PgStore {
    /// Writes `plan` by [`UPSERT_PLAN`]; `false` when another owner's plan was left alone.
    async fn upsert_plan(&self, plan: &Plan, owner: Option<&OwnerId>) -> Result<bool> {
        let body = encode_plan(plan)?;
        let done = sqlx::query(UPSERT_PLAN)
            .bind(plan.id.as_str())
            .bind(time_text(plan.created_at))
            .bind(&plan.destination.name)
            .bind(&plan.destination.country)
            .bind(i64::from(plan.request.days))
            .bind(body)
            .bind(owner.map(OwnerId::as_str))
            .execute(&self.pool)
            .await?;
        Ok(done.rows_affected() > 0)
    }

    /// Summaries of the `limit` newest plans, newest first: every plan, or `owner`'s.
    async fn summaries(&self, owner: Option<&OwnerId>, limit: u32) -> Result<Vec<PlanSummary>> {
        // Two query texts rather than `$1 IS NULL OR owner = $1`, which would keep the
        // planner from using the owner index. Ids compare bytewise (`COLLATE "C"`), as in
        // SQLite, whatever the database's collation.
        let mut query = QueryBuilder::<Postgres>::new(SUMMARY_COLUMNS);
        query.push(" WHERE purge_at IS NULL");
        if let Some(owner) = owner {
            query.push(" AND owner = ").push_bind(owner.as_str());
        }
        query
            .push(" ORDER BY created_at DESC, id COLLATE \"C\" DESC LIMIT ")
            .push_bind(i64::from(limit));
        summaries(query.build_query_as().fetch_all(&self.pool).await?)
    }
}

#[async_trait]
impl PlanStore for PgStore {
    #[instrument(level = "debug", skip_all, fields(id = %plan.id))]
    async fn save_plan(&self, plan: &Plan) -> Result<()> {
        self.upsert_plan(plan, None).await?;
        Ok(())
    }

    async fn plan(&self, id: &PlanId) -> Result<Option<Plan>> {
        let body: Option<String> =
            sqlx::query_scalar("SELECT body FROM plans WHERE id = $1 AND purge_at IS NULL")
                .bind(id.as_str())
                .fetch_optional(&self.pool)
                .await?;
        body.map(|body| decode_plan(id.as_str(), &body)).transpose()
    }

    async fn list_plans(&self, limit: u32) -> Result<Vec<PlanSummary>> {
        self.summaries(None, limit).await
    }

    #[instrument(level = "debug", skip_all, fields(id = %plan.id))]
    async fn save_owned_plan(&self, owner: &OwnerId, plan: &Plan) -> Result<()> {
        validate_owner(owner)?;
        if !self.upsert_plan(plan, Some(owner)).await? {
            return Err(StoreError::OwnedByAnother {
                entity: Entity::Plan,
                id: plan.id.to_string(),
            });
        }
        Ok(())
    }

    async fn plan_owner(&self, id: &PlanId) -> Result<Option<OwnerId>> {
        let owner: Option<Option<String>> =
            sqlx::query_scalar("SELECT owner FROM plans WHERE id = $1")
                .bind(id.as_str())
                .fetch_optional(&self.pool)
                .await?;
        Ok(owner.flatten().map(OwnerId::from))
    }

    async fn list_owned_plans(&self, owner: &OwnerId, limit: u32) -> Result<Vec<PlanSummary>> {
        self.summaries(Some(owner), limit).await
    }

    #[instrument(level = "debug", skip_all, fields(plan_id = %plan_id))]
    async fn share_token(&self, plan_id: &PlanId, new_token: &str) -> Result<String> {
        if new_token.trim().is_empty() {
            return Err(StoreError::Invalid("the new share token is empty".into()));
        }
        let mut tx = self.write().await?;
        let current: Option<Option<String>> =
            sqlx::query_scalar("SELECT share_token FROM plans WHERE id = $1")
                .bind(plan_id.as_str())
                .fetch_optional(&mut *tx)
                .await?;
        match current {
            None => Err(StoreError::NotFound {
                entity: Entity::Plan,
                id: plan_id.to_string(),
            }),
            Some(Some(token)) => Ok(token),
            Some(None) => {
                sqlx::query("UPDATE plans SET share_token = $1 WHERE id = $2")
                    .bind(new_token)
                    .bind(plan_id.as_str())
                    .execute(&mut *tx)
                    .await
                    .map_err(unique_as_duplicate(Entity::ShareLink, new_token))?;
                tx.commit().await?;
                Ok(new_token.to_owned())
            }
        }
    }

    async fn plan_by_share_token(&self, token: &str) -> Result<Option<Plan>> {
        let row: Option<(String, String)> = sqlx::query_as(
            "SELECT id, body FROM plans WHERE share_token = $1 AND purge_at IS NULL",
        )
        .bind(token)
        .fetch_optional(&self.pool)
        .await?;
        row.map(|(id, body)| decode_plan(&id, &body)).transpose()
    }

    #[instrument(level = "debug", skip_all, fields(plan_id = %plan_id))]
    async fn revoke_share(&self, plan_id: &PlanId) -> Result<bool> {
        let mut tx = self.write().await?;
        let had: Option<Option<String>> =
            sqlx::query_scalar("SELECT share_token FROM plans WHERE id = $1")
                .bind(plan_id.as_str())
                .fetch_optional(&mut *tx)
                .await?;
        let Some(had) = had else {
            return Err(self.missing_plan(plan_id));
        };
        sqlx::query("UPDATE plans SET share_token = NULL WHERE id = $1")
            .bind(plan_id.as_str())
            .execute(&mut *tx)
            .await?;
        tx.commit().await?;
        Ok(had.is_some())
    }

    async fn owned_plans_since(&self, owner: &OwnerId, since: DateTime<Utc>) -> Result<u64> {
        let n: i64 =
            sqlx::query_scalar("SELECT COUNT(*) FROM plans WHERE owner = $1 AND created_at >= $2")
                .bind(owner.as_str())
                .bind(time_text(since))
                .fetch_one(&self.pool)
                .await?;
        Ok(u64::try_from(n).unwrap_or(0))
    }

    async fn expire_plan(&self, plan_id: &PlanId, at: DateTime<Utc>) -> Result<()> {
        let done = sqlx::query("UPDATE plans SET expires_at = $1 WHERE id = $2")
            .bind(time_text(at))
            .bind(plan_id.as_str())
            .execute(&self.pool)
            .await?;
        if done.rows_affected() == 0 {
            return Err(self.missing_plan(plan_id));
        }
        Ok(())
    }

    #[instrument(level = "debug", skip(self))]
    async fn delete_expired_plans(&self, now: DateTime<Utc>) -> Result<u64> {
        let now = time_text(now);
        let mut tx = self.write().await?;
        let plans = sqlx::query(
            "DELETE FROM plans WHERE (expires_at IS NOT NULL AND expires_at <= $1) \
                 OR (purge_at IS NOT NULL AND purge_at <= $1)",
        )
        .bind(&now)
        .execute(&mut *tx)
        .await?;
        let stopped = sqlx::query("DELETE FROM stopped_plans WHERE expires_at <= $1")
            .bind(&now)
            .execute(&mut *tx)
            .await?;
        tx.commit().await?;
        Ok(plans.rows_affected() + stopped.rows_affected())
    }

    #[instrument(level = "debug", skip_all, fields(id = %stopped.id))]
    async fn save_stopped_plan(&self, stopped: &StoppedPlan, expires: DateTime<Utc>) -> Result<()> {
        validate_owner(&stopped.owner)?;
        let json = |what: &str, value: Result<String, serde_json::Error>| {
            value.map_err(|e| {
                StoreError::Invalid(format!(
                    "the {what} of stopped plan {} cannot be encoded: {e}",
                    stopped.id
                ))
            })
        };
        let request = json("request", serde_json::to_string(&stopped.request))?;
        let destination = json("destination", serde_json::to_string(&stopped.destination))?;
        sqlx::query(
            "INSERT INTO stopped_plans (id, owner, stopped_at, expires_at, request, destination, message) \
             VALUES ($1, $2, $3, $4, $5, $6, $7) \
             ON CONFLICT (id) DO UPDATE SET owner = excluded.owner, stopped_at = excluded.stopped_at, \
                 expires_at = excluded.expires_at, request = excluded.request, \
                 destination = excluded.destination, message = excluded.message",
        )
        .bind(stopped.id.as_str())
        .bind(stopped.owner.as_str())
        .bind(time_text(stopped.stopped_at))
        .bind(time_text(expires))
        .bind(request)
        .bind(destination)
        .bind(stopped.message.as_deref())
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    async fn stopped_plan(&self, id: &PlanId) -> Result<Option<StoppedPlan>> {
        let row: Option<StoppedRow> = sqlx::query_as(
            "SELECT owner, stopped_at, request, destination, message FROM stopped_plans WHERE id = $1",
        )
        .bind(id.as_str())
        .fetch_optional(&self.pool)
        .await?;
        row.map(|row| Self::stopped_row(id.as_str(), row))
            .transpose()
    }

    #[instrument(level = "debug", skip_all, fields(id = %id))]
    async fn delete_owned_plan(
        &self,
        owner: &OwnerId,
        id: &PlanId,
        purge_at: DateTime<Utc>,
    ) -> Result<bool> {
        let mut tx = self.write().await?;
        let plan = sqlx::query(
            "UPDATE plans SET purge_at = $1 WHERE id = $2 AND owner = $3 AND purge_at IS NULL",
        )
        .bind(time_text(purge_at))
        .bind(id.as_str())
        .bind(owner.as_str())
        .execute(&mut *tx)
        .await?;
        // A plan that stopped before it was made has only its record: that goes at once.
        let stopped = sqlx::query("DELETE FROM stopped_plans WHERE id = $1 AND owner = $2")
            .bind(id.as_str())
            .bind(owner.as_str())
            .execute(&mut *tx)
            .await?;
        tx.commit().await?;
        Ok(plan.rows_affected() + stopped.rows_affected() > 0)
    }

    #[instrument(level = "debug", skip_all, fields(id = %id))]
    async fn restore_owned_plan(&self, owner: &OwnerId, id: &PlanId) -> Result<bool> {
        let done = sqlx::query(
            "UPDATE plans SET purge_at = NULL WHERE id = $1 AND owner = $2 AND purge_at IS NOT NULL",
        )
        .bind(id.as_str())
        .bind(owner.as_str())
        .execute(&self.pool)
        .await?;
        Ok(done.rows_affected() > 0)
    }

    #[instrument(level = "debug", skip_all, fields(id = %edited.id))]
    async fn save_edited_plan(
        &self,
        owner: &OwnerId,
        previous: &Plan,
        edited: &Plan,
    ) -> Result<()> {
        let (before, after) = (encode_plan(previous)?, encode_plan(edited)?);
        let mut tx = self.write().await?;
        let done = sqlx::query(
            "UPDATE plans SET body = $1 WHERE id = $2 AND owner = $3 AND purge_at IS NULL",
        )
        .bind(after)
        .bind(edited.id.as_str())
        .bind(owner.as_str())
        .execute(&mut *tx)
        .await?;
        if done.rows_affected() == 0 {
            return Err(StoreError::NotFound {
                entity: Entity::Plan,
                id: edited.id.to_string(),
            });
        }
        let id = edited.id.as_str();
        sqlx::query(
            "INSERT INTO plan_versions (plan_id, version, body, saved_at) \
             SELECT $1, COALESCE(MAX(version), 0) + 1, $2, $3 FROM plan_versions WHERE plan_id = $1",
        )
        .bind(id)
        .bind(before)
        .bind(time_text(Utc::now()))
        .execute(&mut *tx)
        .await?;
        sqlx::query(
            "DELETE FROM plan_versions WHERE plan_id = $1 AND version <= \
             (SELECT MAX(version) FROM plan_versions WHERE plan_id = $1) - $2",
        )
        .bind(id)
        .bind(i64::from(crate::PLAN_VERSIONS_KEPT))
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        Ok(())
    }

    #[instrument(level = "debug", skip(self))]
    async fn undo_plan_edit(&self, owner: &OwnerId, id: &PlanId) -> Result<Option<Plan>> {
        let mut tx = self.write().await?;
        let newest: Option<(i64, String)> = sqlx::query_as(
            "SELECT v.version, v.body FROM plan_versions v JOIN plans p ON p.id = v.plan_id \
             WHERE v.plan_id = $1 AND p.owner = $2 AND p.purge_at IS NULL \
             ORDER BY v.version DESC LIMIT 1",
        )
        .bind(id.as_str())
        .bind(owner.as_str())
        .fetch_optional(&mut *tx)
        .await?;
        let Some((version, body)) = newest else {
            return Ok(None);
        };
        let plan = decode_plan(id.as_str(), &body)?;
        sqlx::query("UPDATE plans SET body = $1 WHERE id = $2")
            .bind(&body)
            .bind(id.as_str())
            .execute(&mut *tx)
            .await?;
        sqlx::query("DELETE FROM plan_versions WHERE plan_id = $1 AND version = $2")
            .bind(id.as_str())
            .bind(version)
            .execute(&mut *tx)
            .await?;
        tx.commit().await?;
        Ok(Some(plan))
    }

    async fn plan_edits(&self, id: &PlanId) -> Result<u32> {
        let n: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM plan_versions WHERE plan_id = $1")
            .bind(id.as_str())
            .fetch_one(&self.pool)
            .await?;
        Ok(u32::try_from(n).unwrap_or(0))
    }

    async fn list_owned_stopped_plans(
        &self,
        owner: &OwnerId,
        limit: u32,
    ) -> Result<Vec<StoppedPlan>> {
        let rows: Vec<(String, String, String, String, String, Option<String>)> = sqlx::query_as(
            "SELECT id, owner, stopped_at, request, destination, message FROM stopped_plans \
             WHERE owner = $1 ORDER BY stopped_at DESC, id COLLATE \"C\" DESC LIMIT $2",
        )
        .bind(owner.as_str())
        .bind(i64::from(limit))
        .fetch_all(&self.pool)
        .await?;
        rows.into_iter()
            .map(|(id, owner, at, request, destination, message)| {
                Self::stopped_row(&id, (owner, at, request, destination, message))
            })
            .collect()
    }
}

/// A `stopped_plans` row: owner, stopped_at, request, destination, message.
type StoppedRow = (String, String, String, String, Option<String>);

impl PgStore {
    /// A `stopped_plans` row as a [`StoppedPlan`].
    fn stopped_row(
        id: &str,
        (owner, stopped_at, request, destination, message): StoppedRow,
    ) -> Result<StoppedPlan> {
        let corrupt = |what: &str, e: serde_json::Error| {
            StoreError::Corrupt(format!("stopped plan {id} has an unreadable {what}: {e}"))
        };
        Ok(StoppedPlan {
            id: PlanId::from(id.to_owned()),
            owner: OwnerId::from(owner),
            stopped_at: stored_time(Entity::Plan, id, "stop time", &stopped_at)?,
            request: serde_json::from_str(&request).map_err(|e| corrupt("request", e))?,
            destination: serde_json::from_str(&destination)
                .map_err(|e| corrupt("destination", e))?,
            message,
        })
    }

    fn missing_plan(&self, plan_id: &PlanId) -> StoreError {
        StoreError::NotFound {
            entity: Entity::Plan,
            id: plan_id.to_string(),
        }
    }
}
