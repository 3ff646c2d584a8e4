//! The street map in SQLite.

use async_trait::async_trait;
use chrono::Utc;
use sqlx::{Postgres, QueryBuilder};
use tracing::instrument;
use tripwright_domain::{BBox, MapFeature, MapLayer};

use super::{PgStore, stored_time, time_text};
use crate::geometry::{decode, encode};
use crate::{Entity, MapRegion, MapStore, Result, StoreError};

#[async_trait]
impl MapStore for PgStore {
    #[instrument(level = "debug", skip(self, features), fields(features = features.len()))]
    async fn replace_map(
        &self,
        source: &str,
        extent: BBox,
        features: &[MapFeature],
    ) -> Result<usize> {
        let mut tx = self.write().await?;
        sqlx::query("DELETE FROM map_regions WHERE source = $1")
            .bind(source)
            .execute(&mut *tx)
            .await?;
        sqlx::query(
            "INSERT INTO map_regions (source, min_lat, min_lon, max_lat, max_lon, features, \
             imported_at) VALUES ($1, $2, $3, $4, $5, $6, $7)",
        )
        .bind(source)
        .bind(extent.min_lat)
        .bind(extent.min_lon)
        .bind(extent.max_lat)
        .bind(extent.max_lon)
        .bind(features.len() as i64)
        .bind(time_text(Utc::now()))
        .execute(&mut *tx)
        .await?;
        let drawn: Vec<_> = features
            .iter()
            .filter_map(|f| f.bbox().map(|b| (f, b)))
            .collect();
        // Many rows a statement: one round trip per thousand features.
        for chunk in drawn.chunks(super::places::ROWS_PER_INSERT) {
            let mut query = sqlx::QueryBuilder::<sqlx::Postgres>::new(
                "INSERT INTO map_features (source, layer, class, name, walkable, min_lat, \
                 min_lon, max_lat, max_lon, geometry) ",
            );
            query.push_values(chunk, |mut row, (f, b)| {
                row.push_bind(source)
                    .push_bind(f.layer.as_str())
                    .push_bind(&f.class)
                    .push_bind(&f.name)
                    .push_bind(i64::from(f.walkable))
                    .push_bind(b.min_lat)
                    .push_bind(b.min_lon)
                    .push_bind(b.max_lat)
                    .push_bind(b.max_lon)
                    .push_bind(encode(&f.rings, &f.nodes));
            });
            query.build().execute(&mut *tx).await?;
        }
        let written = drawn.len();
        tx.commit().await?;
        Ok(written)
    }

    #[instrument(level = "debug", skip(self))]
    async fn map_regions(&self) -> Result<Vec<MapRegion>> {
        let rows: Vec<(String, f64, f64, f64, f64, i64, String)> = sqlx::query_as(
            "SELECT source, min_lat, min_lon, max_lat, max_lon, features, imported_at \
             FROM map_regions ORDER BY source",
        )
        .fetch_all(&self.pool)
        .await?;
        rows.into_iter()
            .map(|(source, min_lat, min_lon, max_lat, max_lon, n, at)| {
                Ok(MapRegion {
                    imported_at: stored_time(Entity::Map, &source, "import time", &at)?,
                    source,
                    extent: BBox {
                        min_lat,
                        min_lon,
                        max_lat,
                        max_lon,
                    },
                    features: u64::try_from(n).unwrap_or(0),
                })
            })
            .collect()
    }

    #[instrument(level = "debug", skip(self))]
    async fn map_features(&self, area: BBox, layers: &[MapLayer]) -> Result<Vec<MapFeature>> {
        if layers.is_empty() {
            return Ok(Vec::new());
        }
        let mut query: QueryBuilder<'_, Postgres> = QueryBuilder::new(
            "SELECT id, layer, class, name, (walkable <> 0) AS walkable, geometry FROM map_features WHERE layer IN (",
        );
        let mut list = query.separated(", ");
        for layer in layers {
            list.push_bind(layer.as_str());
        }
        query
            .push(") AND min_lat <= ")
            .push_bind(area.max_lat)
            .push(" AND max_lat >= ")
            .push_bind(area.min_lat)
            .push(" AND min_lon <= ")
            .push_bind(area.max_lon)
            .push(" AND max_lon >= ")
            .push_bind(area.min_lon)
            .push(" ORDER BY id");
        let rows: Vec<(i64, String, String, Option<String>, bool, Vec<u8>)> =
            query.build_query_as().fetch_all(&self.pool).await?;
        rows.into_iter()
            .map(|(id, layer, class, name, walkable, geometry)| {
                let corrupt = |what: &str| {
                    StoreError::Corrupt(format!("{} feature {id} has {what}", Entity::Map))
                };
                let layer = MapLayer::parse(&layer)
                    .ok_or_else(|| corrupt(&format!("the unknown layer {layer:?}")))?;
                let (rings, nodes) =
                    decode(&geometry).ok_or_else(|| corrupt("an unreadable geometry"))?;
                Ok(MapFeature {
                    layer,
                    class,
                    name,
                    rings,
                    nodes,
                    walkable,
                })
            })
            .collect()
    }

    #[instrument(level = "debug", skip(self))]
    async fn delete_map(&self, source: &str) -> Result<u64> {
        let mut tx = self.write().await?;
        let done = sqlx::query("DELETE FROM map_features WHERE source = $1")
            .bind(source)
            .execute(&mut *tx)
            .await?;
        sqlx::query("DELETE FROM map_regions WHERE source = $1")
            .bind(source)
            .execute(&mut *tx)
            .await?;
        tx.commit().await?;
        Ok(done.rows_affected())
    }
}
