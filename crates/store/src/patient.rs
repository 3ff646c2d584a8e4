//! A place store that waits out a database restart: each call is tried again every half
//! second while its error is transient ([`StoreError::is_transient`]), for up to a patience.
//! A plan being made reads places and embeddings at its start; without this, a PostgreSQL
//! restart of a fraction of a second failed it ("the plan store failed"), while its save at
//! the end was already retried.
//!
//! Every method of [`PlaceStore`] is safe to try again: reads change nothing, and the writes
//! are one transaction each that replaces what it writes (upserts), or a delete.

use std::collections::{BTreeMap, HashMap};
use std::future::Future;
use std::sync::Arc;
use std::time::{Duration, Instant};

use async_trait::async_trait;
use tripwright_domain::{GeoPoint, Place, PlaceCategory, PlaceId, PlaceSource};

use crate::{PlaceStore, Result};

/// How long to wait between two tries.
const PAUSE: Duration = Duration::from_millis(500);

/// A [`PlaceStore`] whose calls are tried again while the database is unreachable.
pub struct Patient {
    inner: Arc<dyn PlaceStore>,
    patience: Duration,
}

impl Patient {
    /// `inner`, tried again for up to `patience` after a transient error.
    pub fn new(inner: Arc<dyn PlaceStore>, patience: Duration) -> Self {
        Self { inner, patience }
    }

    /// `call`'s result, once it is not a transient error or the patience is spent.
    async fn patiently<T, F, Fut>(&self, what: &str, call: F) -> Result<T>
    where
        F: Fn() -> Fut,
        Fut: Future<Output = Result<T>>,
    {
        let since = Instant::now();
        loop {
            match call().await {
                Err(e) if e.is_transient() && since.elapsed() + PAUSE <= self.patience => {
                    tracing::warn!(error = %e, call = what, "the place store could not be reached; trying again");
                    tokio::time::sleep(PAUSE).await;
                }
                other => return other,
            }
        }
    }
}

#[async_trait]
impl PlaceStore for Patient {
    async fn upsert_places(&self, source: &str, places: &[Place]) -> Result<usize> {
        self.patiently("upsert_places", || self.inner.upsert_places(source, places))
            .await
    }

    async fn place_count(&self) -> Result<u64> {
        self.patiently("place_count", || self.inner.place_count())
            .await
    }

    async fn place(&self, id: &PlaceId) -> Result<Option<Place>> {
        self.patiently("place", || self.inner.place(id)).await
    }

    async fn places_by_ids(&self, ids: &[PlaceId]) -> Result<Vec<Place>> {
        self.patiently("places_by_ids", || self.inner.places_by_ids(ids))
            .await
    }

    async fn places_near(
        &self,
        center: GeoPoint,
        radius_km: f64,
        categories: &[PlaceCategory],
    ) -> Result<Vec<Place>> {
        self.patiently("places_near", || {
            self.inner.places_near(center, radius_km, categories)
        })
        .await
    }

    async fn place_counts_by_category(&self) -> Result<BTreeMap<PlaceCategory, u64>> {
        self.patiently("place_counts_by_category", || {
            self.inner.place_counts_by_category()
        })
        .await
    }

    async fn place_sources(&self) -> Result<Vec<PlaceSource>> {
        self.patiently("place_sources", || self.inner.place_sources())
            .await
    }

    async fn sources_of(&self, ids: &[PlaceId]) -> Result<Vec<PlaceSource>> {
        self.patiently("sources_of", || self.inner.sources_of(ids))
            .await
    }

    async fn delete_places_from(&self, source: &str) -> Result<u64> {
        self.patiently("delete_places_from", || {
            self.inner.delete_places_from(source)
        })
        .await
    }

    async fn embeddings(
        &self,
        model: &str,
        ids: &[PlaceId],
    ) -> Result<HashMap<PlaceId, (u64, Vec<f32>)>> {
        self.patiently("embeddings", || self.inner.embeddings(model, ids))
            .await
    }

    async fn save_embeddings(&self, model: &str, items: &[(PlaceId, u64, Vec<f32>)]) -> Result<()> {
        self.patiently("save_embeddings", || {
            self.inner.save_embeddings(model, items)
        })
        .await
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{SqliteStore, StoreError};
    use std::sync::atomic::{AtomicUsize, Ordering};

    /// A real SQLite store holding one place, Kiasma, behind a [`Patient`].
    async fn patient_store(dir: &tempfile::TempDir, patience: Duration) -> Patient {
        let store = SqliteStore::open(&dir.path().join("store.sqlite"))
            .await
            .expect("store");
        let kiasma = Place {
            id: PlaceId::from("osm:node/1"),
            name: "Kiasma".into(),
            category: PlaceCategory::Attraction,
            kind: "museum".into(),
            lat: 60.1718,
            lon: 24.9367,
            opening_hours: None,
            tags: BTreeMap::new(),
        };
        store
            .upsert_places("test", &[kiasma])
            .await
            .expect("upsert");
        Patient::new(Arc::new(store), patience)
    }

    /// The places near the centre of Helsinki, after the first `failures` tries fail (as when
    /// the database cannot be reached, or for good), and how many tries were made.
    async fn near_after(
        patient: &Patient,
        failures: usize,
        transient: bool,
    ) -> (Result<Vec<Place>>, usize) {
        let tried = AtomicUsize::new(0);
        let centre = GeoPoint::new(60.17, 24.94);
        let result = patient
            .patiently("places_near", || async {
                if tried.fetch_add(1, Ordering::SeqCst) < failures {
                    return Err(if transient {
                        StoreError::Connect("the database is restarting".into())
                    } else {
                        StoreError::Invalid("no such radius".into())
                    });
                }
                patient.inner.places_near(centre, 1.0, &[]).await
            })
            .await;
        (result, tried.load(Ordering::SeqCst))
    }

    #[tokio::test]
    async fn a_read_while_the_database_restarts_is_tried_again_and_answers() {
        let dir = tempfile::tempdir().expect("dir");
        let patient = patient_store(&dir, Duration::from_secs(5)).await;
        let (near, tried) = near_after(&patient, 2, true).await;
        assert_eq!(near.expect("answered").len(), 1);
        assert_eq!(tried, 3, "two failures, then the answer");
        // Each call of the store goes through the same patience.
        let centre = GeoPoint::new(60.17, 24.94);
        assert_eq!(
            patient
                .places_near(centre, 1.0, &[])
                .await
                .expect("near")
                .len(),
            1
        );
    }

    #[tokio::test]
    async fn an_error_that_is_not_transient_or_outlasts_the_patience_is_returned() {
        let dir = tempfile::tempdir().expect("dir");
        let patient = patient_store(&dir, Duration::from_secs(5)).await;
        let (wrong, tried) = near_after(&patient, 1, false).await;
        assert!(matches!(wrong, Err(StoreError::Invalid(_))));
        assert_eq!(tried, 1, "not tried again");

        let patient = patient_store(&dir, Duration::from_secs(1)).await;
        let since = Instant::now();
        let (down, tried) = near_after(&patient, usize::MAX, true).await;
        assert!(matches!(down, Err(StoreError::Connect(_))));
        assert!(
            since.elapsed() < Duration::from_secs(2),
            "gave up after its patience"
        );
        assert_eq!(tried, 2, "tried at 0 and 0.5 s");
    }
}
